package kernel

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// This file reads the process table (/proc) and stops processes: what
// undo needs to find a lab's processes and end them, in one place.

// stat reads the fields of /proc/PID/stat after the command name: state
// (0), ppid (1), ... starttime (19).
func stat(pid int) ([]string, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return nil, false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return nil, false
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 20 {
		return nil, false
	}
	return f, true
}

// ProcStart is a process's start time (clock ticks after boot), which
// tells it from a later process with the same pid; 0 when it is gone (or
// a zombie).
func ProcStart(pid int) uint64 {
	f, ok := stat(pid)
	if !ok || f[0] == "Z" || f[0] == "X" {
		return 0
	}
	v, _ := strconv.ParseUint(f[19], 10, 64)
	return v
}

// Process reads one process: its parent, start time, state, namespace,
// OwnerEnv mark and cgroup (not its command line). False when it is gone.
func (k *Linux) Process(pid int) (Proc, bool) {
	return readProc(pid, false)
}

func readProc(pid int, argv bool) (Proc, bool) {
	f, ok := stat(pid)
	if !ok {
		return Proc{}, false
	}
	p := Proc{Pid: pid, Zombie: f[0] == "Z" || f[0] == "X"}
	p.PPid, _ = strconv.Atoi(f[1])
	p.Start, _ = strconv.ParseUint(f[19], 10, 64)
	p.Netns, _ = PidInode(pid)
	dir := "/proc/" + strconv.Itoa(pid) + "/"
	if env, err := os.ReadFile(dir + "environ"); err == nil {
		prefix := []byte(OwnerEnv + "=")
		for _, kv := range bytes.Split(env, []byte{0}) {
			if bytes.HasPrefix(kv, prefix) {
				p.Owner = string(kv[len(prefix):])
			}
		}
	}
	if cg, err := os.ReadFile(dir + "cgroup"); err == nil {
		for _, l := range strings.Split(string(cg), "\n") {
			if rel, ok := strings.CutPrefix(l, "0::"); ok {
				p.Cgroup = rel
			}
		}
	}
	if argv {
		if b, err := os.ReadFile(dir + "cmdline"); err == nil && len(b) > 0 {
			p.Argv = strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
		}
	}
	return p, true
}

// Processes reads every process but this one, in one pass over /proc.
func (k *Linux) Processes() ([]Proc, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	var out []Proc
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		if p, ok := readProc(pid, true); ok {
			out = append(out, p)
		}
	}
	return out, nil
}

// Descendants lists the children of pid in procs, their children and so
// on, in pid order.
func Descendants(procs []Proc, pid int) []int {
	children := map[int][]int{}
	for _, p := range procs {
		children[p.PPid] = append(children[p.PPid], p.Pid)
	}
	var out []int
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range children[p] {
			out = append(out, c)
			queue = append(queue, c)
		}
	}
	slices.Sort(out)
	return out
}

// Signal sends sig to pid (a negative pid: to the process group).
func (k *Linux) Signal(pid int, sig syscall.Signal) error {
	return syscall.Kill(pid, sig)
}

// StopProcesses sends TERM to each process (a negative pid: to that
// process group, not awaited), waits up to two seconds for them to end,
// then sends KILL to those left. Never nsscript itself, nor init.
func (k *Linux) StopProcesses(pids []int) {
	var procs []int
	for _, p := range pids {
		switch {
		case p < -1:
			_ = syscall.Kill(p, syscall.SIGTERM)
		case p > 1 && p != os.Getpid():
			procs = append(procs, p)
		}
	}
	starts := map[int]uint64{}
	for _, p := range procs {
		starts[p] = ProcStart(p)
		_ = syscall.Kill(p, syscall.SIGTERM)
	}
	alive := func() []int {
		var out []int
		for _, p := range procs {
			if st := ProcStart(p); st != 0 && st == starts[p] {
				out = append(out, p)
			}
		}
		return out
	}
	deadline := time.Now().Add(2 * time.Second)
	for len(alive()) > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	for _, p := range alive() {
		_ = syscall.Kill(p, syscall.SIGKILL)
	}
	for i := 0; i < 100 && len(alive()) > 0; i++ {
		time.Sleep(10 * time.Millisecond)
	}
}

// NetnsOfParent is the inode of the network namespace of a process and of
// its parent's (0 for a process without one, pid 1 say).
func NetnsOfParent(pid int) (own, parent uint64, err error) {
	if own, err = PidInode(pid); err != nil {
		return 0, 0, err
	}
	f, ok := stat(pid)
	if !ok {
		return 0, 0, fmt.Errorf("process %d: %w", pid, os.ErrNotExist)
	}
	ppid, _ := strconv.Atoi(f[1])
	if ppid <= 0 {
		return own, 0, nil
	}
	parent, err = PidInode(ppid)
	if err != nil {
		return own, 0, nil // the parent is gone, or out of sight
	}
	return own, parent, nil
}
