package main

import (
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// doctorReport is what nsscript doctor --json prints.
type doctorReport struct {
	Findings []struct {
		Check, Level, Title, Meaning, Fix string
	}
	Features map[string]string
	Blockers int
	Warnings int
	Summary  string
}

func parseDoctor(t *testing.T, out string) doctorReport {
	t.Helper()
	var r doctorReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("doctor --json: %v\n%s", err, out)
	}
	return r
}

// finding is the one finding of a check; it fails the test unless there
// is exactly one.
func (r doctorReport) finding(t *testing.T, check string) (level, text string) {
	t.Helper()
	var found []string
	for _, f := range r.Findings {
		if f.Check == check {
			level = f.Level
			text = f.Title + "\n" + f.Meaning + "\n" + f.Fix
			found = append(found, f.Title)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d findings of %s, want 1: %v", len(found), check, r.Findings)
	}
	return level, text
}

// probeScript tries each feature doctor looks for with the commands a
// user would type (iproute2, tc, iptables), not with nsscript's code, and
// prints "FEATURE present|missing" per line.
const probeScript = `
try() { name=$1; shift; if "$@" >/dev/null 2>&1; then echo "$name present"; else echo "$name missing"; fi; }
try veth ip link add pa type veth peer name pb
try bridge ip link add pbr type bridge
try dummy ip link add pd type dummy
try ifb ip link add pi type ifb
try vlan ip link add link pa name pv type vlan id 5
try macvlan ip link add link pa name pm type macvlan
try bond ip link add pbo type bond
try vxlan ip link add pvx type vxlan id 42 dstport 4789
try tun ip tuntap add pt mode tap
for q in "netem delay 1ms" "tbf rate 1mbit burst 32k latency 50ms" "htb" "fq"; do
  set -- $q
  if tc qdisc add dev lo root $q >/dev/null 2>&1; then echo "$1 present"; tc qdisc del dev lo root; else echo "$1 missing"; fi
done
try nat iptables -t nat -A POSTROUTING -j MASQUERADE
try ip6tables ip6tables -A INPUT -j ACCEPT
echo "brnf $(cat /proc/sys/net/bridge/bridge-nf-call-iptables 2>/dev/null || echo absent)"
`

// TestDoctorMatchesThisMachine runs doctor in a sandbox and checks what it
// says against probes of the test's own, made another way (ip, tc and
// iptables commands in another sandbox), and against what the test reads
// of the machine itself: nothing about this machine is written here.
func TestDoctorMatchesThisMachine(t *testing.T) {
	if _, err := os.Stat("/proc/modules"); err == nil {
		t.Skip("this kernel loads modules: probing its drivers by making devices would load them (doctor reads modules.builtin there instead; runtime/doctor's TestModularKernelIsNotProbed covers it)")
	}
	for _, tool := range []string{"ip", "tc", "iptables", "ip6tables", "unshare", "setpriv"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed: the test's own probes need it", tool)
		}
	}
	r := nsscript(t, t.TempDir(), "--sandbox", "doctor", "--json")
	rep := parseDoctor(t, r.stdout)
	if (r.code == 1) != (rep.Blockers > 0) || r.code > 1 {
		t.Fatalf("exit %d with %d blockers\n%s%s", r.code, rep.Blockers, r.stdout, r.stderr)
	}

	p := mustRun(t, "print(exec(host, "+starString(probeScript)+").stdout)\n")
	want := map[string]string{}
	brnf := ""
	for _, l := range strings.Split(strings.TrimSpace(p), "\n") {
		k, v, _ := strings.Cut(l, " ")
		if k == "brnf" {
			brnf = v
			continue
		}
		want[k] = v
	}
	if len(want) != 15 {
		t.Fatalf("the test's probes gave %d features:\n%s", len(want), p)
	}
	var present, missing []string
	for k, v := range want {
		if rep.Features[k] != v {
			t.Errorf("feature %s: doctor says %q, the test's probe %q", k, rep.Features[k], v)
		}
		if v == "present" {
			present = append(present, k)
		} else {
			missing = append(missing, k)
		}
	}
	sort.Strings(present)
	sort.Strings(missing)
	t.Logf("this kernel has %v and lacks %v", present, missing)
	// Each missing feature is a finding of its own, a blocker for veth
	// and bridge only.
	blockers := 0
	for _, k := range missing {
		level, text := rep.finding(t, "kernel."+k)
		wantLevel := "warning"
		if k == "veth" || k == "bridge" {
			wantLevel = "blocker"
			blockers++
		}
		if level != wantLevel || !strings.Contains(text, "CONFIG_") {
			t.Errorf("kernel.%s: %s %q", k, level, text)
		}
	}
	if rep.Blockers != blockers {
		t.Errorf("%d blockers, want %d (root, namespaces and the rest are fine in a sandbox)", rep.Blockers, blockers)
	}

	// iptables' variant, as iptables says.
	out, _ := exec.Command("iptables", "--version").Output()
	variant := "legacy"
	if strings.Contains(string(out), "nf_tables") {
		variant = "nft"
	}
	if _, text := rep.finding(t, "iptables"); !strings.Contains(text, "the "+variant+" variant") {
		t.Errorf("iptables: %q, but iptables --version says %q", text, out)
	}
	// br_netfilter, as the sandbox's /proc/sys says: the sandbox's
	// FORWARD chain accepts, so it is at most worth knowing.
	level, text := rep.finding(t, "br_netfilter")
	switch brnf {
	case "absent":
		if level != "ok" || !strings.Contains(text, "not loaded") {
			t.Errorf("no br_netfilter: %s %q", level, text)
		}
	case "1":
		if level != "info" || !strings.Contains(text, "the FORWARD chains let them through") {
			t.Errorf("br_netfilter on, FORWARD accepting: %s %q", level, text)
		}
	default:
		if level != "ok" {
			t.Errorf("bridge-nf-call-iptables=%s: %s %q", brnf, level, text)
		}
	}
	// Unprivileged user namespaces, as nobody's unshare finds them.
	err := exec.Command("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "unshare", "-Urnm", "true").Run()
	if level, text := rep.finding(t, "userns"); (err == nil) != (level == "ok") {
		t.Errorf("userns: doctor says %s %q; nobody's unshare -Urnm: %v", level, text, err)
	}
	// resolv.conf: a loopback nameserver is a warning.
	conf, _ := os.ReadFile("/etc/resolv.conf")
	loop := false
	for _, m := range regexp.MustCompile(`(?m)^nameserver\s+(\S+)`).FindAllStringSubmatch(string(conf), -1) {
		if ip := net.ParseIP(m[1]); ip != nil && ip.IsLoopback() {
			loop = true
		}
	}
	if level, text := rep.finding(t, "resolv.conf"); (level == "warning") != loop {
		t.Errorf("resolv.conf with loopback nameserver %v: %s %q", loop, level, text)
	}
	// The sandbox's own state: no namespaces, no labs, ip_forward 0.
	for check, want := range map[string]string{"netns": "/run/netns holds no namespaces", "labs": "no labs",
		"ip_forward": "net.ipv4.ip_forward=0", "root": "running as root", "kernel.netns": "network namespaces can be made"} {
		if _, text := rep.finding(t, check); !strings.Contains(text, want) {
			t.Errorf("%s: %q, want %q", check, text, want)
		}
	}

	// The text form says the same, blockers first, and the summary.
	r = nsscript(t, t.TempDir(), "--sandbox", "doctor")
	if !strings.HasPrefix(r.stdout, "nsscript doctor: what on this machine changes how labs behave\n") ||
		!strings.HasSuffix(r.stdout, rep.Summary+"\n") {
		t.Errorf("text form:\n%s", r.stdout)
	}
	if n := len(regexp.MustCompile(`(?m)^(warning|BLOCKER)  the kernel has no `).FindAllString(r.stdout, -1)); n != len(missing) {
		t.Errorf("text form names %d missing features, want %d (%v):\n%s", n, len(missing), missing, r.stdout)
	}
	if r := nsscript(t, t.TempDir(), "doctor", "extra"); r.code != 2 || !strings.Contains(r.stderr, "takes no arguments") {
		t.Errorf("doctor extra: exit %d\n%s", r.code, r.stderr)
	}
}

// starString quotes s as a Starlark string.
func starString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// TestDoctorLeavesHostUnchanged runs doctor on the host itself, not in a
// sandbox: it only reads, and its probes happen in a namespace that goes
// with them. The host's links, rules, sysctls, mounts, nftables ruleset,
// legacy tables, modules, /run/netns and iptables' lock file are as
// before, and no temporary file is left.
func TestDoctorLeavesHostUnchanged(t *testing.T) {
	snapshot := func() string {
		var b strings.Builder
		b.WriteString(hostState())
		out, _ := exec.Command("nft", "list", "ruleset").CombinedOutput()
		b.WriteString("nft:\n" + regexp.MustCompile(`counter packets \d+ bytes \d+`).ReplaceAllString(string(out), "counter") + "\n")
		for _, f := range []string{"/proc/net/ip_tables_names", "/proc/net/ip6_tables_names", "/proc/modules"} {
			c, err := os.ReadFile(f)
			b.WriteString(f + ": " + string(c) + "\n")
			if err != nil {
				b.WriteString(f + " absent\n")
			}
		}
		mods, _ := os.ReadDir("/sys/module")
		for _, m := range mods {
			b.WriteString("module " + m.Name() + "\n")
		}
		bridge, _ := filepath.Glob("/proc/sys/net/bridge/*")
		for _, f := range bridge {
			c, _ := os.ReadFile(f)
			b.WriteString(f + " = " + string(c))
		}
		for _, f := range []string{"/run/xtables.lock", "/run/netns"} {
			_, err := os.Lstat(f)
			b.WriteString(f + " exists: " + boolString(err == nil) + "\n")
		}
		tmp, _ := filepath.Glob(filepath.Join(os.TempDir(), "nsscript-xtables-*"))
		b.WriteString("temporary lock dirs: " + strings.Join(tmp, " ") + "\n")
		return b.String()
	}
	before := snapshot()
	r := nsscript(t, t.TempDir(), "doctor", "--json")
	after := snapshot()
	if d := diffLines(before, after); d != "" {
		t.Errorf("nsscript doctor changed the host:\n%s", d)
	}
	rep := parseDoctor(t, r.stdout)
	if (r.code == 1) != (rep.Blockers > 0) || r.code > 1 {
		t.Errorf("exit %d with %d blockers\n%s", r.code, rep.Blockers, r.stderr)
	}
	// The kernel is the sandbox's: the same features.
	s := parseDoctor(t, nsscript(t, t.TempDir(), "--sandbox", "doctor", "--json").stdout)
	for k, v := range s.Features {
		if rep.Features[k] != v {
			t.Errorf("feature %s: %q on the host, %q in a sandbox", k, rep.Features[k], v)
		}
	}
}

func boolString(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// TestDoctorBridgedFramesDropped builds Docker's trap in a sandbox: a
// bridge with two namespaces, br_netfilter on and the FORWARD policy
// DROP. Real pings stop, doctor (run inside the sandbox) names the cause
// as a blocker, and each fix it gives brings the pings back: the
// firewall() rule it suggests (doctor then lists the bridge as let
// through), and the sysctl off (doctor then finds nothing blocking).
func TestDoctorBridgedFramesDropped(t *testing.T) {
	if _, err := os.Stat("/proc/sys/net/bridge/bridge-nf-call-iptables"); err != nil {
		t.Skip("br_netfilter is not loaded on this machine (and loading it would change the host): runtime/doctor's TestBrNetfilterForwardDrop covers the finding with injected readers")
	}
	out := mustRun(t, `
red, blue = namespace("red"), namespace("blue")
sw = bridge("br0")
veth("v-red", "v-red-br", ns = red, addr = "10.9.0.1/24", peer_master = sw)
veth("v-blue", "v-blue-br", ns = blue, addr = "10.9.0.2/24", peer_master = sw)

def doctor(step):
    r = exec(host, [args["bin"], "doctor", "--json"], check = False)
    print("=== %s %d" % (step, r.code))
    print(r.stdout)

assert.reachable(red, "10.9.0.2")
host.sysctl("net.bridge.bridge-nf-call-iptables", "1")   # what Docker relies on
exec(host, "iptables -P FORWARD DROP")                  # Docker's policy
assert.unreachable(red, "10.9.0.2")
doctor("dropped")
rule = firewall(host, "FORWARD", "-i br0 -o br0 -j ACCEPT")   # the fix doctor gives
assert.reachable(red, "10.9.0.2")
doctor("let-through")
rule.delete()
assert.unreachable(red, "10.9.0.2")
host.sysctl("net.bridge.bridge-nf-call-iptables", "0")   # the other fix
assert.reachable(red, "10.9.0.2")
doctor("sysctl-off")
`, "bin="+bin)
	steps := map[string]doctorReport{}
	codes := map[string]string{}
	for _, part := range strings.Split(out, "=== ")[1:] {
		head, body, _ := strings.Cut(part, "\n")
		name, code, _ := strings.Cut(head, " ")
		steps[name], codes[name] = parseDoctor(t, body), code
	}
	level, text := steps["dropped"].finding(t, "br_netfilter")
	if level != "blocker" || codes["dropped"] != "1" {
		t.Errorf("FORWARD DROP: exit %s, %s %q", codes["dropped"], level, text)
	}
	for _, want := range []string{"net.bridge.bridge-nf-call-iptables=1", "iptables (nft) FORWARD policy DROP", `firewall(host, "FORWARD", "-i BRIDGE -o BRIDGE -j ACCEPT")`, "sysctl -w net.bridge.bridge-nf-call-iptables=0", "--sandbox"} {
		if want == "iptables (nft) FORWARD policy DROP" && !strings.Contains(text, "(nft)") {
			want = "iptables (legacy) FORWARD policy DROP"
		}
		if !strings.Contains(text, want) {
			t.Errorf("the finding lacks %q:\n%s", want, text)
		}
	}
	if level, text := steps["let-through"].finding(t, "br_netfilter"); level != "blocker" || !strings.Contains(text, "let through by a rule: br0") {
		t.Errorf("with the rule: %s %q", level, text)
	}
	s := steps["sysctl-off"]
	// (IPv6's bridge-nf-call-ip6tables is still on: worth knowing.)
	if level, text := s.finding(t, "br_netfilter"); level == "blocker" || strings.Contains(text, "net.bridge.bridge-nf-call-iptables=1") {
		t.Errorf("bridge-nf-call-iptables=0: %s %q", level, text)
	}
	if (codes["sysctl-off"] == "0") != (s.Blockers == 0) {
		t.Errorf("sysctl off: exit %s with %d blockers", codes["sysctl-off"], s.Blockers)
	}
}
