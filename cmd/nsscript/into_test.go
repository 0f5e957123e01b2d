package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The tests of nsscript shell, exec, ls and down with labs that run in
// sandboxes (issue 15). Each starts `nsscript --sandbox --keep` in the
// background on the real host, which registers its sandbox in the host's
// /run/nsscript while it runs; the commands go into it from outside, as a
// user would, and end it. TestMain's host snapshot checks that nothing of
// it is left.

// intoTopo builds namespace red with a veth into the sandbox's host and an
// /etc/netns/red/hosts of its own.
const intoTopo = `
red = namespace("red")
veth("into0", "into1", ns = red, addr = "10.77.0.1/24", peer_addr = "10.77.0.2/24")
red.etc("hosts", "10.77.0.2 outside-into\n")
print("built")
`

// held is a `nsscript --sandbox --keep` running in the background.
type held struct {
	t   *testing.T
	lab string
	dir string
	cmd *exec.Cmd

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

// startHeld writes script (as topo.star) to a fresh directory and runs
// it as lab under --sandbox --keep, until the sandbox is held.
func startHeld(t *testing.T, lab, script string) *held {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "topo.star"), []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	h := &held{t: t, lab: lab, dir: dir, done: make(chan struct{})}
	h.cmd = exec.Command(bin, "--sandbox", "--keep", "--lab", lab, "topo.star")
	h.cmd.Dir = dir
	h.cmd.Stderr = lockedWriter{h}
	if err := h.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = h.cmd.Wait(); close(h.done) }()
	t.Cleanup(func() {
		select {
		case <-h.done:
		default:
			nsscript(t, dir, "down", lab+fmt.Sprintf("@%d", h.sandboxPid()))
			select {
			case <-h.done:
			case <-time.After(20 * time.Second):
				_ = h.cmd.Process.Kill()
				<-h.done
			}
		}
	})
	deadline := time.Now().Add(patience)
	for !strings.Contains(h.errText(), "nsscript: end it: ") {
		select {
		case <-h.done:
			t.Fatalf("nsscript --sandbox --keep exited (%v) before it held the sandbox:\n%s", h.cmd.ProcessState, h.errText())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("the sandbox was not held within %s:\n%s", patience, h.errText())
		}
	}
	return h
}

// sandboxPid is the pid of the sandbox's init: the child of the held run.
func (h *held) sandboxPid() int {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", h.cmd.Process.Pid, h.cmd.Process.Pid))
	var pid int
	fmt.Sscan(string(b), &pid)
	return pid
}

// wait waits for the held run to exit and returns its exit code.
func (h *held) wait(what string) int {
	h.t.Helper()
	select {
	case <-h.done:
	case <-time.After(20 * time.Second):
		h.t.Fatalf("nsscript --sandbox --keep still runs 20s after %s:\n%s", what, h.errText())
	}
	return h.cmd.ProcessState.ExitCode()
}

// inside runs `nsscript exec LAB host -- ARGS...`: a command in the
// sandbox's own namespace.
func (h *held) inside(args ...string) result {
	h.t.Helper()
	return nsscript(h.t, h.dir, append([]string{"exec", h.lab, "host", "--"}, args...)...)
}

func wantCode(t *testing.T, what string, r result, code int, wants ...string) {
	t.Helper()
	if r.code != code {
		t.Errorf("%s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", what, r.code, code, r.stdout, r.stderr)
	}
	wantIn(t, what, r.stdout+r.stderr, wants...)
}

// shellChecks drives a shell that nsscript opened on a terminal in
// namespace red of intoTopo: its devices, its /etc/hosts, Ctrl-C that
// reaches the shell's command and leaves the shell, and `exit 3`.
func shellChecks(t *testing.T, s *session) {
	t.Helper()
	s.send("ip -br addr; cat /etc/hosts; echo MARK-$((6*7))\r")
	out := s.expect("MARK-42")
	wantIn(t, "ip addr and /etc/hosts in the shell", out, "into0", "10.77.0.1/24", "10.77.0.2 outside-into")
	s.send("sleep 30\r")
	time.Sleep(300 * time.Millisecond)
	s.send("\x03")
	s.send("echo ALIVE-$((1+1))\r")
	s.expect("ALIVE-2")
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

// TestIntoSandbox: shell and exec into a lab held by `--sandbox --keep`,
// ls marks it, and down ends it.
func TestIntoSandbox(t *testing.T) {
	t.Parallel()
	lab := fmt.Sprintf("into-sbx-%d", os.Getpid())
	h := startHeld(t, lab, intoTopo)
	wantIn(t, "the held run's message", h.errText(), "namespaces: host, red", "nsscript shell "+lab+" NS", "nsscript down "+lab)
	pid := h.sandboxPid()

	r := nsscript(t, h.dir, "ls")
	wantCode(t, "ls", r, 0, fmt.Sprintf("%s (running in sandbox %d: nsscript shell %s NS)\n  namespaces: red\n", lab, pid, lab))
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
	wantCode(t, "exec in the sandbox's host", h.inside("ip", "-br", "addr"), 0, "into1", "10.77.0.2/24")
	wantCode(t, "exec's exit code", nsscript(t, h.dir, "exec", fmt.Sprintf("%s@%d", lab, pid), "red", "--", "sh", "-c", "exit 7"), 7)
	wantCode(t, "exec of a command ended by a signal", nsscript(t, h.dir, "exec", lab, "red", "--", "sh", "-c", "kill -TERM $$"), 128+15)

	// Bad input: usage errors that say what to do.
	wantCode(t, "an unknown namespace", nsscript(t, h.dir, "exec", lab, "blue", "--", "true"), 2, "has no namespace \"blue\": it has host, red")
	wantCode(t, "exec without --", nsscript(t, h.dir, "exec", lab, "red", "true"), 2, "put -- before the command")
	wantCode(t, "an unknown sandbox pid", nsscript(t, h.dir, "exec", lab+"@12345678", "red", "--", "true"), 2, "no lab")

	s := startTerminal(t, h.dir, []string{"SHELL=/bin/sh"}, "shell", lab, "red")
	s.expect(fmt.Sprintf("/bin/sh in namespace red of lab %s (in sandbox %d); exit leaves it", lab, pid))
	shellChecks(t, s)
	shellEnds(t, s)

	r = nsscript(t, h.dir, "down", lab)
	wantCode(t, "down", r, 0, fmt.Sprintf("%s: ended its sandbox (pid %d)", lab, pid))
	if code := h.wait("down"); code != 0 {
		t.Errorf("the held run exited %d after down, want 0 (its script succeeded)\n%s", code, h.errText())
	}
	if _, err := os.Lstat(fmt.Sprintf("/run/nsscript/.sandboxes/%d", pid)); !os.IsNotExist(err) {
		t.Errorf("the sandbox's registration is left after down (%v)", err)
	}
	if r := nsscript(t, h.dir, "ls", lab); strings.Contains(r.stdout, "sandbox") {
		t.Errorf("ls %s after down:\n%s", lab, r.stdout)
	}
	wantCode(t, "exec after down", nsscript(t, h.dir, "exec", lab, "red", "--", "true"), 2, "no lab")
}

// TestIntoHostLab: shell and exec into a lab of the host's, made by a run
// inside the test's own sandbox (a held one); the held sandbox ends on
// SIGTERM.
func TestIntoHostLab(t *testing.T) {
	t.Parallel()
	outer := fmt.Sprintf("into-host-%d", os.Getpid())
	h := startHeld(t, outer, `print("ready")`)
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
	wantCode(t, "exec's exit code through two", h.inside(bin, "exec", "topo", "red", "--", "sh", "-c", "exit 5"), 5)
	wantCode(t, "exec into the lab's host", h.inside(bin, "exec", "topo", "host", "--", "ip", "-br", "addr"), 0, "into1", "10.77.0.2/24")
	wantCode(t, "an unknown lab", h.inside(bin, "exec", "nolab", "red", "--", "true"), 2, `there is no lab "nolab"`)
	wantCode(t, "an empty lab name", h.inside(bin, "shell", "", "red"), 2, "lab name is empty (an unset variable?)")
	wantCode(t, "an unknown namespace", h.inside(bin, "shell", "topo", "blue"), 2, "has no namespace \"blue\"")

	s := startTerminal(t, h.dir, []string{"SHELL=/bin/sh"}, "exec", outer, "host", "--", bin, "shell", "topo", "red")
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
	if r := nsscript(t, h.dir, "ls", outer); strings.Contains(r.stdout, "sandbox") {
		t.Errorf("ls %s after SIGTERM:\n%s", outer, r.stdout)
	}
}

// TestIntoStaleRegistration: registrations that do not name a running
// sandbox are ignored: a dead pid, a pid reused (another start time), a
// live process that is no sandbox's init, a link, junk; down of such a
// lab ends nothing, and a sandbox that starts removes them.
func TestIntoStaleRegistration(t *testing.T) {
	t.Parallel()
	outer := fmt.Sprintf("into-stale-%d", os.Getpid())
	h := startHeld(t, outer, `print("ready")`)
	setup := `set -e
d=/run/nsscript/.sandboxes
mkdir -p $d && chmod 700 $d
sleep 60 </dev/null >/dev/null 2>&1 &
echo $! > impostor.pid
start=$(awk '{print $22}' /proc/$!/stat)
printf '{"lab":"impostor","pid":%d,"start":%s}' $! $start > $d/$!
printf '{"lab":"ghost","pid":99999,"start":1}' > $d/99999
printf '{"lab":"reused","pid":1,"start":1}' > $d/1
ln -s /etc/passwd $d/4242
echo junk > $d/junk
`
	wantCode(t, "writing registrations", h.inside("sh", "-c", setup), 0)
	b, err := os.ReadFile(filepath.Join(h.dir, "impostor.pid"))
	if err != nil {
		t.Fatal(err)
	}
	impostor := strings.TrimSpace(string(b))
	r := h.inside(bin, "ls")
	wantCode(t, "ls", r, 0, outer+" (")
	if strings.Contains(r.stdout, "sandbox") {
		t.Errorf("ls shows a registration that names no running sandbox:\n%s", r.stdout)
	}
	for _, lab := range []string{"impostor", "ghost", "reused"} {
		wantCode(t, "shell into "+lab, h.inside(bin, "shell", lab, "host"), 2, "there is no lab \""+lab+"\"")
		wantCode(t, "down "+lab, h.inside(bin, "down", lab), 0, lab+": nothing to undo")
	}
	wantCode(t, "the impostor lives on", h.inside("kill", "-0", impostor), 0)
	// A sandbox that starts removes what is not a running sandbox's (a
	// script on stdin, here empty).
	wantCode(t, "a sandbox inside", h.inside(bin, "--sandbox", "--lab", "inner"), 0)
	if r := h.inside("ls", "-A", "/run/nsscript"); r.stdout != outer+"\n" {
		t.Errorf("left in the sandbox's /run/nsscript: %q, want only lab %s's directory", r.stdout, outer)
	}
	if r := nsscript(t, h.dir, "down", outer); r.code != 0 {
		t.Errorf("down %s: exit %d\n%s", outer, r.code, r.stderr)
	}
	h.wait("down")
}

// TestReplShell: shell(ns) in the REPL gives the terminal to a shell in
// the namespace, and the session goes on when it exits.
func TestReplShell(t *testing.T) {
	t.Parallel()
	s := startREPL(t, t.TempDir(), []string{"SHELL=/bin/sh"})
	for _, l := range strings.Split(strings.TrimSpace(intoTopo), "\n") {
		s.do(l)
	}
	s.send("shell(red)\r")
	shellChecks(t, s)
	s.expect("the shell exited with code 3")
	s.expect(">>> ")
	wantIn(t, "the session after the shell", s.do("1 + 1"), "\n2\n")
	s.quit()
}
