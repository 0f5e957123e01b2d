package builtins

import (
	"sort"
	"strings"
)

// Doc is what help() says about a builtin or method: how it is called
// (from the usage table, so the two never disagree), what it does, and
// the iproute2 (or iptables, sysctl) command it stands for, which is what
// nsscript's users think in.
type Doc struct {
	Name       string
	Signature  string
	Meaning    string
	Equivalent string // "" when there is none
}

// docs is the second half of every usage entry; TestHelpCoversUsage
// keeps the two tables in step.
var docs = map[string]struct{ meaning, equivalent string }{
	"namespace": {
		"create or adopt the named network namespace /run/netns/NAME and bring its loopback up; with pid= or path=, attach to an existing namespace (never deleted); pid= waits (timeout=) for a process that is making its own namespace",
		"ip netns add NAME; ip -n NAME link set lo up"},
	"namespaces": {"the named namespaces, as Namespace values", "ip netns list"},
	"identify":   {"the Namespace a process is in", "ip netns identify PID"},
	"veth": {
		"create a veth pair (two devices joined like a cable), each end directly in its namespace, then put each end on its bridge, address it and bring it up; returns (Link, Link)",
		"ip -n NS link add NAME type veth peer name PEER netns PEER_NS; ip -n NS link set NAME master BR; ip -n NS addr add ADDR dev NAME; ip -n NS link set NAME up (and the same for PEER in PEER_NS)"},
	"bridge": {
		"create a bridge (a virtual switch); addr= gives it an address, which makes it the gateway of what is plugged into it",
		"ip -n NS link add NAME type bridge [stp_state 1]; ip -n NS addr add ADDR dev NAME; ip -n NS link set NAME up"},
	"dummy": {
		"create a dummy device, a stand-in for a physical NIC (an ifb device reported as \"dummy\" where the kernel has no dummy driver)",
		"ip -n NS link add NAME type dummy; ip -n NS addr add ADDR dev NAME; ip -n NS link set NAME up"},
	"link": {"an existing device, by name", "ip -n NS link show NAME"},
	"route": {
		"add or replace a route; dst is \"default\", a prefix or an address",
		"ip -n NS route replace DST [via VIA] [dev DEV] [metric M] [table T]"},
	"forwarding": {
		"turn IPv4 forwarding on (or off) in a namespace; down restores the old value",
		"ip netns exec NS sysctl -w net.ipv4.ip_forward=1"},
	"exec": {
		"run a command inside a namespace (a str runs through /bin/sh -c, a list is argv); returns a Result, or a Process with background=True (a re-run finds the same daemon still running and returns it, unless restart=True; ready=\"tcp://IP:PORT\" waits until it listens)",
		"ip netns exec NS CMD"},
	"ping":      {"whether dst answers an ICMP echo sent from inside ns (no ping binary needed)", "ip netns exec NS ping -c COUNT -W TIMEOUT DST"},
	"sleep":     {"wait: \"250ms\", \"2s\", or seconds as a number (Ctrl-C interrupts it)", "sleep DURATION"},
	"wait_port": {"wait until something accepts TCP connections on dst (\"ip:port\"), seen from ns: a daemon that is still starting", "until ip netns exec NS nc -z IP PORT; do sleep 0.02; done"},
	"firewall":  {"append an iptables rule (a rulespec, str or list) to a built-in chain of a namespace, unless it is there already; returns a Rule", "ip netns exec NS iptables -t TABLE -A CHAIN RULE..."},

	"nat.masquerade": {
		"rewrite the source of packets from src that leave through out (or through any device but not_out) to the outgoing device's address",
		"ip netns exec NS iptables -t nat -A POSTROUTING -s SRC [-o OUT | ! -o NOT_OUT] -j MASQUERADE"},
	"nat.dnat": {
		"send connections arriving for port (on in_, to dst) to another address (\"ip\" or \"ip:port\")",
		"ip netns exec NS iptables -t nat -A PREROUTING -p PROTO --dport PORT [-i IN] [-d DST] -j DNAT --to-destination TO"},
	"rule.delete": {"delete the rule", "ip netns exec NS iptables -t TABLE -D CHAIN RULE..."},

	"namespace.etc": {
		"write /etc/netns/NAME/FILE, which processes exec starts in the namespace see as /etc/FILE (hosts, resolv.conf, ...)",
		"mkdir -p /etc/netns/NAME; printf CONTENT > /etc/netns/NAME/FILE"},
	"namespace.link":   {"a device of this namespace, by name", "ip -n NS link show NAME"},
	"namespace.exec":   {"exec(ns, cmd, ...) with this namespace", "ip netns exec NS CMD"},
	"namespace.sysctl": {"read a sysctl in the namespace, or write it and return the old value", "ip netns exec NS sysctl [-w] KEY[=VALUE]"},
	"namespace.delete": {"delete a named namespace", "ip netns del NAME"},

	"link.set_up":     {"bring the device up", "ip -n NS link set DEV up"},
	"link.set_down":   {"bring the device down", "ip -n NS link set DEV down"},
	"link.set":        {"change the device's MTU, MAC address or name", "ip -n NS link set DEV [mtu M] [address MAC] [name NEW]"},
	"link.addr":       {"add an address unless the device has it already", "ip -n NS addr replace CIDR dev DEV"},
	"link.del_addr":   {"remove an address", "ip -n NS addr del CIDR dev DEV"},
	"link.set_master": {"put the device on a bridge, or take it off with None", "ip -n NS link set DEV master BR | nomaster"},
	"link.move":       {"move the device to another namespace; the Link value follows it", "ip -n NS link set DEV netns TARGET"},
	"link.delete":     {"delete the device (a veth's peer goes with it)", "ip -n NS link del DEV"},

	"process.wait": {"wait for the process to exit and return its exit code", "wait PID"},
	"process.kill": {"send a signal to the process and its process group", "kill -SIGNAL -PGID"},

	"assert.eq":          {"fail unless a == b", ""},
	"assert.ne":          {"fail unless a != b", ""},
	"assert.true":        {"fail unless x is true", ""},
	"assert.false":       {"fail unless x is false", ""},
	"assert.contains":    {"fail unless item in container", ""},
	"assert.fails":       {"call fn and fail unless it fails with an error matching the regexp pattern; returns the message", ""},
	"assert.reachable":   {"fail unless dst (\"ip\", or \"ip:port\" for TCP) answers from inside ns", "ip netns exec NS ping -c 1 DST (nc -z IP PORT for ip:port)"},
	"assert.unreachable": {"fail unless dst does not answer from inside ns", "! ip netns exec NS ping -c 1 DST"},
}

// Help returns the documentation of a builtin or method: "veth",
// "nat.dnat", "link.move" (methods are named TYPE.METHOD, as in errors).
func Help(name string) (Doc, bool) {
	sig, ok := usage[name]
	if !ok {
		return Doc{}, false
	}
	d := docs[name]
	return Doc{Name: name, Signature: sig, Meaning: d.meaning, Equivalent: d.equivalent}, true
}

// HelpNames lists every documented name, sorted: the builtins first, then
// the module functions and methods (names with a dot).
func HelpNames() []string {
	var top, dotted []string
	for name := range usage {
		if strings.Contains(name, ".") {
			dotted = append(dotted, name)
		} else {
			top = append(top, name)
		}
	}
	sort.Strings(top)
	sort.Strings(dotted)
	return append(top, dotted...)
}

// TypeDoc is a line about each kind of value the builtins return.
var TypeDoc = map[string]string{
	"Namespace": "a network namespace: the host, a named one in /run/netns, or one attached by pid or path",
	"Link":      "a network device; it follows its device through renames and moves",
	"Route":     "a route of a namespace's main table",
	"Result":    "what a finished command gave; str(result) is its stdout",
	"Process":   "a command started with exec(..., background=True)",
	"Rule":      "an iptables rule nsscript added (or found) in a namespace",
	"neighbor":  "an entry of a namespace's ARP/NDP cache",
}

var (
	// A form is what is inside one pair of parentheses of a usage entry,
	// which may show several: namespace(name, lo=True), namespace(pid=N).
	usageForm = LazyRegexp(`\(([^()]*)\)`)
	// A parameter is a name, or name=default.
	usageParam = LazyRegexp(`^([A-Za-z_][A-Za-z0-9_]*)\s*(=.*)?$`)
)

// Params lists the parameters a builtin or method takes, in signature
// order, from its usage entry (for the REPL's keyword completion).
func Params(name string) []string {
	var out []string
	seen := map[string]bool{}
	for _, form := range usageForm().FindAllStringSubmatch(usage[name], -1) {
		for _, p := range strings.Split(form[1], ",") {
			m := usageParam().FindStringSubmatch(strings.TrimSpace(p))
			if m != nil && !seen[m[1]] {
				seen[m[1]] = true
				out = append(out, m[1])
			}
		}
	}
	return out
}
