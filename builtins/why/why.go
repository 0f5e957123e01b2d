// Package why follows a packet from one namespace to an address the way
// the kernel would, hop by hop, and back, and names the first thing on
// the way that stops it: a route, a device, a neighbour, forwarding,
// rp_filter, an iptables chain, NAT, a port nothing listens on. It only
// reads the kernel (kernel.Reader): ip route get with the policy rules,
// links and their carriers, veth peers and bridge ports, neighbours,
// sysctls, iptables-save -c, listening sockets.
package why

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/nsscript/nsscript/builtins/kernel"
)

// Query is what is asked: can Src reach Dst (with Proto, on Port)?
type Query struct {
	Src   *kernel.NS
	Dst   net.IP
	Proto string // "icmp" (a ping), "tcp" or "udp"
	Port  int    // tcp and udp
	// Lab is the lab asking: a rule of its own is fixed by the script's
	// firewall(...).delete(), another by an iptables command.
	Lab string
	// Host is the namespace the report calls host, for a lab that runs
	// in a sandbox: the sandbox's (the walk then starts from the
	// namespaces it is given only, not from the machine's /run/netns).
	// nil: the machine's.
	Host *kernel.NS
}

// Diagnosis is what the walk found.
type Diagnosis struct {
	Src   string `json:"src"`
	Dst   string `json:"dst"`
	Proto string `json:"proto"`
	Port  int    `json:"port,omitempty"`
	// Path and Back are the hops of the packet and of its answer, as far
	// as they got: "red veth-red", "v-net-0 (host, forwarding on)", ...
	Path []string `json:"path"`
	Back []string `json:"back"`
	// OK: the walk found the way there and back open.
	OK bool `json:"ok"`
	// Fault is the first thing that stops the packet, in words; "" when
	// none was found.
	Fault string `json:"fault,omitempty"`
	// Fix is the nsscript code that removes the fault, Command the same
	// as shell commands; Alt another way, in words. "" when there is none.
	Fix     string `json:"fix,omitempty"`
	Command string `json:"command,omitempty"`
	Alt     string `json:"alt,omitempty"`
	// Stop says where the walk ended without a fault: a device it cannot
	// follow further (a NIC, a tunnel).
	Stop string `json:"stop,omitempty"`
	// Checked is what the walk looked at, in order; Unseen what it could
	// not evaluate (a rule's match it does not know, nftables tables).
	Checked []string `json:"checked"`
	Unseen  []string `json:"unseen,omitempty"`
}

// natRec is an address translation a namespace made on the request:
// conntrack undoes it on the answer there.
type natRec struct {
	v        *view
	snat     bool
	from, to net.IP
	fromPort int
	toPort   int
}

// hop is a router the request passed.
type hop struct {
	v       *view
	in, out *kernel.LinkInfo
	addr    net.IP // its address on out (what it masquerades as)
}

type walker struct {
	*world
	q    Query
	d    *Diagnosis
	v6   bool
	hops *[]string
	done bool

	src     *view
	origSrc net.IP     // the request's source address
	srcNet  *net.IPNet // and its network
	nats    []natRec
	seen    map[*view]bool // namespaces the request passed: their conntrack knows the connection
	routers []hop
	misses  []string // masquerade rules of the request's routers that did not match it, and why
	dnat    bool     // a router rewrote the request's destination
	notes   []string // what the chains did to the packet at this hop
	nexthop net.IP   // where the packet is sent on its current link (what a masquerade picks its address by)
	dest    *view    // where the request arrived, and on which device
	destIn  *kernel.LinkInfo
}

// Walk follows q through the namespaces nss (the host's first) and
// whatever namespaces veths lead to.
func Walk(k kernel.Reader, nss []*kernel.NS, q Query) (d *Diagnosis) {
	w := &walker{world: newWorld(k, nss, q.Host), q: q, seen: map[*view]bool{}, v6: q.Dst.To4() == nil}
	defer w.close()
	w.src = w.add(q.Src)
	w.d = &Diagnosis{Src: w.src.label, Dst: q.Dst.String(), Proto: q.Proto, Port: q.Port, Path: []string{}, Back: []string{}, Checked: []string{}}
	defer func() {
		// What the walk meets is the machine's, not nsscript's: a state
		// it did not foresee ends the walk, never the run.
		if r := recover(); r != nil {
			w.d.OK, w.d.Fault, w.d.Fix, w.d.Command = false, "", "", ""
			w.d.Stop = fmt.Sprintf("nsscript could not finish the walk: %v (please report it)", r)
			d = w.d
		}
	}()
	w.hops = &w.d.Path
	p := &packet{dst: q.Dst, proto: q.Proto, dport: q.Port, v6: w.v6}
	if q.Proto != "icmp" {
		p.sport = clientPort
	}
	defer w.neighTable()
	t, in, ok := w.leg(w.src, p)
	if !ok || !w.service(t, in, p) {
		return w.d
	}
	w.dest, w.destIn = t, in
	answer := &packet{src: p.dst, dst: p.src, proto: p.proto, sport: p.dport, dport: p.sport, reply: true, v6: w.v6}
	w.hops = &w.d.Back
	back, _, ok := w.leg(t, answer)
	if !ok {
		return w.d
	}
	switch {
	case back != w.src || !answer.dst.Equal(w.origSrc):
		w.fault(fmt.Sprintf("the answer from %s to %s ends in %s, not in %s", answer.src, w.origSrc, back.label, w.src.label), fix{})
	case !answer.src.Equal(q.Dst):
		w.fault(fmt.Sprintf("the answer comes back from %s, not from %s: it does not pass back through the router that rewrote the destination, so %s drops it as no answer of its own", answer.src, q.Dst, w.src.label), fix{})
	default:
		w.d.OK = true
	}
	return w.d
}

// neighTable says when the machine's one neighbour table is nearly full:
// then ARP and NDP entries are refused, in any namespace, and packets to
// neighbours without one are dropped, whatever the path.
func (w *walker) neighTable() {
	st, err := w.k.NeighTable(w.v6)
	if err != nil || st.Limit == 0 || st.Entries*10 < st.Limit*9 {
		return
	}
	fam := "ipv4"
	if w.v6 {
		fam = "ipv6"
	}
	w.unseen(fmt.Sprintf("the kernel's neighbour table is nearly full: %d entries of at most %d, one table for every namespace of the machine; "+
		"beyond it new entries are refused and packets to neighbours without one dropped (dmesg: neighbor table overflow): "+
		"sysctl -w net.%s.neigh.default.gc_thresh3=65536 raises it", st.Entries, st.Limit, fam))
}

// clientPort is the source port the walk gives a TCP or UDP request.
const clientPort = 50000

// fix is a fault's remedy: nsscript code, the shell commands, another way.
type fix struct{ code, cmd, alt string }

func (w *walker) fault(msg string, f fix) {
	if w.done {
		return
	}
	w.done = true
	w.d.Fault, w.d.Fix, w.d.Command, w.d.Alt = msg, f.code, f.cmd, f.alt
}

func (w *walker) stop(msg string) {
	if w.done {
		return
	}
	w.done = true
	w.d.Stop = msg
}

func (w *walker) check(format string, args ...any) {
	s := fmt.Sprintf(format, args...)
	if w.hops == &w.d.Back {
		s = "answer: " + s
	}
	w.d.Checked = append(w.d.Checked, s)
}

func (w *walker) unseen(s string) {
	for _, u := range w.d.Unseen {
		if u == s {
			return
		}
	}
	w.d.Unseen = append(w.d.Unseen, s)
}

func (w *walker) hop(s string) int {
	*w.hops = append(*w.hops, s)
	return len(*w.hops) - 1
}

// what names the packet for messages: "icmp from red", "the answer".
func (w *walker) what(p *packet) string {
	if p.reply {
		return "the answer from " + p.src.String()
	}
	switch p.proto {
	case "icmp":
		return "pings from " + w.src.label
	default:
		return fmt.Sprintf("%s to port %d from %s", p.proto, p.dport, w.src.label)
	}
}

// leg follows p from v, which sends it, until it is delivered somewhere:
// that namespace and the device it arrived on.
func (w *walker) leg(v *view, p *packet) (*view, *kernel.LinkInfo, bool) {
	lk, err := w.k.RouteGet(v.ns, kernel.RouteQuery{Dst: p.dst, Src: p.src})
	if err != nil {
		w.noRoute(v, p, nil, err)
		return nil, nil, false
	}
	if p.src == nil {
		p.src = lk.PrefSrc
		if p.src == nil {
			w.fault(fmt.Sprintf("%s has no %s address to send from", v.label, w.family()), fix{})
			return nil, nil, false
		}
		w.origSrc = p.src
		w.srcNet = w.netOf(v, p.src)
	}
	if !p.reply {
		w.seen[v] = true
	}
	if lk.Type == "local" {
		return w.self(v, p)
	}
	out := w.link(v, lk.DevIndex)
	if lk.Type != "unicast" || out == nil {
		w.fault(fmt.Sprintf("%s's route to %s is of type %s (table %d)", v.label, p.dst, lk.Type, lk.Table), fix{})
		return nil, nil, false
	}
	w.check("%s: %s", v.label, w.describeRoute(v, p, lk, out, ""))
	p.in, p.out = "", out.Name
	p.state = w.state(v, p)
	idx := w.hop(v.label + " " + out.Name)
	dst := p.dst
	w.takeNotes()
	if !w.chains(v, "OUTPUT", p) {
		return nil, nil, false
	}
	if !p.dst.Equal(dst) { // a DNAT in OUTPUT: routed again
		if lk, err = w.k.RouteGet(v.ns, kernel.RouteQuery{Dst: p.dst, Src: p.src}); err != nil {
			w.noRoute(v, p, nil, err)
			return nil, nil, false
		}
		if out = w.link(v, lk.DevIndex); out == nil || lk.Type != "unicast" {
			w.stop(fmt.Sprintf("%s's own DNAT sends it to %s, which is %s there", v.label, p.dst, lk.Type))
			return nil, nil, false
		}
		p.out = out.Name
		(*w.hops)[idx] = v.label + " " + out.Name
	}
	w.nexthop = nextHop(lk, p)
	notes := append(w.takeNotes(), w.post(v, p, out)...)
	if len(notes) > 0 {
		(*w.hops)[idx] += " (" + strings.Join(notes, ", ") + ")"
	}
	if w.done {
		return nil, nil, false
	}
	return w.travel(v, out, lk, p)
}

// travel carries p out of v through out (the route lk) and on, router
// by router, to where it is delivered.
func (w *walker) travel(v *view, out *kernel.LinkInfo, lk kernel.RouteLookup, p *packet) (*view, *kernel.LinkInfo, bool) {
	visited := map[string]bool{}
	for range 64 {
		next, in, ok := w.cross(v, out, nextHop(lk, p), lk.Via != nil, p)
		if !ok {
			return nil, nil, false
		}
		key := fmt.Sprintf("%d %s %s", next.ns.Inode, p.dst, p.src)
		if visited[key] {
			w.fault(fmt.Sprintf("routing loop: %s to %s comes back to %s", w.what(p), p.dst, next.label), fix{})
			return nil, nil, false
		}
		visited[key] = true
		local, out2, lk2, ok := w.arrive(next, in, p)
		if !ok {
			return nil, nil, false
		}
		if local {
			return next, in, true
		}
		v, out, lk = next, out2, lk2
	}
	w.fault("the packet passes 64 routers without arriving", fix{})
	return nil, nil, false
}

// arrive handles p arriving in v on in: delivered there (local), or
// forwarded through out by the route lk.
func (w *walker) arrive(v *view, in *kernel.LinkInfo, p *packet) (local bool, out *kernel.LinkInfo, lk kernel.RouteLookup, ok bool) {
	idx := w.hop(fmt.Sprintf("%s (%s)", in.Name, v.label))
	w.takeNotes()
	p.in, p.out = in.Name, ""
	if p.reply {
		w.unSNAT(v, p)
	} else {
		w.seen[v] = true
	}
	p.state = w.state(v, p)
	if !w.chains(v, "PREROUTING", p) {
		return false, nil, lk, false
	}
	var err error
	lk, err = w.k.RouteGet(v.ns, kernel.RouteQuery{Dst: p.dst, Src: p.src, Iif: in.Index})
	if err != nil {
		w.refused(v, in, p, err)
		return false, nil, lk, false
	}
	if lk.Type == "local" {
		if notes := w.takeNotes(); len(notes) > 0 {
			(*w.hops)[idx] = fmt.Sprintf("%s (%s)", in.Name, strings.Join(append([]string{v.label}, notes...), ", "))
		}
		w.check("%s: %s from %s arriving on %s is for it", v.label, p.dst, p.src, in.Name)
		if !w.chains(v, "INPUT", p) {
			return false, nil, lk, false
		}
		return true, nil, lk, true
	}
	if l := w.owner(v, p.dst); l != nil {
		w.notTaken(v, l, p, lk)
		return false, nil, lk, false
	}
	out = w.link(v, lk.DevIndex)
	if lk.Type != "unicast" || out == nil {
		w.fault(fmt.Sprintf("%s's route to %s is of type %s (table %d)", v.label, p.dst, lk.Type, lk.Table), fix{})
		return false, nil, lk, false
	}
	// IPv6's lookup does not ask whether the namespace forwards.
	if w.v6 && w.sysctl(v, w.fwdGlobal()) == "0" {
		w.notForwarding(v, in, p)
		return false, nil, lk, false
	}
	notes := []string{v.label, "forwarding on"}
	w.check("%s: forwards %s from %s arriving on %s: %s (%s=%s)", v.label, p.dst, p.src, in.Name,
		w.describeRoute(v, p, lk, out, in.Name), w.fwdKey(in.Name), w.sysctl(v, w.fwdKey(in.Name)))
	if rp := w.rpFilter(v, in.Name); rp > 0 {
		w.check("%s: rp_filter=%d on %s: the source %s is accepted there", v.label, rp, in.Name, p.src)
	}
	p.out = out.Name
	notes = append(notes, w.takeNotes()...)
	(*w.hops)[idx] = fmt.Sprintf("%s (%s)", in.Name, strings.Join(notes, ", "))
	if !w.chains(v, "FORWARD", p) {
		return false, nil, lk, false
	}
	w.nexthop = nextHop(lk, p)
	outNotes := w.post(v, p, out)
	if w.done {
		return false, nil, lk, false
	}
	item := out.Name
	if len(outNotes) > 0 {
		item += " (" + strings.Join(outNotes, ", ") + ")"
	}
	w.hop(item)
	if !p.reply {
		w.routers = append(w.routers, hop{v: v, in: in, out: out, addr: w.addrOn(v, out, lk.Via, p.dst)})
	}
	return false, out, lk, true
}

// post is POSTROUTING: a masquerade or SNAT of the request, the undoing
// of a DNAT on the answer. It returns notes for the hop.
func (w *walker) post(v *view, p *packet, out *kernel.LinkInfo) []string {
	w.takeNotes()
	if !w.chains(v, "POSTROUTING", p) {
		return nil
	}
	if p.reply {
		w.unDNAT(v, p)
	}
	return w.takeNotes()
}

// takeNotes returns the notes the chains left for the hop (a DNAT, a
// masquerade), and forgets them.
func (w *walker) takeNotes() []string {
	n := w.notes
	w.notes = nil
	return n
}

// self is a packet for one of v's own addresses: it goes through lo.
func (w *walker) self(v *view, p *packet) (*view, *kernel.LinkInfo, bool) {
	lo := w.link(v, kernel.LoopbackIndex)
	if lo == nil {
		lo = w.linkNamed(v, "lo")
	}
	if lo == nil {
		w.fault(fmt.Sprintf("%s has no loopback device", v.label), fix{})
		return nil, nil, false
	}
	w.hop(v.label + " lo")
	if !lo.Up {
		w.fault(fmt.Sprintf("lo is down in %s: %s cannot reach its own addresses", v.label, v.label),
			fix{code: linkRef(v, "lo") + ".set_up()", cmd: ipCmd(v, "link set lo up")})
		return nil, nil, false
	}
	w.check("%s: %s is its own address: through lo, which is up", v.label, p.dst)
	p.in, p.out = "", "lo"
	p.state = w.state(v, p)
	if !w.chains(v, "OUTPUT", p) {
		return nil, nil, false
	}
	p.in, p.out = "lo", ""
	if !w.chains(v, "INPUT", p) {
		return nil, nil, false
	}
	return v, lo, true
}

// state is the packet's conntrack state in v: the request is NEW, its
// answer ESTABLISHED where the request passed and INVALID elsewhere.
func (w *walker) state(v *view, p *packet) string {
	switch {
	case !p.reply:
		return "NEW"
	case w.seen[v]:
		return "ESTABLISHED"
	}
	return "INVALID"
}

// unSNAT: conntrack gives the answer back the address a masquerade took
// from the request, as it arrives (before routing).
func (w *walker) unSNAT(v *view, p *packet) {
	for _, n := range w.nats {
		if n.v == v && n.snat && p.dst.Equal(n.to) {
			w.check("%s: conntrack turns %s back into %s (it masqueraded the request)", v.label, p.dst, n.from)
			p.dst = n.from
			if n.fromPort != 0 {
				p.dport = n.fromPort
			}
			return
		}
	}
}

// unDNAT: conntrack gives the answer back the address the request was
// sent to, as it leaves.
func (w *walker) unDNAT(v *view, p *packet) {
	for _, n := range w.nats {
		if n.v == v && !n.snat && p.src.Equal(n.to) {
			w.check("%s: conntrack turns the answer's source %s back into %s (it rewrote the request's destination)", v.label, p.src, n.from)
			p.src = n.from
			if n.fromPort != 0 {
				p.sport = n.fromPort
			}
			return
		}
	}
}

func (w *walker) family() string {
	if w.v6 {
		return "IPv6"
	}
	return "IPv4"
}

// fwdKey is the sysctl that says whether v forwards what arrives on dev.
func (w *walker) fwdKey(dev string) string {
	if w.v6 {
		return kernel.DevSysctl("ipv6", dev, "forwarding")
	}
	return kernel.DevSysctl("ipv4", dev, "forwarding")
}

// rpFilter is the source check v applies on dev: the larger of all's and
// the device's (0 off, 1 strict, 2 loose); 0 for IPv6.
func (w *walker) rpFilter(v *view, dev string) int {
	if w.v6 {
		return 0
	}
	a, _ := strconv.Atoi(w.sysctl(v, "net.ipv4.conf.all.rp_filter"))
	d, _ := strconv.Atoi(w.sysctl(v, kernel.DevSysctl("ipv4", dev, "rp_filter")))
	return max(a, d)
}

// netOf is the network of v's address ip (ip/32 when v has it on no
// device).
func (w *walker) netOf(v *view, ip net.IP) *net.IPNet {
	for _, l := range w.allLinks(v) {
		for _, a := range w.addrsOf(v, l.Index) {
			if a.IP.Equal(ip) {
				return &net.IPNet{IP: a.IP.Mask(a.Mask), Mask: a.Mask}
			}
		}
	}
	bits := 32
	if ip.To4() == nil {
		bits = 128
	}
	return &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)}
}

// addrOn is v's address on out for reaching nh (or dst): what a
// masquerade there rewrites the source to.
func (w *walker) addrOn(v *view, out *kernel.LinkInfo, nh, dst net.IP) net.IP {
	if nh == nil {
		nh = dst
	}
	var first net.IP
	for _, a := range w.addrsOf(v, out.Index) {
		if (a.IP.To4() == nil) != w.v6 {
			continue
		}
		if a.Contains(nh) {
			return a.IP
		}
		if first == nil {
			first = a.IP
		}
	}
	return first
}

// nextHop is where a route sends p on its link: the gateway, or p's
// destination itself.
func nextHop(lk kernel.RouteLookup, p *packet) net.IP {
	if lk.Via != nil {
		return lk.Via
	}
	return p.dst
}

func hostPort(ip net.IP, port int) string {
	if port == 0 {
		return ip.String()
	}
	return net.JoinHostPort(ip.String(), strconv.Itoa(port))
}

// describeRoute says a route lookup's answer as ip route get does, and
// the policy rule (ip rule) that chose its table when that is not main.
func (w *walker) describeRoute(v *view, p *packet, lk kernel.RouteLookup, out *kernel.LinkInfo, iif string) string {
	s := "route to " + p.dst.String()
	if lk.Via != nil {
		s += " via " + lk.Via.String()
	}
	s += " dev " + out.Name
	if lk.Table != 0 && lk.Table != kernel.MainTable {
		s += " table " + kernel.TableName(lk.Table)
		if r := w.policyRule(v, p, lk.Table, iif); r != nil {
			s += " (ip rule " + r.Selector() + ")"
		}
	}
	return s
}

// policyRule is the first of v's policy rules that sends p (arriving on
// iif; "" when v sends it) to table.
func (w *walker) policyRule(v *view, p *packet, table int, iif string) *kernel.PolicyRule {
	rules, err := w.k.PolicyRules(v.ns, w.v6)
	if err != nil {
		return nil
	}
	slices.SortStableFunc(rules, func(a, b kernel.PolicyRule) int { return a.Priority - b.Priority })
	if iif == "" {
		iif = "lo" // what iif matches for a packet the namespace sends
	}
	for i := range rules {
		r := &rules[i]
		if r.Other || r.Table != table || r.Mask != 0 && r.Mark != 0 ||
			r.Src != nil && !r.Src.Contains(p.src) || r.Dst != nil && !r.Dst.Contains(p.dst) ||
			r.IIF != "" && r.IIF != iif {
			continue
		}
		return r
	}
	return nil
}

// errIs reports whether err is the kernel's errno e.
func errIs(err error, e syscall.Errno) bool { return errors.Is(err, e) }
