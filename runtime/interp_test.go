package runtime

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// These tests run the interpreter in-process. New opens the namespace the
// test runs in (read only: nothing here creates or changes a kernel
// object), so they need root like the rest of the suite but no sandbox.

// td is the directory of the runtime's test scripts.
var td = filepath.Join("..", "testdata", "runtime")

// newInterp makes an interpreter whose print goes to the returned buffer.
func newInterp(t *testing.T, args map[string]string) (*Interp, *bytes.Buffer) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("the interpreter opens the host namespace: run as root")
	}
	var out bytes.Buffer
	in, err := New(Options{Lab: "runtime-test", Stdout: &out}, args)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return in, &out
}

// execScript runs one script file with a fresh interpreter.
func execScript(t *testing.T, file string) (string, error) {
	t.Helper()
	in, out := newInterp(t, nil)
	_, err := in.ExecFile(context.Background(), file, nil)
	return out.String(), err
}

// mustFail runs file, expects an error and returns its formatted report.
func mustFail(t *testing.T, file string) (stdout, report string) {
	t.Helper()
	out, err := execScript(t, file)
	if err == nil {
		t.Fatalf("%s: ran without error; stdout:\n%s", file, out)
	}
	return out, FormatError(err)
}

// firstLine is the line an error report starts with.
func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

// wantReport checks the first line of an error report (its position and
// message) and, when backtrace is given, that the Starlark backtrace
// lists exactly those frames ("FILE:LINE:COL: in NAME") in that order.
func wantReport(t *testing.T, report, wantPrefix string, wantIn string, backtrace ...string) {
	t.Helper()
	first := firstLine(report)
	if !strings.HasPrefix(first, wantPrefix) {
		t.Errorf("first line of the report = %q\nwant it to start with %q\nreport:\n%s", first, wantPrefix, report)
	}
	if !strings.Contains(first, wantIn) {
		t.Errorf("first line of the report = %q\nwant it to contain %q", first, wantIn)
	}
	if backtrace == nil {
		return
	}
	lines := strings.Split(report, "\n")
	if len(lines) < 2 || lines[1] != "Traceback (most recent call last):" {
		t.Fatalf("report has no Starlark backtrace after its first line:\n%s", report)
	}
	var frames []string
	for _, l := range lines[2:] {
		if !strings.HasPrefix(l, "  ") {
			break
		}
		frames = append(frames, strings.TrimPrefix(l, "  "))
	}
	if strings.Join(frames, "\n") != strings.Join(backtrace, "\n") {
		t.Errorf("backtrace frames:\n%s\nwant:\n%s\nreport:\n%s", strings.Join(frames, "\n"), strings.Join(backtrace, "\n"), report)
	}
	if last := lines[len(lines)-1]; !strings.HasPrefix(last, "Error") {
		t.Errorf("backtrace does not end with the Error line: %q", last)
	}
}

func TestRuntimeDialectScript(t *testing.T) {
	out, err := execScript(t, filepath.Join(td, "dialect.star"))
	if err != nil {
		t.Fatalf("dialect.star failed:\n%s", FormatError(err))
	}
	if out != "dialect ok 42 3\n" {
		t.Fatalf("stdout = %q, want %q", out, "dialect ok 42 3\n")
	}
}

// TestRuntimeDialectOptions proves each extension is on because of
// FileOptions: plain Starlark refuses every snippet, nsscript accepts it.
func TestRuntimeDialectOptions(t *testing.T) {
	snippets := map[string]string{
		"set":             "s = set([1, 2])\n",
		"while":           "def f():\n    while False:\n        pass\nf()\n",
		"top-level if":    "if True:\n    x = 1\n",
		"top-level for":   "for i in [1]:\n    pass\n",
		"global reassign": "x = 1\nx = 2\n",
		"recursion":       "def f(n):\n    return 0 if n == 0 else f(n - 1)\nf(3)\n",
	}
	for name, src := range snippets {
		t.Run(name, func(t *testing.T) {
			plain := &starlark.Thread{Name: "plain"}
			if _, err := starlark.ExecFileOptions(&syntax.FileOptions{}, plain, name+".star", src, starlark.StringDict{}); err == nil {
				t.Errorf("plain Starlark accepted %q: the snippet proves nothing", src)
			}
			ours := &starlark.Thread{Name: "nsscript"}
			if _, err := starlark.ExecFileOptions(FileOptions, ours, name+".star", src, starlark.StringDict{}); err != nil {
				t.Errorf("nsscript's dialect refused %q: %v", src, err)
			}
		})
	}
}

func TestRuntimeArgs(t *testing.T) {
	in, out := newInterp(t, map[string]string{"hosts": "10", "name": "red blue", "empty": ""})
	src := `
assert.eq(type(args), "dict")
for k, v in args.items():
    assert.eq(type(k), "string")
    assert.eq(type(v), "string")
assert.eq(int(args["hosts"]) + 1, 11)
print(sorted(args.items()))
`
	if _, err := in.ExecFile(context.Background(), filepath.Join(t.TempDir(), "args.star"), src); err != nil {
		t.Fatal(FormatError(err))
	}
	want := `[("empty", ""), ("hosts", "10"), ("name", "red blue")]` + "\n"
	if out.String() != want {
		t.Fatalf("stdout = %q, want %q", out.String(), want)
	}
}

func TestLoadRelativeNested(t *testing.T) {
	out, err := execScript(t, filepath.Join(td, "load", "main.star"))
	if err != nil {
		t.Fatalf("load/main.star failed:\n%s", FormatError(err))
	}
	// c.star is loaded by main.star and by a/b.star (as ../c.star): one
	// module, run once.
	if out != "c.star runs\nload ok 84\n" {
		t.Fatalf("stdout = %q", out)
	}
}

func TestLoadRelativeToLoadingFileNotCwd(t *testing.T) {
	// Run from another working directory with an absolute path: load()
	// must still find lib.star next to the script, not in the cwd.
	abs, err := filepath.Abs(filepath.Join(td, "load", "main.star"))
	if err != nil {
		t.Fatal(err)
	}
	wd, _ := os.Getwd()
	t.Cleanup(func() { os.Chdir(wd) })
	if err := os.Chdir(t.TempDir()); err != nil {
		t.Fatal(err)
	}
	out, err := execScript(t, abs)
	if err != nil {
		t.Fatalf("%s failed from another cwd:\n%s", abs, FormatError(err))
	}
	if !strings.Contains(out, "load ok 84") {
		t.Fatalf("stdout = %q", out)
	}
}

func TestLoadOutsideTreeRefused(t *testing.T) {
	dir := filepath.Join(td, "load")
	root, _ := filepath.Abs(dir)
	t.Run("from the main script", func(t *testing.T) {
		out, report := mustFail(t, filepath.Join(dir, "escape.star"))
		wantReport(t, report, filepath.Join(dir, "escape.star")+":1:1: load: ",
			`"../outside.star" is outside the main script's directory `+root,
			filepath.Join(dir, "escape.star")+":1:1: in <toplevel>")
		if out != "" {
			t.Errorf("the script went on after a refused load: %q", out)
		}
	})
	t.Run("from a loaded file", func(t *testing.T) {
		// a/escape.star is inside the tree; what it loads is not.
		_, report := mustFail(t, filepath.Join(dir, "escape_nested.star"))
		wantReport(t, report, filepath.Join(dir, "a", "escape.star")+":2:1: load: ",
			`"../../outside.star" is outside the main script's directory `+root,
			filepath.Join(dir, "escape_nested.star")+":1:1: in <toplevel>",
			filepath.Join(dir, "a", "escape.star")+":2:1: in <toplevel>")
	})
	t.Run("absolute path", func(t *testing.T) {
		in, _ := newInterp(t, nil)
		abs, _ := filepath.Abs(filepath.Join(dir, "lib.star"))
		_, err := in.ExecFile(context.Background(), filepath.Join(dir, "inline.star"), `load("`+abs+`", "double")`)
		if err == nil {
			t.Fatal("load of an absolute path was accepted")
		}
		wantReport(t, FormatError(err), filepath.Join(dir, "inline.star")+":1:1: load: ", "want a path relative to")
	})
}

func TestLoadSymlinkOutsideRefused(t *testing.T) {
	base := t.TempDir()
	main := filepath.Join(base, "main")
	if err := os.MkdirAll(main, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(p, s string) {
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(base, "outside.star"), "secret = 1\n")
	write(filepath.Join(main, "lib.star"), "inside = 2\n")
	// A symlink in the tree pointing out of it is refused...
	if err := os.Symlink("../outside.star", filepath.Join(main, "link.star")); err != nil {
		t.Fatal(err)
	}
	// ...and so is a symlinked directory leading out.
	if err := os.Symlink("..", filepath.Join(main, "up")); err != nil {
		t.Fatal(err)
	}
	// A symlink that stays inside is fine.
	if err := os.Symlink("lib.star", filepath.Join(main, "alias.star")); err != nil {
		t.Fatal(err)
	}
	real, _ := filepath.EvalSymlinks(filepath.Join(base, "outside.star"))
	for _, name := range []string{"link.star", "up/outside.star"} {
		t.Run(name, func(t *testing.T) {
			in, out := newInterp(t, nil)
			file := filepath.Join(main, "m.star")
			_, err := in.ExecFile(context.Background(), file, `load("`+name+`", "secret")`+"\nprint(secret)\n")
			if err == nil {
				t.Fatalf("load through a symlink out of the tree succeeded; stdout %q", out.String())
			}
			wantReport(t, FormatError(err), file+":1:1: load: ", "is outside the main script's directory")
			if r := firstLine(FormatError(err)); !strings.Contains(r, real) {
				t.Errorf("the error does not say where the symlink leads (%s): %q", real, r)
			}
		})
	}
	t.Run("alias.star", func(t *testing.T) {
		in, out := newInterp(t, nil)
		if _, err := in.ExecFile(context.Background(), filepath.Join(main, "m.star"), `load("alias.star", "inside")`+"\nprint(inside)\n"); err != nil {
			t.Fatalf("a symlink inside the tree was refused:\n%s", FormatError(err))
		}
		if out.String() != "2\n" {
			t.Fatalf("stdout = %q", out.String())
		}
	})
}

func TestLoadCycle(t *testing.T) {
	dir := filepath.Join(td, "load")
	_, report := mustFail(t, filepath.Join(dir, "cycle_main.star"))
	main := filepath.Join(dir, "cycle_main.star")
	one := filepath.Join(dir, "cycle", "one.star")
	two := filepath.Join(dir, "cycle", "two.star")
	wantReport(t, report, two+":1:1: load: cycle: ",
		strings.Join([]string{main, one, two, one}, " -> "),
		main+":1:1: in <toplevel>", one+":1:1: in <toplevel>", two+":1:1: in <toplevel>")

	// A script loading itself is the shortest cycle.
	self := filepath.Join(dir, "self.star")
	_, report = mustFail(t, self)
	wantReport(t, report, self+":1:1: load: cycle: ", self+" -> "+self)
}

func TestLoadMissing(t *testing.T) {
	dir := filepath.Join(td, "load")
	t.Run("file", func(t *testing.T) {
		f := filepath.Join(dir, "missing_file.star")
		_, report := mustFail(t, f)
		wantReport(t, report, f+":1:1: load: ", filepath.Join(dir, "no_such_lib.star")+": no such file",
			f+":1:1: in <toplevel>")
	})
	t.Run("symbol", func(t *testing.T) {
		f := filepath.Join(dir, "missing_symbol.star")
		_, report := mustFail(t, f)
		wantReport(t, report, f+":1:", "triple not found in module lib.star")
	})
}

func TestLoadErrorInLoadedFile(t *testing.T) {
	dir := filepath.Join(td, "load")
	t.Run("at load time", func(t *testing.T) {
		f := filepath.Join(dir, "broken_toplevel.star")
		lib := filepath.Join(dir, "broken", "lib.star")
		out, report := mustFail(t, f)
		wantReport(t, report, lib+":3:10: ", "unknown binary op: int + string",
			f+":1:1: in <toplevel>", lib+":3:10: in <toplevel>")
		if out != "" {
			t.Errorf("the main script went on: %q", out)
		}
	})
	t.Run("in a loaded function", func(t *testing.T) {
		f := filepath.Join(dir, "broken_call.star")
		fn := filepath.Join(dir, "broken", "fn.star")
		_, report := mustFail(t, f)
		wantReport(t, report, fn+":3:13: fail: ", "check: 3 is more than 2",
			f+":3:6: in <toplevel>", fn+":3:13: in check")
	})
	t.Run("syntax", func(t *testing.T) {
		f := filepath.Join(dir, "broken_syntax.star")
		syn := filepath.Join(dir, "broken", "syntax.star")
		_, report := mustFail(t, f)
		wantReport(t, report, syn+":3:1: ", "got end of file",
			f+":1:1: in <toplevel>")
	})
}

func TestRuntimeErrorFormat(t *testing.T) {
	t.Run("builtin", func(t *testing.T) {
		f := filepath.Join(td, "builtin_error.star")
		_, report := mustFail(t, f)
		wantReport(t, report, f+":2:10: sleep: ", `"forever" is not a duration`,
			f+":4:4: in <toplevel>", f+":2:10: in nap")
		if !strings.HasSuffix(report, "Error in sleep: "+strings.SplitN(firstLine(report), ": ", 2)[1]) {
			t.Errorf("the backtrace does not end with the builtin's error:\n%s", report)
		}
	})
	t.Run("syntax", func(t *testing.T) {
		f := filepath.Join(td, "syntax_error.star")
		_, report := mustFail(t, f)
		wantReport(t, report, f+":2:8: ", "got '*', want primary expression")
	})
	t.Run("every undefined name", func(t *testing.T) {
		f := filepath.Join(td, "undefined.star")
		_, report := mustFail(t, f)
		want := f + ":2:7: undefined: undefined_one\n" + f + ":3:7: undefined: undefined_two"
		if report != want {
			t.Errorf("report = %q\nwant %q", report, want)
		}
	})
	t.Run("wrapped on the same thread", func(t *testing.T) {
		// A builtin that calls back into Starlark and wraps the error:
		// the backtrace lists each frame once.
		in, _ := newInterp(t, nil)
		in.Predeclared["call"] = starlark.NewBuiltin("call", func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
			if _, err := starlark.Call(th, args[0], nil, nil); err != nil {
				return nil, fmt.Errorf("call: %w", err)
			}
			return starlark.None, nil
		})
		f := filepath.Join(t.TempDir(), "w.star")
		_, err := in.ExecFile(context.Background(), f, "def g():\n    fail('deep')\n\ncall(g)\n")
		if err == nil {
			t.Fatal("no error")
		}
		wantReport(t, FormatError(err), f+":2:9: fail: ", "deep",
			f+":4:5: in <toplevel>", "<builtin>: in call", f+":2:9: in g")
	})
	t.Run("plain error", func(t *testing.T) {
		if got := FormatError(os.ErrNotExist); got != os.ErrNotExist.Error() {
			t.Errorf("FormatError(non-Starlark error) = %q", got)
		}
	})
}

func TestRuntimeInterrupt(t *testing.T) {
	for name, src := range map[string]string{
		"sleep":     "print('start')\nsleep('30s')\nprint('after')\n",
		"busy loop": "print('start')\nwhile True:\n    pass\n",
	} {
		t.Run(name, func(t *testing.T) {
			in, _ := newInterp(t, nil)
			out := &notifyWriter{started: make(chan struct{})}
			in.stdout = out
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() {
				_, err := in.ExecFile(ctx, filepath.Join(t.TempDir(), "i.star"), src)
				done <- err
			}()
			// Interrupt once the script is running, as Ctrl-C would.
			select {
			case <-out.started:
			case err := <-done:
				t.Fatalf("the script ended before it was interrupted: %v", err)
			}
			cancel()
			select {
			case err := <-done:
				if err == nil {
					t.Fatal("an interrupted script ended without error")
				}
				if r := FormatError(err); !strings.Contains(firstLine(r), "interrupted") {
					t.Errorf("report does not say interrupted:\n%s", r)
				}
				if strings.Contains(out.String(), "after") {
					t.Errorf("the script went on after the interrupt: %q", out.String())
				}
			case <-time.After(20 * time.Second):
				t.Fatal("the script was not interrupted (still running after 20s)")
			}
		})
	}
}

// notifyWriter collects a script's output and closes started at the first
// write.
type notifyWriter struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	started chan struct{}
}

func (w *notifyWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.buf.Len() == 0 {
		close(w.started)
	}
	return w.buf.Write(p)
}

func (w *notifyWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}
