package main

import (
	"strings"
	"testing"
)

// TestOneLiner: nsscript -c runs a program given on the command line with
// topo predeclared; Mininet's tree,2,3 answers pingall 72 of 72, printed as
// Mininet prints it. The topologies themselves are tested by
// testdata/builtins/topo_*.star.
func TestOneLiner(t *testing.T) {
	t.Parallel()
	r := nsscript(t, t.TempDir(), "--sandbox", "-c", "topo.tree(depth=2, fanout=3).pingall()")
	var want strings.Builder
	want.WriteString("*** Ping: testing ping reachability\n")
	for i := 1; i <= 9; i++ {
		line := "h" + string(rune('0'+i)) + " ->"
		for j := 1; j <= 9; j++ {
			if j != i {
				line += " h" + string(rune('0'+j))
			}
		}
		want.WriteString(line + "\n")
	}
	want.WriteString("*** Results: 0% dropped (72/72 received)\n")
	if r.code != 0 || r.stdout != want.String() {
		t.Fatalf("exit %d\nstdout:\n%s\nwant:\n%s\nstderr:\n%s", r.code, r.stdout, want.String(), r.stderr)
	}
}

// A -c program sees key=value arguments as a script does, and its errors
// point into the program (<command line>), also those a library raises,
// whose lines are in the backtrace.
func TestOneLinerArgsAndErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	r := nsscript(t, dir, "--sandbox", "-c", `print(args["x"], sprintf("%03d", int(args["x"])))`, "x=7")
	if r.code != 0 || r.stdout != "7 007\n" {
		t.Errorf("args: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	r = nsscript(t, dir, "--sandbox", "-c", "net = topo.single(k=0)")
	if r.code != 1 || !strings.HasPrefix(r.stderr, "<command line>:1:18: fail: topo.single: k must be a whole number, 1 or more, got 0\n") ||
		!strings.Contains(r.stderr, "\n  <command line>:1:18: in <toplevel>\n  @nsscript/topo.star:") {
		t.Errorf("error: exit %d, stderr:\n%s", r.code, r.stderr)
	}
	for _, args := range [][]string{{"-c"}, {"-c", "print(1)", "run"}, {"-c", "print(1)", "-i", "x.star"}, {"-c", "print(1)", "notkv"}} {
		if r := nsscript(t, dir, args...); r.code != 2 || r.stdout != "" {
			t.Errorf("nsscript %q: exit %d (want 2), stdout %q, stderr %q", args, r.code, r.stdout, r.stderr)
		}
	}
}
