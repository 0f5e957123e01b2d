package builtins

import (
	"strings"

	"go.starlark.net/starlark"
)

// The table: an entry for every builtin, module function and method (see
// spec.go for what is made from it). Meanings are clauses, as help()
// prints them after the usage; an Equivalent is the command as a user
// would type it, with the builtin's arguments in capitals.

// builtinTable are the builtins every script sees.
var builtinTable = []function{
	{impl: (*Env).namespace, spec: spec{Name: "namespace",
		Params: params{{Name: "name"}, {Name: "lo", Default: "True"}, {Name: "ipv6", Default: "True"},
			{Name: "pid", Default: "N", Form: 1}, {Name: "path", Default: "P", Form: 2}, {Name: "timeout", Default: `"5s"`, Form: 1}},
		Meaning:    "create or adopt the named network namespace /run/netns/NAME and bring its loopback up; ipv6=False turns IPv6 off for every device of the namespace, lo included, before any is up (in a namespace that is there already, from then on; down puts back one the lab did not make); with pid= or path=, attach to an existing namespace (never deleted); pid= waits (timeout=) for a process that is making its own namespace",
		Equivalent: "ip netns add NAME; [ipv6=False: ip netns exec NAME sysctl -w net.ipv6.conf.all.disable_ipv6=1;] ip -n NAME link set lo up"}},
	{impl: (*Env).namespaces, spec: spec{Name: "namespaces",
		Meaning: "the named namespaces, as Namespace values", Equivalent: "ip netns list"}},
	{impl: (*Env).identify, spec: spec{Name: "identify", Params: params{{Name: "pid"}},
		Meaning: "the Namespace a process is in", Equivalent: "ip netns identify PID"}},
	{impl: (*Env).veth, spec: spec{Name: "veth",
		Params: params{{Name: "name"}, {Name: "peer"}, {Name: "ns", Default: "host"}, {Name: "peer_ns", Default: "host"},
			{Name: "addr", Default: "None"}, {Name: "peer_addr", Default: "None"}, {Name: "master", Default: "None"},
			{Name: "peer_master", Default: "None"}, {Name: "mtu", Default: "None"}, {Name: "up", Default: "True"},
			{Name: "rate", Default: "None"}, {Name: "delay", Default: "None"}, {Name: "jitter", Default: "None"}, {Name: "loss", Default: "None"},
			{Name: "mac", Default: "None"}, {Name: "peer_mac", Default: "None"}},
		Meaning:    "create a veth pair (two devices joined like a cable), each end directly in its namespace (with the MAC addresses mac= and peer_mac=: ip link add NAME address MAC ... peer name PEER address PEER_MAC; else random ones), then put each end on its bridge, address it and bring it up (an end made to be a bridge port gets no IPv6 of its own); returns (Link, Link); rate=, delay=, jitter=, loss= shape each end's egress as link.shape does (both ways, as Mininet's TCLink)",
		Equivalent: "ip -n NS link add NAME type veth peer name PEER netns PEER_NS; [with master: ip netns exec NS sysctl -w net.ipv6.conf.NAME.disable_ipv6=1;] ip -n NS link set NAME master BR; ip -n NS addr add ADDR dev NAME; ip -n NS link set NAME up (and the same for PEER in PEER_NS); tc -n NS qdisc add dev NAME root netem delay DELAY JITTER loss LOSS (and tbf rate RATE; the same for PEER)"}},
	{impl: (*Env).bridge, spec: spec{Name: "bridge",
		Params:     params{{Name: "name"}, {Name: "ns", Default: "host"}, {Name: "addr", Default: "None"}, {Name: "stp", Default: "False"}, {Name: "up", Default: "True"}},
		Meaning:    "create a bridge (a virtual switch); addr= gives it an address, which makes it the gateway of what is plugged into it",
		Equivalent: "ip -n NS link add NAME type bridge [stp_state 1]; ip -n NS addr add ADDR dev NAME; ip -n NS link set NAME up"}},
	{impl: (*Env).dummy, spec: spec{Name: "dummy",
		Params:     params{{Name: "name"}, {Name: "ns", Default: "host"}, {Name: "addr", Default: "None"}, {Name: "up", Default: "True"}},
		Meaning:    "create a dummy device, a stand-in for a physical NIC (an ifb device reported as \"dummy\" where the kernel has no dummy driver)",
		Equivalent: "ip -n NS link add NAME type dummy; ip -n NS addr add ADDR dev NAME; ip -n NS link set NAME up"}},
	{impl: (*Env).vxlan, spec: spec{Name: "vxlan",
		Params: params{{Name: "name"}, {Name: "vni"}, {Name: "remote", Default: "None"}, {Name: "group", Default: "None"},
			{Name: "local", Default: "None"}, {Name: "dev", Default: "None"}, {Name: "dstport", Default: "4789"}, {Name: "ns", Default: "host"},
			{Name: "addr", Default: "None"}, {Name: "master", Default: "None"}, {Name: "mtu", Default: "None"}, {Name: "up", Default: "True"}},
		Meaning:    "create a VXLAN device, the kernel's overlay: an Ethernet segment (vni, 0 to 2^24-1, tells segments apart) carried in UDP to dstport of the other machine remote=, or of a multicast group= joined on dev=, from local= over the underlay device dev=; on a bridge (master=) it joins the LANs of both machines; its MTU is dev's less 50 bytes of headers",
		Equivalent: "ip -n NS link add NAME type vxlan id VNI [remote R | group G] [local L] [dev DEV] dstport PORT; ip -n NS link set NAME master BR; ip -n NS link set NAME up"}},
	{impl: (*Env).tap, spec: spec{Name: "tap",
		Params:     params{{Name: "name"}, {Name: "ns", Default: "host"}, {Name: "addr", Default: "None"}, {Name: "master", Default: "None"}, {Name: "mtu", Default: "None"}, {Name: "up", Default: "True"}},
		Meaning:    "create a persistent tap device, the kind a virtual machine's NIC is backed by (made with /dev/net/tun as ip tuntap makes it, since the kernel makes none over netlink); it has no carrier until a program opens it",
		Equivalent: "ip -n NS tuntap add NAME mode tap; ip -n NS link set NAME master BR; ip -n NS link set NAME up"}},
	{impl: (*Env).vlan, spec: spec{Name: "vlan",
		Params: params{{Name: "link"}, {Name: "id"}, {Name: "name", Default: "None"}, {Name: "ns", Default: "None"},
			{Name: "addr", Default: "None"}, {Name: "master", Default: "None"}, {Name: "mtu", Default: "None"}, {Name: "up", Default: "True"}},
		Meaning:    "create an 802.1Q VLAN device on link (a Link), which tags what it sends with id (1 to 4094) and receives what carries it; named LINK.ID unless name= says, in link's namespace unless ns= says; needs the kernel's 8021q module",
		Equivalent: "ip -n NS link add link LINK name LINK.ID type vlan id ID; ip -n NS addr add ADDR dev LINK.ID; ip -n NS link set LINK.ID up"}},
	{impl: (*Env).macvlan, spec: spec{Name: "macvlan",
		Params: params{{Name: "link"}, {Name: "name", Default: "None"}, {Name: "mode", Default: `"bridge"`}, {Name: "ns", Default: "None"},
			{Name: "addr", Default: "None"}, {Name: "master", Default: "None"}, {Name: "mtu", Default: "None"}, {Name: "up", Default: "True"}},
		Meaning:    "create a macvlan device on link (a Link): a MAC address of its own on link's wire, as a container's NIC on the host's LAN; named mv-LINK unless name= says, in link's namespace or straight in ns=; mode is bridge (siblings talk directly), private, vepa, passthru or source",
		Equivalent: "ip -n NS link add link LINK name NAME [netns NS2] type macvlan mode MODE; ip -n NS2 addr add ADDR dev NAME; ip -n NS2 link set NAME up"}},
	{impl: (*Env).link, spec: spec{Name: "link", Params: params{{Name: "name"}, {Name: "ns", Default: "host"}},
		Meaning: "an existing device, by name", Equivalent: "ip -n NS link show NAME"}},
	{impl: (*Env).route, spec: spec{Name: "route",
		Params:     params{{Name: "ns"}, {Name: "dst"}, {Name: "via", Default: "None"}, {Name: "dev", Default: "None"}, {Name: "metric", Default: "None"}, {Name: "table", Default: "None"}},
		Meaning:    "add or replace a route; dst is \"default\", a prefix or an address",
		Equivalent: "ip -n NS route replace DST [via VIA] [dev DEV] [metric M] [table T]"}},
	{impl: (*Env).rule, spec: spec{Name: "rule",
		Params: params{{Name: "ns"}, {Name: "from_", Default: "None"}, {Name: "to", Default: "None"}, {Name: "iif", Default: "None"},
			{Name: "oif", Default: "None"}, {Name: "fwmark", Default: "None"}, {Name: "table", Default: "None"}, {Name: "priority", Default: "None"}},
		Meaning:    "add a routing policy rule unless the namespace has it: packets from from_, to to, in by iif, out by oif, with mark fwmark (1, \"0x1/0xff\") look up table (a number that has routes, or main, local, default), the rule of the lowest priority first; without priority= the kernel's pick (one below the lowest in use but local's 0: 32765 in a fresh namespace), and any priority when finding it again; IPv6 when a prefix is (from_=\"::/0\" for all); returns a PolicyRule",
		Equivalent: "ip -n NS rule add [from FROM_] [to TO] [iif IIF] [oif OIF] [fwmark FWMARK] table TABLE [priority PRIORITY]"}},
	{impl: (*Env).forwarding, spec: spec{Name: "forwarding", Params: params{{Name: "ns", Default: "host"}, {Name: "on", Default: "True"}, {Name: "family", Default: `"ipv4"`}},
		Meaning:    "turn forwarding on (or off) in a namespace, of IPv4 or (family=\"ipv6\") IPv6; down restores the old value",
		Equivalent: "ip netns exec NS sysctl -w net.ipv4.ip_forward=1 (net.ipv6.conf.all.forwarding=1)"}},
	{impl: (*Env).exec, spec: spec{Name: "exec", Params: append(params{{Name: "ns"}}, execParams...),
		Meaning:    "run a command inside a namespace (a str runs through /bin/sh -c, a list is argv); returns a Result, or a Process with background=True (a re-run finds the same daemon still running and returns it, unless restart=True; ready=\"tcp://IP:PORT\" waits until it listens)",
		Equivalent: "ip netns exec NS CMD"}},
	{impl: (*Env).ping, spec: spec{Name: "ping",
		Params: params{{Name: "ns"}, {Name: "dst"}, {Name: "count", Default: "1"}, {Name: "interval", Default: `"0s"`},
			{Name: "timeout", Default: `"1s"`}, {Name: "size", Default: "56"}},
		Meaning:    "send count ICMP echo requests from inside ns (no ping binary needed; interval apart, the next one sooner when none is due: a reply or timeout ends each wait); returns a PingResult, true when any reply came; an ICMP error (unreachable, TTL exceeded) ends it at once",
		Equivalent: "ip netns exec NS ping -c COUNT -i INTERVAL -W TIMEOUT -s SIZE DST"}},
	{impl: (*Env).reachability, spec: spec{Name: "reachability",
		Params:     params{{Name: "nodes"}, {Name: "count", Default: "1"}, {Name: "timeout", Default: `"1s"`}},
		Meaning:    "ping from every node to every other, all at once: nodes are Namespaces (pinged at their first IPv4 address) or (name, namespace, address); returns a Matrix, which prints as Mininet's pingall",
		Equivalent: "for each pair: ip netns exec SRC ping -c COUNT -W TIMEOUT DST_ADDR"}},
	{impl: (*Env).sprintf, spec: spec{Name: "sprintf", Params: params{{Name: "format"}, {Name: "*args"}},
		Meaning:    "format args as Python's % operator does, with the flags, width and precision Starlark's % lacks; sprintf(\"%02x\", 10) is \"0a\", sprintf(\"%-4s|%6.2f\", \"h1\", 0.5) is \"h1  |  0.50\"",
		Equivalent: "printf FORMAT ARGS..."}},
	{impl: (*Env).sleep, spec: spec{Name: "sleep", Params: params{{Name: "duration"}},
		Meaning: "wait: \"250ms\", \"2s\", or seconds as a number (Ctrl-C interrupts it)", Equivalent: "sleep DURATION"}},
	{impl: (*Env).firewall, spec: spec{Name: "firewall",
		Params:     params{{Name: "ns"}, {Name: "chain"}, {Name: "rule"}, {Name: "table", Default: `"filter"`}, {Name: "family", Default: `"ipv4"`}, {Name: "position", Default: "None"}},
		Meaning:    "append an iptables rule (a rulespec, str or list) to a chain of a namespace, unless it is there already; family=\"ipv6\" is ip6tables (a rule that matches only the other family's packets is an error); position=N inserts it as the chain's Nth; a chain that is not built in is one of the lab's, made with its first rule and removed by down once empty (a rule jumps to it with -j CHAIN, after its rules are added); returns a Rule",
		Equivalent: "ip netns exec NS iptables|ip6tables -t TABLE [-N CHAIN] -A CHAIN | -I CHAIN POSITION RULE..."}},
	{impl: (*Env).capture, spec: spec{Name: "capture",
		Params: params{{Name: "target"}, {Name: "file", Default: "None"}, {Name: "filter", Default: "None"}, {Name: "snaplen", Default: "262144"}, {Name: "keep", Default: "10000"}},
		Note:   "target: a Link, or a Namespace for all its devices",
		Meaning: "start capturing packets in the target's namespace (AF_PACKET sockets, no tcpdump needed) into a pcapng file (file=, else one in the lab's directory /run/nsscript/LAB/captures) that tcpdump -r and Wireshark read; " +
			"filter= is a pcap filter (tcpdump's syntax, compiled by libpcap, which it needs); returns a Capture: .packets (time, link, src, dst, proto, sport, dport, length, summary: the first keep= packets; the file gets them all), .count (all of them), .wait(), .stop(), .file",
		Equivalent: "ip netns exec NS tcpdump -U -i DEV|any [-s SNAPLEN] -w FILE 'FILTER' &"}},
	{impl: (*Env).throughput, spec: spec{Name: "throughput",
		Params:     params{{Name: "src"}, {Name: "dst"}, {Name: "addr", Default: "None"}, {Name: "port", Default: "5201"}, {Name: "duration", Default: `"2s"`}},
		Meaning:    "measure TCP throughput from namespace src to namespace dst (at addr, else dst's first IPv4 address) for duration, with a sender and a receiver of nsscript's own (no iperf needed); returns a Throughput (.bps, .mbps)",
		Equivalent: "ip netns exec DST iperf3 -s -1 -p PORT & ip netns exec SRC iperf3 -c ADDR -p PORT -t DURATION"}},
	{impl: (*Env).why, spec: spec{Name: "why",
		Params: params{{Name: "ns"}, {Name: "dst"}, {Name: "port", Default: "None"}, {Name: "proto", Default: `"icmp"`}},
		Meaning: "follow a packet from ns to dst (\"ip\", or \"ip:port\" for TCP) and its answer back, hop by hop as the kernel would, reading routes (ip route get, with ip rule), devices, veth peers, bridge ports, neighbours, forwarding, rp_filter, iptables and NAT, and the listening socket; nothing is changed and no packet is sent; " +
			"returns a Diagnosis, true when the way is open, whose str() is the report: the hops, the first fault, its fix as nsscript code and as a command",
		Equivalent: "ip route get DST from SRC iif DEV; ip neigh; sysctl net.ipv4.ip_forward; iptables-save -c; ss -ltun (in each namespace on the way)"}},
	{impl: (*Env).waitPort, spec: spec{Name: "wait_port", Params: params{{Name: "ns"}, {Name: "dst"}, {Name: "timeout", Default: `"5s"`}},
		Meaning:    "wait until something accepts TCP connections on dst (\"ip:port\"), seen from ns: a daemon that is still starting",
		Equivalent: "until ip netns exec NS nc -z IP PORT; do sleep 0.02; done"}},
}

// execParams are exec's parameters after ns: namespace.exec takes them
// too, and both unpack them in Namespace.execute.
var execParams = params{{Name: "cmd"}, {Name: "check", Default: "True"}, {Name: "timeout", Default: `"30s"`},
	{Name: "background", Default: "False"}, {Name: "env", Default: "None"}, {Name: "stdin", Default: "None"},
	{Name: "restart", Default: "False"}, {Name: "ready", Default: "None"}}

// modules are the modules every script sees. A failed check of assert's
// is lenient in a plan (see Env.lenient).
var modules = []module{
	{name: "nat", fns: []function{
		{impl: (*Env).masquerade, spec: spec{Name: "nat.masquerade",
			Params:     params{{Name: "src"}, {Name: "ns", Default: "host"}, {Name: "out", Default: "None"}, {Name: "not_out", Default: "None"}, {Name: "not_dst", Default: "None"}},
			Meaning:    "rewrite the source of packets from src that leave through out (or through any device but not_out), and are not for not_dst (Mininet's not_dst=src: what leaves the network), to the outgoing device's address; an IPv6 src is ip6tables' nat table",
			Equivalent: "ip netns exec NS iptables|ip6tables -t nat -A POSTROUTING -s SRC [! -d NOT_DST] [-o OUT | ! -o NOT_OUT] -j MASQUERADE"}},
		{impl: (*Env).dnat, spec: spec{Name: "nat.dnat",
			Params:     params{{Name: "port"}, {Name: "to"}, {Name: "ns", Default: "host"}, {Name: "proto", Default: `"tcp"`}, {Name: "in_", Default: "None"}, {Name: "dst", Default: "None"}},
			Meaning:    "send connections arriving for port (on in_, to dst) to another address (\"ip\" or \"ip:port\")",
			Equivalent: "ip netns exec NS iptables -t nat -A PREROUTING -p PROTO --dport PORT [-i IN] [-d DST] -j DNAT --to-destination TO"}},
	}},
	{name: "assert", wrap: (*Env).lenient, fns: []function{
		{impl: assertCompare(true), spec: spec{Name: "assert.eq", Params: params{{Name: "a"}, {Name: "b"}, {Name: "msg", Default: "None"}},
			Meaning: "fail unless a == b"}},
		{impl: assertCompare(false), spec: spec{Name: "assert.ne", Params: params{{Name: "a"}, {Name: "b"}, {Name: "msg", Default: "None"}},
			Meaning: "fail unless a != b"}},
		{impl: assertTruth(true), spec: spec{Name: "assert.true", Params: params{{Name: "x"}, {Name: "msg", Default: "None"}},
			Meaning: "fail unless x is true"}},
		{impl: assertTruth(false), spec: spec{Name: "assert.false", Params: params{{Name: "x"}, {Name: "msg", Default: "None"}},
			Meaning: "fail unless x is false"}},
		{impl: assertContains, spec: spec{Name: "assert.contains", Params: params{{Name: "container"}, {Name: "item"}, {Name: "msg", Default: "None"}},
			Meaning: "fail unless item in container"}},
		{impl: (*Env).assertFails, spec: spec{Name: "assert.fails", Params: params{{Name: "fn"}, {Name: "pattern"}},
			Meaning: "call fn and fail unless it fails with an error matching the regexp pattern; returns the message"}},
		{impl: assertReach(true), spec: spec{Name: "assert.reachable", Params: params{{Name: "ns"}, {Name: "dst"}, {Name: "timeout", Default: `"1s"`}},
			Meaning:    "fail unless dst (\"ip\", or \"ip:port\" for TCP) answers from inside ns",
			Equivalent: "ip netns exec NS ping -c 1 DST (nc -z IP PORT for ip:port)"}},
		{impl: (*Env).assertReachability, spec: spec{Name: "assert.reachability", Params: params{{Name: "matrix"}, {Name: "expected", Default: "True"}, {Name: "msg", Default: "None"}},
			Meaning: "fail unless the Matrix of reachability() is as expected: True (every pair answers), {src: [dst, ...]} (exactly those answer, for each src named) or a function (src, dst) -> bool; the message lists the pairs that differ"}},
		{impl: assertReach(false), spec: spec{Name: "assert.unreachable", Params: params{{Name: "ns"}, {Name: "dst"}, {Name: "timeout", Default: `"1s"`}},
			Meaning:    "fail unless dst does not answer from inside ns",
			Equivalent: "! ip netns exec NS ping -c 1 DST"}},
	}},
}

// valueMethods are the methods of each kind of value, by its type.
var valueMethods = map[string]methods{
	"Namespace": namespaceMethods, "Link": linkMethods, "Process": processMethods, "Rule": ruleMethods,
	"Capture": captureMethods,
}

var namespaceMethods = methods{
	{impl: nsLink, spec: spec{Name: "namespace.link", Params: params{{Name: "name"}},
		Meaning: "a device of this namespace, by name", Equivalent: "ip -n NS link show NAME"}},
	{impl: nsExec, spec: spec{Name: "namespace.exec", Params: execParams,
		Meaning: "exec(ns, cmd, ...) with this namespace", Equivalent: "ip netns exec NS CMD"}},
	{impl: nsSysctl, spec: spec{Name: "namespace.sysctl", Params: params{{Name: "key"}, {Name: "value", Default: "None"}},
		Meaning: "read a sysctl in the namespace, or write it and return the old value", Equivalent: "ip netns exec NS sysctl [-w] KEY[=VALUE]"}},
	{impl: nsNeigh, spec: spec{Name: "namespace.neigh", Params: params{{Name: "ip"}, {Name: "mac"}, {Name: "dev"}},
		Meaning:    "add (or replace) a static ARP/NDP entry: ip is at mac on dev (a name or a Link), PERMANENT, so no ARP request is sent for it (Mininet's --arp); the kernel drops it when dev goes down or changes its MAC; down removes it",
		Equivalent: "ip -n NS neigh replace IP lladdr MAC dev DEV nud permanent"}},
	{impl: nsDelNeigh, spec: spec{Name: "namespace.del_neigh", Params: params{{Name: "ip"}, {Name: "dev"}},
		Meaning: "remove the neighbour entry of ip on dev, if there is one", Equivalent: "ip -n NS neigh del IP dev DEV"}},
	{impl: nsDelete, spec: spec{Name: "namespace.delete",
		Meaning: "delete a named namespace", Equivalent: "ip netns del NAME"}},
	{impl: nsEtc, spec: spec{Name: "namespace.etc", Params: params{{Name: "file"}, {Name: "content"}},
		Meaning:    "write /etc/netns/NAME/FILE, which processes exec starts in the namespace see as /etc/FILE (hosts, resolv.conf, ...)",
		Equivalent: "mkdir -p /etc/netns/NAME; printf CONTENT > /etc/netns/NAME/FILE"}},
}

var linkMethods = methods{
	{impl: linkSetUp, spec: spec{Name: "link.set_up",
		Meaning: "bring the device up", Equivalent: "ip -n NS link set DEV up"}},
	{impl: linkSetDown, spec: spec{Name: "link.set_down",
		Meaning: "bring the device down", Equivalent: "ip -n NS link set DEV down"}},
	{impl: linkSet, spec: spec{Name: "link.set", Params: params{{Name: "mtu", Default: "None"}, {Name: "mac", Default: "None"}, {Name: "name", Default: "None"}},
		Meaning: "change the device's MTU, MAC address or name", Equivalent: "ip -n NS link set DEV [mtu M] [address MAC] [name NEW]"}},
	{impl: linkAddr, spec: spec{Name: "link.addr", Params: params{{Name: "cidr"}},
		Meaning: "add an address unless the device has it already", Equivalent: "ip -n NS addr replace CIDR dev DEV"}},
	{impl: linkDelAddr, spec: spec{Name: "link.del_addr", Params: params{{Name: "cidr"}},
		Meaning: "remove an address", Equivalent: "ip -n NS addr del CIDR dev DEV"}},
	{impl: linkSetMaster, spec: spec{Name: "link.set_master", Params: params{{Name: "bridge"}}, Note: "a bridge Link, or None",
		Meaning: "put the device on a bridge, or take it off with None", Equivalent: "ip -n NS link set DEV master BR | nomaster"}},
	{impl: linkShape, spec: spec{Name: "link.shape",
		Params: params{{Name: "rate", Default: "None"}, {Name: "delay", Default: "None"}, {Name: "jitter", Default: "None"}, {Name: "loss", Default: "None"},
			{Name: "duplicate", Default: "None"}, {Name: "reorder", Default: "None"}, {Name: "limit", Default: "None"}},
		Note:       "keywords only; link.shape(None) takes the shaping away; link.shape, not called, reads it",
		Meaning:    "shape what the device sends, replacing any shaping it had: rate (\"10mbit\", \"1gbit\", \"1mbps\" is bytes as in tc) through tbf; delay and jitter (\"20ms\", \"5ms\"), loss, duplicate and reorder (\"1%\") and limit (packets) through netem, or, on a kernel without sch_netem, through a forwarder process of the lab that does what netem does",
		Equivalent: "tc -n NS qdisc add dev DEV root netem limit LIMIT delay DELAY JITTER loss LOSS duplicate DUP reorder REORDER; with rate: tc -n NS qdisc add dev DEV root handle 4e53: tbf rate RATE burst B limit L (netem under it: parent 4e53:1)"}},
	{impl: linkMove, spec: spec{Name: "link.move", Params: params{{Name: "ns"}},
		Meaning: "move the device to another namespace; the Link value follows it", Equivalent: "ip -n NS link set DEV netns TARGET"}},
	{impl: linkDelete, spec: spec{Name: "link.delete",
		Meaning: "delete the device (a veth's peer goes with it)", Equivalent: "ip -n NS link del DEV"}},
}

var processMethods = methods{
	{impl: procWait, spec: spec{Name: "process.wait", Params: params{{Name: "timeout", Default: `"30s"`}},
		Meaning: "wait for the process to exit and return its exit code", Equivalent: "wait PID"}},
	{impl: procKill, spec: spec{Name: "process.kill", Params: params{{Name: "signal", Default: `"TERM"`}},
		Meaning: "send a signal to the process and its process group", Equivalent: "kill -SIGNAL -PGID"}},
}

var captureMethods = methods{
	{impl: captureWait, spec: spec{Name: "capture.wait", Params: params{{Name: "count", Default: "1"}, {Name: "timeout", Default: `"5s"`}},
		Meaning: "wait until count packets have been captured (or timeout passes, or the capture stops) and return how many have; in a plan, 0 at once"}},
	{impl: captureStop, spec: spec{Name: "capture.stop",
		Meaning: "stop capturing and finish the file (a run stops its captures when it ends)", Equivalent: "kill -INT $TCPDUMP_PID"}},
}

var ruleMethods = methods{
	{impl: ruleDelete, spec: spec{Name: "rule.delete",
		Meaning: "delete the rule", Equivalent: "ip netns exec NS iptables -t TABLE -D CHAIN RULE..."}},
}

// Predeclared is every name a script sees besides Starlark's own (and
// args, print, load, which the runtime adds): the builtins, host and the
// modules, from the table.
func (e *Env) Predeclared() starlark.StringDict {
	d := starlark.StringDict{"host": e.host}
	for i := range builtinTable {
		d[builtinTable[i].Name] = builtinTable[i].builtin(e, nil)
	}
	for _, m := range modules {
		d[m.name] = m.bind(e)
	}
	if e.Planner != nil {
		d["fail"] = starlark.NewBuiltin("fail", e.planFail)
	}
	return d
}

// planFail is fail(*args, sep=" ") in a plan: a script fails mostly on
// what it saw (a command's output, a reply), which a plan does not know,
// so the failure is recorded and the script goes on. It stands in for
// Starlark's own fail, and so has no entry in the table.
func (e *Env) planFail(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	sep := " "
	if err := starlark.UnpackArgs("fail", nil, kwargs, "sep?", &sep); err != nil {
		return nil, err
	}
	words := make([]string, len(args))
	for i, a := range args {
		if s, ok := starlark.AsString(a); ok {
			words[i] = s
		} else {
			words[i] = a.String()
		}
	}
	e.Planner.Note("not checked in a plan: fail: " + strings.Join(words, sep))
	return starlark.None, nil
}
