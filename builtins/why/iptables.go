package why

import (
	"fmt"
	"net"
	"strconv"
	"strings"
)

// The firewall of a namespace as iptables-save -c prints it, and the
// evaluation of one packet through a chain: the first rule that matches,
// with its counters, or the chain's policy.

// fwRule is one rule: "-A CHAIN [matches] -j TARGET [options]".
type fwRule struct {
	chain   string
	num     int // its position in the chain, from 1
	pkts    int64
	matches []string // the words before -j/-g
	target  string
	tArgs   []string // the target's options
	goTo    bool     // -g: a goto, not a jump
	words   []string // the whole rulespec (after -A CHAIN)
}

// spec is the rulespec without nsscript's ownership comment, as a
// script writes it.
func (r *fwRule) spec() []string {
	var out []string
	for i := 0; i < len(r.words); i++ {
		w := r.words[i]
		if w == "-m" && i+3 < len(r.words) && r.words[i+1] == "comment" && r.words[i+2] == "--comment" && strings.HasPrefix(r.words[i+3], "nsscript:") {
			i += 3
			continue
		}
		out = append(out, w)
	}
	return out
}

// comment is the rule's nsscript ownership comment ("nsscript:LAB"), or "".
func (r *fwRule) comment() string {
	for i := 0; i+3 < len(r.words); i++ {
		if r.words[i] == "-m" && r.words[i+1] == "comment" && r.words[i+2] == "--comment" && strings.HasPrefix(r.words[i+3], "nsscript:") {
			return r.words[i+3]
		}
	}
	return ""
}

type fwChain struct {
	policy string // "" for a user chain
	pkts   int64
	rules  []*fwRule
}

// firewall is one family's tables: table -> chain -> rules.
type firewall map[string]map[string]*fwChain

// parseSave reads iptables-save -c output.
func parseSave(text string) firewall {
	fw := firewall{}
	var table map[string]*fwChain
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || line[0] == '#' || line == "COMMIT":
		case line[0] == '*':
			table = map[string]*fwChain{}
			fw[line[1:]] = table
		case line[0] == ':' && table != nil:
			f := strings.Fields(line[1:])
			if len(f) < 2 {
				continue
			}
			c := chainOf(table, f[0])
			if f[1] != "-" {
				c.policy = f[1]
			}
			if len(f) > 2 {
				c.pkts, _ = counters(f[2])
			}
		case table != nil:
			var pkts int64
			if line[0] == '[' {
				end := strings.IndexByte(line, ']')
				if end < 0 {
					continue
				}
				pkts, _ = counters(line[:end+1])
				line = strings.TrimSpace(line[end+1:])
			}
			words := splitWords(line)
			if len(words) < 2 || words[0] != "-A" {
				continue
			}
			c := chainOf(table, words[1])
			r := &fwRule{chain: words[1], num: len(c.rules) + 1, pkts: pkts, words: words[2:]}
			r.matches = r.words
			for i, w := range r.words {
				if (w == "-j" || w == "-g" || w == "--jump" || w == "--goto") && i+1 < len(r.words) {
					r.matches, r.target, r.tArgs = r.words[:i], r.words[i+1], r.words[i+2:]
					r.goTo = w == "-g" || w == "--goto"
					break
				}
			}
			c.rules = append(c.rules, r)
		}
	}
	return fw
}

func chainOf(t map[string]*fwChain, name string) *fwChain {
	c := t[name]
	if c == nil {
		c = &fwChain{}
		t[name] = c
	}
	return c
}

// counters reads "[PKTS:BYTES]".
func counters(s string) (int64, int64) {
	s = strings.Trim(s, "[]")
	p, b, _ := strings.Cut(s, ":")
	pn, _ := strconv.ParseInt(p, 10, 64)
	bn, _ := strconv.ParseInt(b, 10, 64)
	return pn, bn
}

// splitWords splits a rule line as iptables-save quotes it: words, and
// "double quoted" strings with \" and \\ inside.
func splitWords(s string) []string {
	var out []string
	var cur strings.Builder
	in, quoted := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quoted && c == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
		case c == '"':
			quoted = !quoted
			in = true
		case !quoted && (c == ' ' || c == '\t'):
			if in {
				out = append(out, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteByte(c)
			in = true
		}
	}
	if in {
		out = append(out, cur.String())
	}
	return out
}

// packet is what a rule is matched against.
type packet struct {
	src, dst     net.IP
	proto        string // icmp, tcp, udp
	sport, dport int
	reply        bool   // the answer: an ICMP echo reply, a TCP SYN-ACK
	state        string // conntrack: NEW, ESTABLISHED or INVALID
	in, out      string // devices, "" where there is none (INPUT has no out)
	physIn       string // bridged: the bridge ports
	physOut      string
	bridged      bool
	local        func(net.IP) bool // is it an address of the namespace's
	v6           bool
}

// verdict is where a packet's walk through a chain ends.
type verdict struct {
	target string  // ACCEPT, DROP, REJECT, DNAT, SNAT, MASQUERADE, ...; "" when nothing decided (a user chain ran out)
	rule   *fwRule // nil: the chain's policy
	chain  string  // the built-in chain whose policy it is, or the rule's chain
	pkts   int64   // the policy's counter
	unsure []string
}

// terminal targets end a packet's walk through a table.
var terminal = map[string]bool{"ACCEPT": true, "DROP": true, "REJECT": true, "DNAT": true, "SNAT": true,
	"MASQUERADE": true, "REDIRECT": true, "NETMAP": true, "TPROXY": true, "QUEUE": true, "NFQUEUE": true}

// eval walks p through a built-in chain of a table.
func (fw firewall) eval(table, chain string, p *packet) verdict {
	t := fw[table]
	if t == nil || t[chain] == nil {
		return verdict{target: "ACCEPT", chain: chain}
	}
	v := fw.walk(t, chain, p, 0)
	if v.target == "" || v.target == "RETURN" {
		c := t[chain]
		v.target, v.rule, v.chain, v.pkts = c.policy, nil, chain, c.pkts
		if v.target == "" {
			v.target = "ACCEPT"
		}
	}
	return v
}

func (fw firewall) walk(t map[string]*fwChain, chain string, p *packet, depth int) verdict {
	var unsure []string
	c := t[chain]
	if c == nil || depth > 32 {
		return verdict{}
	}
	for _, r := range c.rules {
		ok, _, unknown := r.match(p)
		if unknown != "" {
			if terminal[r.target] || t[r.target] != nil {
				unsure = append(unsure, fmt.Sprintf("%s rule %d (%s) may match: nsscript cannot evaluate %s", chain, r.num, strings.Join(r.spec(), " "), unknown))
			}
			continue
		}
		if !ok {
			continue
		}
		switch {
		case terminal[r.target]:
			return verdict{target: r.target, rule: r, chain: chain, unsure: unsure}
		case r.target == "RETURN":
			return verdict{target: "RETURN", unsure: unsure}
		case t[r.target] != nil:
			sub := fw.walk(t, r.target, p, depth+1)
			unsure = append(unsure, sub.unsure...)
			if sub.target != "" && sub.target != "RETURN" {
				sub.unsure = unsure
				return sub
			}
			if r.goTo {
				return verdict{target: "RETURN", unsure: unsure}
			}
		}
		// LOG, MARK, a rule without a target (a counter): on to the next.
	}
	return verdict{unsure: unsure}
}

// Protocol numbers iptables-save may print.
var protoNames = map[string]string{"1": "icmp", "6": "tcp", "17": "udp", "58": "icmp", "ipv6-icmp": "icmp", "icmpv6": "icmp"}

// match reports whether the rule's matches all hold for p; when one does
// not, why (for a rule that nearly matched); unknown names a match
// nsscript cannot evaluate.
func (r *fwRule) match(p *packet) (ok bool, why, unknown string) {
	w := r.matches
	neg := false
	next := func(i *int) string {
		if *i+1 < len(w) {
			*i++
			return w[*i]
		}
		return ""
	}
	fail := func(reason string) (bool, string, string) { return false, reason, "" }
	module := ""
	for i := 0; i < len(w); i++ {
		opt := w[i]
		if opt == "!" {
			neg = true
			continue
		}
		var hit bool
		var reason string
		switch opt {
		case "-s", "--source", "-d", "--destination":
			val := next(&i)
			ip := p.src
			what := "source"
			if opt == "-d" || opt == "--destination" {
				ip, what = p.dst, "destination"
			}
			hit = inNet(val, ip)
			reason = fmt.Sprintf("%s %s does not match %s", what, ip, val)
		case "-i", "--in-interface", "-o", "--out-interface":
			val := next(&i)
			dev := p.in
			what := "it arrives on"
			if opt == "-o" || opt == "--out-interface" {
				dev, what = p.out, "it leaves through"
			}
			hit = ifMatch(val, dev)
			reason = fmt.Sprintf("%s %s, not %s", what, orNone(dev), val)
		case "-p", "--protocol":
			val := strings.ToLower(next(&i))
			if n, ok := protoNames[val]; ok {
				val = n
			}
			hit = val == "all" || val == "0" || val == p.proto
			reason = fmt.Sprintf("it is %s, not %s", p.proto, val)
		case "-f", "--fragment":
			hit, reason = false, "it is not a fragment"
		case "-m", "--match":
			module = next(&i)
			switch module {
			case "comment", "tcp", "udp", "icmp", "icmp6", "icmpv6", "multiport", "conntrack", "state", "addrtype",
				"iprange", "physdev", "pkttype", "limit", "mark":
			default:
				return false, "", "-m " + module
			}
			continue
		case "--comment":
			next(&i)
			continue
		case "--dport", "--destination-port", "--sport", "--source-port":
			val := next(&i)
			port := p.dport
			if opt == "--sport" || opt == "--source-port" {
				port = p.sport
			}
			hit = (p.proto == "tcp" || p.proto == "udp") && portIn(val, port)
			reason = fmt.Sprintf("port %d is not %s", port, val)
		case "--dports", "--destination-ports", "--sports", "--source-ports", "--ports":
			val := next(&i)
			hit = false
			for _, one := range strings.Split(val, ",") {
				switch opt {
				case "--dports", "--destination-ports":
					hit = hit || portIn(one, p.dport)
				case "--sports", "--source-ports":
					hit = hit || portIn(one, p.sport)
				default:
					hit = hit || portIn(one, p.dport) || portIn(one, p.sport)
				}
			}
			reason = fmt.Sprintf("ports not in %s", val)
		case "--icmp-type", "--icmpv6-type":
			val := next(&i)
			hit = p.proto == "icmp" && icmpType(val, p)
			reason = fmt.Sprintf("ICMP type is not %s", val)
		case "--ctstate", "--state":
			val := next(&i)
			hit = false
			for _, s := range strings.Split(val, ",") {
				hit = hit || s == p.state
			}
			reason = fmt.Sprintf("its conntrack state is %s, not %s", p.state, val)
		case "--syn":
			hit = p.proto == "tcp" && !p.reply
			reason = "it is not a SYN"
		case "--tcp-flags":
			mask, comp := strings.Split(next(&i), ","), strings.Split(next(&i), ",")
			hit = p.proto == "tcp" && tcpFlags(mask, comp, p.reply)
			reason = "its TCP flags differ"
		case "--src-type", "--dst-type":
			val := next(&i)
			ip := p.src
			if opt == "--dst-type" {
				ip = p.dst
			}
			var known bool
			hit, known = addrType(val, ip, p)
			if !known {
				return false, "", opt + " " + val
			}
			reason = fmt.Sprintf("%s is not of type %s", ip, val)
		case "--limit-iface-in", "--limit-iface-out":
			continue
		case "--src-range", "--dst-range":
			val := next(&i)
			ip := p.src
			if opt == "--dst-range" {
				ip = p.dst
			}
			hit = inRange(val, ip)
			reason = fmt.Sprintf("%s is not in %s", ip, val)
		case "--physdev-in", "--physdev-out":
			val := next(&i)
			dev := p.physIn
			if opt == "--physdev-out" {
				dev = p.physOut
			}
			hit = p.bridged && ifMatch(val, dev)
			reason = "it is not bridged through " + val
		case "--physdev-is-bridged", "--physdev-is-in", "--physdev-is-out":
			hit = p.bridged
			reason = "it is not bridged"
		case "--pkt-type":
			hit = next(&i) == "unicast"
			reason = "it is unicast"
		case "--limit", "--limit-burst":
			next(&i)
			continue // a rate limit: the first packets pass it
		case "--mark":
			val := next(&i)
			v, m, _ := strings.Cut(val, "/")
			vn, _ := strconv.ParseUint(v, 0, 32)
			mn := uint64(0xffffffff)
			if m != "" {
				mn, _ = strconv.ParseUint(m, 0, 32)
			}
			hit = 0&mn == vn // nsscript sees no marks: a packet's is 0
			reason = "its mark is 0"
		default:
			return false, "", strings.TrimSpace(module + " " + opt)
		}
		if neg {
			hit, neg = !hit, false
			reason = "negated: " + reason
		}
		if !hit {
			return fail(reason)
		}
	}
	return true, "", ""
}

func orNone(dev string) string {
	if dev == "" {
		return "no device"
	}
	return dev
}

// inNet: "10.0.0.0/24" or "10.0.0.1" (iptables-save prints /32 for one).
func inNet(val string, ip net.IP) bool {
	if ip == nil {
		return false
	}
	if !strings.Contains(val, "/") {
		return net.ParseIP(val).Equal(ip)
	}
	_, n, err := net.ParseCIDR(val)
	return err == nil && n.Contains(ip)
}

// ifMatch: "eth0", "veth+" (a prefix), as iptables matches devices.
func ifMatch(pattern, dev string) bool {
	if dev == "" {
		return false
	}
	if strings.HasSuffix(pattern, "+") {
		return strings.HasPrefix(dev, strings.TrimSuffix(pattern, "+"))
	}
	return pattern == dev
}

// portIn: "80" or "8000:8080".
func portIn(val string, port int) bool {
	lo, hi, isRange := strings.Cut(val, ":")
	l, err := strconv.Atoi(lo)
	if lo == "" {
		l, err = 0, nil
	}
	if err != nil {
		return false
	}
	if !isRange {
		return port == l
	}
	h := 65535
	if hi != "" {
		if h, err = strconv.Atoi(hi); err != nil {
			return false
		}
	}
	return port >= l && port <= h
}

var icmpNames = map[string]int{"echo-request": 8, "echo-reply": 0, "any": -1, "destination-unreachable": 3,
	"time-exceeded": 11, "ping": 8, "pong": 0}
var icmp6Names = map[string]int{"echo-request": 128, "echo-reply": 129, "any": -1, "destination-unreachable": 1,
	"time-exceeded": 3, "ping": 128, "pong": 129}

// icmpType: "8", "8/0", "echo-request"; an echo request, or its reply.
func icmpType(val string, p *packet) bool {
	t, _, _ := strings.Cut(val, "/")
	names := icmpNames
	if p.v6 {
		names = icmp6Names
	}
	want := names["echo-request"]
	if p.reply {
		want = names["echo-reply"]
	}
	n, ok := names[t]
	if !ok {
		var err error
		if n, err = strconv.Atoi(t); err != nil {
			return false
		}
	}
	return n == -1 || n == want
}

// tcpFlags: --tcp-flags MASK COMP for a SYN (or, answering, a SYN-ACK).
func tcpFlags(mask, comp []string, reply bool) bool {
	set := map[string]bool{"SYN": true, "ACK": reply}
	has := func(l []string, f string) bool {
		for _, x := range l {
			if x == f || x == "ALL" {
				return true
			}
		}
		return false
	}
	for _, f := range []string{"SYN", "ACK", "FIN", "RST", "URG", "PSH"} {
		if has(mask, f) && has(comp, f) != set[f] {
			return false
		}
	}
	return true
}

// addrType: -m addrtype's LOCAL and UNICAST; known is false for another type.
func addrType(val string, ip net.IP, p *packet) (hit, known bool) {
	local := p.local != nil && p.local(ip)
	switch val {
	case "LOCAL":
		return local, true
	case "UNICAST":
		return !ip.IsMulticast() && !ip.Equal(net.IPv4bcast), true
	case "MULTICAST":
		return ip.IsMulticast(), true
	case "BROADCAST":
		return ip.Equal(net.IPv4bcast), true
	}
	return false, false
}

// inRange: "10.0.0.1-10.0.0.9".
func inRange(val string, ip net.IP) bool {
	lo, hi, _ := strings.Cut(val, "-")
	l, h := net.ParseIP(lo), net.ParseIP(hi)
	if l == nil || h == nil || ip == nil {
		return false
	}
	return bytesCmp(ip.To16(), l.To16()) >= 0 && bytesCmp(ip.To16(), h.To16()) <= 0
}

func bytesCmp(a, b []byte) int {
	for i := range a {
		if a[i] != b[i] {
			if a[i] < b[i] {
				return -1
			}
			return 1
		}
	}
	return 0
}

// targetAddr reads DNAT's --to-destination / SNAT's --to-source: the
// first address and port of "IP[-IP][:PORT[-PORT]]" ("[IPv6]:PORT").
func targetAddr(r *fwRule, opt string) (net.IP, int) {
	for i := 0; i+1 < len(r.tArgs); i++ {
		if r.tArgs[i] != opt {
			continue
		}
		v := r.tArgs[i+1]
		host, port := v, ""
		if strings.HasPrefix(v, "[") {
			end := strings.IndexByte(v, ']')
			if end > 0 {
				host, port = v[1:end], strings.TrimPrefix(v[end+1:], ":")
			}
		} else if strings.Count(v, ":") == 1 {
			host, port, _ = strings.Cut(v, ":")
		}
		host, _, _ = strings.Cut(host, "-")
		port, _, _ = strings.Cut(port, "-")
		pn, _ := strconv.Atoi(port)
		return net.ParseIP(host), pn
	}
	return nil, 0
}

// toPorts reads REDIRECT's/MASQUERADE's --to-ports.
func toPorts(r *fwRule) int {
	for i := 0; i+1 < len(r.tArgs); i++ {
		if r.tArgs[i] == "--to-ports" {
			p, _, _ := strings.Cut(r.tArgs[i+1], "-")
			n, _ := strconv.Atoi(p)
			return n
		}
	}
	return 0
}
