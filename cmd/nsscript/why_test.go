package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// whyDir holds one script per cause why() names: each builds the fault on
// purpose, shows real packets failing, checks what why() says and the fix
// it suggests, applies that fix as written, and shows real packets
// passing and why() finding the way open.
const whyDir = "../../testdata/why"

func TestWhy(t *testing.T) { runScripts(t, whyDir, 15, "\nok: ") }

// whyCheck replaces assert in a tutorial: every assert.reachable that
// passes must find why() seeing the way open, and every
// assert.unreachable that passes must find it naming what stops the
// packets (or where it cannot see further). At the end, each namespace's
// own loopback is one more path, checked the same way against a ping.
const whyCheck = `
def _reachable(ns, dst, timeout = "1s"):
    assert.reachable(ns, dst, timeout = timeout)
    d = why(ns, dst)
    if not d and d.fault != None:
        fail("why(%s, %r) finds a fault where packets pass:\n%s" % (ns, dst, d))
    if d:
        print("why-check: healthy: %s" % d.path)

def _unreachable(ns, dst, timeout = "1s"):
    assert.unreachable(ns, dst, timeout = timeout)
    d = why(ns, dst)
    if d:
        fail("why(%s, %r) finds the way open where packets do not pass:\n%s" % (ns, dst, d))
    print("why-check: broken: %s" % (d.fault or d.unseen[0]))

def loopbacks():
    for ns in [host] + namespaces():
        d = why(ns, "127.0.0.1")
        if bool(ping(ns, "127.0.0.1")) != bool(d):
            fail("ping and why disagree about 127.0.0.1 in %s:\n%s" % (ns, d))
        if d:
            print("why-check: healthy: %s" % d.path)

check = struct(reachable = _reachable, unreachable = _unreachable, eq = assert.eq, ne = assert.ne,
               true = assert.true, false = assert.false, contains = assert.contains, fails = assert.fails,
               reachability = assert.reachability)
`

// TestWhyTutorials runs every tutorial with whyCheck as its assert: a
// healthy path of each (at least its loopback), and every reachability
// claim it proves with packets, agree with why().
func TestWhyTutorials(t *testing.T) {
	src, err := filepath.Abs("../../scripts/tutorial")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	files, err := filepath.Glob(filepath.Join(src, "*.star"))
	if err != nil || len(files) < 20 {
		t.Fatalf("found %d tutorials (%v)", len(files), err)
	}
	if err := os.CopyFS(filepath.Join(dir, "lib"), os.DirFS(filepath.Join(src, "lib"))); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "whycheck.star"), []byte(whyCheck), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(f)
		script := `load("whycheck.star", assert = "check", "loopbacks")` + "\n" + string(b) + "\nloopbacks()\n"
		if err := os.WriteFile(filepath.Join(dir, name), []byte(script), 0o644); err != nil {
			t.Fatal(err)
		}
		// One at a time, as TestScripts runs them: their servers answer
		// within timeouts a crowded machine may miss.
		t.Run(strings.TrimSuffix(name, ".star"), func(t *testing.T) {
			r := nsscript(t, dir, "--sandbox", name)
			if r.code != 0 {
				t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
			}
			if !strings.Contains(r.stdout, "why-check: healthy: ") {
				t.Fatalf("why() found no healthy path in %s\nstdout:\n%s", name, r.stdout)
			}
		})
	}
}

// TestWhyCommand: nsscript why on namespaces nsscript did not make (made
// with ip, in a sandbox), its exit codes, --proto and --json, and what
// it refuses before reading the kernel.
func TestWhyCommand(t *testing.T) {
	t.Parallel()
	out := mustRun(t, `
def ip(cmd):
    exec(host, "ip " + cmd)

for n in ["a", "r", "b"]:
    ip("netns add " + n)
ip("link add va type veth peer name ra netns r")
ip("link set va netns a")
ip("-n r link add rb type veth peer name vb netns b")
for ns, dev, addr in [("a", "va", "10.0.1.2/24"), ("r", "ra", "10.0.1.1/24"), ("r", "rb", "10.0.2.1/24"), ("b", "vb", "10.0.2.2/24")]:
    ip("-n %s addr add %s dev %s" % (ns, addr, dev))
    ip("-n %s link set %s up" % (ns, dev))
ip("-n a route add default via 10.0.1.1")
ip("-n b route add default via 10.0.2.1")

def why_cli(*words):
    # A nested nsscript, in this sandbox (not one of its own).
    return exec(host, [args["bin"], "why"] + list(words), env = {"NSSCRIPT_IN_SANDBOX": ""}, check = False)

r = why_cli("a", "10.0.2.2")
assert.eq(r.code, 1, r.stderr)
assert.contains(r, "path   a va → ra (r)\n")
assert.contains(r, "fault  r has ip_forward=0: packets from a are not routed\n")
assert.contains(r, "fix    forwarding(r)\n")
assert.contains(r, "       ip netns exec r sysctl -w net.ipv4.ip_forward=1\n")
assert.false(bool(ping(namespace(path = "/run/netns/a"), "10.0.2.2")))
exec(host, "ip netns exec r sysctl -w net.ipv4.ip_forward=1")

r = why_cli("a", "10.0.2.2")
assert.eq(r.code, 0, r.stdout + r.stderr)
assert.contains(r, "path   a va → ra (r, forwarding on) → rb → vb (b)\n")
assert.contains(r, "back   b vb → rb (r, forwarding on) → ra → va (a)\n")
assert.true(bool(ping(namespace(path = "/run/netns/a"), "10.0.2.2")))

r = why_cli("a", "10.0.2.2:22")
assert.eq(r.code, 1)
assert.contains(r, "fault  nothing listens on tcp 10.0.2.2:22 in b\n")

r = why_cli("--json", "a", "10.0.2.2:53", "--proto", "udp")
assert.eq(r.code, 1)
assert.contains(r, '"proto": "udp"')
assert.contains(r, '"fault": "nothing listens on udp 10.0.2.2:53 in b"')

r = why_cli("host", "10.0.2.2")
assert.eq(r.code, 1)
assert.contains(r, "fault  host has no route to 10.0.2.2: it has no address but on lo\n")

# A lab of this host's (the sandbox's): a -c program's, lab cmdline.
r = exec(host, [args["bin"], "-c", 'x = namespace("x")\nveth("vx", "vxh", ns = x, addr = "10.80.0.2/24", peer_addr = "10.80.0.1/24")'],
         env = {"NSSCRIPT_IN_SANDBOX": ""}, check = False)
assert.eq(r.code, 0, r.stderr)
r = why_cli("cmdline", "x", "10.80.0.1")
assert.eq(r.code, 0, r.stdout + r.stderr)
assert.contains(r, "path   x vx → vxh (host)\n")
r = why_cli("cmdline", "a", "10.80.0.1")
assert.eq(r.code, 2)
assert.contains(r.stderr, "lab cmdline has no namespace \"a\": there are host, x")

for words, want in [
    (["a"], "why what\\?"),
    (["a", "10.0.2"], "not an address"),
    (["a", "10.0.2.2", "--proto", "sctp"], "is not \"icmp\""),
    (["zz", "10.0.2.2"], "there is no namespace \"zz\": there are host, a, b, r"),
    (["../x", "10.0.2.2"], "namespace"),
    (["nolab", "a", "10.0.2.2"], "there is no lab \"nolab\" on this host, nor in a running sandbox"),
]:
    r = why_cli(*words)
    assert.eq(r.code, 2, "%s: %s" % (words, r.stderr))
    assert.fails(lambda: fail(r.stderr), want)
print("ok")
`, "bin="+bin)
	if !strings.Contains(out, "ok") {
		t.Fatalf("stdout = %q", out)
	}
}

// TestWhyUsage: nsscript why's usage errors need no root and no kernel.
func TestWhyUsage(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"why"}, `why what\? nsscript why \[LAB\] SRC DST\[:PORT\]`},
		{[]string{"why", "a", "b", "c", "d"}, `why what\?`},
		{[]string{"why", "a", "10.0.0.1", "--proto", "tcp"}, `needs a port`},
		{[]string{"why", "a", "10.0.0.1:0"}, `port "0" is not 1 to 65535`},
		{[]string{"why", "", "a", "10.0.0.1"}, `lab`},
	} {
		r := nsscript(t, ".", c.args...)
		if r.code != 2 || !regexp.MustCompile(c.want).MatchString(r.stderr) {
			t.Errorf("nsscript %s: exit %d, stderr %q; want 2 and %s", strings.Join(c.args, " "), r.code, r.stderr, c.want)
		}
	}
}

// TestWhySandboxLab: nsscript why LAB SRC DST from outside a lab that a
// --sandbox --keep run holds: the walk is in the sandbox's namespaces, its
// host is the sandbox's, and the fix it names works there.
func TestWhySandboxLab(t *testing.T) {
	t.Parallel()
	lab := fmt.Sprintf("why-sbx-%d", os.Getpid())
	h := startHeld(t, lab, `
red, blue = namespace("red"), namespace("blue")
veth("veth-red", "red-h", ns = red, addr = "10.70.1.2/24", peer_addr = "10.70.1.1/24")
veth("veth-blue", "blue-h", ns = blue, addr = "10.70.2.2/24", peer_addr = "10.70.2.1/24")
route(red, "default", via = "10.70.1.1")
route(blue, "default", via = "10.70.2.1")
print("built")
`, "--keep")
	r := nsscript(t, h.dir, "why", lab, "red", "10.70.2.2")
	wantCode(t, "why in the sandbox", r, 1,
		"path   red veth-red → red-h (host)\n",
		"fault  host has ip_forward=0: packets from red are not routed\n",
		"fix    forwarding()\n")
	wantCode(t, "the fix, in the sandbox's host", h.inside("sysctl", "-w", "net.ipv4.ip_forward=1"), 0)
	r = nsscript(t, h.dir, "why", fmt.Sprintf("%s@%d", lab, h.pid), "red", "10.70.2.2")
	wantCode(t, "why after the fix", r, 0,
		"path   red veth-red → red-h (host, forwarding on) → blue-h → veth-blue (blue)\n",
		"back   blue veth-blue → blue-h (host, forwarding on) → red-h → veth-red (red)\n")
	wantCode(t, "why from the sandbox's host", nsscript(t, h.dir, "why", lab, "host", "10.70.2.2"), 0, "path   host blue-h → veth-blue (blue)\n")
	wantCode(t, "a namespace the lab has not", nsscript(t, h.dir, "why", lab, "green", "10.70.2.2"), 2,
		`lab `+lab+` has no namespace "green": there are host, blue, red`)
	wantCode(t, "down", nsscript(t, h.dir, "down", lab), 0)
	h.wait("down")
}
