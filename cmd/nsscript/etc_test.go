package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDaemonBothServers makes sure both branches of daemon.star run
// wherever the suite runs: TestBuiltins takes the sshd branch where sshd
// is installed, so this test forces the http.server one there.
func TestDaemonBothServers(t *testing.T) {
	if _, err := exec.LookPath("sshd"); err != nil {
		t.Skip("sshd is not installed: TestBuiltins/daemon already runs the http.server branch")
	}
	t.Parallel()
	args := []string{"--sandbox", "daemon.star", "server=http"}
	want := "daemon ok (python3)"
	r := nsscript(t, builtinsDir, args...)
	if r.code != 0 || !strings.Contains(r.stdout, want) {
		t.Fatalf("nsscript %s exited %d, want 0 and %q\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, want, r.stdout, r.stderr)
	}
}
