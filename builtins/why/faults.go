package why

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/nsscript/nsscript/builtins/kernel"
	"github.com/nsscript/nsscript/builtins/shell"
)

// The checks at each point of the way, and what each fault says and how
// it is fixed.

// hookTables are the tables a packet passes at each hook, in order.
var hookTables = map[string][]string{
	"PREROUTING":  {"raw", "mangle", "nat"},
	"INPUT":       {"mangle", "filter"},
	"FORWARD":     {"mangle", "filter"},
	"OUTPUT":      {"raw", "mangle", "nat", "filter"},
	"POSTROUTING": {"mangle", "nat"},
}

// chains walks p through v's iptables at one hook: a drop is the fault
// (false), a NAT rewrites p. The nat table sees only a connection's
// first packet: the answer is translated back by conntrack instead.
func (w *walker) chains(v *view, hook string, p *packet) bool {
	fw, err := w.firewall(v, w.v6)
	if err != nil {
		w.unseen(fmt.Sprintf("%s's firewall: %v", v.label, err))
		return true
	}
	for _, t := range w.foreignTables(v) {
		w.unseen(fmt.Sprintf("%s has the nftables table %s (not iptables'), which nsscript does not evaluate", v.label, t))
	}
	p.local = w.isLocal(v)
	for _, table := range hookTables[hook] {
		if fw[table] == nil || fw[table][hook] == nil || table == "nat" && p.reply {
			continue
		}
		vd := fw.eval(table, hook, p)
		for _, u := range vd.unsure {
			w.unseen(fmt.Sprintf("%s: %s %s", v.label, table, u))
		}
		switch vd.target {
		case "ACCEPT":
			if table == "filter" {
				w.check("%s: %s accepts %s (%s)", v.label, hook, w.subject(p), decided(vd))
			}
		case "DROP", "REJECT":
			w.dropped(v, table, hook, p, vd, fw)
			return false
		case "DNAT", "REDIRECT":
			w.dnatTo(v, p, vd)
		case "SNAT", "MASQUERADE":
			w.snatTo(v, p, vd)
		default:
			w.unseen(fmt.Sprintf("%s: %s %s ends in -j %s, which nsscript does not follow", v.label, table, hook, vd.target))
		}
		if table == "nat" && hook == "POSTROUTING" && vd.target != "SNAT" && vd.target != "MASQUERADE" {
			w.nearMisses(v, fw, p)
		}
	}
	return true
}

// decided says which rule (or the policy) decided.
func decided(vd verdict) string {
	if vd.rule == nil {
		return "policy " + vd.target
	}
	return fmt.Sprintf("rule %d: %s, %s", vd.rule.num, shell.Join(vd.rule.spec()), packets(vd.rule.pkts))
}

func packets(n int64) string {
	if n == 1 {
		return "1 packet"
	}
	return fmt.Sprintf("%d packets", n)
}

// subject names the packet as a rule sees it: "icmp", "tcp port 80".
func (w *walker) subject(p *packet) string {
	s := p.proto
	if p.proto != "icmp" {
		s += " port " + strconv.Itoa(p.dport)
	}
	if p.reply {
		return "the answer (" + s + " from " + p.src.String() + ")"
	}
	return s
}

func (w *walker) dnatTo(v *view, p *packet, vd verdict) {
	ip, port := targetAddr(vd.rule, "--to-destination")
	if vd.target == "REDIRECT" {
		ip, port = nil, toPorts(vd.rule)
		if l := w.linkNamed(v, p.in); l != nil {
			ip = w.addrOn(v, l, nil, p.dst)
		}
		if ip == nil {
			ip = net.ParseIP("127.0.0.1")
		}
	}
	if ip == nil {
		w.unseen(fmt.Sprintf("%s: nat rule %d (%s) rewrites the destination in a way nsscript does not follow", v.label, vd.rule.num, shell.Join(vd.rule.spec())))
		return
	}
	if port == 0 {
		port = p.dport
	}
	w.nats = append(w.nats, natRec{v: v, from: p.dst, to: ip, fromPort: p.dport, toPort: port})
	w.check("%s: %s rule %d (%s) sends it to %s", v.label, vd.chain, vd.rule.num, shell.Join(vd.rule.spec()), hostPort(ip, portIf(p, port)))
	p.dst, p.dport = ip, portIf(p, port)
	w.dnat = true
	w.notes = append(w.notes, "DNAT to "+hostPort(p.dst, p.dport))
}

func portIf(p *packet, port int) int {
	if p.proto == "icmp" {
		return 0
	}
	return port
}

func (w *walker) snatTo(v *view, p *packet, vd verdict) {
	var ip net.IP
	port := p.sport
	if vd.target == "SNAT" {
		var pt int
		ip, pt = targetAddr(vd.rule, "--to-source")
		if pt != 0 {
			port = pt
		}
	} else if l := w.linkNamed(v, p.out); l != nil {
		ip = w.addrOn(v, l, w.nexthop, p.dst)
	}
	if ip == nil {
		w.unseen(fmt.Sprintf("%s: nat rule %d (%s) rewrites the source in a way nsscript does not follow", v.label, vd.rule.num, shell.Join(vd.rule.spec())))
		return
	}
	w.nats = append(w.nats, natRec{v: v, snat: true, from: p.src, to: ip, fromPort: p.sport, toPort: port})
	w.check("%s: POSTROUTING rule %d (%s, %s) rewrites the source %s to %s", v.label, vd.rule.num, shell.Join(vd.rule.spec()), packets(vd.rule.pkts), p.src, ip)
	p.src, p.sport = ip, port
	w.notes = append(w.notes, "masquerade as "+ip.String())
}

// nearMisses notes the masquerade rules that did not match the request,
// and why (a wrong -s, a wrong -o): the cause when no answer comes back.
func (w *walker) nearMisses(v *view, fw firewall, p *packet) {
	if p.reply {
		return
	}
	for _, r := range fw["nat"]["POSTROUTING"].rules {
		if r.target != "MASQUERADE" && r.target != "SNAT" {
			continue
		}
		if ok, why, _ := r.match(p); !ok && why != "" {
			w.misses = append(w.misses, fmt.Sprintf("%s's rule %s (nat POSTROUTING rule %d, %s) does not match: %s",
				v.label, shell.Join(r.spec()), r.num, packets(r.pkts), why))
		}
	}
}

// dropped is a chain that drops p: a rule, or its policy.
func (w *walker) dropped(v *view, table, hook string, p *packet, vd verdict, fw firewall) {
	verb := "drops"
	if vd.target == "REJECT" {
		verb = "rejects"
	}
	chain := hook
	if table != "filter" {
		chain = table + " " + hook
	}
	if r := vd.rule; r != nil {
		where := ""
		if r.chain != hook {
			where = " in " + r.chain
		}
		w.fault(fmt.Sprintf("%s's %s chain %s %s%s (rule %d: %s, %s)", v.label, chain, verb, w.subject(p), where,
			r.num, shell.Join(r.spec()), packets(r.pkts)), w.deleteRule(v, table, r))
		return
	}
	dirs := ""
	if p.in != "" {
		dirs += " in " + p.in
	}
	if p.out != "" {
		dirs += " out " + p.out
	}
	w.fault(fmt.Sprintf("%s's %s chain %s %s: its policy is %s (%s) and no rule accepts it (from %s to %s%s)",
		v.label, chain, verb, w.subject(p), vd.target, packets(vd.pkts), p.src, p.dst, dirs), w.acceptRule(v, table, hook, p, fw))
}

// iptables is the command for the walk's family.
func (w *walker) iptables() string {
	if w.v6 {
		return "ip6tables"
	}
	return "iptables"
}

// deleteRule fixes a dropping rule by deleting it: the script's
// firewall(...).delete() for a rule of nsscript's in a built-in chain,
// else the iptables command.
func (w *walker) deleteRule(v *view, table string, r *fwRule) fix {
	words := []string{w.iptables()}
	if table != "filter" {
		words = append(words, "-t", table)
	}
	cmd := nsExec(v) + shell.Join(append(append(words, "-D", r.chain), r.words...))
	f := fix{cmd: cmd, alt: fmt.Sprintf("or accept it in a rule before rule %d of %s", r.num, r.chain)}
	c := r.comment()
	if c != "" && (w.q.Lab == "" || c == "nsscript:"+w.q.Lab) && (kernel.Chain{V6: w.v6, Table: table, Name: r.chain}).Builtin() {
		f.code = fmt.Sprintf("firewall(%s, %s, %s%s).delete()", nsRef(v), quote(r.chain), quote(shell.Join(r.spec())), w.tableArg(table))
	} else {
		f.code = fmt.Sprintf("exec(%s, %s)", nsRef(v), quote(shell.Join(append(append(words, "-D", r.chain), r.words...))))
	}
	return f
}

// tableArg is firewall()'s table= and family= for a rule in table.
func (w *walker) tableArg(table string) string {
	s := ""
	if table != "filter" {
		s = ", table = " + quote(table)
	}
	if w.v6 {
		s += `, family = "ipv6"`
	}
	return s
}

// acceptRule fixes a chain whose policy drops: a rule that accepts this
// traffic (and, in FORWARD, its answers when they would be dropped too).
func (w *walker) acceptRule(v *view, table, hook string, p *packet, fw firewall) fix {
	if table != "filter" {
		return fix{alt: fmt.Sprintf("accept it in %s's %s %s chain", v.label, table, hook)}
	}
	var specs []string
	established := "-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"
	match := "-p icmp"
	if w.v6 {
		match = "-p ipv6-icmp"
	}
	if p.proto != "icmp" {
		match = fmt.Sprintf("-p %s --dport %d", p.proto, p.dport)
	}
	switch {
	case hook == "FORWARD" && p.reply:
		specs = append(specs, fmt.Sprintf("-i %s -o %s %s", p.in, p.out, established))
	case hook == "FORWARD":
		specs = append(specs, fmt.Sprintf("-i %s -o %s -j ACCEPT", p.in, p.out))
		answer := *p
		answer.src, answer.dst, answer.in, answer.out = p.dst, p.src, p.out, p.in
		answer.sport, answer.dport, answer.reply, answer.state = p.dport, p.sport, true, "ESTABLISHED"
		if vd := fw.eval("filter", "FORWARD", &answer); vd.target == "DROP" || vd.target == "REJECT" {
			specs = append(specs, fmt.Sprintf("-i %s -o %s %s", p.out, p.in, established))
		}
	case p.reply:
		specs = append(specs, established)
	default:
		specs = append(specs, match+" -j ACCEPT")
	}
	var code, cmd []string
	for _, s := range specs {
		code = append(code, fmt.Sprintf("firewall(%s, %s, %s%s)", nsRef(v), quote(hook), quote(s), w.tableArg("filter")))
		cmd = append(cmd, nsExec(v)+w.iptables()+" -A "+hook+" "+s)
	}
	return fix{code: strings.Join(code, "\n"), cmd: strings.Join(cmd, "\n")}
}

// refused is the kernel refusing to route p, arriving in v on in.
func (w *walker) refused(v *view, in *kernel.LinkInfo, p *packet, err error) {
	switch {
	case errIs(err, syscall.EHOSTUNREACH):
		w.notForwarding(v, in, p)
	case errIs(err, syscall.ENETUNREACH):
		w.noRoute(v, p, in, err)
	case errIs(err, syscall.EINVAL), errIs(err, syscall.EXDEV):
		w.sourceCheck(v, in, p)
	case errIs(err, syscall.EACCES):
		w.fault(fmt.Sprintf("%s's route to %s prohibits it (a prohibit route)", v.label, p.dst), fix{})
	default:
		w.fault(fmt.Sprintf("%s: ip route get %s from %s iif %s: %v", v.label, p.dst, p.src, in.Name, err), fix{})
	}
}

// notForwarding is v refusing to route p, arriving on in: forwarding
// off, for the namespace or that device, or a route that says no.
func (w *walker) notForwarding(v *view, in *kernel.LinkInfo, p *packet) {
	global := w.fwdGlobal()
	short := "ip_forward"
	if w.v6 {
		short = global
	}
	what := "packets from " + w.src.label + " are"
	if p.reply {
		what = fmt.Sprintf("the answers from %s to %s are", p.src, p.dst)
	}
	switch {
	case w.sysctl(v, global) == "0":
		args := nsArg(v)
		if w.v6 {
			args = strings.TrimPrefix(args+`, family = "ipv6"`, ", ")
		}
		f := fix{code: "forwarding(" + args + ")", cmd: nsExec(v) + "sysctl -w " + global + "=1"}
		w.fault(fmt.Sprintf("%s has %s=0: %s not routed", v.label, short, what), f)
	case !w.v6 && w.sysctl(v, w.fwdKey(in.Name)) == "0":
		w.fault(fmt.Sprintf("%s does not forward what arrives on %s (%s=0): %s not routed", v.label, in.Name, w.fwdKey(in.Name), what),
			sysctlFix(v, w.fwdKey(in.Name), "1"))
	default:
		w.fault(fmt.Sprintf("%s will not route %s to %s (ip route get %s from %s iif %s: no route to host: an unreachable route?)", v.label, w.subject(p), p.dst, p.dst, p.src, in.Name), fix{})
	}
}

// notTaken is v having p's destination on device l, and yet not taking
// the packet in.
func (w *walker) notTaken(v *view, l *kernel.LinkInfo, p *packet, lk kernel.RouteLookup) {
	switch {
	case !l.Up:
		w.fault(fmt.Sprintf("%s has %s on %s, which is down", v.label, p.dst, l.Name), upFix(v, l))
	case w.v6:
		w.fault(fmt.Sprintf("%s has %s on %s but does not take packets for it yet: an IPv6 address is tentative until duplicate address detection is done (a second or two)", v.label, p.dst, l.Name),
			fix{alt: "wait a moment and try again"})
	default:
		w.fault(fmt.Sprintf("%s has %s on %s, but its route lookup sends packets for it on (a %s route, table %d)", v.label, p.dst, l.Name, lk.Type, lk.Table), fix{})
	}
}

// sourceCheck explains a router refusing a packet's source: rp_filter,
// or a martian.
func (w *walker) sourceCheck(v *view, in *kernel.LinkInfo, p *packet) {
	mode := w.rpFilter(v, in.Name)
	back, err := w.k.RouteGet(v.ns, kernel.RouteQuery{Dst: p.src})
	what := w.subject(p)
	if !p.reply {
		what += " from " + p.src.String()
	}
	switch {
	case w.owner(v, p.src) != nil:
		w.fault(fmt.Sprintf("%s drops %s arriving on %s as a martian: %s is one of its own addresses", v.label, what, in.Name, p.src), fix{})
		return
	case mode == 0:
		w.fault(fmt.Sprintf("%s drops %s arriving on %s as a martian (a source it never accepts)", v.label, what, in.Name), fix{})
		return
	}
	var key string
	switch {
	case w.sysctl(v, "net.ipv4.conf.all.rp_filter") == strconv.Itoa(mode):
		key = "net.ipv4.conf.all.rp_filter"
	default:
		key = kernel.DevSysctl("ipv4", in.Name, "rp_filter")
	}
	f := sysctlFix(v, key, "2")
	if err != nil && w.prefixMismatch(v, p.src) {
		return
	}
	if err != nil || back.Type != "unicast" && back.Type != "local" {
		if mode == 2 {
			f = fix{}
		}
		f.alt = fmt.Sprintf("or give %s a route back to %s", v.label, p.src)
		w.fault(fmt.Sprintf("%s drops %s arriving on %s: rp_filter=%d and %s has no route back to %s", v.label, what, in.Name, mode, v.label, p.src), f)
		return
	}
	backDev := "?"
	if l := w.link(v, back.DevIndex); l != nil {
		backDev = l.Name
	}
	msg := fmt.Sprintf("%s drops %s arriving on %s: rp_filter=1 (strict) and its route back to %s leaves through %s", v.label, what, in.Name, p.src, backDev)
	if p.reply {
		for _, r := range w.routers {
			if r.v == v && r.out.Index != in.Index {
				msg += fmt.Sprintf(" (asymmetric routing: the request left %s through %s, the answer comes back on %s)", v.label, r.out.Name, in.Name)
			}
		}
	}
	f.alt = fmt.Sprintf("or route it so that it arrives on %s, the way %s expects it", backDev, v.label)
	var alt string
	switch {
	case p.reply:
		alt = w.symmetric(w.dest, w.destIn, p.src, v)
	case w.owner(v, p.dst) != nil:
		prev := w.src
		if len(w.routers) > 0 {
			prev = w.routers[len(w.routers)-1].v
		}
		alt = w.symmetric(v, in, p.dst, prev)
	}
	if alt != "" {
		f.alt = "or " + alt
	}
	w.fault(msg, f)
}

// symmetric is the other cure for a packet that rp_filter drops: policy
// routing in t, which sends what leaves from address from out of in
// (where the requests come in), through the neighbour r on that link.
func (w *walker) symmetric(t *view, in *kernel.LinkInfo, from net.IP, r *view) string {
	if t == nil || in == nil || r == nil || from == nil {
		return ""
	}
	var gw net.IP
	for _, a := range w.addrsOf(t, in.Index) {
		for _, l := range w.allLinks(r) {
			for _, b := range w.addrsOf(r, l.Index) {
				if gw == nil && a.Contains(b.IP) && !a.IP.Equal(b.IP) {
					gw = b.IP
				}
			}
		}
	}
	if gw == nil {
		return ""
	}
	table := 100
	if rules, err := w.k.PolicyRules(t.ns, w.v6); err == nil {
		for used := true; used; {
			used = slices.ContainsFunc(rules, func(r kernel.PolicyRule) bool { return r.Table == table })
			if used {
				table++
			}
		}
	}
	return fmt.Sprintf("send %s's answers from %s back through %s, the way the requests came: route(%s, \"default\", via = %s, dev = %s, table = %d); rule(%s, from_ = %s, table = %d)",
		t.label, from, in.Name, nsRef(t), quote(gw.String()), quote(in.Name), table, nsRef(t), quote(from.String()), table)
}

// noRoute is v having no route for p (in: the device it arrived on; nil
// when v sends it).
func (w *walker) noRoute(v *view, p *packet, in *kernel.LinkInfo, err error) {
	if !errIs(err, syscall.ENETUNREACH) {
		if errIs(err, syscall.EHOSTUNREACH) || errIs(err, syscall.EACCES) || errIs(err, syscall.EINVAL) {
			w.fault(fmt.Sprintf("%s will not send %s to %s: %v (an unreachable, prohibit or blackhole route?)", v.label, w.subject(p), p.dst, err), fix{})
		} else {
			w.fault(fmt.Sprintf("%s: ip route get %s: %v", v.label, p.dst, err), fix{})
		}
		return
	}
	if w.v6 && w.sysctl(v, kernel.DisableIPv6Key) == "1" {
		w.fault(fmt.Sprintf("%s has IPv6 off (%s=1, as namespace(..., ipv6 = False) makes it): it has no IPv6 address or route, not even ::1", v.label, kernel.DisableIPv6Key),
			sysctlFix(v, kernel.DisableIPv6Key, "0"))
		return
	}
	// A device that is down takes its routes with it.
	for _, l := range w.allLinks(v) {
		if l.Up {
			continue
		}
		for _, a := range w.addrsOf(v, l.Index) {
			if a.Contains(p.dst) {
				w.fault(fmt.Sprintf("%s is down: %s has no route to %s while it is (a device that is down has no routes)", l.Name, v.label, p.dst), upFix(v, l))
				return
			}
		}
	}
	if w.prefixMismatch(v, p.dst) {
		return
	}
	if p.reply {
		w.noRouteBack(v, p)
		return
	}
	who := v.label
	if gw, _ := w.gateway(v, p.dst, true); gw != nil {
		w.fault(fmt.Sprintf("%s has no route to %s", who, p.dst), routeFix(v, "default", gw))
		return
	}
	if gw, l := w.gateway(v, p.dst, false); gw != nil {
		f := upFix(v, l)
		r := routeFix(v, "default", gw)
		f.code += "\n" + r.code
		f.cmd += "\n" + r.cmd
		w.fault(fmt.Sprintf("%s is down, and with it %s's routes through it: %s has no route to %s", l.Name, v.label, v.label, p.dst), f)
		return
	}
	if w.onlyLo(v) {
		w.fault(fmt.Sprintf("%s has no route to %s: it has no address but on lo", v.label, p.dst), fix{})
		return
	}
	w.fault(fmt.Sprintf("%s has no route to %s, and nothing on its links routes there", v.label, p.dst), fix{})
}

func (w *walker) onlyLo(v *view) bool {
	for _, l := range w.allLinks(v) {
		if l.Kind != "loopback" && len(w.addrsOf(v, l.Index)) > 0 {
			return false
		}
	}
	return true
}

// noRouteBack is the answer finding no way back from v: the network
// behind the request's routers is unknown there, and nothing
// masquerades it.
func (w *walker) noRouteBack(v *view, p *packet) {
	target := p.dst.String()
	back := p.dst.Equal(w.origSrc)
	if back && w.srcNet != nil {
		target = w.srcNet.String()
	}
	msg := fmt.Sprintf("no route back: %s has no route to %s", v.label, target)
	masqueraded := false
	for _, n := range w.nats {
		masqueraded = masqueraded || n.snat
	}
	switch {
	case w.dnat:
		msg += fmt.Sprintf(" (the answer to %s, whose address the DNAT keeps)", p.dst)
	case back && !masqueraded:
		msg += " and nothing masquerades it"
		if len(w.misses) > 0 {
			msg += "; " + strings.Join(w.misses, "; ")
		}
	}
	var masq, route fix
	// A masquerade at the last router whose address v reaches.
	if back && !masqueraded && w.srcNet != nil {
		for i := len(w.routers) - 1; i >= 0; i-- {
			r := w.routers[i]
			if r.addr == nil {
				continue
			}
			if _, err := w.k.RouteGet(v.ns, kernel.RouteQuery{Dst: r.addr}); err == nil {
				masq = masqFix(r.v, w.srcNet.String(), r.out.Name)
				break
			}
		}
	}
	// A route to it through a router on v's link.
	for i := len(w.routers) - 1; i >= 0; i-- {
		if gw := w.onLinkOf(v, w.routers[i].v); gw != nil {
			dst := target
			if !w.hasDefault(v) {
				dst = "default"
			}
			route = routeFix(v, dst, gw)
			break
		}
	}
	first, second := masq, route
	if w.dnat || masq.code == "" {
		first, second = route, masq
	}
	if second.code != "" {
		first.alt = "or " + strings.ReplaceAll(second.code, "\n", "; ")
	}
	w.fault(msg, first)
}

// onLinkOf is an address of router r on a network v is on.
func (w *walker) onLinkOf(v, r *view) net.IP {
	for _, l := range w.allLinks(v) {
		for _, a := range w.addrsOf(v, l.Index) {
			for _, rl := range w.allLinks(r) {
				for _, b := range w.addrsOf(r, rl.Index) {
					if a.Contains(b.IP) && !b.IP.Equal(a.IP) && (b.IP.To4() == nil) == w.v6 {
						return b.IP
					}
				}
			}
		}
	}
	return nil
}

func (w *walker) hasDefault(v *view) bool {
	rs, err := w.k.Routes(v.ns, 0)
	if err != nil {
		return false
	}
	for _, r := range rs {
		if r.Dst == nil && (r.Via == nil || (r.Via.To4() == nil) == w.v6) {
			return true
		}
	}
	return false
}

// gateway is an address, on the link of one of v's devices (up ones, or
// down ones), of a namespace that can take a packet on to dst: it has a
// route there. Namespaces that forward come first.
func (w *walker) gateway(v *view, dst net.IP, up bool) (net.IP, *kernel.LinkInfo) {
	var fallback net.IP
	var fallbackDev *kernel.LinkInfo
	for _, l := range w.allLinks(v) {
		if l.Up != up || l.Kind == "loopback" {
			continue
		}
		mine := w.addrsOf(v, l.Index)
		eps, _ := w.segment(v, l)
		for _, ep := range eps {
			if ep.v == v {
				continue
			}
			for _, b := range w.addrsOf(ep.v, ep.l.Index) {
				if !slices.ContainsFunc(mine, func(a *net.IPNet) bool { return a.Contains(b.IP) }) {
					continue
				}
				lk, err := w.k.RouteGet(ep.v.ns, kernel.RouteQuery{Dst: dst})
				if err != nil || lk.Type != "unicast" && lk.Type != "local" {
					continue
				}
				if lk.Type == "local" || w.sysctl(ep.v, w.fwdGlobal()) == "1" {
					return b.IP, l
				}
				if fallback == nil {
					fallback, fallbackDev = b.IP, l
				}
			}
		}
	}
	return fallback, fallbackDev
}

func (w *walker) fwdGlobal() string {
	if w.v6 {
		return "net.ipv6.conf.all.forwarding"
	}
	return "net.ipv4.ip_forward"
}

// prefixMismatch finds an address of v whose prefix length differs from
// the network of its link (what the other ends have), when that explains
// why dst is not reached; it reports the fault and returns true.
func (w *walker) prefixMismatch(v *view, dst net.IP) bool {
	for _, l := range w.allLinks(v) {
		if l.Kind == "loopback" {
			continue
		}
		for _, a := range w.addrsOf(v, l.Index) {
			if (a.IP.To4() == nil) != w.v6 {
				continue
			}
			eps, _ := w.segment(v, l)
			for _, ep := range eps {
				if ep.v == v {
					continue
				}
				for _, b := range w.addrsOf(ep.v, ep.l.Index) {
					ao, _ := a.Mask.Size()
					bo, _ := b.Mask.Size()
					if ao == bo || !b.Contains(a.IP) || (b.IP.To4() == nil) != w.v6 {
						continue
					}
					// Too narrow: dst is on the link, v thinks it is not.
					// Too wide: v thinks dst is on the link, it is not.
					narrow := ao > bo && b.Contains(dst) && !a.Contains(dst)
					wide := ao < bo && a.Contains(dst) && !b.Contains(dst)
					if !narrow && !wide {
						continue
					}
					right := &net.IPNet{IP: a.IP, Mask: b.Mask}
					netw := &net.IPNet{IP: b.IP.Mask(b.Mask), Mask: b.Mask}
					why := fmt.Sprintf("so %s has no route to %s", v.label, dst)
					if wide {
						why = fmt.Sprintf("so %s looks for %s on that link, where nothing has it", v.label, dst)
					}
					w.fault(fmt.Sprintf("wrong prefix length: %s has %s on %s, but the link's network is %s (%s has %s on %s), %s",
						v.label, a, l.Name, netw, ep.v.label, b, ep.l.Name, why), addrFix(v, l, a, right))
					return true
				}
			}
		}
	}
	return false
}

// cross carries the frames of p out of v's device out to the device that
// has nh (the gateway, or the destination itself): across veths and
// bridges, checking that each device on the way is up and forwards, and
// v's neighbour entry for nh. It returns where p arrives.
func (w *walker) cross(v *view, out *kernel.LinkInfo, nh net.IP, viaGW bool, p *packet) (*view, *kernel.LinkInfo, bool) {
	w.nexthop = nh
	eps, beyond := w.segment(v, out)
	var have []*node
	for _, ep := range eps {
		if ep.v == v && ep.l.Index == out.Index {
			continue
		}
		if w.owner(ep.v, nh) != nil {
			have = append(have, ep)
		}
	}
	if len(have) == 0 {
		if len(beyond) > 0 {
			b := beyond[0]
			w.hop(fmt.Sprintf("%s (%s, a %s device) → ?", b.l.Name, b.v.label, kindOf(b.l)))
			w.stop(fmt.Sprintf("the packet leaves through %s (%s), a %s device: nsscript cannot follow it beyond", b.l.Name, b.v.label, kindOf(b.l)))
			w.unseen(fmt.Sprintf("what is beyond %s in %s", b.l.Name, b.v.label))
			return nil, nil, false
		}
		w.nobodyHas(v, out, nh, viaGW, p)
		return nil, nil, false
	}
	owner, ok := w.answerer(v, out, nh, have)
	if !ok {
		return nil, nil, false
	}
	path := owner.route()
	for i, n := range path {
		switch n.how {
		case "start", "port", "upper":
			if !n.l.Up {
				w.fault(fmt.Sprintf("%s is down", devIn(n, v)), upFix(n.v, n.l))
				return nil, nil, false
			}
		case "lower":
			if !n.l.Up {
				w.fault(fmt.Sprintf("%s is down: %s, on it, has no carrier", devIn(n, v), devIn(path[i-1], v)), upFix(n.v, n.l))
				return nil, nil, false
			}
		case "wire":
			if !n.l.Up {
				prev := path[i-1]
				w.fault(fmt.Sprintf("%s is down: %s has no carrier", devIn(n, v), devIn(prev, v)), upFix(n.v, n.l))
				return nil, nil, false
			}
			w.check("%s is up, and so its peer %s", devIn(path[i-1], v), devIn(n, v))
		case "bridge":
			if !n.l.Up {
				w.fault(fmt.Sprintf("the bridge %s is down", devIn(n, v)), upFix(n.v, n.l))
				return nil, nil, false
			}
			if n != owner {
				w.hop(fmt.Sprintf("bridge %s (%s)", n.l.Name, n.v.label))
			}
		}
		if n.how == "start" || n.how == "port" || n.how == "lower" {
			if !w.shaped(n, v) {
				return nil, nil, false
			}
		}
		if n.how == "port" || n.how == "bridge" {
			port := n.prev
			if n.how == "port" {
				port = n
			}
			st, err := w.k.PortState(port.v.ns, port.l.Index)
			if err == nil && st != "" && st != "forwarding" {
				w.fault(fmt.Sprintf("%s, a port of the bridge %s, is %s (STP): the bridge passes nothing through it yet", devIn(port, v), w.masterName(port), st),
					fix{alt: "wait until STP lets the port forward (twice the forward delay, 30 s by default), or make the bridge without STP (bridge(..., stp = False))"})
				return nil, nil, false
			}
		}
	}
	w.check("%s: %s has %s", v.label, devIn(owner, v), nh)
	return owner.v, owner.l, true
}

// shaped checks the shaping of a device the frames leave by (link.shape):
// a forwarder that is gone, or a loss of 100%, drops them all; a lower
// loss drops some, which is said, not a fault.
func (w *walker) shaped(n *node, v *view) bool {
	s, err := w.k.Shaping(n.v.ns, n.l.Index)
	if err != nil || s.Empty() {
		return true
	}
	dev := shell.Quote(n.l.Name)
	undo := fix{code: linkRef(n.v, n.l.Name) + ".shape(None)",
		cmd: nsExec(n.v) + "tc qdisc del dev " + dev + " root\n" + nsExec(n.v) + "tc qdisc del dev " + dev + " clsact"}
	switch {
	case s.Stale:
		undo.alt = "or run the script again: it starts the forwarder anew"
		w.fault(fmt.Sprintf("%s is shaped (%s), and the forwarder that delays its packets is gone: they are dropped", devIn(n, v), s), undo)
		return false
	case s.Loss >= 100:
		w.fault(fmt.Sprintf("%s is shaped to lose every packet it sends (%s)", devIn(n, v), s), undo)
		return false
	case s.Loss > 0:
		w.unseen(fmt.Sprintf("%s is shaped to lose %g%% of what it sends (%s): some packets do not arrive", devIn(n, v), s.Loss, s))
	default:
		w.check("%s is shaped: %s", devIn(n, v), s)
	}
	return true
}

// answerer is which of the devices on out's link that have nh gets the
// frames: the one whose MAC v's neighbour entry names, else the one that
// answers v's ARP request (arp_ignore decides which do). A permanent
// entry with a MAC none has, and nobody answering ARP, are faults.
func (w *walker) answerer(v *view, out *kernel.LinkInfo, nh net.IP, have []*node) (*node, bool) {
	n := w.neighbor(v, out, nh)
	if n != nil && n.MAC != "" && n.State != "INCOMPLETE" && n.State != "FAILED" {
		for _, o := range have {
			if strings.EqualFold(o.l.MAC, n.MAC) {
				w.check("%s: neighbour %s on %s: %s %s", v.label, nh, out.Name, n.State, n.MAC)
				return o, true
			}
		}
		if n.State == "PERMANENT" {
			o := have[0]
			w.fault(fmt.Sprintf("%s's neighbour entry for %s on %s is permanent with %s, but %s has %s (%s): frames go to nobody",
				v.label, nh, out.Name, n.MAC, devIn(o, v), o.l.MAC, nh),
				fix{code: fmt.Sprintf("%s.del_neigh(%s, %s)", nsRef(v), quote(nh.String()), quote(out.Name)),
					cmd: ipCmd(v, fmt.Sprintf("neigh del %s dev %s", nh, shell.Quote(out.Name)))})
			return nil, false
		}
		w.unseen(fmt.Sprintf("%s's neighbour entry for %s on %s names %s, which no device there has: it is asked again when the entry ages", v.label, nh, out.Name, n.MAC))
	}
	if n != nil && (n.State == "FAILED" || n.State == "INCOMPLETE") {
		w.unseen(fmt.Sprintf("%s's neighbour entry for %s on %s is %s: an earlier ARP or neighbour solicitation got no answer (the next packet asks again)", v.label, nh, out.Name, n.State))
	}
	asker := w.addrOn(v, out, nh, nh)
	var answer []*node
	for _, o := range have {
		if w.answersARP(o, nh, asker) {
			answer = append(answer, o)
		}
	}
	switch {
	case len(answer) == 0:
		o := have[0]
		w.fault(fmt.Sprintf("%s has %s, but answers no ARP request for it on %s (arp_ignore=%d), and %s has no neighbour entry for it: its ARP request gets no answer",
			o.v.label, nh, o.l.Name, w.arpIgnore(o), v.label),
			fix{code: fmt.Sprintf("%s.neigh(%s, %s, %s)", nsRef(v), quote(nh.String()), quote(o.l.MAC), quote(out.Name)),
				cmd: ipCmd(v, fmt.Sprintf("neigh replace %s lladdr %s dev %s nud permanent", nh, o.l.MAC, shell.Quote(out.Name))),
				alt: fmt.Sprintf("or let %s answer ARP: %s.sysctl(\"net.ipv4.conf.all.arp_ignore\", 0)", o.v.label, nsRef(o.v))})
		return nil, false
	case len(answer) > 1:
		var where []string
		for _, o := range answer {
			where = append(where, o.l.Name+" in "+o.v.label)
		}
		w.unseen(fmt.Sprintf("%s is answered for by more than one device on %s's link (%s): which answers ARP first is a race", nh, out.Name, strings.Join(where, ", ")))
	}
	for _, o := range answer {
		if w.owner(o.v, nh).Index == o.l.Index {
			return o, true // the device that has the address, when it is among them
		}
	}
	return answer[0], true
}

// arpIgnore is the arp_ignore a device works by: the larger of all's and
// its own.
func (w *walker) arpIgnore(o *node) int {
	a, _ := strconv.Atoi(w.sysctl(o.v, "net.ipv4.conf.all.arp_ignore"))
	d, _ := strconv.Atoi(w.sysctl(o.v, kernel.DevSysctl("ipv4", o.l.Name, "arp_ignore")))
	return max(a, d)
}

// answersARP reports whether device o answers an ARP request for nh
// (asked by asker), by its arp_ignore: 0 for any address of its
// namespace, 1 for its own, 2 its own and from its network, 8 none.
// IPv6's neighbour discovery has no such setting.
func (w *walker) answersARP(o *node, nh, asker net.IP) bool {
	if w.v6 {
		return true
	}
	own := false
	inNet := false
	for _, a := range w.addrsOf(o.v, o.l.Index) {
		if a.IP.Equal(nh) {
			own = true
			inNet = asker != nil && a.Contains(asker)
		}
	}
	switch mode := w.arpIgnore(o); {
	case mode == 0 || mode == 3:
		return true
	case mode == 1:
		return own
	case mode == 2:
		return own && inNet
	}
	return false
}

func kindOf(l *kernel.LinkInfo) string {
	if l.Type != "" {
		return l.Type
	}
	return l.Kind
}

func (w *walker) masterName(n *node) string {
	if b := w.link(n.v, n.l.MasterIndex); b != nil {
		return b.Name
	}
	return "?"
}

// devIn names a device, with its namespace when that is not v's.
func devIn(n *node, v *view) string {
	if n.v == v {
		return n.l.Name
	}
	return fmt.Sprintf("%s (%s)", n.l.Name, n.v.label)
}

// neighbor is v's neighbour entry for ip on out, or nil.
func (w *walker) neighbor(v *view, out *kernel.LinkInfo, ip net.IP) *kernel.NeighInfo {
	ns, err := w.k.Neighbors(v.ns)
	if err != nil {
		return nil
	}
	for i := range ns {
		if ns[i].DevIndex == out.Index && ns[i].IP.Equal(ip) {
			return &ns[i]
		}
	}
	return nil
}

// nobodyHas is nothing on out's link having nh: a gateway that is not
// there, an address on a network that is not this link's.
func (w *walker) nobodyHas(v *view, out *kernel.LinkInfo, nh net.IP, viaGW bool, p *packet) {
	state := ""
	if n := w.neighbor(v, out, nh); n != nil {
		state = fmt.Sprintf(" (neighbour entry %s)", n.State)
	}
	if !viaGW {
		if w.prefixMismatch(v, nh) {
			return
		}
		w.fault(fmt.Sprintf("nothing on %s's link has %s: %s's ARP for it gets no answer%s", out.Name, nh, v.label, state), fix{})
		return
	}
	msg := fmt.Sprintf("nothing on %s's link has %s, %s's gateway to %s: its ARP for it gets no answer%s", out.Name, nh, v.label, p.dst, state)
	var f fix
	if gw, _ := w.gateway(v, p.dst, true); gw != nil {
		dst := "default"
		if r := w.routeVia(v, nh, p.dst); r != nil && r.Dst != nil {
			dst = r.Dst.String()
		}
		f = routeFix(v, dst, gw)
	}
	w.fault(msg, f)
}

// routeVia is v's main-table route through gateway gw that covers dst.
func (w *walker) routeVia(v *view, gw, dst net.IP) *kernel.RouteInfo {
	rs, err := w.k.Routes(v.ns, 0)
	if err != nil {
		return nil
	}
	var best *kernel.RouteInfo
	for i := range rs {
		r := &rs[i]
		if !r.Via.Equal(gw) || r.Dst != nil && !r.Dst.Contains(dst) {
			continue
		}
		if best == nil || r.Dst != nil && (best.Dst == nil || maskLen(r.Dst) > maskLen(best.Dst)) {
			best = r
		}
	}
	return best
}

func maskLen(n *net.IPNet) int {
	o, _ := n.Mask.Size()
	return o
}

// service checks what answers at the destination: pings not ignored, a
// socket listening on the port.
func (w *walker) service(t *view, in *kernel.LinkInfo, p *packet) bool {
	if w.done {
		return false
	}
	if p.proto == "icmp" {
		key := "net.ipv4.icmp_echo_ignore_all"
		if w.v6 {
			key = "net.ipv6.icmp.echo_ignore_all"
		}
		if w.sysctl(t, key) == "1" {
			w.fault(fmt.Sprintf("%s ignores pings (%s=1)", t.label, key), sysctlFix(t, key, "0"))
			return false
		}
		w.check("%s answers pings (%s=%s)", t.label, key, w.sysctl(t, key))
		return true
	}
	socks, err := w.sockets(t)
	if err != nil {
		w.unseen(fmt.Sprintf("%s's sockets: %v", t.label, err))
		return true
	}
	var elsewhere []string
	for _, s := range socks {
		if s.Proto != p.proto || s.Port != p.dport {
			continue
		}
		if s.IP.IsUnspecified() && (s.IP.To4() == nil || !w.v6) || s.IP.Equal(p.dst) {
			w.check("%s: %s %s listens", t.label, p.proto, hostPort(s.IP, s.Port))
			return true
		}
		elsewhere = append(elsewhere, s.IP.String())
	}
	msg := fmt.Sprintf("nothing listens on %s %s in %s", p.proto, hostPort(p.dst, p.dport), t.label)
	if len(elsewhere) > 0 {
		msg += fmt.Sprintf(" (port %d has a listener on %s only)", p.dport, strings.Join(elsewhere, ", "))
	}
	var f fix
	if !w.dnat && t != w.src {
		if ip := w.listenerElsewhere(t, p); ip != nil {
			msg += fmt.Sprintf(", and no DNAT rule of %s sends port %d on (to %s, where %s listens; a DNAT rule for a port needs -p %s)",
				t.label, p.dport, hostPort(ip, p.dport), p.proto, p.proto)
			f = dnatFix(t, p, ip, in)
			f.alt = fmt.Sprintf("or start a server on %s in %s", hostPort(p.dst, p.dport), t.label)
		}
	}
	if f.code == "" {
		f.alt = fmt.Sprintf("start a server on %s in %s, or check the port", hostPort(p.dst, p.dport), t.label)
	}
	w.fault(msg, f)
	return false
}

// listenerElsewhere finds another namespace listening on p's port at an
// address t has a route to: where a DNAT in t could send it.
func (w *walker) listenerElsewhere(t *view, p *packet) net.IP {
	for _, o := range w.views {
		if o == t {
			continue
		}
		socks, err := w.sockets(o)
		if err != nil {
			continue
		}
		for _, s := range socks {
			if s.Proto != p.proto || s.Port != p.dport || s.IP.IsUnspecified() || s.IP.IsLoopback() || (s.IP.To4() == nil) != w.v6 {
				continue
			}
			if lk, err := w.k.RouteGet(t.ns, kernel.RouteQuery{Dst: s.IP}); err == nil && lk.Type == "unicast" {
				return s.IP
			}
		}
	}
	return nil
}
