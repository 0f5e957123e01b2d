package journal

import (
	"os"
	"slices"
	"strings"

	"github.com/nsscript/nsscript/builtins/kernel"
)

// Undo of processes: stopping what a run started, and only that.

// stopProcess stops a process nsscript started and everything it started:
// its process group and descendants, and every process that carries its
// token (OwnerEnv), such as a daemon that double-forked out of both. A pid
// that is now another process is left alone.
//
// The recorded process is stopped only if it is still the lab's: the same
// pid and start time (both anyone can read), and the run's mark in its
// environment or its place in one of the lab's cgroups. A journal that
// names another process (pid 1, say) kills nothing.
func (u *Undoer) stopProcess(r Record) error {
	u.readProcs()
	var pids []int
	if r.Pid > 1 && r.Pid != os.Getpid() && r.Start != 0 && liveStart(u.K, r.Pid) == r.Start && u.labProcess(r.Pid, r.Token) {
		pids = append(pids, -r.Pid, r.Pid) // its process group, and it
		pids = append(pids, kernel.Descendants(u.procs, r.Pid)...)
	}
	if r.Token != "" {
		for _, p := range u.marked[r.Token] {
			if !slices.Contains(pids, p.Pid) && liveStart(u.K, p.Pid) == p.Start {
				pids = append(pids, p.Pid)
			}
		}
	}
	// What the run adopted lives on (it carries the token of the run
	// that started it, as a foreground command of that run did).
	spare := map[int]bool{}
	for _, p := range u.Spare {
		spare[p] = true
		for _, d := range kernel.Descendants(u.procs, p) {
			spare[d] = true
		}
	}
	pids = slices.DeleteFunc(pids, func(p int) bool { return spare[p] || spare[-p] })
	if len(pids) == 0 {
		return errGone
	}
	u.K.StopProcesses(pids)
	return nil
}

// readProcs reads the process table once for the whole undo: the
// processes a lab's undo stops are there when it begins.
func (u *Undoer) readProcs() {
	if u.marked != nil {
		return
	}
	u.marked = map[string][]kernel.Proc{}
	u.procs, _ = u.K.Processes()
	for _, p := range u.procs {
		if p.Owner != "" {
			u.marked[p.Owner] = append(u.marked[p.Owner], p)
		}
	}
}

// labProcess reports whether a process carries the run's token in its
// environment, or is in a cgroup of the records undone.
func (u *Undoer) labProcess(pid int, token string) bool {
	p, ok := u.K.Process(pid)
	if !ok {
		return false
	}
	if token != "" && p.Owner == token {
		return true
	}
	for _, c := range u.cgroups {
		if p.Cgroup != "" && (p.Cgroup == c || strings.HasPrefix(p.Cgroup, c+"/")) {
			return true
		}
	}
	return false
}
