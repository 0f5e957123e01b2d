package doctor

import (
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/nsscript/nsscript/builtins/kernel"
)

// checkRoot: nsscript changes network namespaces, which needs root.
func checkRoot(f *facts) []Finding {
	if f.sys.Euid() == 0 {
		return []Finding{{Level: OK, Title: "running as root"}}
	}
	return []Finding{{Level: Blocker, Title: fmt.Sprintf("not running as root (uid %d)", f.sys.Euid()),
		Meaning: "nsscript makes namespaces, devices and rules on this host, which needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN); doctor itself cannot probe the kernel's features or read the labs. A sandbox needs no root (nsscript --sandbox FILE, nsscript test): it is made in a user namespace of yours, where the user namespace finding allows it",
		Fix:     "sudo nsscript doctor (and sudo nsscript ... for labs on this host; --sandbox needs no root)"}}
}

// feature is a kernel feature doctor looks for, and what a lab loses
// without it.
type feature struct {
	key, label string
	module     string // the module that provides it
	config     string // the kernel's build option for it
	level      Level  // of a finding that it is missing
	missing    string // what that means for a lab
}

// features are probed in this order (kernel.Probes names them too).
var features = []feature{
	{"veth", "veth", "veth", "CONFIG_VETH", Blocker,
		"veth() cannot make a pair: no lab of the README's or the tutorials' can be built"},
	{"bridge", "bridge", "bridge", "CONFIG_BRIDGE", Blocker,
		"bridge() fails: labs with a switch (most tutorials, topo.*) cannot be built"},
	{"dummy", "dummy", "dummy", "CONFIG_DUMMY", Warning,
		`dummy() makes an ifb device instead (NOARP, carrier always on, marked with the alias nsscript:dummy and reported as kind "dummy": README, Kernel notes); "ip link add NAME type dummy" run by exec() fails`},
	{"ifb", "ifb", "ifb", "CONFIG_IFB", Warning,
		"ingress shaping through an ifb device (tc ... action mirred egress redirect dev ifbN) cannot be set up; ifb is also dummy()'s stand-in on a kernel without the dummy driver"},
	{"vlan", "vlan (802.1Q)", "8021q", "CONFIG_VLAN_8021Q", Warning,
		`VLAN devices ("ip link add link DEV name DEV.10 type vlan id 10", run by exec()) cannot be made: a lab's trunks and tagged ports fail`},
	{"macvlan", "macvlan", "macvlan", "CONFIG_MACVLAN", Warning,
		`macvlan devices ("ip link add link DEV name mv0 type macvlan", run by exec()) cannot be made`},
	{"bond", "bond", "bonding", "CONFIG_BONDING", Warning,
		`bonds ("ip link add bond0 type bond", run by exec()) cannot be made`},
	{"vxlan", "vxlan", "vxlan", "CONFIG_VXLAN", Warning,
		`VXLAN overlays ("ip link add vx0 type vxlan id N ...", run by exec()) cannot be made`},
	{"tun", "tun/tap", "tun", "CONFIG_TUN", Warning,
		"programs that make tun or tap devices (ip tuntap add, VPN daemons, QEMU) fail in a lab"},
	{"netem", "netem qdisc", "sch_netem", "CONFIG_NET_SCH_NETEM", Warning,
		`delay, jitter, loss, duplication and reordering ("tc qdisc add dev DEV root netem delay 20ms", run by exec()) cannot be set on a lab's links`},
	{"tbf", "tbf qdisc", "sch_tbf", "CONFIG_NET_SCH_TBF", Warning,
		`rate limits with tbf ("tc qdisc add dev DEV root tbf rate 10mbit ...", run by exec()) cannot be set`},
	{"htb", "htb qdisc", "sch_htb", "CONFIG_NET_SCH_HTB", Warning,
		"rate limits and traffic classes with htb (tc qdisc add ... htb, tc class add ...) cannot be set"},
	{"fq", "fq qdisc", "sch_fq", "CONFIG_NET_SCH_FQ", Warning,
		"the fq qdisc (fair queueing, pacing: tc qdisc add ... fq) cannot be set; TCP paces itself without it"},
	{"nat", "NAT (iptables -t nat)", "nf_nat", "CONFIG_NF_NAT with CONFIG_IP_NF_NAT or CONFIG_NFT_NAT", Warning,
		"nat.masquerade() and nat.dnat() fail: a lab's namespaces cannot go out through the host, nor be reached through a forwarded port (tutorials 04, 05, 08, 10, 11, 14, 15, 17)"},
	{"ip6tables", "ip6tables", "ip6_tables", "CONFIG_IP6_NF_IPTABLES (or CONFIG_NF_TABLES_IPV6)", Warning,
		"IPv6 rules (ip6tables, run by exec()) cannot be added in a lab"},
}

// checkKernel: network namespaces, and the features labs use. Where the
// kernel loads modules, what is not loaded is not tried (that would load
// it): modules.builtin and modules.dep say whether it is there.
func checkKernel(f *facts) []Finding {
	root := f.sys.Euid() == 0
	var probe []string
	for _, ft := range features {
		if f.module(ft.module) == modNoModules {
			probe = append(probe, ft.key)
		}
	}
	if !root {
		for _, ft := range features {
			f.features[ft.key] = "unknown"
		}
		return []Finding{{Level: Info, Title: "kernel features not checked: trying them needs root (a throwaway network namespace)",
			Fix: "sudo nsscript doctor"}}
	}
	results, err := f.sys.ProbeFeatures(probe)
	if err != nil {
		for _, ft := range features {
			f.features[ft.key] = "unknown"
		}
		return []Finding{{Check: "kernel.netns", Level: Blocker, Title: "cannot make a network namespace: " + err.Error(),
			Meaning: "every lab is made of network namespaces, --sandbox too",
			Fix:     "run nsscript on a kernel with network namespaces (CONFIG_NET_NS), outside a container that forbids unshare (a privileged container: docker run --privileged)"}}
	}
	out := []Finding{{Check: "kernel.netns", Level: OK, Title: "network namespaces can be made"}}
	var have, module []string
	m := f.modules()
	for _, ft := range features {
		mod := ft.module
		if ft.key == "ip6tables" && f.iptablesVariant() == "nft" {
			mod = "nf_tables"
		}
		state := f.module(mod)
		switch state {
		case modNoModules:
			perr, tried := results[ft.key]
			switch {
			case tried && perr == nil:
				f.features[ft.key] = "present"
				have = append(have, ft.label)
				continue
			case !tried || errors.Is(perr, ErrNotProbed):
				if perr == nil {
					perr = ErrNotProbed
				}
				f.features[ft.key] = "unknown"
				out = append(out, Finding{Check: "kernel." + ft.key, Level: Info, Title: ft.label + ": not checked: " + perr.Error()})
				continue
			}
			f.features[ft.key] = "missing"
			out = append(out, Finding{Check: "kernel." + ft.key, Level: ft.levelHere(f),
				Title:   fmt.Sprintf("the kernel has no %s (tried in a throwaway namespace: %s)", ft.label, perr),
				Meaning: ft.meaningHere(f),
				Fix:     fmt.Sprintf("this kernel loads no modules and was built without it: a kernel with %s (labs that do not use it work as they are)", ft.config)})
		case modLoaded, modBuiltin:
			f.features[ft.key] = "present"
			have = append(have, ft.label)
		case modAvailable:
			f.features[ft.key] = "module"
			module = append(module, ft.label+" ("+mod+")")
		case modAbsent:
			f.features[ft.key] = "missing"
			out = append(out, Finding{Check: "kernel." + ft.key, Level: ft.levelHere(f),
				Title:   fmt.Sprintf("the kernel has no %s: %s is neither built in nor a module of %s", ft.label, mod, m.release),
				Meaning: ft.meaningHere(f),
				Fix:     fmt.Sprintf("install the kernel's extra modules (Debian/Ubuntu: apt-get install linux-modules-extra-%s), or a kernel with %s", m.release, ft.config)})
		case modUnknown:
			f.features[ft.key] = "unknown"
			out = append(out, Finding{Check: "kernel." + ft.key, Level: Info,
				Title: fmt.Sprintf("%s: not checked: the kernel loads modules but /lib/modules/%s is not here (a container?), and trying would load %s", ft.label, m.release, mod)})
		}
	}
	if len(have) > 0 {
		out = append(out, Finding{Check: "kernel.features", Level: OK, Title: "the kernel has " + strings.Join(have, ", ")})
	}
	if len(module) > 0 {
		out = append(out, Finding{Check: "kernel.modules", Level: OK, Title: "as modules, loaded on first use: " + strings.Join(module, ", ")})
	}
	return out
}

// levelHere and meaningHere: dummy and ifb stand in for each other.
func (ft feature) levelHere(f *facts) Level {
	if (ft.key == "dummy" || ft.key == "ifb") && f.features["dummy"] == "missing" && f.features["ifb"] == "missing" {
		return Warning
	}
	return ft.level
}

func (ft feature) meaningHere(f *facts) string {
	if ft.key == "ifb" && f.features["dummy"] == "missing" {
		return "dummy() fails: the kernel has neither the dummy driver nor ifb, its stand-in; " + ft.missing
	}
	return ft.missing
}

// checkBrNetfilter: with br_netfilter, frames a bridge forwards between
// its ports go through the IPv4 (and IPv6) FORWARD hooks, as if routed;
// a FORWARD chain that drops (Docker sets its policy to DROP) then drops
// traffic between namespaces on one bridge.
func checkBrNetfilter(f *facts) []Finding {
	v4, ok4 := f.sysctl("net.bridge.bridge-nf-call-iptables")
	v6, _ := f.sysctl("net.bridge.bridge-nf-call-ip6tables")
	if !ok4 {
		fd := Finding{Level: OK, Title: "br_netfilter is not loaded: bridged frames do not go through iptables"}
		if f.module("br_netfilter") == modAvailable {
			fd.Meaning = "Docker and Kubernetes load it when they start: run nsscript doctor again then"
		}
		return []Finding{fd}
	}
	if v4 != "1" && v6 != "1" {
		return []Finding{{Level: OK, Title: fmt.Sprintf("br_netfilter is loaded but bridged frames skip iptables (net.bridge.bridge-nf-call-iptables=%s, -ip6tables=%s)", v4, v6)}}
	}
	var drops, let, on []string
	own := true // only iptables' own chains drop (an iptables rule helps)
	ruleDrops := false
	for _, fam := range []struct{ family, sysctl, v string }{{"ip", "iptables", v4}, {"ip6", "ip6tables", v6}} {
		if fam.v != "1" {
			continue
		}
		ds := f.forwardDrops(fam.family)
		if len(ds) > 0 || len(on) == 0 {
			on = append(on, "net.bridge.bridge-nf-call-"+fam.sysctl+"=1")
		}
		for _, d := range ds {
			drops = append(drops, d.what)
			own = own && d.iptables
			ruleDrops = ruleDrops || d.rule
		}
		let = append(let, f.bridgesLetThrough(fam.family)...)
	}
	if len(drops) == 0 && len(f.unreadable) > 0 {
		return []Finding{{Level: Info, Title: "br_netfilter sends bridged frames through iptables (" + strings.Join(on, ", ") + "); whether a FORWARD chain drops them is not known: " + strings.Join(f.unreadable, "; "),
			Meaning: "if a FORWARD chain drops (Docker's policy), namespaces on one bridge in this namespace cannot reach each other",
			Fix:     "sudo nsscript doctor"}}
	}
	if len(drops) == 0 {
		return []Finding{{Level: Info, Title: "br_netfilter sends bridged frames through iptables (" + strings.Join(on, ", ") + "); the FORWARD chains let them through",
			Meaning: `frames between two namespaces on one bridge in this namespace are filtered as if routed: a FORWARD rule of the host's (firewall(host, "FORWARD", ...), another tool's) also filters them, and conntrack sees them. Under --sandbox the lab has its own namespace and chains`}}
	}
	slices.Sort(let)
	let = slices.Compact(let)
	title := "br_netfilter sends bridged frames through iptables (" + strings.Join(on, ", ") + "), and FORWARD drops them: " + strings.Join(drops, "; ")
	if len(let) > 0 {
		title += " (let through by a rule: " + strings.Join(let, ", ") + ")"
	}
	fix := []string{"run labs with --sandbox (its namespace has its own FORWARD chain, empty, and its own setting)"}
	if own && !ruleDrops {
		fix = append(fix, `or let a lab's bridge through, in its script: firewall(host, "FORWARD", "-i BRIDGE -o BRIDGE -j ACCEPT") (down removes it); by hand: iptables -I FORWARD -i BRIDGE -o BRIDGE -j ACCEPT (with Docker: iptables -I DOCKER-USER -i BRIDGE -o BRIDGE -j ACCEPT)`)
	} else if own {
		fix = append(fix, "or let a lab's bridge through ahead of the rule that drops: iptables -I FORWARD -i BRIDGE -o BRIDGE -j ACCEPT (firewall() appends, after that rule, which is too late)")
	} else {
		fix = append(fix, "or let a lab's bridge through in the tool whose nftables chain drops (firewalld: firewall-cmd --zone=trusted --add-interface=BRIDGE); an iptables rule cannot accept what another chain drops")
	}
	fix = append(fix, "or keep bridged frames out of iptables: sysctl -w net.bridge.bridge-nf-call-iptables=0 (Docker's bridges then skip its filtering between containers too)")
	return []Finding{{Level: Blocker, Title: title,
		Meaning: "namespaces on one bridge in this namespace cannot reach each other: ARP gets through, IP packets do not (ping gets no reply, no error). Docker sets both the module and the DROP policy. Labs under --sandbox have their own namespace, whose FORWARD chain accepts: they are not affected",
		Fix:     strings.Join(fix, ";\n")}}
}

type forwardDrop struct {
	what     string
	iptables bool // the chain is iptables' own
	rule     bool // a rule drops everything, not the policy
}

// forwardDrops lists what drops forwarded packets of a family ("ip",
// "ip6") in this namespace: iptables FORWARD chains (either variant)
// whose policy drops or whose rule drops everything, and nftables
// forward base chains of other tools that do.
func (f *facts) forwardDrops(family string) []forwardDrop {
	prog := map[string]string{"ip": "iptables", "ip6": "ip6tables"}[family]
	var out []forwardDrop
	for _, variant := range []string{"nft", "legacy"} {
		s := f.variantSave(variant, family)
		if s == nil {
			continue
		}
		t := s.table("filter")
		if t == nil {
			continue
		}
		if p := t.policies["FORWARD"]; p == "DROP" {
			out = append(out, forwardDrop{what: fmt.Sprintf("%s (%s) FORWARD policy DROP", prog, variant), iptables: true})
		}
		for _, r := range t.rules["FORWARD"] {
			if r == "-j DROP" || strings.HasPrefix(r, "-j REJECT") {
				out = append(out, forwardDrop{what: fmt.Sprintf("%s (%s) FORWARD rule %q", prog, variant, "-A FORWARD "+r), iptables: true, rule: true})
				break
			}
		}
	}
	if rs, _ := f.nftables(); rs != nil {
		for _, t := range rs.others() {
			if t.Family != family && t.Family != "inet" {
				continue
			}
			for _, c := range t.Chains {
				if c.base && c.Hook == "forward" && (c.Policy == "drop" || c.dropsAll) {
					what := fmt.Sprintf("nftables table %s chain %s (policy %s)", t, c.Name, c.Policy)
					if c.dropsAll {
						what = fmt.Sprintf("nftables table %s chain %s (a rule drops all)", t, c.Name)
					}
					if tool := t.tool(); tool != "" {
						what += ", " + tool + "'s"
					}
					out = append(out, forwardDrop{what: what})
				}
			}
		}
	}
	return out
}

// comment is an iptables comment match, as iptables-save prints it.
var comment = regexp.MustCompile(`-m comment --comment ("[^"]*"|\S+)`)

// bridgesLetThrough lists the devices a FORWARD rule accepts between
// their own ports ("-i X -o X -j ACCEPT"), and "every bridge" for a
// physdev rule that accepts all bridged frames.
func (f *facts) bridgesLetThrough(family string) []string {
	var out []string
	for _, variant := range []string{"nft", "legacy"} {
		s := f.variantSave(variant, family)
		if s == nil || s.table("filter") == nil {
			continue
		}
		t := s.table("filter")
		for _, chain := range []string{"FORWARD", "DOCKER-USER"} {
			for _, r := range t.rules[chain] {
				r = strings.TrimSpace(comment.ReplaceAllString(r, ""))
				fs := strings.Fields(r)
				if !strings.HasSuffix(r, "-j ACCEPT") {
					continue
				}
				if strings.Contains(r, "--physdev-is-bridged") && !strings.Contains(r, "!") {
					out = append(out, "every bridge (physdev)")
				}
				if len(fs) == 6 && fs[0] == "-i" && fs[2] == "-o" && fs[1] == fs[3] {
					out = append(out, fs[1])
				}
			}
		}
	}
	return out
}

// checkNftables lists the nftables tables other tools made (iptables-nft's
// own are the iptables check's).
func checkNftables(f *facts) []Finding {
	rs, err := f.nftables()
	switch {
	case notInstalled(err):
		return []Finding{{Level: Info, Title: "nft is not installed: nftables tables of other tools (firewalld, Docker's nftables mode, libvirt) are not listed",
			Fix: "apt-get install nftables (or dnf install nftables), then nsscript doctor again"}}
	case err != nil:
		msg, _, _ := strings.Cut(err.Error(), "\n")
		return []Finding{{Level: Info, Title: "nftables not read: " + msg}}
	case rs == nil:
		return []Finding{{Level: OK, Title: "nf_tables is not loaded: no nftables rules"}}
	}
	others := rs.others()
	if len(others) == 0 {
		return []Finding{{Level: OK, Title: "nftables: no tables besides iptables' own"}}
	}
	var lines []string
	level := Info
	var names []string
	for _, t := range others {
		who := t.tool()
		if who != "" {
			who = " (" + who + ")"
		}
		line := fmt.Sprintf("table %s%s: %s; %s", t, who, t.bases(), plural(t.Rules, "rule"))
		if t.Drops > 0 {
			line += fmt.Sprintf(", %d of them drop or reject", t.Drops)
		}
		lines = append(lines, line)
		names = append(names, t.String())
		if t.filters() {
			level = Warning
		}
	}
	fd := Finding{Level: level, Title: fmt.Sprintf("nftables holds %s not made by iptables:\n%s", plural(len(others), "table"), strings.Join(lines, "\n")),
		Meaning: "their base chains see this namespace's packets at their hooks besides iptables' chains, and a packet must be accepted by all of them: what a lab routes or bridges through this namespace (forwarding, NAT, a bridge here with br_netfilter) passes them, and firewall() and nat rules (iptables) cannot accept what they drop. A lab's namespaces have rulesets of their own, empty; --sandbox has its own too",
		Fix:     "see a table: nft list table " + names[0] + "; let a lab's traffic through in the tool that made it (firewalld: firewall-cmd --zone=trusted --add-interface=BRIDGE), or run labs with --sandbox"}
	if level == Info {
		fd.Meaning = "none of them drops (no drop policy, no drop or reject rule), but their chains see this namespace's packets besides iptables'; a lab's namespaces and --sandbox have rulesets of their own"
		fd.Fix = "see a table: nft list table " + names[0]
	}
	return []Finding{fd}
}

// checkIptables: which iptables nsscript's rules go through, ip6tables,
// and rules in the other variant, which `iptables` does not show.
func checkIptables(f *facts) []Finding {
	v := f.iptablesVariant()
	var out []Finding
	if v == "" {
		out = append(out, Finding{Level: Warning, Title: "iptables is not installed",
			Meaning: "firewall(), nat.masquerade() and nat.dnat() fail (nsscript adds its rules with iptables); the rest works",
			Fix:     "apt-get install iptables (Fedora: dnf install iptables-nft)"})
	} else {
		out = append(out, Finding{Level: Info, Title: fmt.Sprintf("iptables is the %s variant (%s)", v, f.version),
			Meaning: map[string]string{
				"nft":    "firewall() and nat rules are nftables rules made through iptables-nft (nft list ruleset shows them too)",
				"legacy": "firewall() and nat rules go to the kernel's legacy x_tables (iptables-legacy-save shows them; nft list ruleset does not)",
			}[v]})
	}
	if _, err := f.sys.Run("ip6tables", "--version"); notInstalled(err) {
		out = append(out, Finding{Check: "ip6tables", Level: Info, Title: "ip6tables is not installed",
			Meaning: "IPv6 rules cannot be added in a lab (exec of ip6tables fails)",
			Fix:     "apt-get install iptables (it brings ip6tables)"})
	} else {
		out = append(out, Finding{Check: "ip6tables", Level: OK, Title: "ip6tables is installed"})
	}
	if v == "" {
		return out
	}
	other := map[string]string{"nft": "legacy", "legacy": "nft"}[v]
	var held, heldActive []string
	for _, fam := range []string{"ip", "ip6"} {
		prog := map[string]string{"ip": "iptables", "ip6": "ip6tables"}[fam]
		if s := f.variantSave(other, fam); s != nil && s.held() != "" {
			held = append(held, prog+"-"+other+": "+s.held())
		}
		if s := f.variantSave(v, fam); s != nil && s.held() != "" {
			heldActive = append(heldActive, prog+": "+s.held())
		}
	}
	if len(held) > 0 {
		title := "the " + other + " variant holds rules too: " + strings.Join(held, "; ")
		if len(heldActive) == 0 {
			title = "only the " + other + " variant holds rules: " + strings.Join(held, "; ")
		} else {
			title += " (and " + v + ": " + strings.Join(heldActive, "; ") + ")"
		}
		out = append(out, Finding{Check: "iptables.mixed", Level: Warning, Title: title,
			Meaning: fmt.Sprintf("packets pass the rules of both variants, but iptables (the %s one, which nsscript uses) shows only its own: a DROP in the %s rules is invisible to iptables -S, to nsscript ls and to firewall()", v, other),
			Fix:     fmt.Sprintf("see them: %s-save (and ip6tables-%s-save); move the tool that uses %s over to %s (Debian: update-alternatives --set iptables /usr/sbin/iptables-%s), or flush the stale ones if nothing uses them: iptables-%s -F", "iptables-"+other, other, other, v, v, other)})
	}
	return out
}

// checkResolvConf: what a lab's namespaces read as resolv.conf, and how
// ns.etc("resolv.conf", ...) gets to them.
func checkResolvConf(f *facts) []Finding {
	const file = "/etc/resolv.conf"
	target, lerr := f.sys.Readlink(file)
	abs := target
	if lerr == nil && !filepath.IsAbs(abs) {
		abs = filepath.Join(filepath.Dir(file), abs)
	}
	b, err := f.sys.ReadFile(file)
	if err != nil {
		if lerr == nil {
			return []Finding{{Level: Warning, Title: fmt.Sprintf("%s is a link to %s, which does not exist", file, target),
				Meaning: "no process, on the host or in a lab, has resolver settings; and exec()'s bind of /etc/netns/NAME/resolv.conf over /etc/resolv.conf follows the link to a file that is not there and fails (nsscript says \"bind ... failed\"), so ns.etc(\"resolv.conf\", ...) is not seen either",
				Fix:     "start what makes it (systemctl start systemd-resolved), or make /etc/resolv.conf a file: rm /etc/resolv.conf && echo 'nameserver ADDR' > /etc/resolv.conf"}}
		}
		return []Finding{{Level: Info, Title: "no " + file + ": resolvers use their defaults (a nameserver on 127.0.0.1)",
			Fix: `give a lab's namespace its own: ns.etc("resolv.conf", "nameserver ADDR\n")`}}
	}
	servers := nameservers(string(b))
	var loop []string
	for _, s := range servers {
		if ip := net.ParseIP(s); ip != nil && ip.IsLoopback() {
			loop = append(loop, s)
		}
	}
	link := ""
	if lerr == nil {
		link = " (a link to " + abs
		if strings.Contains(abs, "systemd/resolve") {
			link += ", systemd-resolved's"
		}
		link += ")"
	}
	how := "exec() (as ip netns exec) binds /etc/netns/NAME/resolv.conf over /etc/resolv.conf"
	if lerr == nil {
		how += "; since it is a link, the bind lands on " + abs + ", which every reader opens through the link, so the namespace's file is seen (as long as " + abs + " exists)"
	}
	if len(loop) > 0 {
		fix := `give each namespace that looks names up a server it can reach: ns.etc("resolv.conf", "nameserver ADDR\n") (a DNS server inside the lab, or an upstream server reached through nat.masquerade())`
		if up := nameservers(readString(f, "/run/systemd/resolve/resolv.conf")); strings.Contains(abs, "systemd/resolve") && len(up) > 0 {
			fix += "; systemd-resolved's upstream servers: " + strings.Join(up, " ")
		}
		fix += ";\nby hand: mkdir -p /etc/netns/NAME && echo 'nameserver ADDR' > /etc/netns/NAME/resolv.conf"
		return []Finding{{Level: Warning, Title: fmt.Sprintf("%s%s names a loopback nameserver: %s", file, link, strings.Join(loop, " ")),
			Meaning: "a process in a lab's namespace reads the same file, but there " + loop[0] + " is the namespace's own loopback, where nothing listens: name lookups fail (getent hosts, curl NAME, apt). " + how,
			Fix:     fix}}
	}
	if len(servers) == 0 {
		return []Finding{{Level: Info, Title: file + link + " names no nameserver", Meaning: how,
			Fix: `give a lab's namespace its own: ns.etc("resolv.conf", "nameserver ADDR\n")`}}
	}
	return []Finding{{Level: OK, Title: fmt.Sprintf("%s%s names %s", file, link, strings.Join(servers, " ")),
		Meaning: "a lab's namespaces use them too, and reach them only where the lab routes there (nat.masquerade()); " + how + `: ns.etc("resolv.conf", "nameserver ADDR\n") gives one its own`}}
}

func readString(f *facts, path string) string {
	b, _ := f.sys.ReadFile(path)
	return string(b)
}

func nameservers(conf string) []string {
	var out []string
	for _, l := range strings.Split(conf, "\n") {
		if fs := strings.Fields(l); len(fs) >= 2 && fs[0] == "nameserver" {
			out = append(out, fs[1])
		}
	}
	return out
}

// checkUserns: whether an ordinary user may make user namespaces, and
// network and mount namespaces in them (what a sandbox without root
// needs), and which setting stops it.
func checkUserns(f *facts) []Finding {
	type stop struct{ what, fix string }
	var stops []stop
	for _, s := range kernel.UsernsSettingsOf(f.sysctl) {
		if s.Blocks {
			stops = append(stops, stop{s.Key + " " + s.Why, s.Fix})
		}
	}
	perr := f.sys.ProbeUserns()
	meaning := "a sandbox without root (an ordinary user's --sandbox and nsscript test) makes its namespaces inside a user namespace; root does not need one"
	as := "as nobody"
	if f.sys.Euid() != 0 {
		as = fmt.Sprintf("as uid %d", f.sys.Euid())
	}
	if perr == nil && len(stops) == 0 {
		return []Finding{{Level: OK, Title: "ordinary users can make user namespaces, and network and mount namespaces in them (tried: unshare -Urnm, " + as + ")",
			Meaning: meaning}}
	}
	if errors.Is(perr, ErrNotProbed) && len(stops) == 0 {
		return []Finding{{Level: Info, Title: "no setting forbids ordinary users user namespaces (not tried: " + perr.Error() + ")", Meaning: meaning}}
	}
	fd := Finding{Level: Warning, Meaning: meaning}
	if len(stops) == 0 {
		fd.Title = "ordinary users cannot make user namespaces with network namespaces in them: " + perr.Error()
		fd.Meaning += "; none of the known settings forbids it here: a seccomp profile, SELinux or a container runtime may"
		fd.Fix = "run nsscript as root, or allow unshare(CLONE_NEWUSER) where it is refused (a container: docker run --security-opt seccomp=unconfined)"
		return []Finding{fd}
	}
	var whats, fixes []string
	for _, s := range stops {
		whats = append(whats, s.what)
		fixes = append(fixes, s.fix)
	}
	fd.Title = "ordinary users cannot make user namespaces with network namespaces in them: " + strings.Join(whats, "; ")
	if perr != nil && !errors.Is(perr, ErrNotProbed) {
		fd.Title += " (tried: " + perr.Error() + ")"
	}
	fd.Fix = strings.Join(fixes, ";\n")
	return []Finding{fd}
}

// checkIPForward: the host's forwarding, which a lab routing through the
// host needs (forwarding() turns it on; down puts it back).
func checkIPForward(f *facts) []Finding {
	v, ok := f.sysctl("net.ipv4.ip_forward")
	switch {
	case !ok:
		return nil
	case v == "1":
		return []Finding{{Level: Info, Title: "the host forwards IPv4 already (net.ipv4.ip_forward=1; Docker and libvirt turn it on)",
			Meaning: "a lab whose namespaces route through the host works without forwarding(), and forwarding(host, on = False) would cut off what else relies on it"}}
	}
	return []Finding{{Level: OK, Title: "the host does not forward IPv4 (net.ipv4.ip_forward=" + v + ")",
		Meaning: "a lab whose namespaces route through the host calls forwarding() (down puts 0 back); --sandbox has its own"}}
}

// checkCgroup: cgroup v2, which nsscript puts a lab's processes in.
func checkCgroup(f *facts) []Finding {
	dir, writable, ok := f.sys.CgroupV2()
	switch {
	case ok && writable:
		return []Finding{{Level: OK, Title: "cgroup v2 at " + dir + ", writable",
			Meaning: "a lab's processes are started in a cgroup of the lab's: ls lists and down stops what they start, however it leaves them (env -i setsid daemon &)"}}
	case ok:
		return []Finding{{Level: Warning, Title: "cgroup v2 at " + dir + " is not writable",
			Meaning: "a process a lab starts in the host namespace that clears its environment and leaves its process tree escapes nsscript ls and down (in the lab's own namespaces it is still found): README, Nothing left behind",
			Fix:     "run nsscript as root on the host, or give its container a writable cgroup (docker run --cgroupns=private with a writable /sys/fs/cgroup)"}}
	}
	return []Finding{{Level: Warning, Title: "no cgroup v2",
		Meaning: "a process a lab starts in the host namespace that clears its environment and leaves its process tree escapes nsscript ls and down (in the lab's own namespaces it is still found): README, Nothing left behind",
		Fix:     "mount it (mount -t cgroup2 none /sys/fs/cgroup/unified), or boot with systemd.unified_cgroup_hierarchy=1"}}
}

// checkNetns: /run/netns, with namespaces of other tools (fine) and
// names with no namespace behind them (left by an interrupted delete).
func checkNetns(f *facts) []Finding {
	ents, err := f.sys.Netns()
	if err != nil {
		return []Finding{{Level: Info, Title: "/run/netns not read: " + err.Error()}}
	}
	if len(ents) == 0 {
		return []Finding{{Level: OK, Title: "/run/netns holds no namespaces"}}
	}
	labs, _ := f.labList()
	ofLab := map[string]string{}
	for _, l := range labs {
		for _, n := range l.Namespaces {
			ofLab[n] = l.Name
		}
	}
	var out []Finding
	var others, mine []string
	for _, e := range ents {
		switch {
		case !e.Namespace:
			out = append(out, Finding{Level: Warning, Title: "/run/netns/" + e.Name + " is not a namespace (an ip netns del cut short, or a mount that went)",
				Meaning: fmt.Sprintf("namespace(%q) fails on it, and ip netns exec %s too", e.Name, e.Name),
				Fix:     fmt.Sprintf("ip netns del %s (or: umount /run/netns/%s; rm /run/netns/%s)", e.Name, e.Name, e.Name)})
		case ofLab[e.Name] != "":
			mine = append(mine, e.Name+" ("+ofLab[e.Name]+")")
		default:
			others = append(others, e.Name)
		}
	}
	if len(others) > 0 {
		out = append(out, Finding{Level: Info, Title: "namespaces no lab made: " + strings.Join(others, " "),
			Meaning: `a script's namespace("NAME") of one of them adopts it, and its down leaves it; other tools' namespaces are fine`})
	}
	if len(mine) > 0 {
		out = append(out, Finding{Level: OK, Title: "namespaces of labs: " + strings.Join(mine, " ")})
	}
	return out
}

// checkLabs: labs whose journal is still there, the running ones, and
// stale ones (everything they made is gone, the journal stays).
func checkLabs(f *facts) []Finding {
	labs, err := f.labList()
	var out []Finding
	if err != nil {
		out = append(out, Finding{Level: Info, Title: "labs not read: " + err.Error()})
	}
	if len(labs) == 0 && err == nil {
		return []Finding{{Level: OK, Title: "no labs (/run/nsscript holds no journal)"}}
	}
	netns := map[string]bool{}
	if ents, err := f.sys.Netns(); err == nil {
		for _, e := range ents {
			netns[e.Name] = e.Namespace
		}
	}
	var up []string
	for _, l := range labs {
		alive := 0
		for _, n := range l.Namespaces {
			if netns[n] {
				alive++
			}
		}
		switch {
		case l.Problems > 0:
			out = append(out, Finding{Check: "labs." + l.Name, Level: Warning,
				Title:   fmt.Sprintf("lab %s: its journal has %s that cannot be read", l.Name, plural(l.Problems, "line")),
				Meaning: "down undoes the rest and reports those lines: what they recorded stays",
				Fix:     "nsscript ls " + l.Name + " (names the lines); nsscript down " + l.Name})
		case l.Running != "":
			up = append(up, l.Name+" ("+l.Running+")")
		case len(l.Namespaces)+l.Links > 0 && alive == 0 && l.LinksGone == l.Links && l.Processes == 0:
			out = append(out, Finding{Check: "labs." + l.Name, Level: Warning,
				Title:   fmt.Sprintf("lab %s is stale: its journal holds %s, but its namespaces and devices are gone", l.Name, plural(l.Changes, "change")),
				Meaning: "what it recorded of the host (sysctls, rules) may still be there; its next run or down reconciles it",
				Fix:     "nsscript down " + l.Name})
		default:
			up = append(up, l.Name)
		}
	}
	if len(up) > 0 {
		out = append(out, Finding{Check: "labs", Level: Info, Title: "labs up: " + strings.Join(up, ", "),
			Fix: "nsscript ls (what they hold); nsscript down LAB"})
	}
	return out
}
