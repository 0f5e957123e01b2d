package builtins

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestCaptureInPlan: in a plan, capture() stands for the tcpdump that
// would capture the same, started in the background and stopped (INT)
// by stop() or at the end; the Capture is empty and runs until stopped:
// no packets, wait() gives 0 at once, and the file it would write, in
// the lab's directory unless file= says, is named but not made.
func TestCaptureInPlan(t *testing.T) {
	p, err := run(t, `
def check():
    red = namespace("red")
    veth("a", "b", peer_ns = red)
    c = capture(red.link("b"), filter = "")
    d = capture(red, filter = "icmp and host 10.0.0.1", snaplen = 96)
    got = [c.packets, c.wait(count = 3, timeout = "1h"), c.running, c.filter, c.target == red.link("b"), d.target == red]
    c.stop()
    c.stop()
    if got != [[], 0, True, None, True, True] or c.running or not d.running:
        fail(got, c.running, d.running)
    if c.file != "/run/nsscript/t/captures/capture-1.pcapng" or d.file != "/run/nsscript/t/captures/capture-2.pcapng":
        fail(c.file, d.file)
    return d
d = check()
d.stop()
`)
	if err != nil {
		t.Fatal(err)
	}
	var cmds []string
	for _, op := range p.Ops() {
		if strings.Contains(op.Cmd, "tcpdump") || strings.Contains(op.Cmd, "pid") || strings.Contains(op.Cmd, "mkdir") {
			cmds = append(cmds, op.Cmd)
		}
	}
	want := []string{
		"mkdir -p /run/nsscript/t/captures || true",
		"ip netns exec red tcpdump -U -i b -w /run/nsscript/t/captures/capture-1.pcapng >/dev/null 2>&1 &\npid1=$!",
		"ip netns exec red tcpdump -U -i any -s 96 -w /run/nsscript/t/captures/capture-2.pcapng 'icmp and host 10.0.0.1' >/dev/null 2>&1 &\npid2=$!",
		`kill -INT "$pid1" || true`,
		`kill -INT "$pid2" || true`,
	}
	if strings.Join(cmds, "\n") != strings.Join(want, "\n") {
		t.Errorf("plan:\n%s\nwant:\n%s", strings.Join(cmds, "\n"), strings.Join(want, "\n"))
	}
	if _, err := os.Stat("/run/nsscript/t/captures"); err == nil {
		t.Errorf("a plan made the captures' directory")
	}
}

// TestCheckOutput: a capture's file must be one the script may write and
// can, which is found out before anything starts: never a link, a pipe
// or a file that holds something else than packets.
func TestCheckOutput(t *testing.T) {
	dir := t.TempDir()
	if abs, err := checkOutput(dir + "/x.pcapng"); err != nil || abs != dir+"/x.pcapng" {
		t.Errorf("checkOutput in a temporary directory: %q, %v", abs, err)
	}
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, ok := range []string{write("empty", ""), write("old.pcapng", "\x0a\x0d\x0d\x0a..."), write("old.pcap", "\xd4\xc3\xb2\xa1...")} {
		if _, err := checkOutput(ok); err != nil {
			t.Errorf("checkOutput(%s): %v", ok, err)
		}
	}
	notes := write("notes.txt", "something else")
	link := filepath.Join(dir, "link.pcapng")
	if err := os.Symlink(filepath.Join(dir, "old.pcapng"), link); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		notes:                 "is there already and is not a capture (pcap or pcapng)",
		link:                  "is there already and is not a regular file (a symbolic link)",
		fifo:                  "is there already and is not a regular file (a named pipe)",
		dir:                   "is a directory: name a file in it",
		"/sys/kernel/x":       "is under /sys, which is not for a script's files",
		"/run/nsscript/x/log": "directory /run/nsscript/x does not exist",
	} {
		if _, err := checkOutput(path); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("checkOutput(%s): %v, want an error saying %q", path, err, want)
		}
	}
	// A link to a reserved directory does not get a file there.
	sys := filepath.Join(dir, "sys")
	if err := os.Symlink("/sys/kernel", sys); err != nil {
		t.Fatal(err)
	}
	if _, err := checkOutput(sys + "/x.pcapng"); err == nil || !strings.Contains(err.Error(), "/sys/kernel/x.pcapng is under /sys") {
		t.Errorf("checkOutput through a link to /sys: %v", err)
	}
	if os.Geteuid() == 0 {
		t.Skip("root may write anywhere: the rest is checked as another user")
	}
	if err := os.Chmod(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(dir, 0o755)
	if _, err := checkOutput(dir + "/x.pcapng"); err == nil || !strings.Contains(err.Error(), "is not writable") {
		t.Errorf("checkOutput in a read-only directory: %v", err)
	}
}
