package kernel

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// A command in a named namespace runs as under `ip netns exec NAME`: in a
// mount namespace of its own, copied from nsscript's when it starts, in
// which /sys shows the namespace's own devices and each file of
// /etc/netns/NAME/ is bound over its namesake in /etc. A Go process
// cannot change mounts between fork and exec, but a thread can have a
// mount namespace of its own: a throwaway thread enters the network
// namespace, unshares a mount namespace, arranges the mounts there and
// forks the command, which is born in both; then the thread ends (its
// goroutine returns locked, and Go ends the thread with it). No other
// program runs in between, and nothing is kept from one command to the
// next (see README, Performance).

// inNetnsMounts runs fn on a throwaway OS thread (see throwaway) inside
// ns, in a fresh mount namespace set up as for `ip netns exec` (see
// netnsMounts); the bind failures it reports go to warn.
func (k *Linux) inNetnsMounts(ns *NS, warn io.Writer, fn func() error) error {
	inside := func() error {
		// CLONE_NEWNS implies CLONE_FS: the thread gets a working
		// directory and root of its own too, which it never gives back.
		if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
			return &reportedError{fmt.Sprintf("set up the mounts of namespace %q: unshare: %v", ns.Name, err)}
		}
		if err := netnsMounts(ns.Name, warn); err != nil {
			return &reportedError{fmt.Sprintf("set up the mounts of namespace %q: %v", ns.Name, err)}
		}
		return fn()
	}
	if sb := ns.sandbox; sb != nil {
		return sb.do(ns, inside)
	}
	return throwaway(func() error {
		if err := unix.Setns(ns.fd, unix.CLONE_NEWNET); err != nil {
			return fmt.Errorf("enter namespace %s: %w", ns, err)
		}
		return inside()
	})
}

// throwaway runs fn on an OS thread of its own that ends after it: for
// work that leaves the thread in a state no other goroutine may inherit
// (a mount namespace of its own, a PID namespace for its children). Go
// ends a thread whose goroutine returns locked to it, but not the main
// thread, which it keeps, parked; and the main thread is the one
// /proc/PID/ns/* describe (ip netns identify, pids). So fn never runs
// there: the goroutine that finds itself on the main thread holds it
// while another one runs fn.
func throwaway(fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if unix.Gettid() == unix.Getpid() {
			errc <- throwaway(fn)
			runtime.UnlockOSThread()
			return
		}
		errc <- fn() // and the thread ends, locked
	}()
	return <-errc
}

// LookPath finds the program file names the way the started command's
// own PATH (the last PATH= in env, which is the one it gets) would: so
// exec(..., env = {"PATH": ...}) finds the same program in every
// namespace, named or not.
func LookPath(file string, env []string) (string, error) {
	if strings.Contains(file, "/") {
		return exec.LookPath(file)
	}
	path := ""
	for _, kv := range env {
		if strings.HasPrefix(kv, "PATH=") {
			path = kv[len("PATH="):]
		}
	}
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, file)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", &exec.Error{Name: file, Err: exec.ErrNotFound}
}

// netnsMounts does what iproute2's netns_switch does after setns, on the
// calling thread (in a mount namespace of its own): keep mount events from
// leaking back, remount /sys for this network namespace and bind
// /etc/netns/NAME/* over /etc. A file that cannot be bound is reported to
// warn (the command's stderr, as ip netns exec reports it) and skipped.
func netnsMounts(name string, warn io.Writer) error {
	if err := unix.Mount("", "/", "none", unix.MS_SLAVE|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("make mounts private: %w", err)
	}
	var flags uintptr
	var st unix.Statfs_t
	if unix.Statfs("/sys", &st) == nil && st.Flags&unix.ST_RDONLY != 0 {
		flags = unix.MS_RDONLY
	}
	if err := unix.Unmount("/sys", unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) {
		return fmt.Errorf("unmount /sys: %w", err)
	}
	if err := unix.Mount(name, "/sys", "sysfs", flags, ""); err != nil {
		return fmt.Errorf("mount /sys: %w", err)
	}
	dir := filepath.Join(EtcNetnsDir, name)
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".nsscript.") {
			continue // a write in progress (see etcTemp)
		}
		src, dst := filepath.Join(dir, e.Name()), filepath.Join("/etc", e.Name())
		if err := unix.Mount(src, dst, "none", unix.MS_BIND, ""); err != nil && warn != nil {
			fmt.Fprintf(warn, "nsscript: bind %s -> %s failed: %v\n", src, dst, err)
		}
	}
	return nil
}

// Stdio is a started command's standard input, output and error, the
// cgroup it is born in (nil: its parent's), what the journal keeps of a
// background command, and the terminal it takes (nil: none). A command
// that takes the terminal is made its foreground process group before it
// runs, so that Ctrl-C and Ctrl-Z reach it and not nsscript, as at a
// shell prompt; the caller gives it nsscript's own back once the command
// has ended (see ReclaimTerminal), and passes a terminal only when
// nsscript is in its foreground itself (see InForeground).
type Stdio struct {
	In, Out, Err, Cgroup *os.File
	Terminal             *os.File
	Info                 StartInfo
}

// StartInfo is what a later run compares to adopt a background command
// instead of starting it again.
type StartInfo struct {
	Background     bool
	Env            []string // what the script added to the environment
	Stdout, Stderr string   // the files its output goes to
}

// ProcInfo is a running process a run adopted.
type ProcInfo struct {
	Pid            int
	Start          uint64 // its start time, in clock ticks after boot
	Stdout, Stderr string
}

// Start starts argv inside ns, as its own process group leader: like
// `ip netns exec` for a named namespace, directly otherwise. The child is
// forked from a thread that is in ns, so it is born there (and in the
// cgroup of stdio, if any); stdio are files, so the start creates no
// goroutine on that thread. A namespace of a running sandbox (see
// OpenSandbox) is entered with the rest of that sandbox: the child is
// born in its mount, PID, UTS, IPC and cgroup namespaces too, so that it
// sees the sandbox's /etc/netns, /run/netns, /proc and /sys, in the
// directory nsscript is in when the sandbox has it. Start returns once
// argv itself runs (or could not be started).
func (k *Linux) Start(ns *NS, argv, env []string, stdio Stdio) (*exec.Cmd, error) {
	cmd, err := k.start(ns, argv, env, stdio)
	var ee *exec.Error
	if err != nil && stdio.Cgroup != nil && !errors.As(err, &ee) && !errors.Is(err, errReported) {
		// The kernel refused the cgroup (no clone3, a cgroup that may not
		// hold processes): start it where nsscript is.
		stdio.Cgroup = nil
		cmd, err = k.start(ns, argv, env, stdio)
	}
	return cmd, err
}

// errReported marks an error that is not the kernel refusing the cgroup:
// the mounts could not be set up, or execve failed after they were (a
// start outside the cgroup would fail the same way).
var errReported = errors.New("reported")

type reportedError struct{ msg string }

func (e *reportedError) Error() string   { return e.msg }
func (e *reportedError) Is(t error) bool { return t == errReported }

func (k *Linux) start(ns *NS, argv, env []string, stdio Stdio) (*exec.Cmd, error) {
	cmd := &exec.Cmd{Args: argv, Env: env, Stdin: stdio.In, Stdout: stdio.Out, Stderr: stdio.Err}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if stdio.Cgroup != nil {
		cmd.SysProcAttr.UseCgroupFD = true
		cmd.SysProcAttr.CgroupFD = int(stdio.Cgroup.Fd())
	}
	if stdio.Terminal != nil {
		// The child makes its group the foreground one itself, before
		// it runs argv (an interactive shell checks at once).
		cmd.SysProcAttr.Foreground = true
		cmd.SysProcAttr.Ctty = int(stdio.Terminal.Fd())
	}
	var wd string
	if ns.sandbox != nil {
		wd, _ = os.Getwd()
	}
	// On the thread the command is forked from, which sees the files
	// the command will see: find the program, and start it.
	run := func() error {
		if wd != "" {
			if st, err := os.Stat(wd); err == nil && st.IsDir() { // the sandbox's
				cmd.Dir = wd
			}
		}
		path, err := LookPath(argv[0], env)
		if err != nil {
			return err
		}
		cmd.Path = path
		return cmd.Start()
	}
	var err error
	switch {
	case ns.Name != "" && !ns.Host:
		var warn io.Writer
		if stdio.Err != nil {
			warn = stdio.Err
		}
		err = k.inNetnsMounts(ns, warn, run)
		var pe *fs.PathError
		if errors.As(err, &pe) && pe.Op == "fork/exec" && stdio.Cgroup == nil {
			// execve failed, in the namespace with its mounts: the
			// reason is all there is to say (Start has tried without
			// the cgroup already).
			err = &reportedError{pe.Err.Error()}
		}
	case ns.sandbox != nil:
		err = ns.sandbox.do(ns, run)
	default:
		err = k.Do(ns, run)
	}
	if err != nil {
		return nil, err
	}
	return cmd, nil
}
