package runtime

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"go.starlark.net/starlark"
)

// The REPL's parts that need no terminal: completion, what save() keeps,
// and help. The interactive loop itself is tested end to end, through a
// pseudo-terminal, in cmd/nsscript/repl_test.go.

// newREPL is a session on an interpreter that changes nothing in the
// kernel; what it prints goes to the returned buffer.
func newREPL(t *testing.T) (*repl, *bytes.Buffer) {
	in, out := newInterp(t, nil)
	t.Cleanup(func() { in.Journal.Close() })
	r := &repl{in: in, stdout: out, stderr: out, globals: starlark.StringDict{}}
	for k, v := range in.Predeclared {
		r.globals[k] = v
	}
	r.own = starlark.StringDict{"help": starlark.NewBuiltin("help", r.help), "save": starlark.NewBuiltin("save", r.save)}
	for k, v := range r.own {
		r.globals[k] = v
	}
	return r, out
}

// enter parses and runs src as if typed at the prompt.
func (r *repl) enter(t *testing.T, src string) {
	t.Helper()
	lines := strings.Split(src, "\n")
	i := 0
	opts := *FileOptions
	f, err := opts.ParseCompoundStmt("<stdin>", func() ([]byte, error) {
		if i == len(lines) {
			return []byte("\n"), nil
		}
		i++
		return []byte(lines[i-1] + "\n"), nil
	})
	if err != nil {
		t.Fatalf("parse %q: %v", src, err)
	}
	r.exec(f, src)
}

func TestReplComplete(t *testing.T) {
	r, _ := newREPL(t)
	r.enter(t, "def plug(ns, ip, bridge=None, *rest, **kw):\n    pass")
	r.enter(t, "sw_count = 1")
	c := &completer{globals: r.globals, env: r.in.Env}
	for _, tc := range []struct {
		line, head string
		want       []string // nil: no completion
	}{
		{"veth(\"a\", \"b\", peer_n", `veth("a", "b", `, []string{"peer_ns="}},
		{"veth(\"a\", \"b\", ns=host, n", `veth("a", "b", ns=host, `, []string{"name=", "namespace", "namespaces", "nat", "not"}},
		{"plug(red, b", "plug(red, ", []string{"bridge=", "bool", "break", "bridge", "bytes"}},
		{"sw_", "", []string{"sw_count"}},
		{"nat.d", "nat.", []string{"dnat"}},
		{"host.li", "host.", []string{"link", "links"}},
		{"x = host.is_", "x = host.", []string{"is_host"}},
		{"assert.unr", "assert.", []string{"unreachable"}},
		{"nosuch.x", "", nil},
		{"veth(ns=ho", "veth(ns=", []string{"host"}}, // a value, not a keyword
		{"# namesp", "", nil},
		{"", "", []string{"    "}},  // Tab indents
		{"print(\"namesp", "", nil}, // a string that names nothing
	} {
		head, got, tail := c.complete(tc.line, len([]rune(tc.line)))
		if tail != "" || !slices.Equal(got, tc.want) || tc.want != nil && head != tc.head {
			t.Errorf("complete(%q) = %q, %q, %q; want %q, %q", tc.line, head, got, tail, tc.head, tc.want)
		}
	}
	// The cursor in the middle: what follows it stays.
	if head, got, tail := c.complete("nat.d)", 5); head != "nat." || !slices.Equal(got, []string{"dnat"}) || tail != ")" {
		t.Errorf("complete in the middle = %q %q %q", head, got, tail)
	}
	// Host links inside link("..."): the host has at least lo.
	head, got, _ := c.complete(`link("l`, 7)
	if head != `link("` || !slices.Contains(got, `lo"`) {
		t.Errorf(`complete(link("l) = %q, %q; want lo"`, head, got)
	}
	if _, got, _ := c.complete(`host.link('l')`, 12); !slices.Contains(got, "lo") {
		t.Errorf("complete before a closing quote = %q; want lo without a second quote", got)
	}
}

func TestReplScanLine(t *testing.T) {
	for _, tc := range []struct {
		line     string
		inString bool
		callee   string
	}{
		{`veth("a", "b`, true, "veth"},
		{`veth("a", "b")`, false, ""},
		{`red.link("x`, true, "red.link"},
		{`f(g(1), [h(`, false, "h"},
		{`s = "a\"b`, true, ""},
		{`s = 'it''s`, true, ""},
		{`s = """x`, true, ""},
	} {
		st := scanLine(tc.line)
		callee := ""
		if c := st.call(); c != nil {
			callee = c.callee
		}
		if st.inString != tc.inString || callee != tc.callee {
			t.Errorf("scanLine(%q): in string %v, call %q; want %v, %q", tc.line, st.inString, callee, tc.inString, tc.callee)
		}
	}
}

// save() keeps what builds (definitions, assignments, calls that may
// change something), in order, and leaves out what failed and what only
// looked; an expression whose value a later statement reads as _ is
// kept as an assignment to _.
func TestReplSaveScript(t *testing.T) {
	r, out := newREPL(t)
	for _, src := range []string{
		"x = 1",
		"x + 1",  // looks
		"1 // 0", // fails
		"def f(a):\n    return [a]",
		"len('ab')",                          // looks, but the next statement reads its value
		"z = _",                              // reads _, set by len('ab')
		"f(2)",                               // a call to a user function: may change things
		"y = _",                              // reads _, set by f(2)
		"print(x); host.name",                // looks
		"help(f)",                            // looks
		`sleep(0)`,                           // not an inspection (and changes nothing in the kernel here)
		"host.sysctl('net.ipv4.ip_forward')", // a read
	} {
		r.enter(t, src)
	}
	if !strings.Contains(out.String(), "floored division by zero") {
		t.Errorf("the failing statement printed:\n%s", out)
	}
	got, n := r.script()
	body := got[strings.Index(got, "\nx = 1"):]
	want := "\nx = 1\ndef f(a):\n    return [a]\n_ = len('ab')\nz = _\n_ = f(2)\ny = _\nsleep(0)\n"
	if body != want || n != 7 {
		t.Errorf("script (%d statements):\n%s\nwant (7):\n%s", n, body, want)
	}
	if r.globals["y"].String() != "[2]" || r.globals["z"].String() != "2" {
		t.Errorf("y = %s, z = %s", r.globals["y"], r.globals["z"])
	}
}

func TestReplHelpText(t *testing.T) {
	r, out := newREPL(t)
	r.enter(t, "help(veth)")
	for _, w := range []string{"veth(name, peer, ns=host", "veth pair", "equivalent: ip -n NS link add NAME type veth peer name PEER"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("help(veth): want %q in:\n%s", w, out)
		}
	}
	out.Reset()
	r.enter(t, "help()")
	for _, name := range []string{"namespace", "veth", "bridge", "dummy", "route", "exec", "ping", "dnat", "masquerade", "assert ", "reachable", "save("} {
		if !strings.Contains(out.String(), name) {
			t.Errorf("help(): %s is not listed:\n%s", name, out)
		}
	}
	out.Reset()
	r.enter(t, "help(nat)")
	if !strings.Contains(out.String(), "nat.masquerade(src") {
		t.Errorf("help(nat):\n%s", out)
	}
	out.Reset()
	r.enter(t, `help("link.move")`)
	if !strings.Contains(out.String(), "ip -n NS link set DEV netns TARGET") {
		t.Errorf(`help("link.move"):\n%s`, out)
	}
}
