package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nsscript/nsscript/builtins/kernel"
)

// The tests of nsscript without root (issue 18): the binary runs as
// nobody, from a directory nobody may read (the binary, scripts/ and the
// README copied there), and a sandbox is a user namespace of nobody's
// with the sandbox's namespaces in it. Nothing nobody runs can reach the
// host's network; TestMain checks that the host is unchanged all the same.

// nobodyID is the user (and group) the tests run nsscript as.
const nobodyID = 65534

// userTree is a copy of what nobody runs: nsscript, scripts/, README.md.
type userTree struct {
	t   *testing.T
	dir string
	bin string
}

// newUserTree makes the copy, or skips the test where this system lets
// no unprivileged user make a user namespace (it says which setting).
func newUserTree(t *testing.T) *userTree {
	t.Helper()
	if why := kernel.UsernsBlocked(kernel.UsernsSettings()); why != "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI must test nsscript without root, and %s", why)
		}
		t.Skipf("this system lets no user without root make a user namespace, so no sandbox without root can be made: %s", why)
	}
	dir, err := os.MkdirTemp("", "nsscript-rootless-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	u := &userTree{t: t, dir: dir, bin: filepath.Join(dir, "nsscript")}
	copyFile(t, bin, u.bin, 0o755)
	copyFile(t, "../../README.md", filepath.Join(dir, "README.md"), 0o644)
	root, _ := filepath.Abs("../../scripts")
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		dst := filepath.Join(dir, "scripts", rel)
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		copyFile(t, p, dst, 0o644)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func copyFile(t *testing.T, src, dst string, mode os.FileMode) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err == nil {
		err = os.WriteFile(dst, b, mode)
	}
	if err == nil {
		err = os.Chmod(dst, mode)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// subdir is a fresh directory of nobody's in the tree.
func (u *userTree) subdir(name string) string {
	u.t.Helper()
	d := filepath.Join(u.dir, name)
	if err := os.MkdirAll(d, 0o755); err != nil {
		u.t.Fatal(err)
	}
	if err := os.Chown(d, nobodyID, nobodyID); err != nil {
		u.t.Fatal(err)
	}
	return d
}

// asNobody makes cmd run as nobody, with HOME the tree and env added.
func (u *userTree) asNobody(cmd *exec.Cmd, env ...string) *exec.Cmd {
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobodyID, Gid: nobodyID, Groups: []uint32{}}}
	cmd.Env = append(u.env(), env...)
	return cmd
}

// env is the environment nobody's nsscript gets: this one's, with HOME
// the tree and no NSSCRIPT_ variable.
func (u *userTree) env() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HOME=") && !strings.HasPrefix(kv, "NSSCRIPT_") {
			env = append(env, kv)
		}
	}
	return append(env, "HOME="+u.dir)
}

// run runs nsscript ARGS as nobody in dir (relative to the tree), with
// stdin.
func (u *userTree) run(dir, stdin string, args ...string) result {
	u.t.Helper()
	return u.runEnv(dir, stdin, nil, args...)
}

func (u *userTree) runEnv(dir, stdin string, env []string, args ...string) result {
	u.t.Helper()
	cmd := u.asNobody(exec.Command(u.bin, args...), env...)
	cmd.Dir = filepath.Join(u.dir, dir)
	cmd.Stdin = strings.NewReader(stdin)
	return runBin(u.t, cmd)
}

// withTun runs nsscript ARGS as nobody, as run does, in a mount namespace
// of its own whose /dev/net/tun anyone may open (the usual mode).
func (u *userTree) withTun(t *testing.T, dir string, args ...string) result {
	t.Helper()
	unshare, err1 := exec.LookPath("unshare")
	setpriv, err2 := exec.LookPath("setpriv")
	if err1 != nil || err2 != nil {
		t.Skip("this machine's /dev/net/tun is root's alone, and there is no unshare and setpriv (util-linux) to run nsscript with one of the usual mode")
	}
	script := `mount -t tmpfs -o mode=755 nsscript-tun /dev/net && mknod -m 666 /dev/net/tun c 10 200 &&
exec ` + setpriv + ` --reuid=65534 --regid=65534 --clear-groups "$0" "$@"`
	cmd := exec.Command(unshare, append([]string{"--mount", "--propagation", "private", "sh", "-c", script, u.bin}, args...)...)
	cmd.Env = u.env()
	cmd.Dir = filepath.Join(u.dir, dir)
	return runBin(t, cmd)
}

// readmeFirstCommand is the README's first command (the first line of
// its first sh block that is no comment), as the binary runs it.
func readmeFirstCommand(t *testing.T, readme string) []string {
	t.Helper()
	f, err := os.Open(readme)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	in := false
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		switch {
		case l == "```sh":
			in = true
		case in && l == "```":
			t.Fatal("the README's first sh block has no command")
		case in && l != "" && !strings.HasPrefix(l, "#"):
			rest, ok := strings.CutPrefix(l, "go run ./cmd/nsscript ")
			if !ok {
				t.Fatalf("the README's first command is not go run ./cmd/nsscript ...: %s", l)
			}
			return strings.Fields(rest)
		}
	}
	t.Fatal("the README has no sh block")
	return nil
}

// TestRootlessRuns: as an ordinary user, with nothing set up, the
// README's first command, every tutorial under --sandbox, nsscript test
// on the examples, plan and graph of every tutorial (without --sandbox:
// they need no kernel) and the REPL under --sandbox on standard input
// all work.
func TestRootlessRuns(t *testing.T) {
	t.Parallel()
	u := newUserTree(t)
	t.Run("README", func(t *testing.T) {
		t.Parallel()
		readme, _ := os.ReadFile(filepath.Join(u.dir, "README.md"))
		wantIn(t, "the README", string(readme), "needs no root")
		args := readmeFirstCommand(t, filepath.Join(u.dir, "README.md"))
		r := u.run(".", "", args...)
		if r.code != 0 {
			t.Fatalf("the README's first command (nsscript %s) as nobody: exit %d\n%s%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
		}
	})
	tutorials, _ := filepath.Glob(filepath.Join(u.dir, "scripts/tutorial/*.star"))
	if len(tutorials) == 0 {
		t.Fatal("no tutorials")
	}
	for _, f := range tutorials {
		name := filepath.Base(f)
		t.Run(strings.TrimSuffix(name, ".star"), func(t *testing.T) {
			t.Parallel()
			r := u.run("scripts/tutorial", "", "--sandbox", name)
			if r.code != 0 && strings.Contains(r.stderr, "/dev/net/tun is there, but only root may open it here (so a sandbox made without root cannot): as root, chmod 666 /dev/net/tun") {
				// This machine lacks sch_netem, and its /dev/net/tun
				// (for nsscript's forwarder) is root's alone: the
				// message says so. With one of the usual mode, shaping
				// works without root too.
				r = u.withTun(t, "scripts/tutorial", "--sandbox", name)
			}
			if r.code != 0 {
				t.Fatalf("nsscript --sandbox %s as nobody: exit %d\nstdout:\n%s\nstderr:\n%s", name, r.code, r.stdout, r.stderr)
			}
			r = u.run("scripts/tutorial", "", "plan", name)
			if r.code != 0 || !strings.HasPrefix(r.stdout, "#!/bin/sh\n") {
				t.Errorf("nsscript plan %s as nobody: exit %d\n%s%s", name, r.code, r.stdout, r.stderr)
			}
			r = u.run("scripts/tutorial", "", "graph", name)
			if r.code != 0 || !strings.Contains(r.stdout, "═ host ") {
				t.Errorf("nsscript graph %s as nobody: exit %d\n%s%s", name, r.code, r.stdout, r.stderr)
			}
		})
	}
	t.Run("test", func(t *testing.T) {
		t.Parallel()
		r := u.run(".", "", "test", "scripts/examples")
		if r.code != 0 || !regexp.MustCompile(`(?m)^[1-9]\d* passed, 0 failed$`).MatchString(r.stdout) {
			t.Fatalf("nsscript test scripts/examples as nobody: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
	})
	t.Run("repl-stdin", func(t *testing.T) {
		t.Parallel()
		src := `red = namespace("red")
veth("rl0", "rl1", ns = red, addr = "10.78.0.1/24", peer_addr = "10.78.0.2/24")
print(ping(red, "10.78.0.2", count = 2).received)
print(exec(red, "ip -br addr").stdout)
`
		r := u.run(".", src, "--sandbox", "repl")
		if r.code != 0 {
			t.Fatalf("nsscript --sandbox repl as nobody: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		wantIn(t, "the REPL's output", r.stdout, "\n2\n", "rl0", "10.78.0.1/24")
	})
}

// TestRootlessREPLTerminal: the REPL under --sandbox on a terminal, as
// nobody: it builds, and shell(red) gives the terminal to a shell in red
// (Ctrl-C reaches the shell's command, exit comes back).
func TestRootlessREPLTerminal(t *testing.T) {
	t.Parallel()
	u := newUserTree(t)
	dir := u.subdir("repl")
	s := startTerminalCmd(t, u.asNobody(exec.Command(u.bin, "--sandbox")), dir, shellEnv)
	s.expect(">>> ")
	replShellChecks(t, s)
	wantIn(t, "the session after the shell", s.do("print(exec(red, \"id -u\").stdout)"), "\n0\n")
	s.quit()
}

// TestRootlessRefusals: as an ordinary user, a run on the host's own
// network is refused before anything is touched, saying that --sandbox
// needs no root; down and ls of no lab say so; and a system that lets no
// user namespace be made says which setting stops it.
func TestRootlessRefusals(t *testing.T) {
	t.Parallel()
	u := newUserTree(t)
	dir := u.subdir("refused")
	if err := os.WriteFile(filepath.Join(dir, "topo.star"), []byte(`namespace("rl-refused")`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, netnsBefore := os.Stat("/run/netns/rl-refused")
	_, labBefore := os.Stat("/run/nsscript/topo")
	for _, c := range []struct {
		what, stdin string
		args        []string
		want        string
	}{
		{"a script", "", []string{"topo.star"}, "nsscript: topo.star would change this host's network, which needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN); nothing was done. In a sandbox it needs no root: nsscript --sandbox topo.star\n"},
		{"run", "", []string{"run", "topo.star"}, "In a sandbox it needs no root: nsscript --sandbox topo.star\n"},
		{"a program", "", []string{"-c", `namespace("rl-refused")`}, "the program would change this host's network, which needs root"},
		{"a script on stdin", `namespace("rl-refused")`, nil, "the script on standard input would change this host's network"},
		{"the REPL", "", []string{"repl"}, "the REPL would change this host's network"},
		{"--keep", "", []string{"--keep", "topo.star"}, "nsscript --sandbox topo.star"},
	} {
		r := u.run("refused", c.stdin, c.args...)
		wantCode(t, c.what+" without --sandbox", r, 2, c.want)
		if r.stdout != "" {
			t.Errorf("%s without --sandbox printed %q", c.what, r.stdout)
		}
	}
	if _, err := os.Stat("/run/netns/rl-refused"); (err == nil) != (netnsBefore == nil) {
		t.Errorf("a refused run made /run/netns/rl-refused")
	}
	if _, err := os.Stat("/run/nsscript/topo"); (err == nil) != (labBefore == nil) {
		t.Errorf("a refused run made /run/nsscript/topo")
	}
	wantCode(t, "down of no lab", u.run("refused", "", "down", "rl-no-such-lab"), 0, "rl-no-such-lab: nothing to undo")
	wantCode(t, "exec into no lab", u.run("refused", "", "exec", "rl-no-such-lab", "red", "--", "true"), 2, `there is no lab "rl-no-such-lab"`)
	wantCode(t, "shell under --sandbox", u.run("refused", "", "--sandbox", "shell", "rl-no-such-lab", "red"), 2, "--sandbox would make a fresh sandbox")

	// A tap device needs /dev/net/tun: where only root may open it, tap()
	// says so.
	r := u.run("refused", "", "--sandbox", "-c", `tap("rltap0", ns = namespace("r"))`)
	if st, err := os.Stat("/dev/net/tun"); err == nil && st.Mode().Perm()&0o006 != 0o006 {
		wantCode(t, "tap() with a /dev/net/tun of root's alone", r, 1, "tap: open /dev/net/tun: permission denied: /dev/net/tun is there, but only root may open it here (so a sandbox made without root cannot): as root, chmod 666 /dev/net/tun, its usual mode")
	} else if err == nil {
		wantCode(t, "tap()", r, 0)
	}

	// A user namespace of nobody's own, whose user.max_user_namespaces
	// (kept per user namespace) is 0, and nsscript there without
	// capabilities: a sandbox cannot be made, and the message says why.
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		t.Skip("max_user_namespaces=0 untested: no unshare (util-linux) to make the user namespace it is set in")
	}
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Skip("max_user_namespaces=0 untested: no setpriv (util-linux) to drop the capabilities there")
	}
	script := `echo 0 > /proc/sys/user/max_user_namespaces || exit 99
drop="` + setpriv + ` --inh-caps=-all --bounding-set=-all --"
$drop "$0" --sandbox topo.star; echo "sandbox=$?"
$drop "$0" topo.star; echo "host=$?"`
	cmd := u.asNobody(exec.Command(unshare, "--user", "--map-root-user", "sh", "-c", script, u.bin))
	cmd.Dir = dir
	r = runBin(t, cmd)
	if strings.Contains(r.stdout, "99") || r.code == 99 {
		t.Skipf("max_user_namespaces=0 untested: the kernel does not let a user namespace's root set user.max_user_namespaces there:\n%s", r.stderr)
	}
	wantIn(t, "with user.max_user_namespaces=0", r.stdout, "sandbox=1\n", "host=2\n")
	wantIn(t, "with user.max_user_namespaces=0", r.stderr,
		"nsscript: start sandbox: a sandbox without root needs a user namespace, which this system does not let this user make: user.max_user_namespaces is 0: no user namespace may be made; to allow it, as root: sysctl -w user.max_user_namespaces=15000",
		"nsscript: but this system keeps a sandbox from being made without root: user.max_user_namespaces is 0")
}

// TestRootlessLegacyIptables: where iptables is the legacy variant and
// refuses (in a sandbox without root, without the host's modules), the
// error says what to do. (An iptables on PATH that says it is legacy and
// refuses as the real one does without its modules.)
func TestRootlessLegacyIptables(t *testing.T) {
	t.Parallel()
	u := newUserTree(t)
	dir := u.subdir("legacy")
	fake := "#!/bin/sh\ncase \"$*\" in *--version*) echo 'iptables v1.8.9 (legacy)'; exit 0;; esac\n" +
		"echo \"iptables v1.8.9 (legacy): can't initialize iptables table \\`nat': Table does not exist (do you need to insmod?)\" >&2\nexit 3\n"
	if err := os.WriteFile(filepath.Join(dir, "iptables"), []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	r := u.runEnv("legacy", "", []string{"PATH=" + dir + ":" + os.Getenv("PATH")}, "--sandbox", "-c", `nat.masquerade("10.0.0.0/24")`)
	wantCode(t, "nat.masquerade with a refusing iptables-legacy", r, 1,
		"can't initialize iptables table `nat'", "(this is the legacy variant of iptables, which in a sandbox made without root works only with the host's iptables modules loaded already",
		"update-alternatives --set iptables /usr/sbin/iptables-nft")
}

// TestRootlessInRootSandbox: nobody inside a sandbox of root's, whose
// /run and /etc are overlays already (the kernel refuses an overlay on an
// overlay in a user namespace: nsscript stands a tmpfs in): a sandbox of
// nobody's has its own /run and /etc/netns there, and sees the host's
// /run read-only; a lab on that host is root's (ls, down and exec say
// so); a device of the machine's is not in a sandbox.
func TestRootlessInRootSandbox(t *testing.T) {
	t.Parallel()
	u := newUserTree(t)
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Skip("no setpriv (util-linux) to run nsscript as nobody inside the sandbox")
	}
	dir := u.subdir("nested")
	inner := `n = namespace("x")
n.etc("hosts", "10.9.9.9 rl-inner\n")
assert.eq(exec(n, "getent hosts rl-inner").stdout.split(), ["10.9.9.9", "rl-inner"])
exec(host, "mkdir /run/rl-mine && touch /run/rl-mine/file")
r = exec(host, "touch /run/netns-probe-rl", check = False)
assert.eq(r.code, 0)
print("inner ok")
`
	outer := `r = namespace("r")
bridge(args["machine_link"])
as_nobody = "` + setpriv + ` --reuid=65534 --regid=65534 --clear-groups env HOME=` + dir + ` ` + u.bin + ` "
def run(cmd):
    res = exec(host, as_nobody + cmd, check = False)
    print("$ %s -> %d" % (cmd, res.code))
    print(res.stdout + res.stderr)
    return res
exec(host, "mkdir -p /run/rl-root-only && chmod 777 /run/rl-root-only")
assert.eq(run("--sandbox inner.star").code, 0)
assert.eq(run("--sandbox -c 'exec(host, \"touch /run/rl-root-only/x\")'").code, 1)
assert.eq(run("ls").code, 0)
assert.eq(run("down hostlab").code, 1)
assert.eq(run("graph hostlab").code, 1)
assert.eq(run("down").code, 0)
assert.eq(run("exec hostlab r -- true").code, 1)
assert.eq(run("exec r -- true").code, 2)
assert.eq(run("--sandbox -c 'link(\"%s\")'" % args["machine_link"]).code, 1)
assert.eq(run("--sandbox -c 'link(\"nosuch-rl0\")'").code, 1)
assert.eq(len(exec(host, "ls /run/rl-mine", check = False).stdout), 0)
`
	for name, src := range map[string]string{"inner.star": inner, "outer.star": outer} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// A device of the machine's, as the sandbox nobody runs in (root's)
	// sees the machine: its own host, where the outer script makes one.
	const machineLink = "rl-nic0"
	r := nsscript(t, dir, "--sandbox", "--lab", "hostlab", "outer.star", "machine_link="+machineLink)
	if r.code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	wantIn(t, "nobody inside root's sandbox", r.stdout,
		"$ --sandbox inner.star -> 0\ninner ok\n",
		"touch: cannot touch '/run/rl-root-only/x': Read-only file system",
		"nsscript ls: hostlab: a lab on this host, whose journal only root reads: sudo nsscript ls hostlab\n",
		"nsscript down hostlab: a lab on this host: undoing it changes the host's network, which needs root: sudo nsscript down hostlab\n",
		"nsscript down: left the labs on this host alone (hostlab): undoing them needs root: sudo nsscript down\n",
		"nsscript graph: hostlab: a lab on this host, whose journal only root reads: sudo nsscript graph hostlab\n",
		"nsscript exec: lab hostlab is on this host, and going into its namespaces needs root: sudo nsscript exec hostlab r -- true",
		`nsscript exec: no lab of yours has a namespace "r" (the labs on this host are root's`,
		fmt.Sprintf(`link: no device "%s" in namespace host (it has: lo); %s is a device of the machine's, and a sandbox has none of them: a script that uses it runs without --sandbox, as root`, machineLink, machineLink),
		`link: no device "nosuch-rl0" in namespace host (it has: lo)`+"\n")
	if strings.Contains(r.stdout, `"nosuch-rl0" in namespace host (it has: lo); `) {
		t.Errorf("a name that is no device of the machine's is said to be one:\n%s", r.stdout)
	}
}

// heldAsNobody starts nsscript --sandbox --keep as nobody (see startHeld).
func heldAsNobody(t *testing.T, u *userTree, lab string) *held {
	t.Helper()
	dir := u.subdir(lab)
	return startHeldCmd(t, lab, intoTopo, u.asNobody(exec.Command(u.bin, "--sandbox", "--keep", "--lab", lab, "topo.star"), "SHELL=/bin/sh"), dir)
}

// TestRootlessInto: a sandbox nobody holds (--sandbox --keep) is nobody's
// to list, go into and end, and root's too: root goes in as nobody, with
// no more power than nobody has.
func TestRootlessInto(t *testing.T) {
	t.Parallel()
	u := newUserTree(t)
	lab := fmt.Sprintf("rl-into-%d", os.Getpid())
	h := heldAsNobody(t, u, lab)
	pid := h.pid
	rel := filepath.Base(h.dir)

	r := u.run(rel, "", "ls")
	wantCode(t, "nobody's ls", r, 0, fmt.Sprintf("%s (running in sandbox %d) made without root by nobody\n  namespaces: red\n", lab, pid))
	r = nsscript(t, h.dir, "ls", lab)
	wantCode(t, "root's ls", r, 0, fmt.Sprintf("%s (running in sandbox %d) made without root by nobody\n", lab, pid))
	var sums []struct {
		Sandbox int
		Owner   string
	}
	r = nsscript(t, h.dir, "ls", "--json", lab)
	if err := json.Unmarshal([]byte(r.stdout), &sums); err != nil || len(sums) != 1 || sums[0].Sandbox != pid {
		t.Errorf("root's ls --json %s = %s (%v)", lab, r.stdout, err)
	}

	wantCode(t, "nobody's exec ip addr", u.run(rel, "", "exec", lab, "red", "--", "ip", "-br", "addr"), 0, "into0", "10.77.0.1/24")
	r = u.run(rel, "", "exec", lab, "red", "--", "cat", "/etc/hosts")
	if r.code != 0 || r.stdout != "10.77.0.2 outside-into\n" {
		t.Errorf("nobody's exec cat /etc/hosts in red: exit %d, %q\n%s", r.code, r.stdout, r.stderr)
	}
	r = u.run(rel, "", "exec", lab, "red", "--", "ls", "/sys/class/net")
	if r.code != 0 || r.stdout != "into0\nlo\n" {
		t.Errorf("nobody's exec ls /sys/class/net in red: exit %d, %q\n%s", r.code, r.stdout, r.stderr)
	}
	wantCode(t, "nobody's exec in the sandbox's host", u.run(rel, "", "exec", lab, "host", "--", "ip", "-br", "addr"), 0, "into1", "10.77.0.2/24")
	wantCode(t, "nobody's exec's exit code", u.run(rel, "", "exec", fmt.Sprintf("%s@%d", lab, pid), "red", "--", "sh", "-c", "exit 7"), 7)
	wantCode(t, "nobody's exec of no command", u.run(rel, "", "exec", lab, "red", "--", "no-such-command-rl"), 127, `cannot run "no-such-command-rl"`)
	wantCode(t, "nsscript ls inside", u.run(rel, "", "exec", lab, "host", "--", u.bin, "ls"), 0, lab+" (", "link veth red/into0")

	s := startTerminalCmd(t, u.asNobody(exec.Command(u.bin, "shell", lab, "red")), h.dir, shellEnv)
	s.expect(fmt.Sprintf("/bin/sh in namespace red of lab %s (in sandbox %d); exit leaves it", lab, pid))
	shellChecks(t, s)
	shellEnds(t, s)

	// Root goes in as nobody: what it makes is nobody's.
	mark := filepath.Join(h.dir, "made-by-root")
	r = nsscript(t, h.dir, "exec", lab, "red", "--", "sh", "-c", "id -u; ip -br addr; touch "+mark)
	wantCode(t, "root's exec", r, 0, "0\n", "10.77.0.1/24")
	if st, err := os.Stat(mark); err != nil || st.Sys().(*syscall.Stat_t).Uid != nobodyID {
		t.Errorf("root's exec into nobody's sandbox made %s as %v (%v), want nobody's", mark, st, err)
	}

	if !h.alive() {
		t.Fatalf("the held run ended:\n%s", h.errText())
	}
	wantCode(t, "nobody's down", u.run(rel, "", "down", lab), 0, fmt.Sprintf("%s: ended its sandbox (pid %d)", lab, pid))
	if code := h.wait("down"); code != 0 {
		t.Errorf("the held run exited %d after down, want 0\n%s", code, h.errText())
	}
	wantCode(t, "nobody's exec after down", u.run(rel, "", "exec", lab, "red", "--", "true"), 2, `there is no lab "`+lab+`"`)

	// Root ends one of nobody's.
	h = heldAsNobody(t, u, lab+"-b")
	wantCode(t, "root's down", nsscript(t, h.dir, "down", lab+"-b"), 0, fmt.Sprintf("%s-b: ended its sandbox (pid %d)", lab, h.pid))
	if code := h.wait("root's down"); code != 0 {
		t.Errorf("the held run exited %d after root's down, want 0\n%s", code, h.errText())
	}
}

// TestRootlessImpostors: processes of nobody's and root's that look like
// a sandbox made without root in part are none: one in a user namespace
// of nobody's that owns none of its other namespaces, one that runs as
// nobody in a user namespace root owns, one two user namespaces down.
// Neither nobody nor root lists them or goes in. A process that has all
// a sandbox of nobody's has is nobody's own business: root goes into it
// as nobody.
func TestRootlessImpostors(t *testing.T) {
	t.Parallel()
	u := newUserTree(t)
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		t.Skip("no unshare (util-linux) to make the impostors with")
	}
	dir := u.subdir("impostors")
	tag := "imp" + strconv.Itoa(os.Getpid())
	marks := func(lab string) []string {
		return []string{"env", "NSSCRIPT_IN_SANDBOX=init", "NSSCRIPT_SANDBOX_LAB=" + lab + "-" + tag, "sleep", "120"}
	}
	all := []string{"--user", "--map-root-user", "--net", "--mount", "--pid", "--uts", "--ipc", "--kill-child"}
	start := func(cmd *exec.Cmd) {
		t.Helper()
		cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		t.Cleanup(func() { _ = cmd.Process.Kill(); <-done })
	}
	start(u.asNobody(exec.Command(unshare, append([]string{"--user", "--map-root-user", "--pid", "--kill-child"}, marks("partial")...)...)))
	start(u.asNobody(exec.Command(unshare, append([]string{"--user", "--map-root-user", unshare}, append(all, marks("deeper")...)...)...)))
	start(u.asNobody(exec.Command(unshare, append(all, marks("lookalike")...)...)))
	rootOwned := exec.Command(marks("rootowned")[3], "120")
	rootOwned.Env = append(os.Environ(), marks("rootowned")[1:3]...)
	rootOwned.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:  syscall.CLONE_NEWUSER | syscall.CLONE_NEWNET | syscall.CLONE_NEWNS | syscall.CLONE_NEWPID | syscall.CLONE_NEWUTS | syscall.CLONE_NEWIPC,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: nobodyID, Size: 1}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: nobodyID, Size: 1}},
		Credential:  &syscall.Credential{Uid: 0, Gid: 0, NoSetGroups: true},
	}
	start(rootOwned)

	// Each is there once a process with its lab's mark runs.
	for _, lab := range []string{"partial", "deeper", "lookalike", "rootowned"} {
		deadline := time.Now().Add(patience)
		for !markedProcess(lab + "-" + tag) {
			if time.Now().After(deadline) {
				t.Fatalf("impostor %s did not start within %s", lab, patience)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	ls := func(who string, r result) string {
		t.Helper()
		if r.code != 0 {
			t.Fatalf("%s's ls: exit %d\n%s", who, r.code, r.stderr)
		}
		var sums []struct{ Lab string }
		if err := json.Unmarshal([]byte(r.stdout), &sums); err != nil {
			t.Fatalf("%s's ls --json: %v\n%s", who, err, r.stdout)
		}
		var labs []string
		for _, s := range sums {
			if strings.HasSuffix(s.Lab, "-"+tag) {
				labs = append(labs, strings.TrimSuffix(s.Lab, "-"+tag))
			}
		}
		return strings.Join(labs, " ")
	}
	if got := ls("nobody", u.run("impostors", "", "ls", "--json")); got != "lookalike" {
		t.Errorf("nobody's ls lists %q of the impostors, want the lookalike only", got)
	}
	if got := ls("root", nsscript(t, dir, "ls", "--json")); got != "lookalike" {
		t.Errorf("root's ls lists %q of the impostors, want the lookalike only", got)
	}
	for _, lab := range []string{"partial", "deeper", "rootowned"} {
		wantCode(t, "nobody's exec into "+lab, u.run("impostors", "", "exec", lab+"-"+tag, "host", "--", "true"), 2, "there is no lab")
		wantCode(t, "root's exec into "+lab, nsscript(t, dir, "exec", lab+"-"+tag, "host", "--", "true"), 2, "there is no lab")
	}
	mark := filepath.Join(dir, "made-in-lookalike")
	wantCode(t, "root's exec into the lookalike", nsscript(t, dir, "exec", "lookalike-"+tag, "host", "--", "touch", mark), 0)
	if st, err := os.Stat(mark); err != nil || st.Sys().(*syscall.Stat_t).Uid != nobodyID {
		t.Errorf("root's exec into nobody's lookalike made %s as %v (%v), want nobody's", mark, st, err)
	}
}

// markedProcess reports whether a process runs whose environment marks it
// as the init of a sandbox of lab.
func markedProcess(lab string) bool {
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		env, _ := os.ReadFile("/proc/" + e.Name() + "/environ")
		if strings.Contains("\x00"+string(env), "\x00NSSCRIPT_SANDBOX_LAB="+lab+"\x00") && strings.Contains(string(env), "NSSCRIPT_IN_SANDBOX=init") {
			comm, _ := os.ReadFile("/proc/" + e.Name() + "/comm")
			if string(comm) == "sleep\n" {
				return true
			}
		}
	}
	return false
}
