package plan

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mattn/go-shellwords"

	"github.com/nsscript/nsscript/builtins/kernel"
)

// Plan is what `nsscript plan` runs a script against: a Recorder over the
// Model, writing into a list of operations, and the builtins' Planner,
// which stands in for what a plan cannot do (run commands, send packets,
// wait).
type Plan struct {
	*Recorder
	Model *Model
	ops   *OpList

	mu    sync.Mutex
	clock time.Duration
	notes int
}

// MaxWait is how long a plan lets a script sleep in all before it calls
// it stuck: a script polling for a command's output would loop forever.
const MaxWait = time.Hour

// New makes a plan on a fresh model: a host namespace with lo up.
func New() *Plan {
	m := NewModel()
	p := &Plan{Model: m, ops: &OpList{}}
	p.Recorder = NewRecorder(m, &Renderer{PidVar: m.PidVar}, p.ops, false)
	m.Gone = func(ns *kernel.NS, dev string) {
		p.ops.Add(Op{Op: "wait", NS: ns.Label(), Dev: dev, Text: "the kernel deletes a namespace (and its veths' peers) after its last process is gone",
			Cmd: p.R.WaitGone(ns, dev)})
	}
	m.Attached = func(path string) {
		text := "attached " + path + ": the plan models it as holding only lo"
		p.ops.Add(Op{Op: "note", Text: text, Cmd: comment(text)})
	}
	return p
}

// Ops are the operations recorded so far.
func (p *Plan) Ops() []Op { return p.ops.Ops() }

// Namespaces lists the model's namespaces that are alive.
func (p *Plan) Namespaces() []*kernel.NS { return p.Model.Namespaces() }

// Label names a namespace a planned process made after its $pidN.
func (p *Plan) Label(ns *kernel.NS) string { return p.Model.Label(ns) }

// Etc is what the plan wrote to /etc/netns: path -> content.
func (p *Plan) Etc() map[string][]byte { return p.Model.Etc() }

// Print records a line the script printed, as a comment.
func (p *Plan) Print(msg string) {
	op := Op{Op: "print", Text: msg, Cmd: comment(msg)}
	if msg == "" {
		op.Cmd = ""
	}
	p.ops.Add(op)
}

// Note records a comment: a check that was not evaluated.
func (p *Plan) Note(text string) {
	p.mu.Lock()
	p.notes++
	p.mu.Unlock()
	p.ops.Add(Op{Op: "note", Text: text, Cmd: comment(text)})
}

// Notes counts the checks the plan could not evaluate.
func (p *Plan) Notes() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.notes
}

// Exec records a command. A background one gets a pid of its own ($pidN
// in the plan); `unshare --net` gives it a new namespace, and `kill PID`
// of planned pids ends them.
func (p *Plan) Exec(ns *kernel.NS, argv, env []string, stdin []byte, background, check bool) int {
	if err := p.Model.Knows(ns); err != nil {
		return 0
	}
	op := Op{Op: "exec", NS: ns.Label(), Argv: argv, Env: env, Background: background}
	if stdin != nil {
		s := string(stdin)
		op.Stdin = &s
	}
	if !check {
		f := false
		op.Check = &f
	}
	program := argv[0] != ""
	if !background {
		// A script polling with the same command records it once.
		if last, ok := p.ops.Last(); ok && last.Op == "exec" && !last.Background &&
			last.NS == op.NS && strings.Join(last.Argv, "\x00") == strings.Join(argv, "\x00") {
			return 0
		}
		op.Cmd = p.R.PlanExec(ns, argv, env, stdin, program)
		p.ops.Add(op)
		p.kills(argv)
		return 0
	}
	unshare := unshareNet(argv)
	pid, n, err := p.Model.Spawn(ns, argv, program, unshare)
	if err != nil {
		return 0
	}
	op.Pid = pid
	v := ""
	if program {
		v = "pid" + strconv.Itoa(n)
	}
	op.Cmd = p.R.PlanStart(ns, argv, env, stdin, v, unshare)
	p.ops.Add(op)
	return pid
}

// unshareNet recognizes `unshare ... --net|-n ... CMD`.
func unshareNet(argv []string) bool {
	if len(argv) < 2 || filepath.Base(argv[0]) != "unshare" {
		return false
	}
	for _, a := range argv[1:] {
		switch {
		case a == "--net" || a == "-n":
			return true
		case strings.HasPrefix(a, "--"):
		case strings.HasPrefix(a, "-") && len(a) > 1:
			if strings.Contains(a[1:], "n") {
				return true
			}
		default:
			return false
		}
	}
	return false
}

// kills ends the planned processes a `kill PID...` command names.
func (p *Plan) kills(argv []string) {
	words := argv
	if len(argv) == 3 && argv[0] == "/bin/sh" && argv[1] == "-c" {
		w, err := shellwords.Parse(argv[2])
		if err != nil {
			return
		}
		words = w
	}
	if len(words) < 2 || filepath.Base(words[0]) != "kill" {
		return
	}
	sig := "TERM"
	for i := 1; i < len(words); i++ {
		w := words[i]
		if w == "-s" && i+1 < len(words) {
			sig = strings.TrimPrefix(strings.ToUpper(words[i+1]), "SIG")
			i++
			continue
		}
		if strings.HasPrefix(w, "-") {
			sig = strings.TrimPrefix(strings.ToUpper(w[1:]), "SIG")
			continue
		}
		pid, err := strconv.Atoi(w)
		if err != nil {
			return // a shell expression: not understood
		}
		if sig != "STOP" && sig != "CONT" && sig != "0" && sig != "19" && sig != "18" {
			p.Model.End(pid)
		}
	}
}

// Kill records a signal to a planned process ("" is its own exit).
func (p *Plan) Kill(pid int, signal string) {
	n, ok := p.Model.Running(pid)
	if !ok {
		return
	}
	v := "pid" + strconv.Itoa(n)
	op := Op{Op: "kill", Pid: pid, Signal: signal, Cmd: p.R.Signal(v, signal)}
	if signal == "" {
		op = Op{Op: "wait", Pid: pid, Cmd: p.R.Signal(v, "")}
	}
	p.ops.Add(op)
	if signal != "STOP" && signal != "CONT" {
		p.Model.End(pid)
	}
}

// Alive reports whether a planned process still runs.
func (p *Plan) Alive(pid int) bool { return p.Model.Alive(pid) }

// Sleep advances the plan's clock.
func (p *Plan) Sleep(d time.Duration) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clock += d
	if p.clock > MaxWait {
		return fmt.Errorf("the script has slept %s in all: in a plan nothing it waits for happens (commands give no output), so it would wait forever", MaxWait)
	}
	return nil
}

// Checkpoint returns a function that puts the model and the record back
// as they are now.
func (p *Plan) Checkpoint() func() {
	restore := p.Model.Checkpoint()
	n := p.ops.Len()
	p.mu.Lock()
	notes := p.notes
	p.mu.Unlock()
	return func() {
		restore()
		p.ops.Truncate(n)
		p.mu.Lock()
		p.notes = notes
		p.mu.Unlock()
	}
}
