// Command nsscript is a scriptable shell for Linux network namespaces.
// This file only parses the command line and picks what to run.
package main

import (
	"fmt"
	"io"
	"os"
	goruntime "runtime"
	"runtime/pprof"
	"strconv"
	"strings"

	"golang.org/x/term"

	"github.com/nsscript/nsscript/builtins/kernel"
	"github.com/nsscript/nsscript/runtime"
	"github.com/nsscript/nsscript/runtime/quietlog"
)

const usage = `usage:
  nsscript [flags] FILE.star [key=value ...]   run a script (it sees key=value in args)
  nsscript [flags] run FILE.star [key=value ...]
  nsscript [flags] -c PROGRAM [key=value ...]  run a program given on the line, with topo predeclared
                                               (nsscript --sandbox -c 'topo.tree(depth=2, fanout=3).pingall()')
  nsscript [flags]                             interactive REPL (a script on stdin when it is not a terminal)
  nsscript [flags] repl [key=value ...]        the REPL (-i FILE runs FILE first and keeps its globals)
  nsscript down [LAB|FILE ...]                 undo what a run created
  nsscript ls [LAB ...]                        labs and what they hold
  nsscript test [PATH ...]                     run *_test.star files: each test_* function in its own sandbox
                                               (-run REGEX, -parallel N, --junit FILE, --json,
                                               --capture-on-failure DIR: a pcapng of each failed test's devices)
  nsscript plan FILE.star [key=value ...]      print the equivalent ip/iptables/sysctl commands (no kernel change)
  nsscript plan --diff LAB FILE.star [k=v ...] what a run of FILE as LAB would add to and remove from the lab
  nsscript graph FILE.star|LAB [--format F]    draw the topology (F: text, dot, mermaid, svg)
  nsscript shell [LAB] NS                      an interactive shell ($SHELL) in namespace NS of a lab (NS: a name, or host)
  nsscript exec [LAB] NS -- CMD [ARG ...]      run CMD there and exit with its code (as ip netns exec); LAB may run
                                               in a sandbox (nsscript ls shows it; LAB@PID: the one in sandbox PID)
  nsscript doctor                              what on this machine changes how labs behave, and what to do;
                                               changes nothing (exit 1 when something blocks labs)
  nsscript why [LAB] SRC DST[:PORT]            follow a packet from namespace SRC (or host) to DST and back, and name
                                               what stops it, with the fix (--proto udp; exit 1 when something does)

flags:
  --sandbox     run inside a fresh private network + mount namespace; all of it vanishes at exit
                (needs no root: without it, in a user namespace of yours)
  --lab NAME    the lab this run belongs to (default: the script's name without .star)
  --trace       print each kernel change as the equivalent command
  --keep        on error, leave what was built instead of rolling back; with --sandbox, keep the
                sandbox after the script until Ctrl-C or nsscript down LAB (go in with nsscript shell)
  --hold        the same as --keep
  --json        machine-readable output (ls, plan, graph, test, doctor, why)
  --proto P     why: icmp (a ping, the default), tcp or udp (DST:PORT alone means tcp)
  --history F   the REPL's history file (default $NSSCRIPT_HISTORY, else ~/.nsscript_history)
`

type cli struct {
	sandbox, trace, keep, json, help bool
	diff                             bool
	lab, interactive, format, proto  string
	program                          *string // -c PROGRAM
	history                          string
	parallel                         int
	runRE, junit, captureDir         string
	words                            []string
	dash                             int // how many words came before "--" (-1: no "--")
}

// parse accepts the global flags anywhere on the line; the words left are
// the subcommand, the file and its key=value arguments.
func parse(args []string) (*cli, error) {
	c := &cli{dash: -1}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			c.dash = len(c.words)
			c.words = append(c.words, args[i+1:]...)
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			c.words = append(c.words, a)
			continue
		}
		name, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		value := func() (string, error) {
			if hasVal {
				return val, nil
			}
			if i+1 >= len(args) {
				return "", fmt.Errorf("flag %s needs a value", a)
			}
			i++
			return args[i], nil
		}
		var err error
		switch name {
		case "sandbox":
			c.sandbox = true
		case "trace":
			c.trace = true
		case "keep", "hold":
			c.keep = true
		case "json":
			c.json = true
		case "diff":
			c.diff = true
		case "h", "help":
			c.help = true
		case "lab":
			c.lab, err = value()
		case "i":
			c.interactive, err = value()
		case "c":
			var p string
			p, err = value()
			c.program = &p
		case "history":
			c.history, err = value()
		case "format":
			c.format, err = value()
		case "proto":
			c.proto, err = value()
		case "run":
			c.runRE, err = value()
		case "junit":
			c.junit, err = value()
		case "capture-on-failure":
			c.captureDir, err = value()
		case "parallel":
			var v string
			if v, err = value(); err == nil {
				if c.parallel, err = strconv.Atoi(v); err != nil || c.parallel < 1 {
					err = fmt.Errorf("-parallel wants a number of tests at once (1 or more), got %q", v)
				}
			}
		default:
			return nil, fmt.Errorf("unknown flag %s", a)
		}
		if err != nil {
			return nil, err
		}
	}
	return c, nil
}

func main() {
	quietlog.Restore()
	kernel.MaybeForward()
	kernel.MaybeSandboxInit()
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// profile writes a CPU profile of this run to file (for go tool pprof)
// when NSSCRIPT_CPUPROFILE names one.
func profile(file string) (stop func()) {
	if file == "" {
		return func() {}
	}
	f, err := os.Create(file)
	if err == nil {
		err = pprof.StartCPUProfile(f)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "nsscript: NSSCRIPT_CPUPROFILE: %v\n", err)
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}

func run(argv []string, stdin *os.File, stdout, stderr io.Writer) int {
	c, err := parse(argv)
	if err != nil {
		fmt.Fprintf(stderr, "nsscript: %v\n\n%s", err, usage)
		return runtime.ExitUsage
	}
	if c.help {
		fmt.Fprint(stdout, usage)
		return runtime.ExitOK
	}
	if c.lab != "" || hasFlag(argv, "lab") {
		// Before anything is made, sandbox included: a lab name becomes
		// a directory, and "" (an unset $LAB), "..", "a/b" must not.
		if err := runtime.CheckLab(c.lab, ""); err != nil {
			fmt.Fprintf(stderr, "nsscript: --lab: %v\n", err)
			return runtime.ExitUsage
		}
	}
	cmd, words := c.command()
	repl := c.program == nil && (cmd == "repl" || cmd == "" && c.interactive != "" || cmd == "" && len(words) == 0 && term.IsTerminal(int(stdin.Fd())))
	if c.sandbox && (cmd == "shell" || cmd == "exec" || cmd == "down" || cmd == "ls") {
		does := map[string]string{"shell": "goes into a running lab", "exec": "goes into a running lab",
			"down": "ends a running lab", "ls": "lists the labs"}[cmd]
		fmt.Fprintf(stderr, "nsscript %s: --sandbox would make a fresh sandbox with no lab in it: %s %s (those --sandbox runs hold too) without it\n", cmd, cmd, does)
		return runtime.ExitUsage
	}
	if c.sandbox && !kernel.InSandbox() {
		code, err := kernel.RunSandboxed(argv, c.sandboxLab(cmd, words, repl), repl)
		if err != nil {
			fmt.Fprintf(stderr, "nsscript: %v\n", err)
		}
		return code
	}
	if code := c.refuseHost(cmd, words, repl, stderr); code != runtime.ExitOK {
		return code
	}
	defer profile(os.Getenv("NSSCRIPT_CPUPROFILE"))()
	if c.program != nil {
		return c.runProgram(cmd, words, stdout, stderr)
	}
	if repl {
		// The REPL: its words are key=value arguments, for args.
		args, err := keyValues(words)
		if err != nil {
			fmt.Fprintf(stderr, "nsscript: %v\n", err)
			return runtime.ExitUsage
		}
		return runtime.REPL(runtime.REPLOptions{Options: c.options(runtime.REPLLab, stdout, stderr),
			File: c.interactive, Args: args, History: runtime.HistoryFile(c.history)})
	}
	switch cmd {
	case "", "run":
		if len(words) == 0 {
			if cmd == "run" {
				fmt.Fprintf(stderr, "nsscript run: which script? nsscript run FILE.star [key=value ...]\n")
				return runtime.ExitUsage
			}
			src, err := io.ReadAll(stdin) // not a terminal: a script
			if err != nil {
				fmt.Fprintf(stderr, "nsscript: read stdin: %v\n", err)
				return runtime.ExitError
			}
			return runtime.Run("<stdin>", src, nil, c.options("stdin", stdout, stderr))
		}
		file, rest := words[0], words[1:]
		args, err := keyValues(rest)
		if err != nil {
			fmt.Fprintf(stderr, "nsscript: %v\n", err)
			return runtime.ExitUsage
		}
		if c.lab == "" {
			if err := runtime.CheckLab(runtime.LabName(file), "the script's file name "+file); err != nil {
				fmt.Fprintf(stderr, "nsscript: %v\n", err)
				return runtime.ExitUsage
			}
		}
		return runtime.Run(file, nil, args, c.options(runtime.LabName(file), stdout, stderr))
	case "down":
		if c.lab != "" {
			words = append(words, c.lab)
		}
		return runtime.Down(words, c.trace, stdout, stderr)
	case "ls":
		return runtime.Ls(words, c.json, stdout, stderr)
	case "test":
		par := c.parallel
		if par == 0 {
			par = goruntime.NumCPU()
		}
		return runtime.Test(words, runtime.TestOptions{Parallel: par, Run: c.runRE, JUnit: c.junit, JSON: c.json,
			CaptureDir: c.captureDir, Stdout: stdout, Stderr: stderr})
	case "__test": // one test function, in the sandbox runtime.Test made for it (FILE NAME [PCAPNG])
		if len(words) != 2 && len(words) != 3 {
			return runtime.ExitUsage
		}
		capture := ""
		if len(words) == 3 {
			capture = words[2]
		}
		return runtime.RunTestFunc(words[0], words[1], capture, c.options(runtime.TestLab(words[0]), stdout, stderr))
	case "plan":
		return runtime.PlanCommand(words, c.lab, c.diff, c.json, stdout, stderr)
	case "graph":
		return runtime.GraphCommand(words, c.format, c.lab, c.json, stdout, stderr)
	case "shell", "exec":
		return c.into(cmd, words, stdin, stdout, stderr)
	case "doctor":
		return runtime.Doctor(words, c.json, stdout, stderr)
	case "why":
		return runtime.WhyCommand(words, c.proto, c.json, stdout, stderr)
	default:
		fmt.Fprintf(stderr, "nsscript %s: not available in this version\n", cmd)
		return runtime.ExitUsage
	}
}

// runProgram is `nsscript -c PROGRAM [key=value ...]`: the program runs as
// a script would, as lab "cmdline", with the libraries' values (topo)
// predeclared, since a one-liner has no room for a load statement.
func (c *cli) runProgram(cmd string, words []string, stdout, stderr io.Writer) int {
	if cmd != "" || c.interactive != "" {
		fmt.Fprintf(stderr, "nsscript: -c runs the program it is given, with no subcommand or -i\n\n%s", usage)
		return runtime.ExitUsage
	}
	args, err := keyValues(words)
	if err != nil {
		fmt.Fprintf(stderr, "nsscript: %v\n", err)
		return runtime.ExitUsage
	}
	opts := c.options("cmdline", stdout, stderr)
	opts.Libraries = true
	return runtime.Run("<command line>", *c.program, args, opts)
}

// refuseHost refuses, before anything is touched, a run on this host's
// own network (a script, a program, the REPL) without root's powers, and
// says that --sandbox needs none.
func (c *cli) refuseHost(cmd string, words []string, repl bool, stderr io.Writer) int {
	if cmd != "" && cmd != "run" && cmd != "repl" || kernel.InSandbox() || kernel.Privileged() {
		return runtime.ExitOK
	}
	what, sandboxed := "", "nsscript --sandbox"
	switch {
	case c.program != nil:
		what, sandboxed = "the program", sandboxed+" -c PROGRAM"
	case repl:
		what = "the REPL"
	case len(words) == 0:
		what, sandboxed = "the script on standard input", sandboxed+" < FILE.star"
	default:
		what, sandboxed = words[0], sandboxed+" "+words[0]
	}
	fmt.Fprintf(stderr, "nsscript: %s would change this host's network, which needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN); nothing was done. In a sandbox it needs no root: %s\n", what, sandboxed)
	if why := kernel.UsernsBlocked(kernel.UsernsSettings()); why != "" {
		fmt.Fprintf(stderr, "nsscript: but this system keeps a sandbox from being made without root: %s\n", why)
	}
	return runtime.ExitUsage
}

// command is the subcommand ("" for a script or the REPL) and the words
// after it.
func (c *cli) command() (string, []string) {
	if len(c.words) > 0 {
		switch c.words[0] {
		case "run", "repl", "down", "ls", "test", "plan", "graph", "shell", "exec", "doctor", "why", "__test":
			return c.words[0], c.words[1:]
		}
	}
	return "", c.words
}

// sandboxLab is the lab a sandbox started for this command line runs,
// which its init is marked with (see kernel.RunSandboxed): the script's, the
// REPL's or stdin's; "" for the commands that run no lab of their own,
// and for a lab name that is no name (the run inside refuses it).
func (c *cli) sandboxLab(cmd string, words []string, repl bool) string {
	lab := c.lab
	switch {
	case lab != "":
	case repl:
		lab = runtime.REPLLab
	case c.program != nil:
		lab = "cmdline"
	case cmd != "" && cmd != "run":
		return ""
	case len(words) > 0:
		lab = runtime.LabName(words[0])
	default:
		lab = "stdin"
	}
	if runtime.CheckLab(lab, "") != nil {
		return ""
	}
	return lab
}

// into is nsscript shell and nsscript exec: [LAB] NS, and for exec -- CMD.
func (c *cli) into(cmd string, words []string, stdin *os.File, stdout, stderr io.Writer) int {
	dash := c.dash - 1 // the words before "--", after the subcommand
	var argv []string
	switch {
	case cmd == "shell" && dash >= 0:
		fmt.Fprintf(stderr, "nsscript shell: it runs no command (no --): nsscript shell [LAB] NS opens a shell; nsscript exec [LAB] NS -- CMD runs one\n")
		return runtime.ExitUsage
	case cmd == "exec" && dash < 0:
		fmt.Fprintf(stderr, "nsscript exec: put -- before the command: nsscript exec [LAB] NS -- CMD [ARG ...]\n")
		return runtime.ExitUsage
	case cmd == "exec" && dash == len(words):
		fmt.Fprintf(stderr, "nsscript exec: no command after --: nsscript exec [LAB] NS -- CMD [ARG ...]\n")
		return runtime.ExitUsage
	case cmd == "exec":
		words, argv = words[:dash], words[dash:]
	}
	if c.lab != "" {
		if len(words) != 1 {
			fmt.Fprintf(stderr, "nsscript %s: with --lab LAB, name the namespace only: nsscript --lab LAB %s NS\n", cmd, cmd)
			return runtime.ExitUsage
		}
		words = []string{c.lab, words[0]}
	}
	return runtime.Into(cmd, words, argv, stdin, stdout, stderr)
}

func (c *cli) options(lab string, stdout, stderr io.Writer) runtime.Options {
	if c.lab != "" {
		lab = c.lab
	}
	return runtime.Options{Lab: lab, Sandbox: kernel.InSandbox(), Keep: c.keep, Hold: c.keep && kernel.InSandbox(),
		Trace: c.trace, Stdout: stdout, Stderr: stderr}
}

// hasFlag reports whether a --NAME flag was given, even as --NAME="".
func hasFlag(argv []string, name string) bool {
	for _, a := range argv {
		if a == "--" {
			return false
		}
		if n, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "="); strings.HasPrefix(a, "-") && n == name {
			return true
		}
	}
	return false
}

// keyValues parses the script's key=value arguments.
func keyValues(words []string) (map[string]string, error) {
	args := map[string]string{}
	for _, w := range words {
		k, v, ok := strings.Cut(w, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("argument %q is not key=value: a script's arguments are key=value pairs, e.g. hosts=10", w)
		}
		args[k] = v
	}
	return args, nil
}
