package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The tests of nsscript shell, exec, ls and down with labs on a host and
// labs held in sandboxes (issue 15), as a user at a terminal meets them:
// the commands run as the binary, the shells on a pseudo-terminal. A lab
// "on the host" is one made inside a test's own held sandbox (the test's
// host), so nothing reaches the real one. Every held sandbox is ended
// when its test ends, failed or not (see endGently).

// intoTopo builds namespace red with a veth into the sandbox's host and an
// /etc/netns/red/hosts of its own.
const intoTopo = `
red = namespace("red")
veth("into0", "into1", ns = red, addr = "10.77.0.1/24", peer_addr = "10.77.0.2/24")
red.etc("hosts", "10.77.0.2 outside-into\n")
print("built")
`

// shellPrompt is the prompt of the shells the tests open (PS1), which
// they wait for before they type: typed earlier, a line goes to whoever
// had the terminal then.
const shellPrompt = "INTO-SH$ "

// shellEnv is the environment of the tests' shells.
var shellEnv = []string{"SHELL=/bin/sh", "PS1=" + shellPrompt}

// endGently ends a process the test started that is still running: TERM
// first (nsscript passes it on into its sandbox, which ends as it does on
// a user's kill, its cgroup removed), KILL when that does not end it in
// time (the next sandbox removes the cgroup then).
func endGently(t *testing.T, p *os.Process, done <-chan struct{}) {
	select {
	case <-done:
		return
	default:
	}
	_ = p.Signal(syscall.SIGTERM)
	select {
	case <-done:
		return
	case <-time.After(patience / 3):
	}
	t.Logf("pid %d did not end on SIGTERM: killed", p.Pid)
	_ = p.Kill()
	<-done
}

// held is a `nsscript --sandbox --keep` running in the background.
type held struct {
	t   *testing.T
	lab string
	dir string
	cmd *exec.Cmd
	pid int // the sandbox's, as its message says

	mu     sync.Mutex
	stderr bytes.Buffer
	done   chan struct{}
}

// lockedWriter is the held run's stderr, read while it is written.
type lockedWriter struct{ h *held }

func (w lockedWriter) Write(b []byte) (int, error) {
	w.h.mu.Lock()
	defer w.h.mu.Unlock()
	return w.h.stderr.Write(b)
}

func (h *held) errText() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.stderr.String()
}

// heldPid reads the sandbox's pid from the message of a held run.
var heldPid = regexp.MustCompile(`the sandbox stays, with lab \S+ in sandbox (\d+) `)

// startHeld writes script (as topo.star) to a fresh directory and runs
// it as lab under --sandbox with flag (--keep or --hold), until the
// sandbox is held.
func startHeld(t *testing.T, lab, script, flag string) *held {
	t.Helper()
	return startHeldCmd(t, lab, script, exec.Command(bin, "--sandbox", flag, "--lab", lab, "topo.star"), t.TempDir())
}

// startHeldCmd is startHeld with the command prepared (the binary, its
// flags, its user) and the directory it runs in.
func startHeldCmd(t *testing.T, lab, script string, cmd *exec.Cmd, dir string) *held {
	t.Helper()
	flag := cmd.Args[2]
	if err := os.WriteFile(filepath.Join(dir, "topo.star"), []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	h := &held{t: t, lab: lab, dir: dir, done: make(chan struct{})}
	h.cmd = cmd
	h.cmd.Dir = dir
	h.cmd.Stderr = lockedWriter{h}
	if err := h.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = h.cmd.Wait(); close(h.done) }()
	t.Cleanup(func() { endGently(t, h.cmd.Process, h.done) })
	deadline := time.Now().Add(patience)
	for !strings.Contains(h.errText(), "nsscript: end it: ") {
		select {
		case <-h.done:
			t.Fatalf("nsscript --sandbox %s exited (%v) before it held the sandbox:\n%s", flag, h.cmd.ProcessState, h.errText())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("the sandbox was not held within %s:\n%s", patience, h.errText())
		}
	}
	m := heldPid.FindStringSubmatch(h.errText())
	if m == nil {
		t.Fatalf("the held run does not say its sandbox's pid:\n%s", h.errText())
	}
	h.pid, _ = strconv.Atoi(m[1])
	if child := sandboxInit(h.cmd.Process.Pid); child != h.pid {
		t.Fatalf("the held run says sandbox %d, but its child (the sandbox's init) is %d", h.pid, child)
	}
	return h
}

// sandboxInit is the pid of the child of pid (nsscript --sandbox's is
// its sandbox's init).
func sandboxInit(pid int) int {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	var child int
	fmt.Sscan(string(b), &child)
	return child
}

// alive reports whether the held run still runs.
func (h *held) alive() bool {
	select {
	case <-h.done:
		return false
	default:
		return true
	}
}

// wait waits for the held run to exit and returns its exit code.
func (h *held) wait(what string) int {
	h.t.Helper()
	select {
	case <-h.done:
	case <-time.After(patience):
		h.t.Fatalf("nsscript --sandbox --keep still runs %s after %s:\n%s", patience, what, h.errText())
	}
	return h.cmd.ProcessState.ExitCode()
}

// inside runs `nsscript exec LAB@PID host -- ARGS...`: a command in the
// sandbox's own namespace.
func (h *held) inside(args ...string) result {
	h.t.Helper()
	return nsscript(h.t, h.dir, append([]string{"exec", fmt.Sprintf("%s@%d", h.lab, h.pid), "host", "--"}, args...)...)
}

// listed reports whether nsscript ls (run in dir) lists sandbox pid.
func listed(t *testing.T, dir string, pid int) bool {
	t.Helper()
	r := nsscript(t, dir, "ls", "--json")
	var sums []struct{ Sandbox int }
	if err := json.Unmarshal([]byte(r.stdout), &sums); err != nil {
		t.Fatalf("ls --json: %v\n%s%s", err, r.stdout, r.stderr)
	}
	for _, s := range sums {
		if s.Sandbox == pid {
			return true
		}
	}
	return false
}

func wantCode(t *testing.T, what string, r result, code int, wants ...string) {
	t.Helper()
	if r.code != code {
		t.Errorf("%s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", what, r.code, code, r.stdout, r.stderr)
	}
	wantIn(t, what, r.stdout+r.stderr, wants...)
}

// shellChecks drives a shell that nsscript opened on a terminal in
// namespace red of intoTopo, once its first prompt showed: its devices,
// its /sys and /etc/hosts (as ip netns exec has them), Ctrl-C that
// reaches the shell's command and not nsscript, and `exit 3`. (Each
// marker is printed by arithmetic, so that the echoed line does not
// match it.)
func shellChecks(t *testing.T, s *session) {
	t.Helper()
	s.expect(shellPrompt)
	s.send("ip -br addr; ls -1 /sys/class/net; cat /etc/hosts; echo MARK-$((6*7))\r")
	out := s.expect("MARK-42")
	wantIn(t, "ip addr, /sys and /etc/hosts in the shell", out, "into0", "10.77.0.1/24", "into0\nlo\n", "10.77.0.2 outside-into")
	s.expect(shellPrompt)
	s.send(`sh -c 'trap "echo INT-\$((2+2)); exit 130" INT; echo READY-$((1+2)); while :; do sleep 1; done'` + "\r")
	s.expect("READY-3")
	s.send("\x03")
	s.expect("INT-4")
	s.expect(shellPrompt)
	s.send("echo STATUS-$?-$((1+1))\r")
	s.expect("STATUS-130-2")
	s.expect(shellPrompt)
	s.send("exit 3\r")
}

// shellEnds waits for `nsscript shell` to end with its shell's `exit 3`.
func shellEnds(t *testing.T, s *session) {
	t.Helper()
	select {
	case <-s.done:
	case <-time.After(patience):
		t.Fatalf("nsscript shell did not end with its shell:\n%s", s.text())
	}
	if s.code != 3 {
		t.Errorf("nsscript shell exited %d, want the shell's 3", s.code)
	}
}

// TestIntoSandbox: shell and exec into a lab held by `--sandbox --keep`
// from outside it, ls marks it, bad words are usage errors, and down
// ends it.
func TestIntoSandbox(t *testing.T) {
	t.Parallel()
	lab := fmt.Sprintf("into-sbx-%d", os.Getpid())
	h := startHeld(t, lab, intoTopo, "--keep")
	pid := h.pid
	wantIn(t, "the held run's message", h.errText(),
		fmt.Sprintf("with lab %s in sandbox %d (%s@%d names it if another lab is named %s too); its namespaces: host, red", lab, pid, lab, pid, lab),
		"nsscript shell "+lab+" red\n", "nsscript exec "+lab+" red -- CMD [ARG ...]\n", "Ctrl-C here, or nsscript down "+lab+"\n")

	r := nsscript(t, h.dir, "ls")
	wantCode(t, "ls", r, 0, fmt.Sprintf("%s (running in sandbox %d)\n  namespaces: red\n  go in: nsscript shell %s red;", lab, pid, lab))
	r = nsscript(t, h.dir, "ls", "--json", lab)
	var sums []struct {
		Lab        string
		Sandbox    int
		Namespaces []string
	}
	if err := json.Unmarshal([]byte(r.stdout), &sums); err != nil || len(sums) != 1 || sums[0].Sandbox != pid || strings.Join(sums[0].Namespaces, " ") != "red" {
		t.Errorf("ls --json %s = %s (%v), want the sandbox %d with namespace red", lab, r.stdout, err, pid)
	}

	r = nsscript(t, h.dir, "exec", lab, "red", "--", "ip", "-br", "addr")
	wantCode(t, "exec ip addr", r, 0, "into0", "10.77.0.1/24")
	r = nsscript(t, h.dir, "exec", lab, "red", "--", "cat", "/etc/hosts")
	if r.code != 0 || r.stdout != "10.77.0.2 outside-into\n" {
		t.Errorf("exec cat /etc/hosts in red: exit %d, %q, want the namespace's /etc/netns/red/hosts\n%s", r.code, r.stdout, r.stderr)
	}
	r = nsscript(t, h.dir, "exec", lab, "red", "--", "ls", "/sys/class/net")
	if r.code != 0 || r.stdout != "into0\nlo\n" {
		t.Errorf("exec ls /sys/class/net in red: exit %d, %q, want red's links\n%s", r.code, r.stdout, r.stderr)
	}
	wantCode(t, "exec in the sandbox's host", h.inside("ip", "-br", "addr"), 0, "into1", "10.77.0.2/24")
	wantCode(t, "exec's exit code", nsscript(t, h.dir, "exec", fmt.Sprintf("%s@%d", lab, pid), "red", "--", "sh", "-c", "exit 7"), 7)
	wantCode(t, "exec of a command ended by a signal", nsscript(t, h.dir, "exec", lab, "red", "--", "sh", "-c", "kill -TERM $$"), 128+15)
	wantCode(t, "exec with --lab", nsscript(t, h.dir, "--lab", lab, "exec", "red", "--", "true"), 0)

	// Bad input: usage errors that say what to do, and run nothing.
	for _, c := range []struct {
		what string
		args []string
		want string
	}{
		{"an unknown namespace", []string{"exec", lab, "blue", "--", "true"}, `has no namespace "blue": it has host, red`},
		{"exec without --", []string{"exec", lab, "red", "true"}, "put -- before the command: nsscript exec [LAB] NS -- CMD"},
		{"exec with nothing after --", []string{"exec", lab, "red", "--"}, "no command after --"},
		{"shell with --", []string{"shell", lab, "red", "--", "true"}, "nsscript exec [LAB] NS -- CMD runs one"},
		{"shell without a namespace", []string{"shell"}, "which namespace? nsscript shell [LAB] NS"},
		{"shell with three words", []string{"shell", lab, "red", "blue"}, "which namespace?"},
		{"an unknown lab", []string{"exec", "no-such-lab", "red", "--", "true"}, `there is no lab "no-such-lab" on this host, nor in a running sandbox`},
		{"an unknown sandbox pid", []string{"exec", lab + "@12345678", "red", "--", "true"}, `there is no lab "` + lab + `@12345678"`},
		{"no pid after @", []string{"exec", lab + "@x", "red", "--", "true"}, "after the lab name, @ takes the pid of its sandbox"},
		{"a lab name that is a path", []string{"shell", "../etc", "red"}, "lab name"},
		{"a namespace name that is a path", []string{"exec", lab, "a/b", "--", "true"}, "namespace name"},
		{"a namespace nobody has", []string{"shell", "nowhere-ns"}, `no lab has a namespace "nowhere-ns"`},
		{"--lab without a namespace", []string{"--lab", lab, "shell"}, "with --lab LAB, name the namespace only"},
		{"--lab and a lab word", []string{"--lab", lab, "shell", lab, "red"}, "with --lab LAB, name the namespace only"},
		{"shell under --sandbox", []string{"--sandbox", "shell", lab, "red"}, "--sandbox would make a fresh sandbox with no lab in it"},
		// (down in a fresh sandbox would find nothing, and say "nothing to
		// end" of the lab that runs on.)
		{"down under --sandbox", []string{"--sandbox", "down", lab}, "nsscript down: --sandbox would make a fresh sandbox with no lab in it: down ends a running lab"},
		{"ls under --sandbox", []string{"--sandbox", "ls"}, "nsscript ls: --sandbox would make a fresh sandbox with no lab in it: ls lists the labs (those --sandbox runs hold too) without it"},
	} {
		wantCode(t, c.what, nsscript(t, h.dir, c.args...), 2, c.want)
	}

	s := startTerminal(t, h.dir, shellEnv, "shell", lab, "red")
	s.expect(fmt.Sprintf("/bin/sh in namespace red of lab %s (in sandbox %d); exit leaves it", lab, pid))
	shellChecks(t, s)
	shellEnds(t, s)
	if !h.alive() {
		t.Fatalf("the held run ended with the shell:\n%s", h.errText())
	}

	r = nsscript(t, h.dir, "down", lab)
	wantCode(t, "down", r, 0, fmt.Sprintf("%s: ended its sandbox (pid %d)", lab, pid))
	if code := h.wait("down"); code != 0 {
		t.Errorf("the held run exited %d after down, want 0 (its script succeeded)\n%s", code, h.errText())
	}
	if listed(t, h.dir, pid) {
		t.Errorf("ls lists sandbox %d after down", pid)
	}
	wantCode(t, "exec after down", nsscript(t, h.dir, "exec", lab, "red", "--", "true"), 2, `there is no lab "`+lab+`"`)
}

// TestIntoAmbiguous: two sandboxes hold labs of one name. A plain lab
// word is refused, naming LAB@PID for each; down of one (LAB@PID) ends
// that one only, and then the name is one lab again.
func TestIntoAmbiguous(t *testing.T) {
	t.Parallel()
	lab := fmt.Sprintf("into-twice-%d", os.Getpid())
	a := startHeld(t, lab, intoTopo, "--keep")
	b := startHeld(t, lab, intoTopo, "--hold")
	which := fmt.Sprintf("2 labs are named %s (%s@%d, %s@%d): name one of them", lab, lab, min(a.pid, b.pid), lab, max(a.pid, b.pid))
	wantCode(t, "exec LAB", nsscript(t, a.dir, "exec", lab, "red", "--", "true"), 2, which)
	wantCode(t, "shell LAB", nsscript(t, a.dir, "shell", lab, "host"), 2, which)
	wantCode(t, "exec without a lab", nsscript(t, a.dir, "exec", "red", "--", "true"), 2, `labs have a namespace "red" (`, "): name one of them, as in nsscript exec ")
	wantCode(t, "down LAB", nsscript(t, a.dir, "down", lab), 2, which)
	r := nsscript(t, a.dir, "ls", lab)
	wantCode(t, "ls LAB", r, 0, fmt.Sprintf("go in: nsscript shell %s@%d red;", lab, a.pid), fmt.Sprintf("go in: nsscript shell %s@%d red;", lab, b.pid))
	if !a.alive() || !b.alive() {
		t.Fatalf("a refused down ended a sandbox:\n%s\n%s", a.errText(), b.errText())
	}
	wantCode(t, "exec LAB@PID", nsscript(t, a.dir, "exec", fmt.Sprintf("%s@%d", lab, b.pid), "red", "--", "true"), 0)
	// The pid as a number: written 0PID, it is still that sandbox (and
	// down does not say "nothing to end" of one that runs).
	wantCode(t, "exec LAB@0PID", nsscript(t, a.dir, "exec", fmt.Sprintf("%s@0%d", lab, b.pid), "red", "--", "true"), 0)
	wantCode(t, "exec LAB@PID without NS", nsscript(t, a.dir, "exec", fmt.Sprintf("%s@%d", lab, b.pid), "--", "true"), 2,
		fmt.Sprintf("%s@%d is a lab: name one of its namespaces too, as in nsscript exec %s@%d host", lab, b.pid, lab, b.pid))

	wantCode(t, "down LAB@PID", nsscript(t, a.dir, "down", fmt.Sprintf("%s@%d", lab, a.pid)), 0, fmt.Sprintf("%s: ended its sandbox (pid %d)", lab, a.pid))
	a.wait("down " + lab)
	if !b.alive() {
		t.Fatalf("down %s@%d ended the other sandbox too:\n%s", lab, a.pid, b.errText())
	}
	wantCode(t, "down LAB@PID again", nsscript(t, a.dir, "down", fmt.Sprintf("%s@%d", lab, a.pid)), 0, fmt.Sprintf("no sandbox %d runs it: nothing to end", a.pid))
	wantCode(t, "exec LAB, one again", nsscript(t, a.dir, "exec", lab, "red", "--", "ip", "-br", "addr"), 0, "10.77.0.1/24")
	wantCode(t, "down LAB, one again", nsscript(t, a.dir, "down", lab), 0, fmt.Sprintf("%s: ended its sandbox (pid %d)", lab, b.pid))
	if code := b.wait("down"); code != 0 {
		t.Errorf("the --hold run exited %d after down, want 0\n%s", code, b.errText())
	}
}

// TestHoldCtrlC: `nsscript --sandbox --hold` on a terminal says how to go
// in; the commands it prints work as printed; Ctrl-C ends it.
func TestHoldCtrlC(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "topo.star"), []byte(intoTopo), 0o644); err != nil {
		t.Fatal(err)
	}
	lab := fmt.Sprintf("into-ctrlc-%d", os.Getpid())
	s := startTerminal(t, dir, nil, "--sandbox", "--hold", "--lab", lab, "topo.star")
	s.expect("nsscript: a command in one:")
	printed := strings.TrimSpace(s.expect("\n"))
	s.expect("nsscript: end it:")
	want := "nsscript exec " + lab + " red -- CMD [ARG ...]"
	if printed != want {
		t.Fatalf("the held run prints %q to run a command, want %q", printed, want)
	}
	args := append(strings.Fields(strings.TrimSuffix(printed, "CMD [ARG ...]"))[1:], "cat", "/etc/hosts")
	wantCode(t, "the printed exec command", nsscript(t, dir, args...), 0, "10.77.0.2 outside-into")
	pid := sandboxInit(s.cmd.Process.Pid)
	if !listed(t, dir, pid) {
		t.Errorf("ls does not list the held sandbox %d", pid)
	}
	s.send("\x03")
	select {
	case <-s.done:
	case <-time.After(patience):
		t.Fatalf("the held sandbox did not end on Ctrl-C:\n%s", s.text())
	}
	if s.code != 0 {
		t.Errorf("the held run exited %d after Ctrl-C, want 0:\n%s", s.code, s.text())
	}
	if listed(t, dir, pid) {
		t.Errorf("ls lists sandbox %d after Ctrl-C", pid)
	}
}

// TestIntoHostLab: shell and exec into a lab of the host's, made by a run
// inside the test's own sandbox (a held one); the held sandbox ends on
// SIGTERM.
func TestIntoHostLab(t *testing.T) {
	t.Parallel()
	outer := fmt.Sprintf("into-host-%d", os.Getpid())
	h := startHeld(t, outer, `print("ready")`, "--keep")
	if err := os.WriteFile(filepath.Join(h.dir, "topo.star"), []byte(intoTopo), 0o644); err != nil {
		t.Fatal(err)
	}
	wantCode(t, "the lab's run inside the sandbox", h.inside(bin, "topo.star"), 0, "built")
	r := h.inside(bin, "ls")
	wantCode(t, "ls inside", r, 0, "topo (")
	if strings.Contains(r.stdout, "sandbox") {
		t.Errorf("ls inside the sandbox shows a sandbox:\n%s", r.stdout)
	}
	wantCode(t, "exec into the host lab", h.inside(bin, "exec", "topo", "red", "--", "ip", "-br", "addr"), 0, "into0", "10.77.0.1/24")
	wantCode(t, "exec without a lab: the one that has red", h.inside(bin, "exec", "red", "--", "cat", "/etc/hosts"), 0, "10.77.0.2 outside-into")
	wantCode(t, "exec LAB@host", h.inside(bin, "exec", "topo@host", "red", "--", "ls", "/sys/class/net"), 0, "into0\nlo\n")
	wantCode(t, "exec's exit code through two", h.inside(bin, "exec", "topo", "red", "--", "sh", "-c", "exit 5"), 5)
	wantCode(t, "exec into the lab's host", h.inside(bin, "exec", "topo", "host", "--", "ip", "-br", "addr"), 0, "into1", "10.77.0.2/24")
	wantCode(t, "an unknown lab", h.inside(bin, "exec", "nolab", "red", "--", "true"), 2, `there is no lab "nolab"`)
	wantCode(t, "an empty lab name", h.inside(bin, "shell", "", "red"), 2, "lab name is empty (an unset variable?)")
	wantCode(t, "an unknown namespace", h.inside(bin, "shell", "topo", "blue"), 2, `has no namespace "blue"`)
	wantCode(t, "a command not found", h.inside(bin, "exec", "topo", "red", "--", "no-such-command-into"), 127, `cannot run "no-such-command-into" in namespace red of lab topo@host`)
	wantCode(t, "a command that cannot run", h.inside(bin, "exec", "topo", "red", "--", "/etc/hosts"), 126, `cannot run "/etc/hosts"`)

	s := startTerminal(t, h.dir, shellEnv, "exec", fmt.Sprintf("%s@%d", outer, h.pid), "host", "--", bin, "shell", "topo", "red")
	s.expect("/bin/sh in namespace red of lab topo (on this host); exit leaves it")
	shellChecks(t, s)
	shellEnds(t, s)

	wantCode(t, "down inside", h.inside(bin, "down", "topo"), 0, "topo: undid")
	if err := h.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := h.wait("SIGTERM"); code != 0 {
		t.Errorf("the held run exited %d after SIGTERM, want 0\n%s", code, h.errText())
	}
	if listed(t, h.dir, h.pid) {
		t.Errorf("ls lists sandbox %d after SIGTERM", h.pid)
	}
}

// TestIntoImpostors: processes that look like a sandbox's init in part
// are no sandbox: the init of a PID namespace that nsscript did not start,
// a process with the sandbox's mark in its environment that is no PID
// namespace's init, one that is both but in another user namespace, and
// a sandbox inside a sandbox (that one's business). ls does not list
// them, shell and exec do not go in, down leaves them alone. (In the
// test's own sandbox: its processes are its own.)
func TestIntoImpostors(t *testing.T) {
	t.Parallel()
	outer := fmt.Sprintf("into-impostor-%d", os.Getpid())
	h := startHeld(t, outer, `print("ready")`, "--keep")
	mark := "NSSCRIPT_IN_SANDBOX=init NSSCRIPT_SANDBOX_LAB="
	setup := `set -e
start() { "$@" </dev/null >/dev/null 2>&1 & echo $! >> pids; }
start unshare --pid --fork env NSSCRIPT_SANDBOX_LAB=pidinit sleep 60
start env ` + mark + `marked sleep 60
start unshare --user --map-root-user --pid --fork env ` + mark + `userns sleep 60
unshare --pid --fork --kill-child ` + bin + ` --sandbox --keep --lab nested topo.star </dev/null >/dev/null 2>nested.err &
echo $! >> pids
`
	wantCode(t, "starting impostors", h.inside("sh", "-c", setup), 0)
	b, err := os.ReadFile(filepath.Join(h.dir, "pids"))
	if err != nil {
		t.Fatal(err)
	}
	pids := strings.Fields(string(b))
	// The nested sandbox is a sandbox's init two PID namespaces down:
	// wait until it is held.
	deadline := time.Now().Add(patience)
	for {
		b, _ := os.ReadFile(filepath.Join(h.dir, "nested.err"))
		if strings.Contains(string(b), "nsscript: end it:") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the nested sandbox was not held within %s:\n%s", patience, b)
		}
		time.Sleep(20 * time.Millisecond)
	}
	r := h.inside(bin, "ls")
	wantCode(t, "ls", r, 0, outer+" (")
	if strings.Contains(r.stdout, "sandbox") {
		t.Errorf("ls shows a process that is no sandbox of this one's:\n%s", r.stdout)
	}
	for _, lab := range []string{"pidinit", "marked", "userns", "nested"} {
		wantCode(t, "shell into "+lab, h.inside(bin, "shell", lab, "host"), 2, `there is no lab "`+lab+`"`)
		wantCode(t, "down "+lab, h.inside(bin, "down", lab), 0, lab+": nothing to undo")
	}
	for _, pid := range pids {
		wantCode(t, "the impostor lives on", h.inside("kill", "-0", pid), 0)
	}
	if r := nsscript(t, h.dir, "down", fmt.Sprintf("%s@%d", outer, h.pid)); r.code != 0 {
		t.Errorf("down %s: exit %d\n%s", outer, r.code, r.stderr)
	}
	h.wait("down")
}

// replShellChecks builds intoTopo in a REPL at its prompt, and checks
// shell(red) there as shellChecks does, back to the prompt.
func replShellChecks(t *testing.T, s *session) {
	t.Helper()
	for _, l := range strings.Split(strings.TrimSpace(intoTopo), "\n") {
		s.do(l)
	}
	s.send("shell(red)\r")
	shellChecks(t, s)
	s.expect("the shell exited with code 3")
	s.expect(">>> ")
}

// TestReplShell: shell(ns) in the REPL gives the terminal to a shell in
// the namespace, and the session goes on when it exits.
func TestReplShell(t *testing.T) {
	t.Parallel()
	s := startREPL(t, t.TempDir(), shellEnv)
	replShellChecks(t, s)
	wantIn(t, "the session after the shell", s.do("1 + 1"), "\n2\n")
	wantIn(t, "shell() of a name, not a namespace", s.do(`shell("red")`), `want a Namespace, got the string "red"`)
	s.quit()
}
