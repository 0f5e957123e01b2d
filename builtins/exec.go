package builtins

import (
	"bytes"
	"errors"
	"fmt"
	"github.com/nsscript/nsscript/builtins/shell"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"go.starlark.net/starlark"

	"github.com/nsscript/nsscript/builtins/kernel"
)

// Result is what a finished command gave: code, stdout, stderr, ok.
// str(result) is its stdout.
type Result struct {
	Code           int
	Stdout, Stderr string
}

var _ starlark.HasAttrs = (*Result)(nil)

func (r *Result) String() string        { return r.Stdout }
func (r *Result) Type() string          { return "Result" }
func (r *Result) Freeze()               {}
func (r *Result) Truth() starlark.Bool  { return r.Code == 0 }
func (r *Result) Hash() (uint32, error) { return 0, errors.New("unhashable: Result") }
func (r *Result) AttrNames() []string   { return []string{"code", "ok", "stderr", "stdout"} }
func (r *Result) Attr(name string) (starlark.Value, error) {
	switch name {
	case "code":
		return starlark.MakeInt(r.Code), nil
	case "stdout":
		return starlark.String(r.Stdout), nil
	case "stderr":
		return starlark.String(r.Stderr), nil
	case "ok":
		return starlark.Bool(r.Code == 0), nil
	}
	return nil, nil
}

// Process is a command started with background=True.
type Process struct {
	env     *Env
	ns      *Namespace
	cmd     *exec.Cmd
	argv    []string
	outPath string
	errPath string

	done chan struct{}
	mu   sync.Mutex
	code int

	// planned: a process nsscript plan pretends to run (no cmd).
	planned Planner
	pid     int
	// start: a process an earlier run of the lab started, adopted (no
	// cmd: not nsscript's child), told from a later one with its pid.
	start uint64
}

// adopted is the Process value of a background command an earlier run
// started and that still runs.
func (n *Namespace) adopted(argv []string, pi kernel.ProcInfo) *Process {
	p := &Process{env: n.env, ns: n, argv: argv, done: make(chan struct{}), pid: pi.Pid, start: pi.Start,
		outPath: pi.Stdout, errPath: pi.Stderr, code: -1}
	n.env.addProc(p)
	return p
}

// alive reports whether an adopted process still runs; once it has
// ended, its code is unknown (-1): it was not nsscript's child.
func (p *Process) aliveAdopted() bool {
	if pr, ok := p.env.K.Process(p.pid); ok && !pr.Zombie && pr.Start == p.start {
		return true
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.done:
	default:
		close(p.done)
	}
	return false
}

// stop ends an adopted process and its process group, TERM first and
// KILL after five seconds.
func (p *Process) stop() error {
	k := p.env.K
	_ = k.Signal(-p.pid, syscall.SIGTERM)
	_ = k.Signal(p.pid, syscall.SIGTERM)
	for i := 0; i < 500 && p.aliveAdopted(); i++ {
		if i == 499 {
			_ = k.Signal(-p.pid, syscall.SIGKILL)
			_ = k.Signal(p.pid, syscall.SIGKILL)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if p.aliveAdopted() {
		return fmt.Errorf("process %d (%s) does not end", p.pid, p.argv[0])
	}
	return nil
}

var _ starlark.HasAttrs = (*Process)(nil)

func (p *Process) String() string {
	return fmt.Sprintf("<process %d in %s: %s>", p.Pid(), p.ns.Name(), strings.Join(p.argv, " "))
}
func (p *Process) Type() string          { return "Process" }
func (p *Process) Freeze()               {}
func (p *Process) Truth() starlark.Bool  { return true }
func (p *Process) Hash() (uint32, error) { return uint32(p.Pid()), nil }

// Pid is the process id; Running whether it has not exited.
func (p *Process) Pid() int {
	if p.cmd == nil {
		return p.pid
	}
	return p.cmd.Process.Pid
}

// endPlanned ends a planned process: it was killed, or waited for.
func (p *Process) endPlanned(signal string, code int) {
	if !p.Running() {
		return
	}
	p.planned.Kill(p.pid, signal)
	if signal == "STOP" || signal == "CONT" {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.done:
	default:
		p.code = code
		close(p.done)
	}
}
func (p *Process) Running() bool {
	if p.cmd == nil && p.planned == nil {
		return p.aliveAdopted()
	}
	if p.planned != nil && !p.planned.Alive(p.pid) {
		p.mu.Lock()
		select {
		case <-p.done:
		default:
			p.code = 128 + int(syscall.SIGTERM)
			close(p.done)
		}
		p.mu.Unlock()
	}
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

func (p *Process) AttrNames() []string {
	return sortedNames([]string{"ns", "pid", "running", "stderr", "stdout"}, processMethods.names())
}

func (p *Process) Attr(name string) (starlark.Value, error) {
	if m := processMethods.get(p, name); m != nil {
		return m, nil
	}
	switch name {
	case "pid":
		return starlark.MakeInt(p.Pid()), nil
	case "ns":
		return p.ns, nil
	case "running":
		return starlark.Bool(p.Running()), nil
	case "stdout":
		b, _ := os.ReadFile(p.outPath)
		return starlark.String(b), nil
	case "stderr":
		b, _ := os.ReadFile(p.errPath)
		return starlark.String(b), nil
	}
	return nil, nil
}

// procWait is the process.wait method: it waits for the process to exit
// and returns its exit code.
func procWait(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	p := b.Receiver().(*Process)
	timeout := Duration(30 * time.Second)
	if err := unpack(b, args, kwargs, &timeout); err != nil {
		return nil, err
	}
	if p.planned != nil {
		p.endPlanned("", 0) // in a plan, waiting is the process ending
	}
	if p.cmd == nil && p.planned == nil {
		// Adopted: not a child to wait for; watch it go.
		deadline := time.Now().Add(time.Duration(timeout))
		for p.aliveAdopted() && time.Now().Before(deadline) {
			select {
			case <-p.env.Ctx.Done():
				return nil, errorf(b.Name(), "%s", p.env.interrupted())
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
	select {
	case <-p.done:
		return starlark.MakeInt(p.code), nil
	case <-time.After(time.Duration(timeout)):
		return nil, errorf(b.Name(), "process %d (%s) still running after %s", p.Pid(), p.argv[0], time.Duration(timeout))
	case <-p.env.Ctx.Done():
		return nil, errorf(b.Name(), "%s", p.env.interrupted())
	}
}

var signals = map[string]syscall.Signal{
	"TERM": syscall.SIGTERM, "KILL": syscall.SIGKILL, "INT": syscall.SIGINT, "HUP": syscall.SIGHUP,
	"QUIT": syscall.SIGQUIT, "USR1": syscall.SIGUSR1, "USR2": syscall.SIGUSR2, "STOP": syscall.SIGSTOP, "CONT": syscall.SIGCONT,
}

// procKill is the process.kill method: it signals the process and its
// process group.
func procKill(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	p := b.Receiver().(*Process)
	sig := "TERM"
	if err := unpack(b, args, kwargs, &sig); err != nil {
		return nil, err
	}
	s, ok := signals[strings.TrimPrefix(strings.ToUpper(sig), "SIG")]
	if !ok {
		names := make([]string, 0, len(signals))
		for n := range signals {
			names = append(names, n)
		}
		sort.Strings(names)
		return nil, errorf(b.Name(), "unknown signal %q: use one of %s", sig, strings.Join(names, ", "))
	}
	if p.planned != nil {
		p.endPlanned(strings.TrimPrefix(strings.ToUpper(sig), "SIG"), 128+int(s))
		return starlark.None, nil
	}
	if p.Running() {
		_ = p.env.K.Signal(-p.Pid(), s)
	}
	return starlark.None, nil
}

// Stop ends a background process group (TERM, then KILL after grace).
func (p *Process) Stop(grace time.Duration) {
	if p.planned != nil {
		p.endPlanned("TERM", 128+int(syscall.SIGTERM))
		return
	}
	if !p.Running() {
		return
	}
	_ = p.env.K.Signal(-p.Pid(), syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = p.env.K.Signal(-p.Pid(), syscall.SIGKILL)
		<-p.done
	}
}

// cmdArg unpacks exec's cmd: a str for /bin/sh -c, or a list of str (argv).
type cmdArg []string

func (c *cmdArg) Unpack(v starlark.Value) error {
	switch x := v.(type) {
	case starlark.String:
		if strings.TrimSpace(string(x)) == "" {
			return fmt.Errorf("command is empty: give a shell command like \"ip addr\" or an argv list like [\"ip\", \"addr\"]")
		}
		if err := noNUL([]string{string(x)}, "command"); err != nil {
			return err
		}
		*c = []string{"/bin/sh", "-c", string(x)}
		return nil
	case *starlark.List, starlark.Tuple:
		argv, err := strs(x.(starlark.Iterable), "argv")
		if err != nil {
			return err
		}
		// An empty program name is refused by exec (a plan, where a
		// name read from a command's output is "", records it).
		if len(argv) == 0 {
			return fmt.Errorf("argv is empty: give the program to run first")
		}
		if err := noNUL(argv, "argv word"); err != nil {
			return err
		}
		*c = argv
		return nil
	}
	return fmt.Errorf("want a command (str for /bin/sh -c, or a list of str), got %s", v.Type())
}

// exec is the exec builtin: it runs a command inside a namespace. It takes
// ns itself, by position only, and the rest as namespace.exec does.
func (e *Env) exec(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var ns NamespaceArg
	if len(args) == 0 {
		return nil, errorf(b.Name(), "missing argument for ns")
	}
	if err := ns.Unpack(args[0]); err != nil {
		return nil, errorf(b.Name(), "for parameter ns: %w", err)
	}
	if ns.Namespace == nil {
		ns.Namespace = e.host
	}
	return ns.Namespace.execute(b.Name(), args[1:], kwargs)
}

// nsExec is the namespace.exec method: the exec builtin in the namespace.
func nsExec(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	return b.Receiver().(*Namespace).execute(b.Name(), args, kwargs)
}

func (n *Namespace) execute(fn string, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var argv cmdArg
	check, background, restart := true, false, false
	timeout := Duration(30 * time.Second)
	var env *starlark.Dict
	var stdin starlark.Value = starlark.None
	var ready string
	if err := execParams.unpack(fn, args, kwargs, &argv, &check, &timeout, &background, &env, &stdin, &restart, &ready); err != nil {
		return nil, err
	}
	if restart && !background {
		return nil, errorf(fn, "for parameter restart: restart=True is for a background command (background=True): a foreground command runs anew each time")
	}
	var readyAddr string
	if ready != "" {
		if !background {
			return nil, errorf(fn, "for parameter ready: ready= is for a background command (background=True): exec waits for a foreground one anyway")
		}
		a, ok := strings.CutPrefix(ready, "tcp://")
		if err := checkHostPort(a); !ok || err != nil {
			return nil, errorf(fn, "for parameter ready: %q is not \"tcp://ADDRESS:PORT\" (what the daemon listens on, e.g. \"tcp://10.0.0.2:80\")", ready)
		}
		readyAddr = a
	}
	if err := n.alive(fn); err != nil {
		return nil, err
	}
	environ := os.Environ()
	base := len(environ)
	if env != nil {
		for _, kv := range env.Items() {
			k, ok1 := starlark.AsString(kv[0])
			v, ok2 := starlark.AsString(kv[1])
			if !ok1 || !ok2 || k == "" || strings.ContainsAny(k, "=\x00") {
				return nil, errorf(fn, "for parameter env: want a dict of str to str with names like \"PATH\", got %s: %s", kv[0], kv[1])
			}
			environ = append(environ, k+"="+v)
		}
	}
	var in []byte
	switch s := stdin.(type) {
	case starlark.NoneType:
	case starlark.String:
		in = []byte(s)
	case starlark.Bytes:
		in = []byte(s)
	default:
		return nil, errorf(fn, "for parameter stdin: want str or bytes, got %s", stdin.Type())
	}
	if p := n.env.Planner; p != nil {
		return n.plan(p, argv, environ[base:], in, background, check)
	}
	if argv[0] == "" {
		return nil, errorf(fn, "for parameter cmd: argv is empty: give the program to run first")
	}
	if _, err := kernel.LookPath(argv[0], environ); err != nil {
		return nil, errorf(fn, "cannot run %q: %w; check the name, install it, or give its full path", argv[0], unwrapExec(err))
	}
	if background {
		// A re-run finds the daemon its lab started before still running
		// (same namespace, command, environment and directory): the same
		// one is returned, unless restart=True.
		if pi, ok := n.env.Own.FindProcess(n.ns, argv, environ[base:]); ok {
			p := n.adopted(argv, pi)
			if !restart {
				return p, nil
			}
			if err := p.stop(); err != nil {
				return nil, errorf(fn, "restart: %w", err)
			}
		}
		v, err := n.startBackground(fn, argv, environ, environ[base:], in)
		if err != nil || readyAddr == "" {
			return v, err
		}
		// ready=: wait (up to timeout) until the daemon accepts connections.
		p := v.(*Process)
		if err := n.env.waitTCP(n, readyAddr, time.Duration(timeout), p); err != nil {
			out, _ := os.ReadFile(p.errPath)
			msg := strings.TrimSpace(string(out))
			if msg != "" {
				msg = "; its stderr: " + msg
			}
			return nil, errorf(fn, "%s in namespace %s: not ready on %s within %s: %w%s", shellQuote(argv), n.Name(), readyAddr, time.Duration(timeout), err, msg)
		}
		return p, nil
	}
	return n.runForeground(fn, argv, environ, in, check, time.Duration(timeout))
}

// plan records the command instead of running it (nsscript plan): a
// command gives an empty, successful Result (with check=False a failed
// one, code 1); a background one a Process that runs until it is killed.
func (n *Namespace) plan(p Planner, argv, env []string, in []byte, background, check bool) (starlark.Value, error) {
	pid := p.Exec(n.ns, argv, env, in, background, check)
	if !background && !check {
		// A script that lets a command fail is ready for it to: the
		// cautious answer, since nothing ran.
		return &Result{Code: 1, Stderr: "not run: nsscript plan runs no command"}, nil
	}
	if !background {
		return &Result{}, nil
	}
	proc := &Process{env: n.env, ns: n, argv: argv, done: make(chan struct{}), planned: p, pid: pid}
	n.env.addProc(proc)
	return proc, nil
}

func unwrapExec(err error) error {
	var ee *exec.Error
	if errors.As(err, &ee) {
		return ee.Err
	}
	return err
}

// pipes gives cmd *os.File stdio (so the start inside the namespace
// creates no goroutine) and returns the parent's ends.
func stdinFile(in []byte) (*os.File, error) {
	if in == nil {
		return os.Open(os.DevNull)
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	go func() {
		_, _ = w.Write(in)
		w.Close()
	}()
	return r, nil
}

func (n *Namespace) runForeground(fn string, argv, environ []string, in []byte, check bool, timeout time.Duration) (starlark.Value, error) {
	stdin, err := stdinFile(in)
	if err != nil {
		return nil, errorf(fn, "%w", err)
	}
	defer stdin.Close()
	outR, outW, err := os.Pipe()
	if err != nil {
		return nil, errorf(fn, "%w", err)
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return nil, errorf(fn, "%w", err)
	}
	cmd, err := n.env.K.Start(n.ns, argv, environ, kernel.Stdio{In: stdin, Out: outW, Err: errW})
	outW.Close()
	errW.Close()
	if err != nil {
		outR.Close()
		errR.Close()
		return nil, errorf(fn, "start %q in namespace %s: %w", argv[0], n.Name(), unwrapExec(err))
	}
	var stdout, stderr bytes.Buffer
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); io.Copy(&stdout, outR); outR.Close() }()
	go func() { defer wg.Done(); io.Copy(&stderr, errR); errR.Close() }()
	waited := make(chan error, 1)
	go func() { wg.Wait(); waited <- cmd.Wait() }()

	var why string
	select {
	case err = <-waited:
	case <-time.After(timeout):
		why = fmt.Sprintf("timed out after %s", timeout)
	case <-n.env.Ctx.Done():
		why = n.env.interrupted()
	}
	if why != "" {
		_ = n.env.K.Signal(-cmd.Process.Pid, syscall.SIGKILL)
		// The group is gone; a grandchild that left it may hold the pipes.
		outR.Close()
		errR.Close()
		<-waited
		return nil, errorf(fn, "%s in namespace %s %s", shellQuote(argv), n.Name(), why)
	}
	res := &Result{Code: exitCode(cmd, err), Stdout: stdout.String(), Stderr: stderr.String()}
	if check && res.Code != 0 {
		msg := strings.TrimSpace(res.Stderr)
		if msg == "" {
			msg = strings.TrimSpace(res.Stdout)
		}
		if len(msg) > 2000 {
			msg = msg[:2000] + "..."
		}
		if msg != "" {
			msg = ": " + msg
		}
		return nil, errorf(fn, "%s in namespace %s exited with code %d%s (pass check=False to get the Result instead)", shellQuote(argv), n.Name(), res.Code, msg)
	}
	return res, nil
}

func exitCode(cmd *exec.Cmd, err error) int {
	if cmd.ProcessState == nil {
		return -1
	}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return cmd.ProcessState.ExitCode()
}

func (n *Namespace) startBackground(fn string, argv, environ, added []string, in []byte) (starlark.Value, error) {
	dir := filepath.Join(n.env.RunDir(), "logs")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, errorf(fn, "create %s: %w", dir, err)
	}
	seq := n.env.nextSeq()
	p := &Process{env: n.env, ns: n, argv: argv, done: make(chan struct{}),
		outPath: filepath.Join(dir, fmt.Sprintf("%d-%d.out", os.Getpid(), seq)),
		errPath: filepath.Join(dir, fmt.Sprintf("%d-%d.err", os.Getpid(), seq))}
	stdin, err := stdinFile(in)
	if err != nil {
		return nil, errorf(fn, "%w", err)
	}
	defer stdin.Close()
	out, err := os.Create(p.outPath)
	if err != nil {
		return nil, errorf(fn, "%w", err)
	}
	defer out.Close()
	errf, err := os.Create(p.errPath)
	if err != nil {
		return nil, errorf(fn, "%w", err)
	}
	defer errf.Close()
	info := kernel.StartInfo{Background: true, Env: added, Stdout: p.outPath, Stderr: p.errPath}
	cmd, err := n.env.K.Start(n.ns, argv, environ, kernel.Stdio{In: stdin, Out: out, Err: errf, Info: info})
	if err != nil {
		return nil, errorf(fn, "start %q in namespace %s: %w", argv[0], n.Name(), unwrapExec(err))
	}
	p.cmd = cmd
	go func() {
		err := cmd.Wait()
		p.mu.Lock()
		p.code = exitCode(cmd, err)
		p.mu.Unlock()
		close(p.done)
	}()
	n.env.addProc(p)
	return p, nil
}

func shellQuote(argv []string) string {
	if len(argv) == 3 && argv[0] == "/bin/sh" && argv[1] == "-c" {
		return fmt.Sprintf("%q", argv[2])
	}
	return "`" + shell.Join(argv) + "`"
}
