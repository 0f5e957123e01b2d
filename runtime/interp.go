// Package runtime is nsscript's interpreter: the Starlark dialect, the
// predeclared names, load(), print, error reports and the run loop. It
// knows the builtins only through package builtins and never talks to the
// kernel itself.
package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"go.starlark.net/resolve"
	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/nsscript/nsscript/builtins"
	"github.com/nsscript/nsscript/builtins/journal"
	"github.com/nsscript/nsscript/builtins/kernel"
)

// FileOptions is nsscript's dialect: Starlark with set, while, recursion,
// top-level if/for and global reassignment.
var FileOptions = &syntax.FileOptions{
	Set:             true,
	While:           true,
	TopLevelControl: true,
	GlobalReassign:  true,
	Recursion:       true,
}

// Exit codes.
const (
	ExitOK    = 0
	ExitError = 1
	ExitUsage = 2
)

// Options are the global flags that matter to a run.
type Options struct {
	Lab     string
	Sandbox bool // the process runs inside a sandbox
	Keep    bool // on error, keep what the run made instead of rolling back
	// Hold: the run is in a sandbox that stays after the script, until
	// it is ended (--sandbox --keep; see hold).
	Hold   bool
	Trace  bool // print each kernel change as the equivalent command (to Stderr)
	Stdout io.Writer
	Stderr io.Writer

	// Libraries predeclares each library's value (topo), as -c programs
	// have them.
	Libraries bool
}

// Interp runs one main script and the files it loads.
type Interp struct {
	Env         *builtins.Env
	Journal     *journal.Kernel
	kernel      kernel.Kernel // the kernel under the journal, for undo
	Predeclared starlark.StringDict
	stdout      io.Writer

	root    string // the main script's directory: load() stays inside it
	modules map[string]*module
	loading []string // the chain of files being loaded, for cycle reports
}

type module struct {
	globals starlark.StringDict
	err     error
	done    bool
}

// New prepares an interpreter whose scripts see args.
func New(opts Options, args map[string]string) (*Interp, error) {
	var trace io.Writer
	if opts.Trace {
		trace = stderrOf(opts)
	}
	env, j, inner, err := runStack(opts.Lab, trace)
	if err != nil {
		return nil, err
	}
	if opts.Stdout == nil {
		opts.Stdout = os.Stdout
	}
	env.Stdout = opts.Stdout
	for _, p := range j.Problems {
		fmt.Fprintf(stderrOf(opts), "nsscript: warning: %v\n", p)
	}
	if opts.Sandbox {
		// The sandbox's own namespace starts with loopback down.
		if err := env.K.SetUpByName(env.K.Host(), "lo"); err != nil {
			return nil, fmt.Errorf("set lo up in the sandbox: %w", err)
		}
	}
	pre := env.Predeclared()
	pre["args"] = argsDict(args)
	pre["show"] = starlark.NewBuiltin("show", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		if len(kwargs) > 0 {
			return nil, fmt.Errorf("show: takes values only: show(x, ...)")
		}
		for _, v := range args {
			show(opts.Stdout, v)
		}
		return starlark.None, nil
	})
	pre["struct"] = structBuiltin
	in := &Interp{Env: env, Journal: j, kernel: inner, Predeclared: pre, stdout: opts.Stdout, modules: map[string]*module{}}
	if opts.Libraries {
		if err := in.predeclareLibraries(); err != nil {
			return nil, err
		}
	}
	return in, nil
}

// Thread makes a Starlark thread with nsscript's load and print.
func (in *Interp) Thread(name string) *starlark.Thread {
	return &starlark.Thread{
		Name:  name,
		Load:  in.load,
		Print: func(_ *starlark.Thread, msg string) { fmt.Fprintln(in.stdout, msg) },
	}
}

// ExecFile runs the main script; src may be nil to read filename.
func (in *Interp) ExecFile(ctx context.Context, filename string, src any) (starlark.StringDict, error) {
	abs, err := filepath.Abs(filepath.Dir(filename))
	if err != nil {
		return nil, err
	}
	if r, err := filepath.EvalSymlinks(abs); err == nil {
		abs = r
	}
	in.root = abs
	// The main script counts as being loaded: loading it again is a cycle.
	if main, err := filepath.Abs(filename); err == nil {
		if r, err := filepath.EvalSymlinks(main); err == nil {
			main = r
		}
		in.modules[main] = &module{}
	}
	thread := in.Thread("main")
	// The builtins keep the context after the file has run: functions it
	// defined may be called later (test functions, the REPL).
	in.Env.Ctx = ctx
	stop := context.AfterFunc(ctx, func() { thread.Cancel(reason(ctx)) })
	defer stop()
	in.loading = []string{filename}
	return starlark.ExecFileOptions(FileOptions, thread, filename, src, in.Predeclared)
}

// load resolves a module relative to the file that loads it, confined to
// the main script's directory tree; "@nsscript/NAME.star" is a library
// built into nsscript (lib.go).
func (in *Interp) load(thread *starlark.Thread, name string) (starlark.StringDict, error) {
	from := thread.CallFrame(0).Pos.Filename()
	if strings.HasPrefix(name, libPrefix) {
		return in.loadLibrary(thread, name)
	}
	if strings.HasPrefix(from, libPrefix) {
		return nil, loadErrorf("%s loads only libraries (@nsscript/NAME.star), not %q", from, name)
	}
	if name == "" || filepath.IsAbs(name) {
		return nil, loadErrorf("want a path relative to %s, got %q", from, name)
	}
	p := filepath.Join(filepath.Dir(from), name)
	abs, err := filepath.Abs(p)
	if err != nil {
		return nil, err
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, loadErrorf("%s: no such file", p)
		}
		return nil, loadErrorf("%v", err)
	}
	if real != in.root && !strings.HasPrefix(real, in.root+string(filepath.Separator)) {
		where := ""
		if real != abs {
			where = " (it resolves to " + real + ")"
		}
		return nil, loadErrorf("%q is outside the main script's directory %s%s: load() only reads files in that tree", name, in.root, where)
	}
	return in.loadModule(thread, real, p, nil)
}

// loadModule runs the module known as key (its real path, or a library's
// name) from file p, or src when not nil, once: a second load gets the
// same globals, and a load of a module still loading is a cycle.
func (in *Interp) loadModule(thread *starlark.Thread, key, p string, src any) (starlark.StringDict, error) {
	if m, ok := in.modules[key]; ok {
		if !m.done {
			chain := append(append([]string(nil), in.loading...), p)
			return nil, loadErrorf("cycle: %s", strings.Join(chain, " -> "))
		}
		return m.globals, m.err
	}
	m := &module{}
	in.modules[key] = m
	in.loading = append(in.loading, p)
	child := in.Thread("load " + p)
	child.SetLocal("parent", thread)
	m.globals, m.err = starlark.ExecFileOptions(FileOptions, child, p, src, in.Predeclared)
	in.loading = in.loading[:len(in.loading)-1]
	m.done = true
	return m.globals, m.err
}

// loadError is what load() itself refuses; Starlark wraps it in
// "cannot load NAME: ...", which FormatError takes off again.
type loadError struct{ msg string }

func (e *loadError) Error() string { return "load: " + e.msg }

func loadErrorf(format string, args ...any) error {
	return &loadError{fmt.Sprintf(format, args...)}
}

// FormatError renders an error as "FILE:LINE:COL: message" followed by the
// Starlark backtrace. In a loaded file the position is where it failed
// there, not the load statement, and the backtrace runs through the load
// statements that led there. Syntax and resolve errors (every one of
// them) are reported with their own positions.
func FormatError(err error) string {
	var evals []*starlark.EvalError // outermost first
	for e := err; e != nil; e = errors.Unwrap(e) {
		if ee, ok := e.(*starlark.EvalError); ok {
			evals = append(evals, ee)
		}
	}
	// A loaded file runs on its own thread: its stack continues the one of
	// the load statement. An error wrapped on the same thread (a builtin
	// calling back into Starlark) already holds the whole stack.
	var frames starlark.CallStack
	for _, ee := range evals {
		if len(frames) > 0 && len(ee.CallStack) > 0 && ee.CallStack[0] == frames[0] {
			frames = nil
		}
		frames = append(frames, ee.CallStack...)
	}
	var (
		synErr  syntax.Error
		resErrs resolve.ErrorList
		loadErr *loadError
	)
	switch {
	case errors.As(err, &resErrs):
		lines := make([]string, len(resErrs))
		for i, e := range resErrs {
			lines[i] = e.Error()
		}
		return withBacktrace(strings.Join(lines, "\n"), frames)
	case errors.As(err, &synErr):
		return withBacktrace(synErr.Error(), frames)
	case len(evals) == 0:
		return err.Error()
	}
	inner := evals[len(evals)-1]
	msg := hint(inner.Msg)
	if msg == "Starlark stack overflow" {
		msg += ": recursion too deep (a function that calls itself without end? the backtrace shows the calls)"
	}
	if errors.As(inner, &loadErr) {
		msg = loadErr.Error()
	}
	// The error is where the innermost frame is, but for a library's: a
	// call into a library (topo.single(k=0)) is reported at the script's
	// line that made it, which the user can read and fix; the library's
	// lines are in the backtrace. (A library's own load statement is the
	// library's.)
	pos, lib := "", ""
	for i := len(inner.CallStack) - 1; i >= 0 && pos == ""; i-- {
		switch fr := inner.CallStack[i]; {
		case fr.Pos.Filename() == "<builtin>":
		case strings.HasPrefix(fr.Pos.Filename(), libPrefix) && loadErr == nil:
			if lib == "" {
				lib = fr.Pos.String()
			}
		default:
			pos = fr.Pos.String()
		}
	}
	if pos == "" {
		pos = lib
	}
	head := msg
	if pos != "" {
		head = pos + ": " + msg
	}
	return head + "\n" + backtrace(msg, frames)
}

// withBacktrace adds the load statements that led to an error in a
// loaded file's source, if any.
func withBacktrace(msg string, frames starlark.CallStack) string {
	if len(frames) == 0 {
		return msg
	}
	return msg + "\n" + backtrace(msg, frames)
}

// backtrace is Starlark's backtrace of an error, with recursion folded:
// a run of frames that repeats (a function calling itself, or two calling
// each other) is shown once, with how often it repeats, instead of a
// hundred thousand lines.
func backtrace(msg string, stack starlark.CallStack) string {
	suffix := ""
	if last := len(stack) - 1; last >= 0 && stack[last].Pos.Filename() == "<builtin>" {
		suffix = " in " + stack[last].Name
		stack = stack[:last]
	}
	same := func(a, b starlark.CallFrame) bool { return a.Name == b.Name && a.Pos == b.Pos }
	var out strings.Builder
	if len(stack) > 0 {
		out.WriteString("Traceback (most recent call last):\n")
	}
	for i := 0; i < len(stack); {
		period, times := 0, 1
		for p := 1; p <= 8 && i+2*p <= len(stack); p++ {
			n := 1
			for i+(n+1)*p <= len(stack) && slices.EqualFunc(stack[i:i+p], stack[i+n*p:i+(n+1)*p], same) {
				n++
			}
			if n >= 3 && n > times {
				period, times = p, n
				break
			}
		}
		if period == 0 {
			period = 1
		}
		for _, fr := range stack[i : i+period] {
			fmt.Fprintf(&out, "  %s: in %s\n", fr.Pos, fr.Name)
		}
		if times > 1 {
			fmt.Fprintf(&out, "  ... (the %s above repeated %d more times)\n", plural(period, "frame", "frames"), times-1)
		}
		i += period * times
	}
	fmt.Fprintf(&out, "Error%s: %s", suffix, msg)
	return out.String()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return strconv.Itoa(n) + " " + many
}

// Run runs a script file and returns the exit code; errors go to stderr.
func Run(filename string, src any, args map[string]string, opts Options) int {
	if opts.Stderr == nil {
		opts.Stderr = os.Stderr
	}
	if src == nil {
		if st, err := os.Stat(filename); err != nil {
			fmt.Fprintf(opts.Stderr, "nsscript: %v\n", err)
			return ExitUsage
		} else if st.IsDir() {
			fmt.Fprintf(opts.Stderr, "nsscript: %s is a directory, not a script\n", filename)
			return ExitUsage
		}
	}
	held := holdSignals(opts.Hold)
	defer signal.Stop(held)
	in, err := New(opts, args)
	if err != nil {
		fmt.Fprintf(opts.Stderr, "nsscript: %v\n", err)
		return ExitError
	}
	ctx, stop := runContext()
	defer stop()
	_, err = in.ExecFile(ctx, filename, src)
	in.stopCaptures(opts.Stderr)
	if err != nil {
		fmt.Fprintln(opts.Stderr, FormatError(err))
		if moved := in.Journal.Elsewhere(); len(moved) > 0 {
			fmt.Fprintf(opts.Stderr, "nsscript: note: an earlier run of lab %s moved %s, and this run found them there (a run that moves them again leaves them so); if the script no longer moves them, run `nsscript down %s` first\n", opts.Lab, strings.Join(moved, ", "), opts.Lab)
		}
		if opts.Keep {
			fmt.Fprintf(opts.Stderr, "nsscript: --keep: what the run made stays; undo it with: nsscript down %s\n", opts.Lab)
		} else {
			in.Rollback(opts.Stderr)
		}
	} else if errs := in.Journal.Commit(in.undoer(opts.Stderr, "prune")); len(errs) > 0 {
		// The lab holds what the script declared, and some of what an
		// earlier run made: the journal keeps all of it for down.
		for _, e := range errs {
			fmt.Fprintf(opts.Stderr, "nsscript: prune what earlier runs made: %v\n", e)
		}
		err = errs[0]
	}
	if cerr := in.Journal.Close(); cerr != nil && err == nil {
		fmt.Fprintf(opts.Stderr, "nsscript: %v\n", cerr)
	}
	if opts.Hold {
		hold(in.kernel, opts, held)
	}
	if err != nil {
		return ExitError
	}
	return ExitOK
}

// stopCaptures ends the run's captures and finishes their files, before
// anything is rolled back or pruned: a capture's socket keeps its
// namespace alive, and with it the namespace's devices.
func (in *Interp) stopCaptures(stderr io.Writer) {
	for _, err := range in.Env.StopCaptures() {
		fmt.Fprintf(stderr, "nsscript: warning: %v\n", err)
	}
}

// Rollback undoes what this run made (not what earlier runs of the lab
// made), reporting what it could not undo.
func (in *Interp) Rollback(stderr io.Writer) {
	errs := in.Journal.Rollback(in.undoer(stderr, "rollback"))
	for _, e := range errs {
		fmt.Fprintf(stderr, "nsscript: rollback: %v\n", e)
	}
}

// undoer undoes with the kernel under the journal (the tracer, under
// --trace, which shows what is undone), warning on stderr.
func (in *Interp) undoer(stderr io.Writer, what string) *journal.Undoer {
	return &journal.Undoer{K: in.kernel, Warn: func(s string) { fmt.Fprintf(stderr, "nsscript: %s: warning: %s\n", what, s) }}
}

func stderrOf(opts Options) io.Writer {
	if opts.Stderr == nil {
		return os.Stderr
	}
	return opts.Stderr
}

// argsDict is the script's args: the command line's key=value pairs.
func argsDict(args map[string]string) *starlark.Dict {
	d := starlark.NewDict(len(args))
	keys := make([]string, 0, len(args))
	for k := range args {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		_ = d.SetKey(starlark.String(k), starlark.String(args[k]))
	}
	return d
}
