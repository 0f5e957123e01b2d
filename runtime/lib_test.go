package runtime

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/nsscript/nsscript/builtins/plan"
)

// execIn writes files (name -> source) to a fresh directory and runs the
// first, main.star, with a fresh interpreter.
func execIn(t *testing.T, files map[string]string) (string, error) {
	t.Helper()
	dir := t.TempDir()
	for name, src := range files {
		p := filepath.Join(dir, name)
		err := os.MkdirAll(filepath.Dir(p), 0o755)
		if err == nil {
			err = os.WriteFile(p, []byte(src), 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	in, out := newInterp(t, nil)
	_, err := in.ExecFile(context.Background(), filepath.Join(dir, "main", "main.star"), nil)
	return out.String(), err
}

// A library loads from any script by its @nsscript/ name, once per run.
func TestLoadLibrary(t *testing.T) {
	out, err := execIn(t, map[string]string{"main/main.star": `
load("@nsscript/topo.star", "topo")
load("@nsscript/topo.star", again = "topo")
print(type(topo), dir(topo), topo == again)
`})
	if err != nil {
		t.Fatal(FormatError(err))
	}
	if want := "struct [\"linear\", \"minimal\", \"single\", \"tree\"] True\n"; out != want {
		t.Fatalf("stdout = %q, want %q", out, want)
	}
}

// A name under @nsscript/ that is no library is an error that lists the
// libraries, whatever file the name would reach as a path.
func TestLoadLibraryUnknown(t *testing.T) {
	for _, name := range []string{"@nsscript/nope.star", "@nsscript/", "@nsscript/../outside.star",
		"@nsscript/lib/topo.star", "@nsscript//topo.star", "@nsscript/./topo.star", "@nsscript/topo"} {
		t.Run(name, func(t *testing.T) {
			out, err := execIn(t, map[string]string{
				"main/main.star":           `load("` + name + `", "secret")` + "\nprint(secret)\n",
				"main/@nsscript/nope.star": "secret = 1\n",
				"outside.star":             "secret = 2\n",
			})
			if err == nil {
				t.Fatalf("load(%q) succeeded; stdout %q", name, out)
			}
			wantReport(t, FormatError(err), "", `main.star:1:1: load: no library "`+name+`" in this nsscript: there are @nsscript/topo.star`)
		})
	}
}

// Libraries widen nothing: a script that loads one is still confined to
// its directory, and a library loads only other libraries.
func TestLoadConfinedWithLibraries(t *testing.T) {
	_, err := execIn(t, map[string]string{
		"main/main.star": `load("@nsscript/topo.star", "topo")` + "\n" + `load("../outside.star", "secret")` + "\n",
		"outside.star":   "secret = 2\n",
	})
	if err == nil {
		t.Fatal("a load out of the tree succeeded after a library's")
	}
	wantReport(t, FormatError(err), "", `main.star:2:1: load: "../outside.star" is outside the main script's directory`)

	saved := libFS
	t.Cleanup(func() { libFS = saved })
	libFS = fstest.MapFS{
		"lib/relative.star": {Data: []byte(`load("b.star", "x")` + "\n")},
		"lib/b.star":        {Data: []byte("x = 1\n")},
		"lib/c.star":        {Data: []byte(`load("@nsscript/b.star", "x")` + "\ny = x + 1\n")},
	}
	_, err = execIn(t, map[string]string{"main/main.star": `load("@nsscript/relative.star", "x")` + "\n", "main/b.star": "x = 2\n"})
	if err == nil {
		t.Fatal("a library's relative load succeeded")
	}
	wantReport(t, FormatError(err), `@nsscript/relative.star:1:1: load: `, `@nsscript/relative.star loads only libraries (@nsscript/NAME.star), not "b.star"`)
	out, err := execIn(t, map[string]string{"main/main.star": `load("@nsscript/c.star", "y")` + "\nprint(y)\n"})
	if err != nil || out != "2\n" {
		t.Fatalf("a library loading a library: stdout %q, error %v", out, err)
	}
}

// The frozen-module rule and its idiom, as the README tells them: a
// loaded file's globals cannot change after its load (the error says what
// to do), a value made by a call after it can.
func TestLoadedModuleFrozen(t *testing.T) {
	files := map[string]string{"main/counter.star": `
count = [0]
def bump():
    count[0] += 1
    return count[0]

def counter():
    state = {"n": 0}
    def next():
        state["n"] += 1
        return state["n"]
    return next
`}
	files["main/main.star"] = `load("counter.star", "bump", "counter")` + "\nnext = counter()\nprint(next(), next())\nbump()\n"
	out, err := execIn(t, files)
	if out != "1 2\n" {
		t.Errorf("the idiom's counter printed %q, want \"1 2\\n\"", out)
	}
	if err == nil {
		t.Fatal("a loaded module's global list changed")
	}
	wantReport(t, FormatError(err), "", `counter.star:4:10: cannot assign to element of frozen list (a file's globals are frozen once it has run, a loaded file's when its load ends: keep what changes in a value a function call makes`)
}

// Starlark's % refuses widths: the error says to use sprintf.
func TestFormatHint(t *testing.T) {
	_, err := execIn(t, map[string]string{"main/main.star": `print("%d%%" % 5, sprintf("%02x", 10))` + "\n" + `x = "%02x" % 10` + "\n"})
	if err == nil {
		t.Fatal(`"%02x" % 10 succeeded`)
	}
	wantReport(t, FormatError(err), "", `main.star:2:12: unknown conversion %0 (Starlark's % has no flags, width or precision: use sprintf, e.g. sprintf("%02x", n))`)
	if got := hint("unknown conversion %y"); got != "unknown conversion %y" {
		t.Errorf("an unknown type got a hint: %q", got)
	}
}

// -c programs have topo predeclared; scripts load it.
func TestPredeclaredLibraries(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the interpreter opens the host namespace: run as root")
	}
	for _, libs := range []bool{false, true} {
		in, err := New(Options{Lab: "runtime-test", Stdout: &bytes.Buffer{}, Libraries: libs}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := in.Predeclared["topo"]; ok != libs {
			t.Errorf("Libraries %v: topo predeclared %v", libs, ok)
		}
	}
}

// A plan of a script using the library: the builtins run against the
// model, and reachability answers every pair, said to be taken as such.
func TestPlanLibrary(t *testing.T) {
	rec := planScript(t, `
load("@nsscript/topo.star", "topo")
net = topo.tree(depth = 2, fanout = 2)
assert.eq([h.name for h in net.hosts], ["h1", "h2", "h3", "h4"])
assert.reachability(net.pingall())
`)
	var b bytes.Buffer
	if err := plan.WriteScript(&b, "m.star", "m", rec.Ops()); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"ip netns add switches\n",
		"ip -n switches link add s1 type bridge\n",
		"ip -n switches link add s2-eth1 type veth peer name h1-eth0 netns h1\n",
		"ip -n h1 addr add 10.0.0.1/8 dev h1-eth0\n",
		"ip -n switches link add s1-eth1 type veth peer name s2-eth3\n",
		"ip -n switches link set s1-eth1 master s1\n",
		"# h1 -> h2 h3 h4\n",
		"# *** Results: 0% dropped (12/12 received) (a plan sends nothing: taken as answered)\n",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("the plan has no line %q:\n%s", want, b.String())
		}
	}
}
