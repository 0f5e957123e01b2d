package builtins

import (
	"fmt"
	"sort"
	"strings"
)

// attrDocs says what each attribute of each value is, for the reference.
var attrDocs = map[string][][2]string{
	"Namespace": {
		{"name", "its name in /run/netns (None for the host and for one attached by pid or path)"},
		{"path", "the namespace file it was opened by"},
		{"inode", "the namespace's inode"},
		{"is_host", "whether it is the namespace nsscript runs in"},
		{"links", "its devices (list of Link), read now"},
		{"routes", "its main table (list of Route), read now"},
		{"neighbors", "its ARP/NDP cache: list of (ip, mac, dev, state)"},
		{"pids", "the processes inside it (also after delete(), while processes keep it alive)"},
	},
	"Link": {
		{"name", "its name now"}, {"ns", "the Namespace it is in now"},
		{"kind", `"veth", "bridge", "dummy", "vxlan", "tap", "vlan", "macvlan", "loopback" or "device"`},
		{"index", "its ifindex in its namespace"}, {"mac", "its MAC address"}, {"mtu", "its MTU"},
		{"up", "whether it is administratively up"}, {"master", "its bridge (Link) or None"},
		{"peer", "a veth's other end (Link) or None"}, {"addrs", `its addresses, "a.b.c.d/len"`},
		{"shape", "its shaping (a Shape, false when none), read now; called, it is the link.shape method"},
		{"made", "whether this lab made it (delete() and down remove only such; a device that was there is adopted and left)"},
	},
	"Shape": {{"rate", `"10mbit" or None`}, {"delay", `"20ms" or None`}, {"jitter", `"5ms" or None`},
		{"loss", `"10%" or None`}, {"duplicate", `"1%" or None`}, {"reorder", `"25%" or None`},
		{"limit", "the packets the delay holds at most (netem's limit, 1000 unless given), or None"},
		{"mechanism", `what does it: "tbf" (rate), "netem", "tbf+netem", "forwarder" (nsscript's, where the kernel has no sch_netem), "tbf+forwarder", or None`}},
	"Throughput": {{"bps", "TCP payload bits per second, as iperf counts them"}, {"mbps", "the same in Mbit/s (float)"},
		{"bytes", "the bytes measured"}, {"seconds", "over how long"}},
	"Route":   {{"ns", "its Namespace"}, {"dst", `"default" or a prefix`}, {"via", "the gateway or None"}, {"dev", "the device's name"}, {"metric", "its metric"}, {"table", "its table (main is 254)"}},
	"Result":  {{"code", "the exit code"}, {"stdout", "what it wrote on stdout"}, {"stderr", "what it wrote on stderr"}, {"ok", "code == 0"}},
	"Process": {{"pid", "its process id"}, {"ns", "the Namespace it runs in"}, {"running", "whether it still runs"}, {"stdout", "what it wrote on stdout so far"}, {"stderr", "what it wrote on stderr so far"}},
	"PingResult": {{"sent", "requests sent"}, {"received", "replies received"}, {"loss", "the fraction of requests unanswered, 0.0 to 1.0"},
		{"rtt_min", "the shortest round trip in milliseconds (None without a reply)"}, {"rtt_avg", "the average round trip (ms)"}, {"rtt_max", "the longest round trip (ms)"},
		{"rtts", "every round trip (ms), in order"}, {"error", "the ICMP error that ended it (\"host unreachable from 10.0.0.1\") or the kernel's (\"network is unreachable\"), or None"}},
	"Matrix": {{"names", "the nodes, in order"}, {"sent", "pings sent"}, {"received", "pings answered"}, {"dropped", "the fraction unanswered, 0.0 to 1.0"},
		{"ok", "whether every pair answered"}, {"pairs", "(src, dst, answered) for every pair"}},
	"Diagnosis": {{"ok", "whether the way there and back is open"}, {"hops", "the packet's hops, as far as it got: \"red veth-red\", \"v-net-0 (host, forwarding on)\", ..."},
		{"back", "the answer's hops"}, {"path", "the hops joined with →"},
		{"fault", "the first thing that stops the packet, in words, or None"},
		{"fix", "nsscript code that removes the fault, or None"}, {"command", "the same fix as shell commands, or None"},
		{"checked", "what the walk looked at, in order"},
		{"unseen", "what it could not evaluate or follow (a match it does not know, nftables tables, a NIC)"}},
	"Rule": {{"ns", "its Namespace"}, {"table", "its iptables table"}, {"chain", "its chain"}, {"rule", "the rulespec, as one string"}},
	"PolicyRule": {{"ns", "its Namespace"}, {"priority", "its priority (lower goes first)"}, {"from_", "the source prefix it matches, or None for any"},
		{"to", "the destination prefix, or None"}, {"iif", "the device packets come in by, or None"}, {"oif", "the device they leave by, or None"},
		{"fwmark", `the mark it matches ("0x1", "0x1/0xff"), or None`}, {"table", "the table its packets look up (main is 254)"}, {"family", `"ipv4" or "ipv6"`}},
}

// Reference is the reference of every builtin, module function, value and
// method, in Markdown, made from the table as help() is: the README
// carries it (a test keeps the two the same).
func Reference() string {
	var b strings.Builder
	row := func(name string) {
		d, _ := Help(name)
		eq := ""
		if d.Equivalent != "" {
			eq = "`" + d.Equivalent + "`"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", strings.ReplaceAll(d.Signature, "|", `\|`), strings.ReplaceAll(d.Meaning, "|", `\|`), strings.ReplaceAll(eq, "|", `\|`))
	}
	b.WriteString("#### Builtins\n\n| call | what it does | the command it stands for |\n|---|---|---|\n")
	fmt.Fprintf(&b, "| `host` | %s | |\n", "the namespace nsscript runs in (the sandbox's, with --sandbox)")
	names := HelpNames()
	for _, n := range names {
		if !strings.Contains(n, ".") {
			row(n)
		}
	}
	for _, mod := range []string{"nat", "assert"} {
		fmt.Fprintf(&b, "\n#### The %s module\n\n| call | what it does | the command it stands for |\n|---|---|---|\n", mod)
		for _, n := range names {
			if strings.HasPrefix(n, mod+".") {
				row(n)
			}
		}
	}
	b.WriteString("\n#### Values\n")
	types := make([]string, 0, len(attrDocs))
	for t := range attrDocs {
		types = append(types, t)
	}
	sort.Strings(types)
	for _, t := range types {
		fmt.Fprintf(&b, "\n**%s**: %s.\n\n", t, TypeDoc[t])
		for _, a := range attrDocs[t] {
			fmt.Fprintf(&b, "- `.%s`: %s\n", a[0], a[1])
		}
		if ms, ok := valueMethods[t]; ok {
			b.WriteString("\n| method | what it does | the command it stands for |\n|---|---|---|\n")
			methods := make([]string, len(ms))
			for i := range ms {
				methods[i] = ms[i].Name
			}
			sort.Strings(methods)
			for _, n := range methods {
				row(n)
			}
		}
	}
	return b.String()
}
