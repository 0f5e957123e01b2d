package main

// End-to-end tests of the command line through the built binary: exit
// codes, arguments and flags, scripts on stdin, error reports, load(),
// --sandbox hermeticity and interrupts. Every script that touches the
// kernel runs under --sandbox.

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// cliFiles writes files (relative path -> content) under a fresh
// directory and returns it.
func cliFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, src := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// cliFirstLine is the first line of s.
func cliFirstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

// cliWantCode fails the test unless r exited with code.
func cliWantCode(t *testing.T, r result, code int) {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, code, r.stdout, r.stderr)
	}
}

// cliWantReport checks an error report on stderr: its first line starts
// with prefix (FILE:LINE:COL: builtin: ) and contains msg, and a Starlark
// backtrace follows it.
func cliWantReport(t *testing.T, stderr, prefix, msg string) {
	t.Helper()
	first := cliFirstLine(stderr)
	if !strings.HasPrefix(first, prefix) || !strings.Contains(first, msg) {
		t.Errorf("first stderr line = %q\nwant it to start with %q and contain %q\nstderr:\n%s", first, prefix, msg, stderr)
	}
	lines := strings.Split(stderr, "\n")
	if len(lines) < 3 || lines[1] != "Traceback (most recent call last):" {
		t.Errorf("no Starlark backtrace after the first line:\n%s", stderr)
	}
}

func TestCLIExitCodes(t *testing.T) {
	dir := cliFiles(t, map[string]string{
		"ok.star":     "print('fine')\n",
		"fail.star":   "x = 1\nfail('on purpose')\n",
		"syntax.star": "x = (\n",
		"sub/.keep":   "",
	})
	usageText := "usage:\n  nsscript [flags] FILE.star [key=value ...]"
	for _, c := range []struct {
		name   string
		args   []string
		code   int
		stdout string // contained in stdout
		stderr string // contained in stderr
	}{
		{"success", []string{"--sandbox", "ok.star"}, 0, "fine\n", ""},
		{"success via run", []string{"--sandbox", "run", "ok.star"}, 0, "fine\n", ""},
		{"script error", []string{"--sandbox", "fail.star"}, 1, "", "fail.star:2:5: fail: on purpose"},
		{"syntax error", []string{"--sandbox", "syntax.star"}, 1, "", "syntax.star:2:1: "},
		{"unknown flag", []string{"--bogus", "ok.star"}, 2, "", "unknown flag --bogus"},
		{"unknown flag after the file", []string{"ok.star", "--bogus"}, 2, "", "unknown flag --bogus"},
		{"flag without its value", []string{"ok.star", "--lab"}, 2, "", "flag --lab needs a value"},
		{"missing script file", []string{"no-such.star"}, 2, "", "no-such.star"},
		{"missing script file in a sandbox", []string{"--sandbox", "no-such.star"}, 2, "", "no-such.star"},
		{"missing script file via run", []string{"run", "no-such.star"}, 2, "", "no-such.star"},
		{"a directory is no script", []string{"sub"}, 2, "", "sub is a directory"},
		{"argument not key=value", []string{"--sandbox", "ok.star", "hosts"}, 2, "", `argument "hosts" is not key=value`},
		{"argument with empty key", []string{"ok.star", "=3"}, 2, "", `argument "=3" is not key=value`},
		{"run without a file", []string{"run"}, 2, "", "nsscript run: which script?"},
		{"run without a file in a sandbox", []string{"--sandbox", "run"}, 2, "", "nsscript run: which script?"},
		{"--help", []string{"--help"}, 0, usageText, ""},
		{"-h", []string{"-h"}, 0, usageText, ""},
		{"--help wins over the rest", []string{"ok.star", "--help"}, 0, usageText, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := nsscript(t, dir, c.args...)
			cliWantCode(t, r, c.code)
			if !strings.Contains(r.stdout, c.stdout) {
				t.Errorf("stdout = %q, want it to contain %q", r.stdout, c.stdout)
			}
			if !strings.Contains(r.stderr, c.stderr) {
				t.Errorf("stderr = %q, want it to contain %q", r.stderr, c.stderr)
			}
			if c.code == 2 && c.stdout == "" && r.stdout != "" {
				t.Errorf("a usage error wrote to stdout: %q", r.stdout)
			}
			if c.code == 0 && r.stderr != "" {
				t.Errorf("a successful run wrote to stderr: %q", r.stderr)
			}
		})
	}
}

// labScript prints the script's args and the labs that have a directory
// under /run/nsscript (a background process makes its lab's log
// directory there).
const labScript = `
p = exec(host, "true", background = True)
p.wait()
print("labs", exec(host, ["ls", "/run/nsscript"]).stdout.split())
print("args", sorted(args.items()))
assert.eq(type(args), "dict")
for k, v in args.items():
    assert.eq(type(v), "string")
`

func TestCLIArgsAndFlags(t *testing.T) {
	dir := cliFiles(t, map[string]string{"topo.star": labScript})
	for _, c := range []struct {
		name  string
		args  []string
		labs  string
		args2 string
	}{
		{"file and args", []string{"--sandbox", "topo.star", "hosts=10", "name=red blue", "expr=a=b", "empty="},
			`["topo"]`, `[("empty", ""), ("expr", "a=b"), ("hosts", "10"), ("name", "red blue")]`},
		{"run subcommand", []string{"--sandbox", "run", "topo.star", "hosts=3"},
			`["topo"]`, `[("hosts", "3")]`},
		{"no args", []string{"--sandbox", "topo.star"}, `["topo"]`, `[]`},
		{"--lab before the file", []string{"--lab", "mylab", "--sandbox", "topo.star", "k=v"},
			`["mylab"]`, `[("k", "v")]`},
		{"--lab= form", []string{"--sandbox", "--lab=other", "run", "topo.star"},
			`["other"]`, `[]`},
		{"flags after the file", []string{"topo.star", "k=v", "--sandbox", "--lab", "late"},
			`["late"]`, `[("k", "v")]`},
		{"flags between run and the file", []string{"run", "--sandbox", "topo.star", "--lab", "mid", "x=1"},
			`["mid"]`, `[("x", "1")]`},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := nsscript(t, dir, c.args...)
			cliWantCode(t, r, 0)
			want := "labs " + c.labs + "\nargs " + c.args2 + "\n"
			if r.stdout != want {
				t.Errorf("stdout = %q\nwant %q", r.stdout, want)
			}
		})
	}
}

// cliStdin runs nsscript with stdin from a pipe holding src.
func cliStdin(t *testing.T, dir, src string, args ...string) result {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Stdin = strings.NewReader(src)
	return runBin(t, cmd)
}

func TestCLIStdinScript(t *testing.T) {
	dir := cliFiles(t, map[string]string{"lib.star": "answer = 42\n"})
	t.Run("print", func(t *testing.T) {
		r := cliStdin(t, dir, "print(1)\n", "--sandbox")
		cliWantCode(t, r, 0)
		if r.stdout != "1\n" {
			t.Fatalf("stdout = %q, want %q", r.stdout, "1\n")
		}
	})
	t.Run("kernel and load relative to the cwd", func(t *testing.T) {
		r := cliStdin(t, dir, `
load("lib.star", "answer")
br = bridge("stdinbr0")
print(answer, br.name, br.up)
p = exec(host, "true", background = True)
p.wait()
print(exec(host, ["ls", "/run/nsscript"]).stdout.strip())
`, "--sandbox")
		cliWantCode(t, r, 0)
		if want := "42 stdinbr0 True\nstdin\n"; r.stdout != want {
			t.Fatalf("stdout = %q, want %q", r.stdout, want)
		}
	})
	t.Run("error", func(t *testing.T) {
		r := cliStdin(t, dir, "x = 1\nsleep('a while')\n", "--sandbox")
		cliWantCode(t, r, 1)
		cliWantReport(t, r.stderr, "<stdin>:2:6: sleep: ", `"a while" is not a duration`)
	})
}

func TestCLIErrorFormat(t *testing.T) {
	t.Run("builtin argument", func(t *testing.T) {
		// seed 000's veth-webserver-h is 16 bytes, one too many.
		r := sandboxed(t, "topo.star", `
def wire(name):
    return veth(name, "x0")

wire("veth-webserver-h")
`)
		cliWantCode(t, r, 1)
		cliWantReport(t, r.stderr, "topo.star:3:16: veth: ", `"veth-webserver-h" is 16 bytes, 1 too many`)
		for _, frame := range []string{"  topo.star:5:5: in <toplevel>", "  topo.star:3:16: in wire"} {
			if !strings.Contains(r.stderr, "\n"+frame+"\n") {
				t.Errorf("backtrace lacks %q:\n%s", frame, r.stderr)
			}
		}
	})
	t.Run("syntax", func(t *testing.T) {
		r := sandboxed(t, "topo.star", "x = 1\ny = x +* 2\n")
		cliWantCode(t, r, 1)
		if first := cliFirstLine(r.stderr); !strings.HasPrefix(first, "topo.star:2:8: ") {
			t.Errorf("first stderr line = %q, want topo.star:2:8: ...", first)
		}
	})
	t.Run("in a loaded file", func(t *testing.T) {
		dir := cliFiles(t, map[string]string{
			"main.star":    "load(\"lib/net.star\", \"mk\")\n\nmk(\"ok0\")\nmk(\"bad/name\")\n",
			"lib/net.star": "load(\"../util.star\", \"pfx\")\n\ndef mk(n):\n    return bridge(pfx + n)\n",
			"util.star":    "pfx = \"b-\"\n",
		})
		r := nsscript(t, dir, "--sandbox", "main.star")
		cliWantCode(t, r, 1)
		cliWantReport(t, r.stderr, "lib/net.star:4:18: bridge: ", "b-bad/name")
		if !strings.Contains(r.stderr, "  main.star:4:3: in <toplevel>\n  lib/net.star:4:18: in mk\n") {
			t.Errorf("backtrace does not run from main.star into lib/net.star:\n%s", r.stderr)
		}
	})
}

func TestCLILoad(t *testing.T) {
	base := t.TempDir()
	files := map[string]string{
		"outside.star":           "secret = 1\n",
		"proj/main.star":         "load(\"a/b.star\", \"b\")\nprint(\"b =\", b)\n",
		"proj/a/b.star":          "load(\"../c.star\", \"c\")\nb = c * 2\n",
		"proj/c.star":            "c = 21\n",
		"proj/escape.star":       "load(\"../outside.star\", \"secret\")\n",
		"proj/link.star":         "load(\"evil.star\", \"secret\")\n",
		"proj/cycle.star":        "load(\"x.star\", \"x\")\n",
		"proj/x.star":            "load(\"y.star\", \"y\")\nx = 1\n",
		"proj/y.star":            "load(\"x.star\", \"x\")\ny = 1\n",
		"proj/missing.star":      "load(\"nope.star\", \"n\")\n",
		"proj/missing_sym.star":  "load(\"c.star\", \"d\")\n",
		"proj/loaded_error.star": "load(\"a/err.star\", \"e\")\n",
		"proj/a/err.star":        "e = 1\n\ne = e + None\n",
	}
	for name, src := range files {
		p := filepath.Join(base, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("../outside.star", filepath.Join(base, "proj", "evil.star")); err != nil {
		t.Fatal(err)
	}
	proj := filepath.Join(base, "proj")
	real, _ := filepath.EvalSymlinks(proj)
	for _, c := range []struct {
		name, script string
		code         int
		prefix, msg  string
	}{
		{"nested ../ inside the tree", "main.star", 0, "", ""},
		{"outside the tree", "escape.star", 1, "escape.star:1:1: load: ", `"../outside.star" is outside the main script's directory ` + real},
		{"symlink pointing outside", "link.star", 1, "link.star:1:1: load: ", `"evil.star" is outside the main script's directory ` + real},
		{"cycle", "cycle.star", 1, "y.star:1:1: load: cycle: ", "cycle.star -> x.star -> y.star -> x.star"},
		{"missing file", "missing.star", 1, "missing.star:1:1: load: ", "nope.star: no such file"},
		{"missing symbol", "missing_sym.star", 1, "missing_sym.star:1:1: load: ", "name d not found in module c.star"},
		{"error inside a loaded file", "loaded_error.star", 1, "a/err.star:3:7: ", "unknown binary op: int + NoneType"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := nsscript(t, proj, "--sandbox", c.script)
			cliWantCode(t, r, c.code)
			if c.code == 0 {
				if r.stdout != "b = 42\n" {
					t.Errorf("stdout = %q", r.stdout)
				}
				return
			}
			cliWantReport(t, r.stderr, c.prefix, c.msg)
		})
	}
}

// cliSignal runs a script that prints "start" and sleeps 30s, sends sig
// once it has started and returns what the run gave. It fails the test if
// nsscript has not exited 20s after the signal.
func cliSignal(t *testing.T, sig syscall.Signal, extra ...string) result {
	t.Helper()
	dir := cliFiles(t, map[string]string{"nap.star": "print(\"start\")\n\nsleep(\"30s\")\nprint(\"after\")\n"})
	cmd := exec.Command(bin, append(extra, "nap.star")...)
	cmd.Dir = dir
	var errb bytes.Buffer
	cmd.Stderr = &errb
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	var out bytes.Buffer
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		br := bufio.NewReader(pipe)
		line, _ := br.ReadString('\n')
		out.WriteString(line)
		if line == "start\n" {
			close(started)
		}
		io.Copy(&out, br)
	}()
	exited := make(chan error, 1)
	go func() {
		<-copied
		exited <- cmd.Wait()
	}()
	select {
	case <-started:
	case <-copied:
		<-exited
		t.Fatalf("the script ended before it was signalled\nstdout:\n%s\nstderr:\n%s", out.String(), errb.String())
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatal("the script did not start within 20s")
	}
	if err := cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case err = <-exited:
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		<-exited
		t.Fatalf("nsscript was still running 20s after %v", sig)
	}
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{code, out.String(), errb.String()}
}

func TestCLISignal(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		for _, mode := range []string{"sandbox", "plain"} {
			t.Run(fmt.Sprintf("%v/%s", sig, mode), func(t *testing.T) {
				var extra []string
				if mode == "sandbox" {
					extra = []string{"--sandbox"}
				}
				// Without --sandbox the script only sleeps: it reads the
				// host namespace and changes nothing.
				r := cliSignal(t, sig, extra...)
				cliWantCode(t, r, 1)
				if r.stdout != "start\n" {
					t.Errorf("stdout = %q: the script went on after the signal", r.stdout)
				}
				// Usually the signal ends sleep() ("nap.star:3:6: sleep:
				// interrupted"); if it comes while print() still runs,
				// Starlark stops at the next step, at that position.
				cliWantReport(t, r.stderr, "nap.star:", "interrupted")
				if first := cliFirstLine(r.stderr); !strings.HasPrefix(first, "nap.star:3:6: sleep: interrupted") && !strings.HasPrefix(first, "nap.star:1:6: ") {
					t.Errorf("first stderr line = %q, want the position of sleep() or print()", first)
				}
			})
		}
	}
}

// hostLinkExists asks the host (the test's own namespace) for a link.
func hostLinkExists(t *testing.T, name string) bool {
	t.Helper()
	out, err := exec.Command("ip", "-o", "link", "show").CombinedOutput()
	if err != nil {
		t.Fatalf("ip link show: %v\n%s", err, out)
	}
	for _, l := range strings.Split(string(out), "\n") {
		// "3: name: <...>" or "3: name@peer: <...>"
		f := strings.Fields(l)
		if len(f) > 1 {
			n := strings.TrimSuffix(f[1], ":")
			n, _, _ = strings.Cut(n, "@")
			if n == name {
				return true
			}
		}
	}
	return false
}

// perNetnsDevices are made by kernel modules in every new namespace; they
// may be both on the host and in a sandbox.
var perNetnsDevices = map[string]bool{"lo": true, "tunl0": true, "sit0": true, "ip6tnl0": true,
	"gre0": true, "gretap0": true, "erspan0": true, "ip6gre0": true, "ip_vti0": true, "ip6_vti0": true}

func TestCLISandboxHermetic(t *testing.T) {
	const (
		nsName = "sbx-herm-ns"
		brName = "sbxhermbr0"
	)
	hostNS, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	hostInode := strings.TrimSuffix(strings.TrimPrefix(hostNS, "net:["), "]")
	hostIfaces, err := net.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	hostNetns, _ := os.ReadDir("/run/netns")
	var hostNetnsNames []string
	for _, e := range hostNetns {
		hostNetnsNames = append(hostNetnsNames, e.Name())
	}

	dir := t.TempDir()
	goAhead := filepath.Join(dir, "go-ahead")
	src := `
# Nothing of the host's is visible: no named namespaces, no processes.
assert.eq(namespaces(), [])
assert.fails(lambda: identify(int(args["testpid"])), "identify")
procs = [p for p in exec(host, "ls /proc").stdout.split() if p.isdigit()]
assert.true(args["testpid"] not in procs)
# PID 1 is nsscript itself, running this script.
assert.contains(exec(host, ["cat", "/proc/1/cmdline"]).stdout.replace("\x00", " "), " --sandbox herm.star ")

# host is the sandbox's own namespace, loopback up.
assert.true(host.is_host)
assert.ne(str(host.inode), args["hostinode"])
assert.true(host.link("lo").up)

ns = namespace("` + nsName + `")
br = bridge("` + brName + `")
veth("sbxv0", "sbxv1", peer_ns = ns)
exec(host, "mkdir -p /etc/netns/` + nsName + ` && echo 'nameserver 192.0.2.53' > /etc/netns/` + nsName + `/resolv.conf")
assert.eq([n.name for n in namespaces()], ["` + nsName + `"])
assert.eq(exec(host, "ls /run/netns").stdout.split(), ["` + nsName + `"])

print("sysfs", sorted(exec(host, "ls /sys/class/net").stdout.split()))
print("links", sorted([l.name for l in host.links]))
print("ready")

# Wait (20s at most) for the test to look at the host during the run.
n = 0
while not exec(host, ["test", "-e", args["go"]], check = False).ok:
    n += 1
    if n > 400:
        fail("no go-ahead from the test")
    sleep("50ms")
print("done")
`
	if err := os.WriteFile(filepath.Join(dir, "herm.star"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--sandbox", "herm.star", "go="+goAhead,
		"testpid="+strconv.Itoa(os.Getpid()), "hostinode="+hostInode)
	cmd.Dir = dir
	var errb bytes.Buffer
	cmd.Stderr = &errb
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	lines := make(chan string, 16)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	var out []string
	ready := false
	timeout := time.After(20 * time.Second)
	for !ready {
		select {
		case l, ok := <-lines:
			if !ok {
				cmd.Wait()
				t.Fatalf("the script ended before it was ready\nstdout:\n%s\nstderr:\n%s", strings.Join(out, "\n"), errb.String())
			}
			out = append(out, l)
			ready = l == "ready"
		case <-timeout:
			t.Fatalf("the script was not ready within 20s\nstdout:\n%s\nstderr:\n%s", strings.Join(out, "\n"), errb.String())
		}
	}

	// What the script saw of its own devices: /sys/class/net is the
	// sandbox's, the same as its netlink view, and none of the host's.
	var sysfs, links string
	for _, l := range out {
		if v, ok := strings.CutPrefix(l, "sysfs "); ok {
			sysfs = v
		}
		if v, ok := strings.CutPrefix(l, "links "); ok {
			links = v
		}
	}
	if sysfs != links {
		t.Errorf("ls /sys/class/net in the sandbox = %s, its links = %s", sysfs, links)
	}
	for _, want := range []string{`"lo"`, `"` + brName + `"`, `"sbxv0"`} {
		if !strings.Contains(sysfs, want) {
			t.Errorf("ls /sys/class/net in the sandbox = %s, want %s in it", sysfs, want)
		}
	}
	for _, i := range hostIfaces {
		if !perNetnsDevices[i.Name] && strings.Contains(sysfs, `"`+i.Name+`"`) {
			t.Errorf("the host's %s is in the sandbox's /sys/class/net: %s", i.Name, sysfs)
		}
	}
	for _, n := range hostNetnsNames {
		if n == nsName {
			t.Fatalf("the host already has a namespace %s: the test cannot tell", nsName)
		}
	}

	checkHost := func(when string) {
		t.Helper()
		for _, p := range []string{"/run/netns/" + nsName, "/etc/netns/" + nsName, "/etc/netns/" + nsName + "/resolv.conf"} {
			if _, err := os.Lstat(p); !os.IsNotExist(err) {
				t.Errorf("%s: the sandbox's %s is on the host (%v)", when, p, err)
			}
		}
		for _, l := range []string{brName, "sbxv0", "sbxv1"} {
			if hostLinkExists(t, l) {
				t.Errorf("%s: the sandbox's link %s is on the host", when, l)
			}
		}
	}
	checkHost("during the run")

	if err := os.WriteFile(goAhead, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for l := range lines {
		out = append(out, l)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatal("the script did not end within 20s of the go-ahead")
	}
	if err != nil {
		t.Fatalf("script failed: %v\nstdout:\n%s\nstderr:\n%s", err, strings.Join(out, "\n"), errb.String())
	}
	if out[len(out)-1] != "done" {
		t.Errorf("stdout ends with %q, want done", out[len(out)-1])
	}
	checkHost("after the run")
}
