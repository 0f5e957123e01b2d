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
