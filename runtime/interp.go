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
	"sort"
	"strings"
	"syscall"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/nsscript/nsscript/builtins"
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
	ExitOK     = 0
	ExitError  = 1
	ExitUsage  = 2
)

// Options are the global flags that matter to a run.
type Options struct {
	Lab     string
	Sandbox bool // the process runs inside a sandbox
	Stdout  io.Writer
	Stderr  io.Writer
}

// Interp runs one main script and the files it loads.
type Interp struct {
	Env         *builtins.Env
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
	env, err := builtins.NewEnv(opts.Lab)
	if err != nil {
		return nil, err
	}
	if opts.Stdout == nil {
		opts.Stdout = os.Stdout
	}
	env.Stdout = opts.Stdout
	if opts.Sandbox {
		// The sandbox's own namespace starts with loopback down.
		if err := env.K.SetUpByName(env.K.Host(), "lo"); err != nil {
			return nil, fmt.Errorf("set lo up in the sandbox: %w", err)
		}
	}
	pre := env.Predeclared()
	d := starlark.NewDict(len(args))
	keys := make([]string, 0, len(args))
	for k := range args {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		_ = d.SetKey(starlark.String(k), starlark.String(args[k]))
	}
	pre["args"] = d
	return &Interp{Env: env, Predeclared: pre, stdout: opts.Stdout, modules: map[string]*module{}}, nil
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
	thread := in.Thread("main")
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	in.Env.Ctx = ctx
	stop := context.AfterFunc(ctx, func() { thread.Cancel("interrupted") })
	defer stop()
	in.loading = []string{filename}
	return starlark.ExecFileOptions(FileOptions, thread, filename, src, in.Predeclared)
}

// load resolves a module relative to the file that loads it, confined to
// the main script's directory tree.
func (in *Interp) load(thread *starlark.Thread, name string) (starlark.StringDict, error) {
	from := thread.CallFrame(0).Pos.Filename()
	if name == "" || filepath.IsAbs(name) {
		return nil, fmt.Errorf("load: want a path relative to %s, got %q", from, name)
	}
	p := filepath.Join(filepath.Dir(from), name)
	abs, err := filepath.Abs(p)
	if err != nil {
		return nil, err
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return nil, fmt.Errorf("load: %s: no such file", p)
	}
	if real != in.root && !strings.HasPrefix(real, in.root+string(filepath.Separator)) {
		return nil, fmt.Errorf("load: %q is outside the main script's directory %s: load() only reads files in that tree", name, in.root)
	}
	if m, ok := in.modules[real]; ok {
		if !m.done {
			chain := append(append([]string(nil), in.loading...), p)
			return nil, fmt.Errorf("load cycle: %s", strings.Join(chain, " -> "))
		}
		return m.globals, m.err
	}
	m := &module{}
	in.modules[real] = m
	in.loading = append(in.loading, p)
	child := in.Thread("load " + p)
	child.SetLocal("parent", thread)
	m.globals, m.err = starlark.ExecFileOptions(FileOptions, child, p, nil, in.Predeclared)
	in.loading = in.loading[:len(in.loading)-1]
	m.done = true
	return m.globals, m.err
}

// FormatError renders an error as "FILE:LINE:COL: message" followed by the
// Starlark backtrace. In a loaded file the position is where it failed
// there, not the load statement.
func FormatError(err error) string {
	var inner *starlark.EvalError
	for e := err; e != nil; e = errors.Unwrap(e) {
		if ee, ok := e.(*starlark.EvalError); ok {
			inner = ee
		}
	}
	if inner == nil {
		return err.Error()
	}
	pos := ""
	for i := len(inner.CallStack) - 1; i >= 0; i-- {
		fr := inner.CallStack[i]
		if fr.Pos.Filename() != "<builtin>" {
			pos = fr.Pos.String()
			break
		}
	}
	msg := inner.Msg
	if pos != "" {
		msg = pos + ": " + msg
	}
	return msg + "\n" + inner.Backtrace()
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
	in, err := New(opts, args)
	if err != nil {
		fmt.Fprintf(opts.Stderr, "nsscript: %v\n", err)
		return ExitError
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if _, err := in.ExecFile(ctx, filename, src); err != nil {
		fmt.Fprintln(opts.Stderr, FormatError(err))
		return ExitError
	}
	return ExitOK
}
