package journal

import (
	"os"
	"os/exec"
	"strings"

	"github.com/nsscript/nsscript/builtins/kernel"
)

// Processes: what a run starts, and the daemons of earlier runs it
// adopts.

// Start journals the token the process will carry before the run's first
// start (killed right after a start, nsscript still leaves a trace that
// finds the process), then each process itself.
func (k *Kernel) Start(ns *kernel.NS, argv, env []string, stdio kernel.Stdio) (*exec.Cmd, error) {
	token := k.token
	if !k.spawned {
		// The run's processes go into a cgroup of the lab's, where the
		// machine has cgroup v2: journaled before it exists.
		if rel, ok := k.Reader.CgroupFor(kernel.CgroupPrefix + k.token[strings.LastIndexByte(k.token, ':')+1:] + "." + k.Lab); ok {
			if err := k.write(Record{Op: "cgroup", Name: rel, Token: token}); err != nil {
				return nil, err
			}
			k.cgroup, _ = k.in.MakeCgroup(rel) // nil: processes go without
		}
		if err := k.write(Record{Op: "spawn", NS: k.ref(ns), Argv: argv, Token: token}); err != nil {
			return nil, err
		}
		k.spawned = true
	}
	stdio.Cgroup = k.cgroup
	marked := make([]string, 0, len(env)+1)
	for _, kv := range env {
		if !strings.HasPrefix(kv, OwnerEnv+"=") {
			marked = append(marked, kv)
		}
	}
	marked = append(marked, OwnerEnv+"="+token)
	cmd, err := k.in.Start(ns, argv, marked, stdio)
	if err != nil {
		return nil, err
	}
	pid := cmd.Process.Pid
	rec := Record{Op: "proc", NS: k.ref(ns), Pid: pid, Start: k.startTime(pid), Argv: argv, Token: token}
	if stdio.Info.Background {
		rec.Bg, rec.Env, rec.Stdout, rec.Stderr = true, stdio.Info.Env, stdio.Info.Stdout, stdio.Info.Stderr
		rec.Cwd, _ = os.Getwd()
		rec.Seq = k.bgSeq(rec)
	}
	if werr := k.write(rec); werr != nil {
		return cmd, werr
	}
	return cmd, nil
}

// FindProcess finds a background process an earlier run of the lab
// started with the same argv and environment (what the script added to
// it), in the same namespace and from the same directory, that still
// runs; the run declares it (keeps it, and its cgroup).
//
// Identical commands are told apart by their order: the Nth background
// start of a command in this run adopts the Nth of an earlier run.
func (k *Kernel) FindProcess(ns *kernel.NS, argv, env []string) (kernel.ProcInfo, bool) {
	cwd, _ := os.Getwd()
	rec := Record{Op: "proc", NS: k.ref(ns), Argv: argv, Env: env, Cwd: cwd, Bg: true}
	k.pendingSeq = 0
	rec.Seq = k.bgSeq(rec)
	k.pendingSeq = rec.Seq // for the Start that follows (none, or restart=True)
	want := recKey(rec)
	for i := len(k.earlier) - 1; i >= 0; i-- {
		r := k.earlier[i]
		if r.Op != "proc" || !r.Bg || recKey(r) != want {
			continue
		}
		if st := k.startTime(r.Pid); st == 0 || st != r.Start {
			continue
		}
		k.declare(want)
		return kernel.ProcInfo{Pid: r.Pid, Start: r.Start, Stdout: r.Stdout, Stderr: r.Stderr}, true
	}
	return kernel.ProcInfo{}, false
}

// bgSeq is the place of a background command among the identical ones
// of this run: the one FindProcess just looked for (which Start then
// starts), or the next.
func (k *Kernel) bgSeq(r Record) int {
	if k.pendingSeq != 0 {
		n := k.pendingSeq
		k.pendingSeq = 0
		return n
	}
	r.Seq = 0
	base := recKey(r)
	k.bgSeen[base]++
	return k.bgSeen[base]
}

// startTime tells a live process from a later one that reuses its pid:
// 0 when it is gone (or a zombie).
func (k *Kernel) startTime(pid int) uint64 {
	return liveStart(k.in, pid)
}

// liveStart is a process's start time, 0 when it is gone or a zombie.
func liveStart(r kernel.Reader, pid int) uint64 {
	if p, ok := r.Process(pid); ok && !p.Zombie {
		return p.Start
	}
	return 0
}
