package main

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
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

// ipv6Labs runs script in a sandbox, with the files (name: source) in
// args["dir"] and the helpers of the nested runs below: lab_run runs
// nsscript as a lab (not sandboxed again) and requires it to succeed,
// nsscript is lab_run of lab l, and v6 lists every disable_ipv6 of a
// namespace ("/proc/sys/net/ipv6/conf/DEV/disable_ipv6:VALUE" lines).
func ipv6Labs(t *testing.T, files map[string]string, script string) {
	t.Helper()
	dir := t.TempDir()
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mustRun(t, `
def lab_run(lab, *words):
    r = exec(host, [args["bin"], "--lab", lab] + list(words), env = {"NSSCRIPT_IN_SANDBOX": ""}, check = False)
    assert.eq(r.code, 0, r.stderr)

def nsscript(*words):
    lab_run("l", *words)

def v6(ns):
    return exec(host, ["ip", "netns", "exec", ns, "grep", "-r", "", "/proc/sys/net/ipv6/conf", "--include", "disable_ipv6"]).stdout
`+script, "bin="+bin, "dir="+dir)
}

// TestNamespaceIPv6Rerun: re-runs of one lab that ask for a namespace
// with IPv6, then without, then with again, in any order, leave it as a
// run from nothing would: what one run switches, a later run neither
// undoes nor leaves half done (a device of a namespace without IPv6
// given its IPv6 back by the undo of what an earlier run set on it).
func TestNamespaceIPv6Rerun(t *testing.T) {
	t.Parallel()
	ipv6Labs(t, map[string]string{"h.star": `h = namespace("h", ipv6 = args["v6"] == "1")
sw = bridge("sw", ns = h)
veth("p.1", "e1", ns = h, master = sw)
a, b = veth("a", "b", ns = h, peer_ns = h)
if args.get("b") == "1":
    h.sysctl("net.ipv6.conf.b.disable_ipv6", "1")
if args.get("stop") == "1":
    print("STOPPED")
    sleep(3600)  # the test kills it here
`}, `
def state():
    """Every disable_ipv6 of h; and whether a device without IPv6 has
    an IPv6 address (when the bridge gets one is a matter of timing)."""
    off = [l.split("/")[-2] for l in v6("h").split("\n") if l.endswith(":1")]
    devs = [l.split()[1] for l in exec(host, "ip -n h -6 -o addr").stdout.strip().split("\n") if l]
    return v6("h"), [d for d in devs if d in off]

def run(*runs):
    for r in runs:
        nsscript(args["dir"] + "/h.star", *r.split())
    s = state()
    nsscript("down", "l")
    return s

fresh = {v: run("v6=" + v) for v in ["0", "1"]}
assert.true(":0" not in fresh["0"][0] and ":1" in fresh["1"][0], fresh)
for runs in [["v6=0", "v6=1"], ["v6=0", "v6=1", "v6=1"], ["v6=0", "v6=1", "v6=0"], ["v6=1", "v6=0", "v6=0"], ["v6=1", "v6=0", "v6=1", "v6=1"]]:
    assert.eq(run(*runs), fresh[runs[-1][-1]], runs)

# A device the script took IPv6 off, then the namespace without IPv6 and
# that line gone: the device stays without.
assert.eq(run("v6=1 b=1", "v6=0"), fresh["0"])

# A run killed after it switched: the next run, which asks the same,
# leaves it so (the killed run's record of the switch was for its
# rollback only).
def killed(v6):
    p = exec(host, [args["bin"], "--lab", "l", args["dir"] + "/h.star", "v6=" + v6, "stop=1"], env = {"NSSCRIPT_IN_SANDBOX": ""}, background = True)
    for _ in range(3000):
        if "STOPPED" in p.stdout or not p.running:
            break
        sleep("20ms")
    assert.true(p.running, p.stderr)
    exec(host, ["kill", "-9", str(p.pid)])
    p.wait(timeout = "10s")

for first, then in [("0", "1"), ("1", "0")]:
    nsscript(args["dir"] + "/h.star", "v6=" + first)
    killed(then)
    assert.eq(run("v6=" + then), fresh[then], "killed")

# plan --diff sees what a run would switch.
def diff(v6):
    r = exec(host, [args["bin"], "plan", "--diff", "l", args["dir"] + "/h.star", "v6=" + v6], env = {"NSSCRIPT_IN_SANDBOX": ""})
    return [l for l in r.stdout.split("\n") if l and not l.startswith("#")]

nsscript(args["dir"] + "/h.star", "v6=0")
assert.eq(diff("0"), [])
assert.eq(diff("1"), ["- sysctl h net.ipv6.conf.all.disable_ipv6=1", "- sysctl h net.ipv6.conf.default.disable_ipv6=1"])
nsscript(args["dir"] + "/h.star", "v6=1")
assert.eq(diff("1"), [])
assert.eq(diff("0"), ["+ sysctl h net.ipv6.conf.all.disable_ipv6=1", "+ sysctl h net.ipv6.conf.default.disable_ipv6=1"])
nsscript("down", "l")
`)
}

// TestNamespaceIPv6PlanTrace: a namespace given its IPv6 back keeps its
// bridge ports without; the plan shows the same sysctls as the trace of
// a real run (a port's name with a dot is written as sysctl(8) takes it).
func TestNamespaceIPv6PlanTrace(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	src := `h = namespace("h", ipv6 = False)
sw = bridge("sw", ns = h)
veth("p.1", "e1", ns = h, master = sw)
namespace("h", ipv6 = True)
assert.eq(h.sysctl("net.ipv6.conf.p/1.disable_ipv6"), "1")
assert.eq(h.sysctl("net.ipv6.conf.all.disable_ipv6"), "0")
`
	if err := os.WriteFile(filepath.Join(dir, "p.star"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	sysctls := func(out string) []string {
		var l []string
		for _, line := range strings.Split(out, "\n") {
			if strings.Contains(line, "sysctl -w") {
				l = append(l, line)
			}
		}
		return l
	}
	plan := nsscript(t, dir, "plan", "p.star")
	run := nsscript(t, dir, "--sandbox", "--trace", "p.star")
	if plan.code != 0 || run.code != 0 {
		t.Fatalf("plan exited %d, run %d:\n%s%s\n%s", plan.code, run.code, plan.stdout, plan.stderr, run.stderr)
	}
	want := []string{
		"ip netns exec h sysctl -w net.ipv6.conf.all.disable_ipv6=1",
		"ip netns exec h sysctl -w net.ipv6.conf.p/1.disable_ipv6=1",
		"ip netns exec h sysctl -w net.ipv6.conf.all.disable_ipv6=0",
		"ip netns exec h sysctl -w net.ipv6.conf.p/1.disable_ipv6=1",
	}
	if got := sysctls(plan.stdout); !slices.Equal(got, want) {
		t.Errorf("plan's sysctls:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if got := sysctls(run.stderr); !slices.Equal(got, want) {
		t.Errorf("trace's sysctls:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestNamespaceIPv6OtherLab: lab b adopts lab a's namespace with
// ipv6=False; a re-run of a, which asks for IPv6 there, leaves it
// without while b uses it, and b's down gives it back.
func TestNamespaceIPv6OtherLab(t *testing.T) {
	t.Parallel()
	ipv6Labs(t, map[string]string{
		"a.star": "x = namespace(\"x\")\nveth(\"a1\", \"a2\", ns = x, peer_ns = x)\n",
		"b.star": "x = namespace(\"x\", ipv6 = False)\nveth(\"b1\", \"b2\", ns = x, peer_ns = x)\n",
	}, `
def on():
    """The devices of x with IPv6."""
    return [l.split("/")[-2] for l in v6("x").split("\n") if l.endswith(":0")]

lab_run("a", args["dir"] + "/a.star")
lab_run("b", args["dir"] + "/b.star")
assert.eq(on(), [])
lab_run("a", args["dir"] + "/a.star")
assert.eq(on(), [])
lab_run("b", "down", "b")
assert.eq(on(), ["a1", "a2", "all", "default", "lo"])
lab_run("a", "down", "a")
`)
}

// TestNamespaceIPv6Adopted: ipv6=False on namespaces the user made, whose
// IPv6 settings are not the kernel's defaults. .all=1 sets .default and
// every device's too, whatever .all was: the run turns IPv6 off on every
// device even where .all was 1 already, and down puts back each of them
// as it was, not only .all.
func TestNamespaceIPv6Adopted(t *testing.T) {
	t.Parallel()
	ipv6Labs(t, map[string]string{"off.star": `namespace("u", ipv6 = False)
namespace("w", ipv6 = False)
`}, `
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
`)
}

// TestForwardingIPv6Adopted: forwarding(ns, family="ipv6") in a namespace
// the lab did not make sets every device's forwarding, as the kernel
// does for .all; down puts back each device's (and .default's) as it was,
// not only .all (a device that forwarded alone forwards again).
func TestForwardingIPv6Adopted(t *testing.T) {
	t.Parallel()
	ipv6Labs(t, map[string]string{"fwd.star": `forwarding(namespace("r"), family = "ipv6")
forwarding(namespace("r"), family = "ipv4")
`}, `
def fwd(ns):
    return exec(host, ["ip", "netns", "exec", ns, "grep", "-r", "", "/proc/sys/net/ipv6/conf", "/proc/sys/net/ipv4/conf", "--include", "forwarding"]).stdout

exec(host, "ip netns add r")
exec(host, "ip -n r link add r1 type veth peer name r2")
# r1 forwards alone; .all does not.
exec(host, "ip netns exec r sysctl -qw net.ipv6.conf.r1.forwarding=1 net.ipv4.conf.r1.forwarding=1")
before = fwd("r")
assert.true("/ipv6/conf/r1/forwarding:1" in before and "/ipv6/conf/all/forwarding:0" in before, before)

nsscript(args["dir"] + "/fwd.star")
assert.true(":0" not in fwd("r"), fwd("r"))

nsscript("down", "l")
assert.eq(fwd("r"), before)
`)
}
