package plan

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"

	"github.com/nsscript/nsscript/builtins/kernel"
)

// pidBase is above the largest pid Linux gives (PID_MAX_LIMIT, 2^22):
// a planned process's pid is never a real one.
const pidBase = 1 << 22

// rproc is a process the plan starts.
type rproc struct {
	pid   int
	n     int // $pidN in the plan
	ns    *rns
	argv  []string
	alive bool
	// started: the plan starts it (argv[0] is known), so $pidN is set.
	started bool
}

// proc is the planned process pid, or nil.
func (r *Model) proc(pid int) *rproc {
	if pid <= pidBase || pid > pidBase+len(r.procs) {
		return nil
	}
	return r.procs[pid-pidBase-1]
}

// Identify is the namespace of a process the plan started.
func (r *Model) Identify(pid int) (*kernel.NS, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if pid == 1 {
		return r.host.ns, nil
	}
	if p := r.proc(pid); p != nil && p.alive {
		return p.ns.ns, nil
	}
	return nil, fmt.Errorf("process %d: no such process (a plan knows only the processes the script starts)", pid)
}

func (r *Model) pidsIn(n *rns) []int {
	var pids []int
	for _, p := range r.procs {
		if p.alive && p.ns == n {
			pids = append(pids, p.pid)
		}
	}
	return pids
}

// PidsByNetns lists the plan's processes by namespace.
func (r *Model) PidsByNetns() (map[uint64][]int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[uint64][]int{}
	for _, n := range r.all {
		if n.alive {
			out[n.ns.Inode] = r.pidsIn(n)
		}
	}
	return out, nil
}

// Pids lists the planned processes in ns.
func (r *Model) Pids(ns *kernel.NS) ([]int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n, err := r.nsOf(ns)
	if err != nil {
		return nil, err
	}
	return r.pidsIn(n), nil
}

// Spawn starts a process in the model: a background command of a plan.
// started says the plan starts it for real (its program is known); with
// unshareNet it makes a namespace of its own (unshare --net). It returns
// the pid, above every real one, and n, the process's number ($pidN).
func (r *Model) Spawn(ns *kernel.NS, argv []string, started, unshareNet bool) (pid, n int, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	in, err := r.nsOf(ns)
	if err != nil {
		return 0, 0, err
	}
	p := &rproc{pid: pidBase + len(r.procs) + 1, n: len(r.procs) + 1, ns: in, argv: argv, alive: true, started: started}
	r.procs = append(r.procs, p)
	if unshareNet {
		c := r.newNS("", fmt.Sprintf("/proc/%d/ns/net", p.pid), false)
		c.creator = p
		p.ns = c
	}
	return p.pid, p.n, nil
}

// End ends a planned process (false: there is no such process alive); a
// namespace that only it kept alive goes.
func (r *Model) End(pid int) bool {
	defer r.tell()
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.proc(pid)
	if p == nil || !p.alive {
		return false
	}
	r.end(p)
	return true
}

// end ends a planned process; a namespace that only it kept alive goes.
func (r *Model) end(p *rproc) {
	p.alive = false
	n := p.ns
	if !n.alive || n.named || n.ns.Host || len(r.pidsIn(n)) > 0 {
		return
	}
	for _, e := range r.external {
		if e == n {
			return // attached by path: something else holds it
		}
	}
	r.destroy(n)
}

// Running is the number of a planned process that runs ($pidN).
func (r *Model) Running(pid int) (int, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if p := r.proc(pid); p != nil && p.alive {
		return p.n, true
	}
	return 0, false
}

// Alive reports whether a planned process still runs.
func (r *Model) Alive(pid int) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.proc(pid)
	return p != nil && p.alive
}

// PidVar names the shell variable that holds a planned process's pid
// ("pid1"); a process the plan does not start keeps its number (which no
// process has).
func (r *Model) PidVar(pid int) (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.proc(pid)
	if p == nil || !p.started {
		return "", false
	}
	return "pid" + strconv.Itoa(p.n), true
}

func (r *Model) procInfo(p *rproc) kernel.Proc {
	return kernel.Proc{Pid: p.pid, Start: uint64(p.n), Netns: p.ns.ns.Inode, Argv: p.argv}
}

// Processes lists the planned processes that run.
func (r *Model) Processes() ([]kernel.Proc, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []kernel.Proc
	for _, p := range r.procs {
		if p.alive {
			out = append(out, r.procInfo(p))
		}
	}
	return out, nil
}

// Process reads a planned process that runs.
func (r *Model) Process(pid int) (kernel.Proc, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if p := r.proc(pid); p != nil && p.alive {
		return r.procInfo(p), true
	}
	return kernel.Proc{}, false
}

// Signal ends a planned process (or, with a negative pid, the one that
// leads that group), unless sig only stops, continues or probes it.
func (r *Model) Signal(pid int, sig syscall.Signal) error {
	if pid < 0 {
		pid = -pid
	}
	if !r.Alive(pid) {
		return syscall.ESRCH
	}
	if sig != syscall.SIGSTOP && sig != syscall.SIGCONT && sig != 0 {
		r.End(pid)
	}
	return nil
}

// StopProcesses ends the planned processes among pids.
func (r *Model) StopProcesses(pids []int) {
	for _, pid := range pids {
		r.End(pid)
	}
}

// CgroupFor: the model has no cgroups; processes go without.
func (r *Model) CgroupFor(leaf string) (string, bool) { return "", false }

// CgroupPids: the model has no cgroups.
func (r *Model) CgroupPids(rel string) ([]int, error) { return nil, nil }

// MakeCgroup: the model has no cgroups.
func (r *Model) MakeCgroup(rel string) (*os.File, error) { return nil, errPlan }

// EndCgroup: the model has no cgroups.
func (r *Model) EndCgroup(rel string) error { return nil }

var errPlan = errors.New("a plan runs nothing and sends no packets")

// Start is never called in a plan (exec asks the planner); it refuses.
func (r *Model) Start(ns *kernel.NS, argv, env []string, stdio kernel.Stdio) (*exec.Cmd, error) {
	return nil, errPlan
}

// Sandboxes: the model runs in no host that has any.
func (r *Model) Sandboxes() ([]kernel.SandboxInfo, error) { return nil, nil }

// OpenSandbox refuses: the model has no sandboxes.
func (r *Model) OpenSandbox(info kernel.SandboxInfo) (*kernel.Sandbox, error) { return nil, errPlan }

// EndSandbox refuses: the model has no sandboxes.
func (r *Model) EndSandbox(info kernel.SandboxInfo) error { return errPlan }

// ICMPConn refuses: ping asks the planner instead.
func (r *Model) ICMPConn(ns *kernel.NS, v6 bool) (net.PacketConn, error) { return nil, errPlan }

// PacketConn refuses: capture() asks the planner instead.
func (r *Model) PacketConn(ns *kernel.NS, c kernel.CaptureSpec) (*kernel.PacketConn, error) {
	return nil, errPlan
}

// DialTCP refuses: assert.reachable asks the planner instead.
func (r *Model) DialTCP(ns *kernel.NS, addr string, timeout float64) error { return errPlan }

// WriteEtc records /etc/netns/NAME/FILE. Like nsscript it refuses a file
// /etc lacks (exec could not bind it over /etc/FILE).
func (r *Model) WriteEtc(name, file string, content []byte) (string, error) {
	if err := kernel.EtcTarget(name, file); err != nil {
		return "", err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	p := filepath.Join(kernel.EtcNetnsDir, name, file)
	r.etc[p] = append([]byte(nil), content...)
	return p, nil
}

// EtcState reads the model's /etc/netns.
func (r *Model) EtcState(name, file string) (kernel.EtcState, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var st kernel.EtcState
	dir := filepath.Join(kernel.EtcNetnsDir, name)
	for p := range r.etc {
		st.TopExists = true
		st.DirExists = st.DirExists || filepath.Dir(p) == dir
	}
	st.Old, st.Had = r.etc[filepath.Join(dir, file)]
	return st, nil
}

// UndoEtc puts a file back as it was, while it holds what was written
// (the checksum sum); ErrNotOurs otherwise.
func (r *Model) UndoEtc(name, file, sum string, wrote []byte, had bool, old []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := filepath.Join(kernel.EtcNetnsDir, name, file)
	now, ok := r.etc[p]
	switch {
	case !ok:
		return nil
	case kernel.EtcSum(now) != sum:
		return fmt.Errorf("%w: %s changed since", kernel.ErrNotOurs, p)
	case had:
		r.etc[p] = append([]byte(nil), old...)
	default:
		delete(r.etc, p)
	}
	return nil
}

// RemoveEtcDir: the model keeps no directories of its own.
func (r *Model) RemoveEtcDir(name string) error { return nil }

// HasNetnsDir reports whether a namespace was ever named (and
// RemoveNetnsDir has not removed /run/netns since).
func (r *Model) HasNetnsDir() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.netnsDir
}

// RemoveNetnsDir removes /run/netns when no name is left in it.
func (r *Model) RemoveNetnsDir() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, n := range r.all {
		if n.alive && n.named {
			return nil
		}
	}
	r.netnsDir = false
	return nil
}

// Etc is what the plan wrote to /etc/netns: path -> content.
func (r *Model) Etc() map[string][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string][]byte{}
	for k, v := range r.etc {
		out[k] = v
	}
	return out
}

type snapshot struct {
	host      *rns
	all       []*rns
	external  map[string]*rns
	nextIndex int
	nextMAC   int
	procs     []*rproc
	etc       map[string][]byte
}

// clone copies the model (namespaces keep their kernel.NS values, which
// the builtins hold).
func (r *Model) clone() *snapshot {
	nsMap := map[*rns]*rns{}
	linkMap := map[*rlink]*rlink{}
	procMap := map[*rproc]*rproc{}
	s := &snapshot{nextIndex: r.nextIndex, nextMAC: r.nextMAC, etc: map[string][]byte{}, external: map[string]*rns{}}
	for _, n := range r.all {
		c := *n
		c.sysctl, c.rules, c.nsids = map[string]string{}, map[kernel.Chain][][]string{}, map[uint64]int{}
		c.prules = slices.Clone(n.prules)
		for k, v := range n.sysctl {
			c.sysctl[k] = v
		}
		for k, v := range n.rules {
			c.rules[k] = append([][]string(nil), v...)
		}
		for k, v := range n.nsids {
			c.nsids[k] = v
		}
		nsMap[n] = &c
	}
	for _, n := range r.all {
		for _, l := range n.links {
			c := *l
			c.addrs = append([]*net.IPNet(nil), l.addrs...)
			linkMap[l] = &c
		}
	}
	for _, p := range r.procs {
		c := *p
		procMap[p] = &c
	}
	for _, n := range r.all {
		c := nsMap[n]
		c.links = nil
		for _, l := range n.links {
			cl := linkMap[l]
			cl.ns = c
			if l.master != nil {
				cl.master = linkMap[l.master]
			}
			if l.peer != nil {
				cl.peer = linkMap[l.peer]
			}
			c.links = append(c.links, cl)
		}
		c.routes = nil
		for _, rt := range n.routes {
			crt := *rt
			crt.dev = linkMap[rt.dev]
			c.routes = append(c.routes, &crt)
		}
		if n.creator != nil {
			c.creator = procMap[n.creator]
		}
		s.all = append(s.all, c)
	}
	s.host = nsMap[r.host]
	for k, v := range r.external {
		s.external[k] = nsMap[v]
	}
	for _, p := range r.procs {
		c := procMap[p]
		c.ns = nsMap[p.ns]
		s.procs = append(s.procs, c)
	}
	for k, v := range r.etc {
		s.etc[k] = v
	}
	return s
}

// Checkpoint returns a function that puts the model back as it is now.
func (r *Model) Checkpoint() (restore func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	snap := r.clone()
	return func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.restore(snap)
	}
}

func (r *Model) restore(s *snapshot) {
	r.host, r.all, r.external, r.nextIndex, r.nextMAC, r.procs, r.etc = s.host, s.all, s.external, s.nextIndex, s.nextMAC, s.procs, s.etc
}
