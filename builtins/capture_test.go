package builtins

import (
	"os"
	"strings"
	"testing"
)

// TestCaptureInPlan: in a plan, capture() is a note and an empty Capture
// that runs until stopped: no packets, wait() gives 0 at once, and the
// file it would write is named but not made.
func TestCaptureInPlan(t *testing.T) {
	p, err := run(t, `
def check():
    red = namespace("red")
    veth("a", "b", peer_ns = red)
    c = capture(red.link("b"), filter = "")
    d = capture(red)
    got = [c.packets, c.wait(count = 3, timeout = "1h"), c.running, c.filter, c.target == red.link("b"), d.target == red]
    c.stop()
    if got != [[], 0, True, None, True, True] or c.running:
        fail(got, c.running)
    if not c.file.startswith("/run/nsscript/t/captures/") or c.file == d.file:
        fail(c.file, d.file)
check()
`)
	if err != nil {
		t.Fatal(err)
	}
	var notes []string
	for _, op := range p.Ops() {
		if op.Op == "note" {
			notes = append(notes, op.Text)
		}
	}
	want := []string{
		`nothing captured in a plan (no packets are sent): capture(red.link("b")) stays empty`,
		`nothing captured in a plan (no packets are sent): capture(red) stays empty`,
	}
	if strings.Join(notes, "\n") != strings.Join(want, "\n") {
		t.Errorf("notes:\n%s\nwant:\n%s", strings.Join(notes, "\n"), strings.Join(want, "\n"))
	}
	if _, err := os.Stat("/run/nsscript/t/captures"); err == nil {
		t.Errorf("a plan made the captures' directory")
	}
}

// TestCheckOutput: a capture's file must be writable, which a user who
// is not root finds out before anything starts.
func TestCheckOutput(t *testing.T) {
	dir := t.TempDir()
	if abs, err := checkOutput(dir + "/x.pcapng"); err != nil || abs != dir+"/x.pcapng" {
		t.Errorf("checkOutput in a temporary directory: %q, %v", abs, err)
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
