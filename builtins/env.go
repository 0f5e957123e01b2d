// Package builtins implements nsscript's Starlark builtins and values:
// one file per concept (namespace.go, veth.go, bridge.go, route.go,
// exec.go, ...), the argument kinds in args.go, and the table in table.go:
// an entry for each builtin, module function and method, from which
// spec.go makes the registration, usage, help and reference. It never
// talks to the kernel itself: every kernel call goes through package
// kernel.
package builtins

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/nsscript/nsscript/builtins/kernel"
)

// Env is the state the builtins of one run share.
type Env struct {
	// K is the kernel: the journal over the real one (with the tracer
	// between, under --trace), or the plan's recorder over its model.
	K kernel.Kernel
	// Own is what the lab knows it made (the journal; NoLab in a plan).
	Own Ownership
	// Planner stands in for what a plan cannot do; nil on a real kernel.
	Planner Planner
	Lab     string
	Stdout  io.Writer
	// Ctx is cancelled to interrupt a running builtin (sleep, exec, ping).
	Ctx context.Context

	mu    sync.Mutex
	host  *Namespace
	nss   map[uint64]*Namespace
	links map[linkKey]*Link
	procs []*Process
	seq   int
	// captures are the captures running; onNewNS starts the lab's
	// capture in each namespace the run opens (CaptureLab).
	captures   []*Capture
	onNewNS    func(*Namespace)
	captureSeq int                   // the N of the last captures/capture-N.pcapng made
	fwds       map[fwdKey]*forwarder // the forwarders of the devices this run shaped (shape.go)
	noIPv6     map[uint64]bool       // namespaces this run made or set without IPv6, by inode (namespace.go)
	// carried: the bridges whose carrier veth has applied since a port
	// of theirs came up (see firstCarrier).
	carried map[linkKey]bool
}

type linkKey struct {
	ns    uint64
	index int
}

// NewEnv prepares a run's state on a kernel stack that runtime built:
// k with own (NoLab when nil), and p for a plan (nil on a real kernel).
func NewEnv(lab string, k kernel.Kernel, own Ownership, p Planner) *Env {
	if own == nil {
		own = NoLab{}
	}
	e := &Env{K: k, Own: own, Planner: p, Lab: lab, Stdout: os.Stdout, Ctx: context.Background(),
		nss: map[uint64]*Namespace{}, links: map[linkKey]*Link{}}
	e.host = e.wrapNS(k.Host())
	return e
}

// Host is the namespace nsscript runs in.
func (e *Env) Host() *Namespace { return e.host }

// RunDir is where the lab keeps its files (process logs).
func (e *Env) RunDir() string { return filepath.Join("/run/nsscript", e.Lab) }

func (e *Env) wrapNS(ns *kernel.NS) *Namespace {
	e.mu.Lock()
	if n, ok := e.nss[ns.Inode]; ok {
		if n.ns != ns {
			n.ns = ns
		}
		e.mu.Unlock()
		return n
	}
	n := &Namespace{env: e, ns: ns}
	e.nss[ns.Inode] = n
	hook := e.onNewNS
	e.mu.Unlock()
	if hook != nil {
		hook(n)
	}
	return n
}

func (e *Env) forgetNS(n *Namespace) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.nss, n.ns.Inode)
}

// known lists the namespaces this run has opened.
func (e *Env) known() []*Namespace {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]*Namespace, 0, len(e.nss))
	for _, n := range e.nss {
		out = append(out, n)
	}
	return out
}

// wrapLink returns the one Link value for a device, so that every value
// naming it follows it through renames and moves.
func (e *Env) wrapLink(ns *Namespace, index int, name string) *Link {
	e.mu.Lock()
	defer e.mu.Unlock()
	key := linkKey{ns.ns.Inode, index}
	if l, ok := e.links[key]; ok {
		l.name = name
		return l
	}
	l := &Link{env: e, ns: ns, index: index, name: name}
	e.links[key] = l
	return l
}

// knownLink is the Link value this run already has for a device, or nil.
func (e *Env) knownLink(ns *Namespace, index int) *Link {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.links[linkKey{ns.ns.Inode, index}]
}

func (e *Env) relinkLocked(l *Link, ns *Namespace, index int) {
	delete(e.links, linkKey{l.ns.ns.Inode, l.index})
	l.ns, l.index = ns, index
	e.links[linkKey{ns.ns.Inode, index}] = l
}

func (e *Env) relink(l *Link, ns *Namespace, index int, name string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.relinkLocked(l, ns, index)
	l.name = name
}

func (e *Env) forgetLink(l *Link) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.links, linkKey{l.ns.ns.Inode, l.index})
	e.carried = nil // (it may have been a port)
}

// firstCarrier reports whether br's carrier may have come on with a port
// that has just come up: only the first port gives a bridge its carrier,
// which a read then applies at once (see veth). What may have taken a
// port away (a device down, deleted, moved, or off its bridge) makes
// every bridge's next port count as the first again.
func (e *Env) firstCarrier(br *Link) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	k := linkKey{br.ns.ns.Inode, br.index}
	if e.carried[k] {
		return false
	}
	if e.carried == nil {
		e.carried = map[linkKey]bool{}
	}
	e.carried[k] = true
	return true
}

// portsChanged notes that a bridge may have lost a port (see
// firstCarrier).
func (e *Env) portsChanged() {
	e.mu.Lock()
	e.carried = nil
	e.mu.Unlock()
}

func (e *Env) addProc(p *Process) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.procs = append(e.procs, p)
}

func (e *Env) nextSeq() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.seq++
	return e.seq
}

// Processes are the background processes this run started.
func (e *Env) Processes() []*Process {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]*Process(nil), e.procs...)
}

// interrupted says why the run was interrupted (Ctrl-C, SIGTERM, its
// output closed...), for a builtin that was waiting.
func (e *Env) interrupted() string {
	if err := context.Cause(e.Ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err.Error()
	}
	return "interrupted"
}

// errorf builds a builtin's error: "NAME: message". A cause given with
// %w stays in the chain, so that callers can match it (errors.Is(err,
// kernel.ErrNoLink)).
func errorf(name, format string, args ...any) error {
	return fmt.Errorf("%s: "+format, append([]any{name}, args...)...)
}

// advised is an error said better, with the original kept in the chain.
type advised struct {
	msg string
	err error
}

func (a *advised) Error() string { return a.msg }
func (a *advised) Unwrap() error { return a.err }

// because is err with cause kept in its chain, unsaid: a message that
// says better what cause means (errors.Is(err, kernel.ErrNoLink) holds).
func because(err, cause error) error { return &advised{err.Error(), cause} }
