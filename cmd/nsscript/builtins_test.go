package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// builtinsDir holds one self-checking script per builtin or value: each
// builds real objects in its sandbox, compares them with what ip, /proc
// and real packets say, using assert, and so passes only by exiting 0.
const builtinsDir = "../../testdata/builtins"

func TestBuiltins(t *testing.T) { runScripts(t, builtinsDir, 1, "") }

// runScripts runs every script of dir (at least min of them) under
// --sandbox, in parallel, each a subtest that passes when the script
// exits 0 and prints want (when not ""). Files named lib.star are loaded
// by the others, not run.
func runScripts(t *testing.T, dir string, min int, want string) {
	files, err := filepath.Glob(filepath.Join(dir, "*.star"))
	if err != nil || len(files) < min {
		t.Fatalf("found %d scripts in %s (%v), want at least %d", len(files), dir, err, min)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".star")
		if name == "lib" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := nsscript(t, dir, "--sandbox", filepath.Base(f))
			if r.code != 0 || !strings.Contains(r.stdout, want) {
				t.Fatalf("%s exited %d\nstdout:\n%s\nstderr:\n%s", f, r.code, r.stdout, r.stderr)
			}
		})
	}
}

// TestBuiltinsRerun runs one topology script twice in the same sandbox, as
// a user re-runs it (a nested nsscript, not sandboxed again), and requires
// the second run to succeed and leave the kernel exactly as the first did.
func TestBuiltinsRerun(t *testing.T) {
	t.Parallel()
	topo, err := filepath.Abs(filepath.Join(builtinsDir, "rerun", "topo.star"))
	if err != nil {
		t.Fatal(err)
	}
	out := mustRun(t, `
def run():
    # The nested run must act on this sandbox, not set up another.
    r = exec(host, [args["bin"], args["topo"]], env = {"NSSCRIPT_IN_SANDBOX": ""}, check = False)
    assert.eq(r.code, 0, "nsscript topo.star: " + r.stderr)
    return r.stdout

def stable(text):
    for word in [" state UP", " state DOWN", " state UNKNOWN", " state LOWERLAYERDOWN", "NO-CARRIER,", ",LOWER_UP"]:
        text = text.replace(word, "")
    lines = []
    for line in text.split("\n"):
        words = line.split()
        # Bridge timers tick on their own: drop "hello_timer 1.99".
        lines.append(" ".join([w for i, w in enumerate(words)
                               if not w.endswith("_timer") and not (i > 0 and words[i - 1].endswith("_timer"))]))
    return "\n".join(lines)

def state():
    out = []
    for ns in [host] + namespaces():
        for cmd in ["ip -o link show", "ip -o -d link show type bridge", "ip -o -4 addr show",
                    "ip -4 route show table all", "cat /proc/sys/net/ipv4/ip_forward"]:
            out.append("%s $ %s\n%s" % (ns.name, cmd, stable(exec(ns, cmd).stdout)))
    return out

first = run()
s1 = state()
second = run()
s2 = state()
assert.eq(first, second)
assert.eq(len(s1), len(s2))
for a, b in zip(s1, s2):
    assert.eq(a, b)
assert.eq(sorted([n.name for n in namespaces()]), ["blue", "red"])
assert.eq(len(link("v-net-0").addrs), 1)
print(second)
`, "bin="+bin, "topo="+topo)
	if !strings.Contains(out, `built ["blue", "red"]`) {
		t.Fatalf("stdout = %q", out)
	}
}

// TestScale200 builds 200 namespaces on one bridge, each with a veth port,
// an address and a default route, and pings end to end.
func TestScale200(t *testing.T) {
	t.Parallel()
	r := nsscript(t, "../../testdata/scale", "--sandbox", "hosts200.star")
	if r.code != 0 || !strings.Contains(r.stdout, "pinged 200") {
		t.Fatalf("hosts200.star exited %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
}

// TestBridgePortLimit fills a bridge to the kernel's limit: 1023 ports
// attach (1024 port numbers, 0 reserved) and the 1024th is a clear error
// naming that limit, with the veth it created removed again (the script
// checks that with ip). The script ends with the failing call uncaught, so
// the report a user sees is checked here too.
func TestBridgePortLimit(t *testing.T) {
	t.Parallel()
	const dir, file = "../../testdata/scale", "bridge_ports.star"
	src, err := os.ReadFile(filepath.Join(dir, file))
	if err != nil {
		t.Fatal(err)
	}
	line := 0
	for i, l := range strings.Split(string(src), "\n") {
		if strings.HasPrefix(l, `veth("p1024"`) {
			line = i + 1
		}
	}
	r := nsscript(t, dir, "--sandbox", file)
	if r.code != 1 || !strings.Contains(r.stdout, "checked") {
		t.Fatalf("%s exited %d (want 1, after its checks printed \"checked\")\nstdout:\n%s\nstderr:\n%s", file, r.code, r.stdout, r.stderr)
	}
	want := regexp.MustCompile(`^` + regexp.QuoteMeta(file) + `:` + strconv.Itoa(line) + `:\d+: veth: cannot add "p1024" to bridge "br0": the bridge is full; .*1024 port numbers.*at most 1023 ports`)
	if !want.MatchString(r.stderr) {
		t.Fatalf("stderr does not match %s:\n%s", want, r.stderr)
	}
}

// TestNamespaceIPv6Down: namespace(name, ipv6=) across runs and down, with
// nested runs of one lab in one sandbox. A namespace the lab did not make
// gets its IPv6 back from down; a re-run that drops ipv6=False gives the
// lab's own namespace its IPv6 back, as a run from nothing would (bridge
// ports made by the lab stay without).
func TestNamespaceIPv6Down(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for name, src := range map[string]string{
		"off.star": `other = namespace("other", ipv6 = False)
h = namespace("h", ipv6 = False)
sw = bridge("sw", ns = h)
veth("p1", "e1", ns = h, peer_ns = other, master = sw)
`,
		"on.star": `other = namespace("other")
h = namespace("h")
sw = bridge("sw", ns = h)
veth("p1", "e1", ns = h, peer_ns = other, master = sw)
`,
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mustRun(t, `
def nsscript(*words):
    r = exec(host, [args["bin"], "--lab", "l"] + list(words), env = {"NSSCRIPT_IN_SANDBOX": ""}, check = False)
    assert.eq(r.code, 0, r.stderr)

# (By name, with ip: this outer script must not adopt the lab's namespaces.)
def v6(ns, dev = "all"):
    return exec(host, "ip netns exec %s cat /proc/sys/net/ipv6/conf/%s/disable_ipv6" % (ns, dev)).stdout.strip()

other, h = "other", "h"
exec(host, "ip netns add other")
nsscript(args["dir"] + "/off.star")
assert.eq([v6(other), v6(other, "e1"), v6(h), v6(h, "lo"), v6(h, "sw"), v6(h, "p1")], ["1", "1", "1", "1", "1", "1"])
# A re-run without ipv6=False: IPv6 back in h (the lab's), but not on
# its bridge port; and in other, whose change the run no longer asks for
# (the lab puts back what it changed in a namespace it did not make).
nsscript(args["dir"] + "/on.star")
assert.eq([v6(h), v6(h, "lo"), v6(h, "sw"), v6(h, "p1")], ["0", "0", "0", "1"])
assert.true("inet6 ::1" in exec(host, "ip -n h -6 addr show dev lo").stdout)
assert.eq(v6(other), "0")
# Off again, then down: other, the user's, is as it was before the lab.
nsscript(args["dir"] + "/off.star")
assert.eq(v6(other), "1")
nsscript("down", "l")
assert.eq(exec(host, "ip netns list").stdout.strip(), "other")
assert.eq([v6(other), v6(other, "default"), v6(other, "lo")], ["0", "0", "0"])
`, "bin="+bin, "dir="+dir)
}

// TestNamespaceIPv6Adopted: ipv6=False on namespaces the user made, whose
// IPv6 settings are not the kernel's defaults. .all=1 sets .default and
// every device's too, whatever .all was: the run turns IPv6 off on every
// device even where .all was 1 already, and down puts back each of them
// as it was, not only .all.
func TestNamespaceIPv6Adopted(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "off.star"), []byte(`namespace("u", ipv6 = False)
namespace("w", ipv6 = False)
`), 0o644); err != nil {
		t.Fatal(err)
	}
	mustRun(t, `
def nsscript(*words):
    r = exec(host, [args["bin"], "--lab", "l"] + list(words), env = {"NSSCRIPT_IN_SANDBOX": ""}, check = False)
    assert.eq(r.code, 0, r.stderr)

def v6(ns):
    """Every disable_ipv6 of ns, by the directory it is in."""
    return exec(host, ["ip", "netns", "exec", ns, "grep", "-r", "", "/proc/sys/net/ipv6/conf", "--include", "disable_ipv6"]).stdout

# u: new devices without IPv6 (.default), and u1 without; .all is 0.
exec(host, "ip netns add u")
exec(host, "ip -n u link add u1 type veth peer name u2")
exec(host, "ip netns exec u sysctl -qw net.ipv6.conf.default.disable_ipv6=1 net.ipv6.conf.u1.disable_ipv6=1")
# w: .all is 1, but lo and new devices have IPv6.
exec(host, "ip netns add w")
exec(host, "ip netns exec w sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=0 net.ipv6.conf.lo.disable_ipv6=0")
exec(host, "ip -n w link set lo up")
before = {ns: v6(ns) for ns in ["u", "w"]}
assert.true("inet6 ::1" in exec(host, "ip -n w -6 addr show dev lo").stdout)

nsscript(args["dir"] + "/off.star")
for ns in ["u", "w"]:
    assert.true(":0" not in v6(ns), v6(ns))
assert.eq(exec(host, "ip -n w -6 addr show dev lo").stdout, "")

nsscript("down", "l")
assert.eq({ns: v6(ns) for ns in ["u", "w"]}, before)
`, "bin="+bin, "dir="+dir)
}
