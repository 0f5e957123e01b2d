package runtime

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"github.com/peterh/liner"
	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
	"golang.org/x/term"

	"github.com/nsscript/nsscript/builtins"
	"github.com/nsscript/nsscript/builtins/kernel"
)

// REPLOptions configure an interactive session.
type REPLOptions struct {
	Options
	File    string            // -i FILE: run it first; its globals seed the session
	Args    map[string]string // what the session (and FILE) see in args
	History string            // the history file; "" keeps none
}

// REPLLab is the lab of what a session builds, unless --lab says otherwise.
const REPLLab = "repl"

// HistoryFile is where the REPL keeps its history: the --history flag,
// else $NSSCRIPT_HISTORY, else ~/.nsscript_history ("" if there is no
// home directory).
func HistoryFile(flag string) string {
	if flag != "" {
		return flag
	}
	if env := os.Getenv("NSSCRIPT_HISTORY"); env != "" {
		return env
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".nsscript_history")
}

// historyKeep is how many lines the history file keeps (liner keeps as
// many in memory).
const historyKeep = liner.HistoryLimit

// repl is one interactive session.
type repl struct {
	in      *Interp
	opts    REPLOptions
	globals starlark.StringDict
	own     starlark.StringDict // the REPL's own builtins: help, save
	stdout  io.Writer
	stderr  io.Writer
	prompt  prompter

	mu     sync.Mutex
	cancel func() // interrupts the statement running now; nil at the prompt

	// cooked is the terminal's mode before the line editor made it raw
	// (nil without a terminal): what shell() runs a shell in.
	cooked *term.State

	fileSrc string  // -i FILE's source, the start of what save() writes
	done    []chunk // the statements that succeeded, for save()
}

// chunk is one statement (or block) the session ran successfully.
type chunk struct {
	src       string
	file      *syntax.File
	inspect   bool // only looks at things: save() leaves it out
	setsUnder bool // a sole expression whose value became _
}

// prompter reads a line of input after a prompt.
type prompter interface {
	Prompt(p string) (string, error)
}

// REPL runs an interactive session on the terminal and returns the exit
// code. What it builds belongs to opts.Lab and stays after it (unless it
// runs in a sandbox).
func REPL(opts REPLOptions) int {
	if opts.Lab == "" {
		opts.Lab = REPLLab
	}
	if opts.Stdout == nil {
		opts.Stdout = os.Stdout
	}
	if opts.Stderr == nil {
		opts.Stderr = os.Stderr
	}
	in, err := New(opts.Options, opts.Args)
	if err != nil {
		fmt.Fprintf(opts.Stderr, "nsscript: %v\n", err)
		return ExitError
	}
	in.Journal.Accumulate = true // a session adds to the lab
	defer func() {
		in.stopCaptures(opts.Stderr)
		if err := in.Journal.Close(); err != nil {
			fmt.Fprintf(opts.Stderr, "nsscript: %v\n", err)
		}
	}()
	r := &repl{in: in, opts: opts, stdout: opts.Stdout, stderr: opts.Stderr, globals: starlark.StringDict{}}
	for k, v := range in.Predeclared {
		r.globals[k] = v
	}
	r.own = starlark.StringDict{
		"help":  starlark.NewBuiltin("help", r.help),
		"save":  starlark.NewBuiltin("save", r.save),
		"shell": starlark.NewBuiltin("shell", r.shell),
	}
	for k, v := range r.own {
		r.globals[k] = v
	}
	// load() from the prompt reads files under the current directory.
	if wd, err := os.Getwd(); err == nil {
		if real, err := filepath.EvalSymlinks(wd); err == nil {
			wd = real
		}
		in.root = wd
	}

	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, os.Interrupt)
	defer signal.Stop(sigs)
	go func() {
		for range sigs {
			r.interrupt()
		}
	}()
	if opts.Sandbox && kernel.InForeground(os.Stdin) {
		// The sandbox gave the session the terminal, in a process group
		// of its own (see kernel.RunSandboxed): stopped by Ctrl-Z, it
		// could not be resumed (the shell that started nsscript sees no
		// stop), so Ctrl-Z is caught and dropped.
		tstp := make(chan os.Signal, 1)
		signal.Notify(tstp, syscall.SIGTSTP)
		defer signal.Stop(tstp)
	}

	if opts.File != "" {
		root := in.root
		if !r.runFile(opts.File) {
			return ExitUsage
		}
		in.root = root // FILE's loads were confined to its directory; the prompt's are to the current one
	}

	stdinTTY := term.IsTerminal(int(os.Stdin.Fd()))
	if stdinTTY && term.IsTerminal(int(os.Stdout.Fd())) {
		r.cooked, _ = term.GetState(int(os.Stdin.Fd()))
		line := liner.NewLiner()
		// Restore the terminal on a kill (liner leaves it raw between prompts).
		stop := make(chan os.Signal, 1)
		signal.Notify(stop, syscall.SIGTERM, syscall.SIGHUP)
		go func() {
			if s, ok := <-stop; ok {
				line.Close()
				signal.Reset(s)
				_ = syscall.Kill(os.Getpid(), s.(syscall.Signal))
			}
		}()
		defer func() {
			signal.Stop(stop)
			close(stop)
			line.Close()
		}()
		line.SetCtrlCAborts(true)
		line.SetTabCompletionStyle(liner.TabPrints)
		c := &completer{globals: r.globals, env: in.Env}
		line.SetWordCompleter(c.complete)
		r.loadHistory(line)
		r.prompt = &history{State: line, path: opts.History, repl: r}
		fmt.Fprintf(r.stdout, "nsscript REPL (lab %q): help() for the builtins, Ctrl-C interrupts, Ctrl-D leaves\n", opts.Lab)
	} else {
		p := &plainInput{r: bufio.NewReader(os.Stdin)}
		if stdinTTY {
			p.prompts = r.stderr // someone types, but stdout goes elsewhere
		}
		r.prompt = p
	}
	r.loop()
	r.farewell()
	return ExitOK
}

// runFile runs -i FILE; an error in it is reported and the session goes
// on with what it defined and built (to look at what went wrong).
func (r *repl) runFile(file string) bool {
	src, err := os.ReadFile(file)
	if err != nil {
		fmt.Fprintf(r.stderr, "nsscript: %v\n", err)
		return false
	}
	r.fileSrc = string(src)
	var globals starlark.StringDict
	err = r.run(func(ctx context.Context, _ *starlark.Thread) error {
		var err error
		globals, err = r.in.ExecFile(ctx, file, src)
		return err
	})
	for k, v := range globals {
		r.globals[k] = v
	}
	if err != nil {
		r.printError(err)
		fmt.Fprintf(r.stderr, "nsscript: %s failed; the session keeps what it made and defined\n", file)
		// save() must not write the part of FILE that failed as if it ran.
		r.fileSrc = "# " + file + " failed part way: its statements are not repeated here\n"
	}
	return true
}

// loop reads, runs and prints until end of input.
func (r *repl) loop() {
	opts := *FileOptions
	opts.LoadBindsGlobally = true // load() at the prompt defines globals
	for {
		var lines []string
		var readErr error
		prompt := ">>> "
		readline := func() ([]byte, error) {
			s, err := r.prompt.Prompt(prompt)
			prompt = "... "
			if err != nil {
				readErr = err
				return nil, err
			}
			lines = append(lines, s)
			return []byte(s + "\n"), nil
		}
		f, err := opts.ParseCompoundStmt("<stdin>", readline)
		switch {
		case errors.Is(readErr, liner.ErrPromptAborted):
			continue // Ctrl-C: the line (and the block) are dropped
		case errors.Is(readErr, io.EOF):
			if _, ok := r.prompt.(*history); ok {
				fmt.Fprintln(r.stdout) // Ctrl-D left the cursor after the prompt
			}
			return
		case readErr != nil:
			fmt.Fprintf(r.stderr, "nsscript: %v\n", readErr)
			return
		case err != nil:
			r.printError(err) // not kept in the history
			continue
		}
		if len(f.Stmts) == 0 {
			continue
		}
		if h, ok := r.prompt.(*history); ok {
			h.add(lines)
		}
		r.exec(f, strings.Join(lines, "\n"))
	}
}

// exec runs one parsed statement (or block). A sole expression is
// evaluated and its value shown and kept in _.
func (r *repl) exec(f *syntax.File, src string) {
	var v starlark.Value
	expr := soleExpr(f)
	err := r.run(func(_ context.Context, thread *starlark.Thread) error {
		var err error
		if expr != nil {
			v, err = starlark.EvalExprOptions(f.Options, thread, expr, r.globals)
			return err
		}
		return starlark.ExecREPLChunk(f, thread, r.globals)
	})
	if err != nil {
		r.printError(err)
		return
	}
	c := chunk{src: src, file: f, inspect: r.inspects(f)}
	if expr != nil && v != starlark.None {
		r.globals["_"] = v
		c.setsUnder = true
		show(r.stdout, v)
	}
	r.done = append(r.done, c)
}

// run gives one statement its own thread and context, which Ctrl-C
// cancels: the thread stops Starlark code (a `while True` loop), the
// context the builtins that wait (sleep, exec, ping, wait).
func (r *repl) run(f func(context.Context, *starlark.Thread) error) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	thread := r.in.Thread("repl")
	r.in.Env.Ctx = ctx
	r.mu.Lock()
	r.cancel = func() {
		cancel()
		thread.Cancel("interrupted")
	}
	r.mu.Unlock()
	stopGuard := guardMemory(func(err error) {
		cancel()
		thread.Cancel(err.Error())
	})
	defer stopGuard()
	defer func() {
		r.mu.Lock()
		r.cancel = nil
		r.mu.Unlock()
	}()
	return f(ctx, thread)
}

// interrupt is what SIGINT does: cancel the running statement, if any.
// At the prompt the terminal sends no SIGINT: liner reads Ctrl-C itself.
func (r *repl) interrupt() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cancel != nil {
		r.cancel()
	}
}

func soleExpr(f *syntax.File) syntax.Expr {
	if len(f.Stmts) == 1 {
		if s, ok := f.Stmts[0].(*syntax.ExprStmt); ok {
			return s.X
		}
	}
	return nil
}

// printError prints FILE:LINE:COL: message, and the backtrace when the
// error comes from deeper than the line typed (a function it called).
func (r *repl) printError(err error) {
	msg := FormatError(err)
	var ee *starlark.EvalError
	if errors.As(err, &ee) {
		frames := 0
		for _, fr := range ee.CallStack {
			if fr.Pos.Filename() != "<builtin>" {
				frames++
			}
		}
		if frames <= 1 {
			msg, _, _ = strings.Cut(msg, "\n")
		}
	}
	fmt.Fprintln(r.stderr, msg)
}

// shell(ns=host) is the REPL's shell: an interactive shell in ns on the
// terminal (see builtins.Interactive), which has it until the shell
// exits; the session then goes on. Its processes are the lab's, like
// those of exec.
func (r *repl) shell(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var ns builtins.NamespaceArg
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "ns?", &ns); err != nil {
		return nil, err
	}
	n := ns.Namespace
	if n == nil {
		n = r.in.Env.Host()
	}
	if !term.IsTerminal(int(os.Stdin.Fd())) {
		return nil, fmt.Errorf("shell: the REPL's input is not a terminal, and an interactive shell needs one; use exec(ns, CMD) to run a command")
	}
	if r.cooked != nil {
		// The line editor keeps the terminal raw between prompts: the
		// shell gets it as it was before.
		fd := int(os.Stdin.Fd())
		if raw, err := term.GetState(fd); err == nil {
			_ = term.Restore(fd, r.cooked)
			defer term.Restore(fd, raw)
		}
	}
	argv := builtins.UserShell()
	code, err := builtins.Interactive(r.in.Env.K, n.NS(), argv, os.Environ(), kernel.Stdio{In: os.Stdin, Out: os.Stdout, Err: os.Stderr})
	if err != nil {
		return nil, fmt.Errorf("shell: cannot run %s in namespace %s: %w", argv[0], n.Name(), err)
	}
	if code != 0 {
		fmt.Fprintf(r.stderr, "nsscript: the shell exited with code %d\n", code)
	}
	return starlark.None, nil
}

// farewell says what becomes of what the session built.
func (r *repl) farewell() {
	if r.opts.Sandbox {
		fmt.Fprintln(r.stderr, "nsscript: the session ran in a sandbox: it all vanishes now")
		return
	}
	if recs, err := r.in.Journal.Records(); err == nil && len(recs) > 0 {
		fmt.Fprintf(r.stderr, "nsscript: what you built stays: undo it with nsscript down %s\n", r.opts.Lab)
	}
}

// history is the terminal prompt, keeping what it accepted.
type history struct {
	*liner.State
	path string
	repl *repl
}

// add keeps the lines of an accepted statement: in liner's memory for
// the arrow keys, and at the end of the history file at once (so a
// killed session loses nothing).
func (h *history) add(lines []string) {
	var keep []string
	for _, l := range lines {
		if strings.TrimSpace(l) != "" {
			h.AppendHistory(l)
			keep = append(keep, l)
		}
	}
	if h.path == "" || len(keep) == 0 {
		return
	}
	f, err := os.OpenFile(h.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		fmt.Fprintf(h.repl.stderr, "nsscript: history: %v\n", err)
		h.path = "" // say it once
		return
	}
	defer f.Close()
	_, _ = f.WriteString(strings.Join(keep, "\n") + "\n")
}

// loadHistory reads the history file, and trims it when it has grown
// well past what is kept.
func (r *repl) loadHistory(line *liner.State) {
	if r.opts.History == "" {
		return
	}
	data, err := os.ReadFile(r.opts.History)
	if err != nil {
		return
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > 2*historyKeep {
		lines = lines[len(lines)-historyKeep:]
		_ = os.WriteFile(r.opts.History, []byte(strings.Join(lines, "\n")+"\n"), 0o600)
	}
	_, _ = line.ReadHistory(strings.NewReader(strings.Join(lines, "\n") + "\n"))
}

// plainInput reads statements from a pipe or file (no prompts), or from
// a terminal when stdout is not one (prompts on stderr); no editing, no
// history.
type plainInput struct {
	r       *bufio.Reader
	prompts io.Writer
	eof     bool
}

func (p *plainInput) Prompt(prompt string) (string, error) {
	if p.prompts != nil {
		fmt.Fprint(p.prompts, prompt)
	}
	s, err := p.r.ReadString('\n')
	if err == io.EOF && s == "" && !p.eof {
		// One blank line first: it ends a block the input left open.
		p.eof = true
		return "", nil
	}
	if err != nil && (s == "" || err != io.EOF) {
		return "", err
	}
	return strings.TrimRight(s, "\r\n"), nil
}
