package kernel

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// netnsExecArg marks a re-run of nsscript as the in-between step of
// exec in a named namespace (see NetnsExecCommand).
const netnsExecArg = "__nsscript_netns_exec"

// netnsExecCommand returns a command that runs argv in the named
// namespace the way `ip netns exec NAME` does: in a private mount
// namespace where /sys shows the namespace's own devices and each file of
// /etc/netns/NAME/ is bound over its namesake in /etc. A Go process cannot
// change mounts between fork and exec, so nsscript itself is started (in a
// new mount namespace, on a thread inside the network namespace: see
// Start), arranges the mounts, and then becomes argv with execve. Its fd 3
// reports: closed by a successful execve, or an error message.
func netnsExecCommand(name string, argv []string) *exec.Cmd {
	cmd := exec.Command("/proc/self/exe", append([]string{netnsExecArg, name, "--"}, argv...)...)
	cmd.Args[0] = argv[0]
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNS, Setpgid: true}
	return cmd
}

// MaybeNetnsExec must be called first in main: when this process is the
// in-between step of netnsExecCommand it never returns.
func MaybeNetnsExec() {
	if len(os.Args) < 5 || os.Args[1] != netnsExecArg || os.Args[3] != "--" {
		return
	}
	report := os.NewFile(3, "report")
	unix.CloseOnExec(3)
	fail := func(code int, format string, args ...any) {
		fmt.Fprintf(report, format, args...)
		os.Exit(code)
	}
	name, argv := os.Args[2], os.Args[4:]
	if err := netnsMounts(name); err != nil {
		fail(126, "set up the mounts of namespace %q: %v", name, err)
	}
	path, err := LookPath(argv[0], os.Environ())
	if err == nil {
		err = syscall.Exec(path, argv, os.Environ())
	}
	fail(127, "%v", err)
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

// netnsMounts does what iproute2's netns_switch does after setns: keep
// mount events from leaking back, remount /sys for this network namespace
// and bind /etc/netns/NAME/* over /etc.
func netnsMounts(name string) error {
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
		if err := unix.Mount(src, dst, "none", unix.MS_BIND, ""); err != nil {
			fmt.Fprintf(os.Stderr, "nsscript: bind %s -> %s failed: %v\n", src, dst, err)
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

// errReported marks an error the in-between step reported: the start
// itself worked.
var errReported = errors.New("reported")

type reportedError struct{ msg string }

func (e *reportedError) Error() string   { return e.msg }
func (e *reportedError) Is(t error) bool { return t == errReported }

func (k *Linux) start(ns *NS, argv, env []string, stdio Stdio) (*exec.Cmd, error) {
	var cmd *exec.Cmd
	if ns.Name == "" || ns.Host {
		path, err := LookPath(argv[0], env)
		if err != nil {
			return nil, err
		}
		cmd = &exec.Cmd{Path: path, Args: argv}
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	} else {
		cmd = netnsExecCommand(ns.Name, argv)
	}
	cmd.Env, cmd.Stdin, cmd.Stdout, cmd.Stderr = env, stdio.In, stdio.Out, stdio.Err
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
	do := func(fn func() error) error { return k.Do(ns, fn) }
	if sb := ns.sandbox; sb != nil {
		wd, _ := os.Getwd()
		do = func(fn func() error) error {
			return sb.do(ns, func() error {
				if st, err := os.Stat(wd); err == nil && st.IsDir() { // the sandbox's, on this thread
					cmd.Dir = wd
				}
				return fn()
			})
		}
	}
	if ns.Name == "" || ns.Host {
		return cmd, do(cmd.Start)
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	cmd.ExtraFiles = []*os.File{w}
	err = do(cmd.Start)
	w.Close()
	if err != nil {
		return nil, err
	}
	msg, _ := io.ReadAll(r)
	if len(msg) > 0 {
		_ = cmd.Wait()
		return nil, &reportedError{string(msg)}
	}
	return cmd, nil
}
