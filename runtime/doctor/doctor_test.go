package doctor

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// fake is a machine made of fixed answers: files, links, command
// outputs (a command it has no answer for is not installed), probes.
type fake struct {
	files     map[string]string
	links     map[string]string
	cmds      map[string]string
	cmdErrs   map[string]error
	euid      int
	probe     map[string]error // features the kernel lacks (absent: it has them)
	probeErr  error
	userns    error
	cgDir     string
	cgW, cgOK bool
	netns     []NetnsEntry
	labs      []Lab

	ran    []string   // the commands run
	probed [][]string // what ProbeFeatures was asked
}

// healthy is a machine where nothing stands in a lab's way: root, a
// kernel without modules that has everything, iptables-nft with empty
// tables, no br_netfilter, a plain resolv.conf, cgroup v2.
func healthy() *fake {
	return &fake{
		files: map[string]string{
			"/proc/sys/net/ipv4/ip_forward":      "0\n",
			"/proc/sys/user/max_user_namespaces": "63000\n",
			"/proc/sys/kernel/osrelease":         "6.18.0\n",
			"/etc/resolv.conf":                   "nameserver 192.0.2.53\n",
		},
		links: map[string]string{},
		cmds: map[string]string{
			"iptables --version":    "iptables v1.8.9 (nf_tables)\n",
			"ip6tables --version":   "ip6tables v1.8.9 (nf_tables)\n",
			"iptables-nft-save":     "",
			"ip6tables-nft-save":    "",
			"iptables-legacy-save":  "",
			"ip6tables-legacy-save": "",
			"nft -j list ruleset":   `{"nftables": [{"metainfo": {"version": "1.0.6", "json_schema_version": 1}}]}`,
		},
		cmdErrs: map[string]error{},
		probe:   map[string]error{},
		cgDir:   "/sys/fs/cgroup/user.slice", cgW: true, cgOK: true,
	}
}

func (m *fake) ReadFile(path string) ([]byte, error) {
	if t, ok := m.links[path]; ok {
		path = t
	}
	s, ok := m.files[path]
	if !ok {
		return nil, &os.PathError{Op: "open", Path: path, Err: os.ErrNotExist}
	}
	return []byte(s), nil
}

func (m *fake) Readlink(path string) (string, error) {
	if t, ok := m.links[path]; ok {
		return t, nil
	}
	return "", &os.PathError{Op: "readlink", Path: path, Err: errors.New("invalid argument")}
}

func (m *fake) Run(argv ...string) (string, error) {
	c := strings.Join(argv, " ")
	m.ran = append(m.ran, c)
	if err := m.cmdErrs[c]; err != nil {
		return "", err
	}
	out, ok := m.cmds[c]
	if !ok {
		return "", &exec.Error{Name: argv[0], Err: exec.ErrNotFound}
	}
	return out, nil
}

func (m *fake) Euid() int { return m.euid }

func (m *fake) ProbeFeatures(features []string) (map[string]error, error) {
	m.probed = append(m.probed, features)
	if m.probeErr != nil {
		return nil, m.probeErr
	}
	out := map[string]error{}
	for _, f := range features {
		out[f] = m.probe[f]
	}
	return out, nil
}

func (m *fake) ProbeUserns() error             { return m.userns }
func (m *fake) CgroupV2() (string, bool, bool) { return m.cgDir, m.cgW, m.cgOK }
func (m *fake) Netns() ([]NetnsEntry, error)   { return m.netns, nil }
func (m *fake) Labs() ([]Lab, error)           { return m.labs, nil }
func (m *fake) sysctl(key, value string) {
	m.files["/proc/sys/"+strings.ReplaceAll(key, ".", "/")] = value + "\n"
}
func (m *fake) ranAny(prefix string) bool {
	return slices.ContainsFunc(m.ran, func(c string) bool { return strings.HasPrefix(c, prefix) })
}
func (m *fake) lacks(err error, features ...string) {
	for _, f := range features {
		m.probe[f] = err
	}
}

// find returns the findings of a check (by its name or a prefix of it).
func find(r *Report, check string) []Finding {
	var out []Finding
	for _, f := range r.Findings {
		if f.Check == check || strings.HasPrefix(f.Check, check+".") {
			out = append(out, f)
		}
	}
	return out
}

func one(t *testing.T, r *Report, check string) Finding {
	t.Helper()
	fs := find(r, check)
	if len(fs) != 1 {
		t.Fatalf("%d findings of %s, want 1: %+v", len(fs), check, r.Findings)
	}
	return fs[0]
}

func wantIn(t *testing.T, what, s string, subs ...string) {
	t.Helper()
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			t.Errorf("%s lacks %q:\n%s", what, sub, s)
		}
	}
}

func TestHealthyMachine(t *testing.T) {
	m := healthy()
	r := Diagnose(m)
	if r.Blockers != 0 || r.Warnings != 0 {
		t.Fatalf("a healthy machine: %d blockers, %d warnings: %+v", r.Blockers, r.Warnings, r.Findings)
	}
	for _, ft := range features {
		if r.Features[ft.key] != "present" {
			t.Errorf("feature %s = %q, want present", ft.key, r.Features[ft.key])
		}
	}
	var out bytes.Buffer
	if code := Command(m, nil, false, &out, &out); code != 0 {
		t.Errorf("exit %d, want 0", code)
	}
	wantIn(t, "text", out.String(), "ok       running as root", "no blockers, no warnings")
	// Nothing that could make a table or load a module: no legacy
	// save without legacy tables, nothing but reads.
	for _, c := range m.ran {
		if strings.Contains(c, "legacy") {
			t.Errorf("ran %q with no legacy tables in the kernel", c)
		}
		if !strings.HasSuffix(c, "--version") && !strings.HasSuffix(c, "-save") && c != "nft -j list ruleset" {
			t.Errorf("ran %q, which is not one of the read-only commands", c)
		}
	}
}

func TestCommandUsageAndJSON(t *testing.T) {
	var out, errb bytes.Buffer
	if code := Command(healthy(), []string{"extra"}, false, &out, &errb); code != 2 || !strings.Contains(errb.String(), "takes no arguments") {
		t.Errorf("doctor extra: exit %d, %q", code, errb.String())
	}
	m := healthy()
	m.euid = 1000
	out.Reset()
	if code := Command(m, nil, true, &out, &errb); code != 1 {
		t.Errorf("not root: exit %d, want 1", code)
	}
	var r Report
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("--json: %v\n%s", err, out.String())
	}
	if r.Blockers != 1 || one(t, &r, "root").Level != Blocker || r.Features["veth"] != "unknown" {
		t.Errorf("not root: %+v", r)
	}
	if len(m.probed) != 0 {
		t.Errorf("probed the kernel without root: %v", m.probed)
	}
}

// Docker's machine: br_netfilter with bridge-nf-call-iptables=1 and the
// FORWARD policy DROP, in iptables-nft.
func dockerish() *fake {
	m := healthy()
	m.sysctl("net.bridge.bridge-nf-call-iptables", "1")
	m.sysctl("net.bridge.bridge-nf-call-ip6tables", "1")
	m.sysctl("net.ipv4.ip_forward", "1")
	m.cmds["iptables-nft-save"] = `# Generated by iptables-nft-save v1.8.9 (nf_tables)
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:DOCKER - [0:0]
:DOCKER-USER - [0:0]
-A FORWARD -j DOCKER-USER
-A FORWARD -o docker0 -j DOCKER
-A FORWARD -i docker0 -o docker0 -j ACCEPT
-A FORWARD -i v-net-0 -o v-net-0 -m comment --comment "nsscript:topo" -j ACCEPT
-A FORWARD -i br1 -o br2 -j ACCEPT
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE
COMMIT
`
	return m
}

func TestBrNetfilterForwardDrop(t *testing.T) {
	m := dockerish()
	r := Diagnose(m)
	f := one(t, r, "br_netfilter")
	if f.Level != Blocker || r.Blockers != 1 {
		t.Fatalf("br_netfilter with FORWARD DROP: %+v (%d blockers)", f, r.Blockers)
	}
	wantIn(t, "finding", f.Title+f.Meaning+f.Fix,
		"net.bridge.bridge-nf-call-iptables=1", "iptables (nft) FORWARD policy DROP", "let through by a rule: docker0, v-net-0)",
		"--sandbox", `firewall(host, "FORWARD", "-i BRIDGE -o BRIDGE -j ACCEPT")`, "iptables -I DOCKER-USER",
		"sysctl -w net.bridge.bridge-nf-call-iptables=0")
	if strings.Contains(f.Title, "ip6tables") {
		t.Errorf("IPv6 forwarding accepts, but the title names it: %s", f.Title)
	}
	var out bytes.Buffer
	if code := Command(m, nil, false, &out, &out); code != 1 || !strings.Contains(out.String(), "BLOCKER  br_netfilter") {
		t.Errorf("exit %d, want 1:\n%s", code, out.String())
	}

	// The sysctl off: bridged frames skip iptables.
	m.sysctl("net.bridge.bridge-nf-call-iptables", "0")
	m.sysctl("net.bridge.bridge-nf-call-ip6tables", "0")
	if f := one(t, Diagnose(m), "br_netfilter"); f.Level != OK {
		t.Errorf("bridge-nf-call-iptables=0: %+v", f)
	}
	// Rules that cannot be read (an ordinary user): not known, and
	// never "they let them through".
	m = dockerish()
	m.euid = 1000
	for _, c := range []string{"iptables-nft-save", "ip6tables-nft-save", "nft -j list ruleset"} {
		m.cmdErrs[c] = errors.New(c + ": Permission denied (you must be root)\nmore")
	}
	f = one(t, Diagnose(m), "br_netfilter")
	if f.Level != Info || !strings.Contains(f.Title, "whether a FORWARD chain drops them is not known: iptables-nft-save: Permission denied") || strings.Contains(f.Title, "more") {
		t.Errorf("rules unreadable: %+v", f)
	}
	// On, with FORWARD accepting: worth knowing, not blocking.
	m = healthy()
	m.sysctl("net.bridge.bridge-nf-call-iptables", "1")
	if f := one(t, Diagnose(m), "br_netfilter"); f.Level != Info || !strings.Contains(f.Meaning, "also filters them") {
		t.Errorf("br_netfilter with FORWARD ACCEPT: %+v", f)
	}
}

func TestBrNetfilterLegacyAndRuleDrops(t *testing.T) {
	m := healthy()
	m.cmds["iptables --version"] = "iptables v1.8.9 (legacy)\n"
	m.sysctl("net.bridge.bridge-nf-call-iptables", "1")
	m.files["/proc/net/ip_tables_names"] = "nat\nfilter\n"
	m.cmds["iptables-legacy-save"] = "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A FORWARD -j REJECT --reject-with icmp-port-unreachable\nCOMMIT\n"
	f := one(t, Diagnose(m), "br_netfilter")
	if f.Level != Blocker {
		t.Fatalf("legacy FORWARD ending in REJECT: %+v", f)
	}
	wantIn(t, "finding", f.Title+f.Fix, `iptables (legacy) FORWARD rule "-A FORWARD -j REJECT`, "iptables -I FORWARD", "firewall() appends")
	if m.ranAny("ip6tables-legacy-save") {
		t.Errorf("ran ip6tables-legacy-save with no IPv6 legacy tables: %v", m.ran)
	}

	// A physdev rule that lets every bridged frame through is listed.
	m.cmds["iptables-legacy-save"] = "*filter\n:FORWARD DROP [0:0]\n-A FORWARD -m physdev --physdev-is-bridged -j ACCEPT\nCOMMIT\n"
	wantIn(t, "title", one(t, Diagnose(m), "br_netfilter").Title, "let through by a rule: every bridge (physdev)")
}

func TestBrNetfilterNftablesOfAnotherTool(t *testing.T) {
	m := healthy()
	m.sysctl("net.bridge.bridge-nf-call-iptables", "1")
	m.cmds["nft -j list ruleset"] = `{"nftables": [{"metainfo": {"version": "1.0.6"}},
 {"table": {"family": "inet", "name": "filter", "handle": 1}},
 {"chain": {"family": "inet", "table": "filter", "name": "forward", "handle": 1, "type": "filter", "hook": "forward", "prio": 0, "policy": "drop"}},
 {"chain": {"family": "inet", "table": "filter", "name": "input", "handle": 2, "type": "filter", "hook": "input", "prio": 0, "policy": "accept"}}]}`
	r := Diagnose(m)
	f := one(t, r, "br_netfilter")
	if f.Level != Blocker {
		t.Fatalf("nftables forward chain with policy drop: %+v", f)
	}
	wantIn(t, "finding", f.Title+f.Fix, "nftables table inet filter chain forward (policy drop), the nftables service", "in the tool whose nftables chain drops")
	n := one(t, r, "nftables")
	if n.Level != Warning {
		t.Errorf("a table with a drop policy: %+v", n)
	}
	wantIn(t, "nftables finding", n.Title+n.Fix, "table inet filter (the nftables service (/etc/nftables.conf)): forward (hook forward, priority 0, policy drop), input (hook input", "nft list table inet filter")
}

func TestNftablesTablesOfOtherTools(t *testing.T) {
	m := healthy()
	// iptables-nft's own tables (not listed), firewalld's (a reject
	// rule), and libvirt's (nothing that drops).
	m.cmds["nft -j list ruleset"] = `{"nftables": [{"metainfo": {"version": "1.0.6"}},
 {"table": {"family": "ip", "name": "filter", "handle": 1}},
 {"chain": {"family": "ip", "table": "filter", "name": "FORWARD", "handle": 1, "type": "filter", "hook": "forward", "prio": 0, "policy": "accept"}},
 {"chain": {"family": "ip", "table": "filter", "name": "DOCKER", "handle": 2}},
 {"rule": {"family": "ip", "table": "filter", "chain": "FORWARD", "handle": 3, "expr": [{"counter": {"packets": 0, "bytes": 0}}, {"xt": {"type": "target", "name": "REJECT"}}]}},
 {"table": {"family": "inet", "name": "firewalld", "handle": 2}},
 {"chain": {"family": "inet", "table": "firewalld", "name": "filter_FORWARD", "handle": 1, "type": "filter", "hook": "forward", "prio": 10, "policy": "accept"}},
 {"rule": {"family": "inet", "table": "firewalld", "chain": "filter_FORWARD", "handle": 5, "expr": [{"match": {"op": "==", "left": {"meta": {"key": "iifname"}}, "right": "x"}}, {"reject": {"type": "icmpx", "expr": "admin-prohibited"}}]}},
 {"table": {"family": "ip", "name": "libvirt_network", "handle": 3}},
 {"chain": {"family": "ip", "table": "libvirt_network", "name": "postrouting", "handle": 1, "type": "nat", "hook": "postrouting", "prio": 100, "policy": "accept"}},
 {"rule": {"family": "ip", "table": "libvirt_network", "chain": "postrouting", "handle": 2, "expr": [{"masquerade": null}]}}]}`
	f := one(t, Diagnose(m), "nftables")
	if f.Level != Warning {
		t.Fatalf("firewalld's reject rule: %+v", f)
	}
	wantIn(t, "finding", f.Title, "2 tables not made by iptables", "table inet firewalld (firewalld): filter_FORWARD (hook forward, priority 10, policy accept); 1 rule, 1 of them drop or reject",
		"table ip libvirt_network (libvirt): postrouting (hook postrouting, priority 100, policy accept); 1 rule")
	if strings.Contains(f.Title, "ip filter") {
		t.Errorf("iptables-nft's own table listed: %s", f.Title)
	}
	wantIn(t, "finding", f.Meaning, "must be accepted by all of them", "cannot accept what they drop")
	wantIn(t, "fix", f.Fix, "nft list table inet firewalld", "firewall-cmd --zone=trusted --add-interface=BRIDGE")

	// Only libvirt's: listed, not a warning.
	m.cmds["nft -j list ruleset"] = `{"nftables": [{"table": {"family": "ip", "name": "libvirt_network", "handle": 3}}]}`
	if f := one(t, Diagnose(m), "nftables"); f.Level != Info {
		t.Errorf("a table that drops nothing: %+v", f)
	}
	// No nft: says so, lists nothing.
	delete(m.cmds, "nft -j list ruleset")
	if f := one(t, Diagnose(m), "nftables"); f.Level != Info || !strings.Contains(f.Title, "nft is not installed") {
		t.Errorf("without nft: %+v", f)
	}
}

// A kernel that loads modules: nothing is tried that would load one.
func modular(m *fake) *fake {
	m.files["/proc/modules"] = "bridge 311296 0 - Live 0x0000000000000000\nveth 40960 0 - Live 0x0\nsch_htb 40960 0 - Live 0x0\nnf_tables 290816 0 - Live 0x0\n"
	m.files["/lib/modules/6.18.0/modules.builtin"] = "kernel/drivers/net/tun.ko\nkernel/net/netfilter/nf_nat.ko\nkernel/net/ipv6/netfilter/ip6_tables.ko\n"
	m.files["/lib/modules/6.18.0/modules.dep"] = "kernel/drivers/net/dummy.ko.zst:\nkernel/net/8021q/8021q.ko.zst: kernel/net/802/garp.ko.zst\nkernel/net/sched/sch_netem.ko.xz:\nkernel/net/bridge/br_netfilter.ko.zst: kernel/net/bridge/bridge.ko.zst\n"
	return m
}

func TestModularKernelIsNotProbed(t *testing.T) {
	m := modular(healthy())
	r := Diagnose(m)
	if len(m.probed) != 1 || len(m.probed[0]) != 0 {
		t.Fatalf("ProbeFeatures was asked %v; on a kernel that loads modules only a namespace is made", m.probed)
	}
	want := map[string]string{"veth": "present", "bridge": "present", "htb": "present", "tun": "present", "nat": "present",
		"ip6tables": "present", "dummy": "module", "vlan": "module", "netem": "module",
		"macvlan": "missing", "bond": "missing", "vxlan": "missing", "ifb": "missing", "tbf": "missing", "fq": "missing"}
	for k, v := range want {
		if r.Features[k] != v {
			t.Errorf("feature %s = %q, want %q", k, r.Features[k], v)
		}
	}
	wantIn(t, "modules", one(t, r, "kernel.modules").Title, "dummy (dummy)", "vlan (802.1Q) (8021q)", "netem qdisc (sch_netem)")
	f := one(t, r, "kernel.macvlan")
	wantIn(t, "macvlan", f.Title+f.Fix, "macvlan is neither built in nor a module of 6.18.0", "linux-modules-extra-6.18.0", "CONFIG_MACVLAN")
	if b := one(t, r, "br_netfilter"); b.Level != OK || !strings.Contains(b.Meaning, "Docker and Kubernetes load it") {
		t.Errorf("br_netfilter a module not loaded: %+v", b)
	}

	// nf_tables not loaded: nft is not asked (it would load it).
	m = modular(healthy())
	m.files["/proc/modules"] = "bridge 311296 0 - Live 0x0\n"
	r = Diagnose(m)
	if m.ranAny("nft") || m.ranAny("iptables-nft-save") {
		t.Errorf("asked nftables with nf_tables not loaded: %v", m.ran)
	}
	if f := one(t, r, "nftables"); f.Level != OK || !strings.Contains(f.Title, "nf_tables is not loaded") {
		t.Errorf("nftables: %+v", f)
	}
	// No /lib/modules for the kernel (a container): unknown, not missing.
	m = healthy()
	m.files["/proc/modules"] = "bridge 311296 0 - Live 0x0\n"
	r = Diagnose(m)
	if r.Features["netem"] != "unknown" || r.Features["bridge"] != "present" {
		t.Errorf("features without /lib/modules: %v", r.Features)
	}
}

func TestMissingFeaturesByProbe(t *testing.T) {
	m := healthy()
	unknown := errors.New("unknown device type (operation not supported)")
	m.lacks(unknown, "dummy", "vlan", "bond")
	m.lacks(errors.New("unknown qdisc kind (no such file or directory)"), "netem", "fq")
	r := Diagnose(m)
	if len(m.probed) != 1 || len(m.probed[0]) != len(features) {
		t.Fatalf("probed %v, want every feature once", m.probed)
	}
	for _, k := range []string{"dummy", "vlan", "bond", "netem", "fq"} {
		if r.Features[k] != "missing" || one(t, r, "kernel."+k).Level != Warning {
			t.Errorf("%s: %q, %+v", k, r.Features[k], find(r, "kernel."+k))
		}
	}
	if r.Blockers != 0 || r.Warnings != 5 {
		t.Errorf("%d blockers, %d warnings, want 0 and 5", r.Blockers, r.Warnings)
	}
	wantIn(t, "dummy", one(t, r, "kernel.dummy").Meaning, "dummy() makes an ifb device instead")
	wantIn(t, "netem", one(t, r, "kernel.netem").Title, "tried in a throwaway namespace: unknown qdisc kind")
	wantIn(t, "netem", one(t, r, "kernel.netem").Fix, "CONFIG_NET_SCH_NETEM")

	// Without ifb too, dummy() fails.
	m.lacks(unknown, "ifb")
	wantIn(t, "ifb", one(t, Diagnose(m), "kernel.ifb").Meaning, "dummy() fails")

	// Without veth: nothing can be built.
	m.lacks(unknown, "veth")
	r = Diagnose(m)
	if f := one(t, r, "kernel.veth"); f.Level != Blocker {
		t.Errorf("no veth: %+v", f)
	}
	// A probe that could not be tried is unknown, not missing.
	m = healthy()
	m.lacks(fmt.Errorf("%w: iptables is not installed", ErrNotProbed), "nat")
	r = Diagnose(m)
	if r.Features["nat"] != "unknown" || one(t, r, "kernel.nat").Level != Info {
		t.Errorf("nat not probed: %q %+v", r.Features["nat"], find(r, "kernel.nat"))
	}
	// No network namespaces at all.
	m = healthy()
	m.probeErr = errors.New("make a network namespace: operation not permitted")
	if f := one(t, Diagnose(m), "kernel.netns"); f.Level != Blocker || !strings.Contains(f.Title, "operation not permitted") {
		t.Errorf("no namespaces: %+v", f)
	}
}

func TestIptablesVariants(t *testing.T) {
	m := healthy()
	r := Diagnose(m)
	wantIn(t, "variant", one(t, r, "iptables").Title, "nft variant (iptables v1.8.9 (nf_tables))")

	// Rules in both variants.
	m.files["/proc/net/ip_tables_names"] = "filter\n"
	m.cmds["iptables-legacy-save"] = "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n-A INPUT -s 198.51.100.0/24 -j DROP\nCOMMIT\n"
	m.cmds["iptables-nft-save"] = "*nat\n:POSTROUTING ACCEPT [0:0]\n-A POSTROUTING -j MASQUERADE\n-A POSTROUTING -o x -j MASQUERADE\nCOMMIT\n"
	f := one(t, Diagnose(m), "iptables.mixed")
	if f.Level != Warning {
		t.Fatalf("mixed: %+v", f)
	}
	wantIn(t, "mixed", f.Title+f.Meaning+f.Fix, "the legacy variant holds rules too: iptables-legacy: filter: 1 rule", "and nft: iptables: nat: 2 rules",
		"invisible to iptables -S", "iptables-legacy-save", "update-alternatives --set iptables /usr/sbin/iptables-nft")

	// Only the other variant holds rules.
	m.cmds["iptables-nft-save"] = ""
	wantIn(t, "other only", one(t, Diagnose(m), "iptables.mixed").Title, "only the legacy variant holds rules")

	// Legacy tables that hold nothing are no warning.
	m.cmds["iptables-legacy-save"] = "*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n"
	if fs := find(Diagnose(m), "iptables.mixed"); len(fs) != 0 {
		t.Errorf("empty legacy tables: %+v", fs)
	}

	// No iptables at all, no ip6tables.
	m = healthy()
	delete(m.cmds, "iptables --version")
	delete(m.cmds, "ip6tables --version")
	r = Diagnose(m)
	if f := one(t, r, "iptables"); f.Level != Warning || !strings.Contains(f.Meaning, "nat.masquerade()") {
		t.Errorf("no iptables: %+v", f)
	}
	if f := one(t, r, "ip6tables"); f.Level != Info || !strings.Contains(f.Title, "not installed") {
		t.Errorf("no ip6tables: %+v", f)
	}
}

func TestResolvConf(t *testing.T) {
	m := healthy()
	wantIn(t, "plain", one(t, Diagnose(m), "resolv.conf").Title, "/etc/resolv.conf names 192.0.2.53")

	// systemd-resolved's stub.
	m.links["/etc/resolv.conf"] = "../run/systemd/resolve/stub-resolv.conf"
	m.files["../run/systemd/resolve/stub-resolv.conf"] = "# stub\nnameserver 127.0.0.53\noptions edns0 trust-ad\n"
	m.files["/run/systemd/resolve/resolv.conf"] = "nameserver 192.0.2.1\nnameserver 2001:db8::1\n"
	f := one(t, Diagnose(m), "resolv.conf")
	if f.Level != Warning {
		t.Fatalf("stub resolver: %+v", f)
	}
	wantIn(t, "stub", f.Title+f.Meaning+f.Fix, "a link to /run/systemd/resolve/stub-resolv.conf, systemd-resolved's", "loopback nameserver: 127.0.0.53",
		"the namespace's own loopback", "the bind lands on /run/systemd/resolve/stub-resolv.conf", `ns.etc("resolv.conf", "nameserver ADDR\n")`,
		"upstream servers: 192.0.2.1 2001:db8::1", "/etc/netns/NAME/resolv.conf")

	// A link to nothing.
	delete(m.files, "../run/systemd/resolve/stub-resolv.conf")
	f = one(t, Diagnose(m), "resolv.conf")
	if f.Level != Warning || !strings.Contains(f.Title, "which does not exist") || !strings.Contains(f.Meaning, "bind ... failed") {
		t.Errorf("dangling link: %+v", f)
	}
	// A link to resolved's full file (no stub): the bind note only.
	m.links["/etc/resolv.conf"] = "/run/systemd/resolve/resolv.conf"
	if f := one(t, Diagnose(m), "resolv.conf"); f.Level != OK || !strings.Contains(f.Meaning, "the bind lands on /run/systemd/resolve/resolv.conf") {
		t.Errorf("link to resolv.conf: %+v", f)
	}
}

func TestUserns(t *testing.T) {
	m := healthy()
	if f := one(t, Diagnose(m), "userns"); f.Level != OK {
		t.Errorf("allowed: %+v", f)
	}
	refused := errors.New("unshare: unshare failed: Operation not permitted")
	for _, c := range []struct{ key, value, says, fix string }{
		{"kernel.unprivileged_userns_clone", "0", "kernel.unprivileged_userns_clone is 0 (Debian's switch)", "sysctl -w kernel.unprivileged_userns_clone=1"},
		{"kernel.apparmor_restrict_unprivileged_userns", "1", "kernel.apparmor_restrict_unprivileged_userns is 1 (Ubuntu", "sysctl -w kernel.apparmor_restrict_unprivileged_userns=0"},
		{"user.max_user_namespaces", "0", "user.max_user_namespaces is 0: no user namespace may be made", "sysctl -w user.max_user_namespaces=15000"},
	} {
		m := healthy()
		m.sysctl(c.key, c.value)
		m.userns = refused
		f := one(t, Diagnose(m), "userns")
		if f.Level != Warning {
			t.Errorf("%s=%s: %+v", c.key, c.value, f)
		}
		wantIn(t, c.key, f.Title+f.Fix, c.says, c.fix, "(tried: unshare: unshare failed")
	}
	// Set to allow, and refused anyway: says none of the settings did it.
	m = healthy()
	m.sysctl("kernel.unprivileged_userns_clone", "1")
	m.sysctl("kernel.apparmor_restrict_unprivileged_userns", "0")
	m.userns = refused
	wantIn(t, "refused", one(t, Diagnose(m), "userns").Meaning, "none of the known settings forbids it here")
}

func TestHostState(t *testing.T) {
	m := healthy()
	m.cgOK = false
	m.netns = []NetnsEntry{{Name: "red", Namespace: true}, {Name: "cni-1234", Namespace: true}, {Name: "half", Namespace: false}, {Name: "gone", Namespace: true}}
	m.labs = []Lab{
		{Name: "topo", Namespaces: []string{"red"}, Links: 2, Changes: 9},
		{Name: "old", Namespaces: []string{"blue"}, Links: 1, LinksGone: 1, Changes: 5},
		{Name: "busy", Running: "running: pid 42 (nsscript busy.star)", Changes: 1},
		{Name: "torn", Problems: 2, Changes: 3},
		{Name: "sysctls", Changes: 1}, // only changed a sysctl of the host: not stale
	}
	r := Diagnose(m)
	if f := one(t, r, "cgroup"); f.Level != Warning || !strings.Contains(f.Meaning, "escapes nsscript ls and down") {
		t.Errorf("no cgroup v2: %+v", f)
	}
	var stale, other, ofLabs bool
	for _, f := range find(r, "netns") {
		switch {
		case f.Level == Warning && strings.Contains(f.Title, "/run/netns/half is not a namespace"):
			stale = strings.Contains(f.Fix, "ip netns del half")
		case f.Level == Info:
			other = f.Title == "namespaces no lab made: cni-1234 gone"
		case f.Level == OK:
			ofLabs = f.Title == "namespaces of labs: red (topo)"
		}
	}
	if !stale || !other || !ofLabs {
		t.Errorf("netns findings: %+v", find(r, "netns"))
	}
	labs := find(r, "labs")
	if len(labs) != 3 {
		t.Fatalf("labs findings: %+v", labs)
	}
	for _, f := range labs {
		switch f.Check {
		case "labs.old":
			if f.Level != Warning || f.Fix != "nsscript down old" || !strings.Contains(f.Title, "lab old is stale") {
				t.Errorf("stale lab: %+v", f)
			}
		case "labs.torn":
			if f.Level != Warning || !strings.Contains(f.Title, "2 lines that cannot be read") {
				t.Errorf("torn journal: %+v", f)
			}
		case "labs":
			if f.Title != "labs up: topo, busy (running: pid 42 (nsscript busy.star)), sysctls" {
				t.Errorf("labs up: %q", f.Title)
			}
		default:
			t.Errorf("unexpected %+v", f)
		}
	}
	if f := one(t, r, "ip_forward"); f.Level != OK {
		t.Errorf("ip_forward 0: %+v", f)
	}
}
