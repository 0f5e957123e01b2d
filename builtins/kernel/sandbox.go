package kernel

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// SandboxEnv marks the child that runs inside a sandbox. In the process
// RunSandboxed starts, the sandbox's init, it says how to set up: "init",
// then "-cgroup" (it has a cgroup of its own) and "-tty" (its nsscript
// gets the terminal); in that nsscript, "1" and the host's pid of the
// init after a comma (see SandboxPid).
const SandboxEnv = "NSSCRIPT_IN_SANDBOX"

// InSandbox reports whether this process is a sandbox's child.
func InSandbox() bool { return inSandbox }

// SandboxPid is, in a sandbox's nsscript, the pid the host knows the
// sandbox by (its init's, as nsscript ls shows it); 0 when not known.
func SandboxPid() int { return sandboxPid }

// inSandbox and sandboxPid are read once, and the variable dropped, so
// that an nsscript started from inside the sandbox (by exec) is an
// ordinary run there.
var inSandbox, sandboxPid = func() (bool, int) {
	mark, pid, _ := strings.Cut(os.Getenv(SandboxEnv), ",")
	if mark == "1" {
		os.Unsetenv(SandboxEnv)
		n, _ := strconv.Atoi(pid)
		return true, n
	}
	return false, 0
}()

// RunSandboxed re-runs this program with args inside fresh network, mount
// and PID namespaces and returns its exit code. When the child exits, the
// kernel ends every process it started, and with them the namespaces.
// A sandbox that runs lab (not "") is marked with it, so that nsscript ls,
// shell, exec and down find it (see sandboxes.go). With terminal set, and stdin
// a terminal that nsscript has in its foreground, the nsscript inside is
// made a process group of its own there and given the terminal (a group
// it can name: the REPL's shell() hands the terminal on and takes it
// back); it is given back to nsscript's group at the end.
func RunSandboxed(args []string, lab string, terminal bool) (int, error) {
	// Pdeathsig follows the thread that started the child: keep it.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	// The init waits for a word on its fd 3: its pid here, which the
	// nsscript inside says (see SandboxPid).
	pidR, pidW, err := os.Pipe()
	if err != nil {
		return 1, fmt.Errorf("start sandbox: %w", err)
	}
	defer pidW.Close()
	mode := "init"
	rootless := !Privileged()
	if rootless {
		mode += "-userns"
	}
	if terminal && InForeground(os.Stdin) {
		mode += "-tty"
		defer ReclaimTerminal(os.Stdin)
	}
	command := func(mode string) *exec.Cmd {
		cmd := exec.Command("/proc/self/exe", args...)
		cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
		cmd.ExtraFiles = []*os.File{pidR}
		cmd.Env = append(os.Environ(), SandboxEnv+"="+mode)
		if lab != "" {
			cmd.Env = append(cmd.Env, SandboxLabEnv+"="+lab)
		}
		if links := hostLinkNames(); links != "" {
			cmd.Env = append(cmd.Env, machineLinksEnv+"="+links)
		}
		cmd.SysProcAttr = &unix.SysProcAttr{
			// UTS and IPC too: nothing a script does there reaches the host.
			Cloneflags: unix.CLONE_NEWNET | unix.CLONE_NEWNS | unix.CLONE_NEWPID | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC,
			Pdeathsig:  unix.SIGKILL,
		}
		if rootless {
			// A user namespace of its own, made first, owns the others:
			// this user is its root, and has no more power over the host.
			cmd.SysProcAttr.Cloneflags |= unix.CLONE_NEWUSER
			cmd.SysProcAttr.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Geteuid(), Size: 1}}
			cmd.SysProcAttr.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getegid(), Size: 1}}
		}
		return cmd
	}
	cmd := command(mode)
	// The sandbox gets a cgroup of its own (its root, in a cgroup
	// namespace), under which its labs make theirs; it is removed when
	// the sandbox has ended.
	if cg, dir := sandboxCgroup(); cg != nil {
		defer func() { _ = RemoveCgroupTree(dir) }()
		defer cg.Close()
		cmd = command(strings.Replace(mode, "init", "init-cgroup", 1))
		cmd.SysProcAttr.Cloneflags |= unix.CLONE_NEWCGROUP
		cmd.SysProcAttr.UseCgroupFD = true
		cmd.SysProcAttr.CgroupFD = int(cg.Fd())
	}
	// The child decides what a signal means (it is PID 1 of its own PID
	// namespace and only gets the signals it handles): pass them on.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, unix.SIGINT, unix.SIGTERM, unix.SIGHUP, unix.SIGQUIT)
	defer signal.Stop(sigs)
	err = cmd.Start()
	if err != nil && cmd.SysProcAttr.UseCgroupFD {
		// The kernel refused the cgroup: a sandbox without one.
		cmd = command(mode)
		err = cmd.Start()
	}
	pidR.Close()
	if err != nil && rootless {
		return 1, sandboxStartError(err, UsernsSettings())
	}
	if err != nil {
		return 1, fmt.Errorf("start sandbox (nsscript doctor says what this machine allows): %w", err)
	}
	_, _ = pidW.WriteString(strconv.Itoa(cmd.Process.Pid))
	pidW.Close()
	done := make(chan struct{})
	defer close(done)
	go func() {
		for {
			select {
			case s := <-sigs:
				_ = cmd.Process.Signal(s)
			case <-done:
				return
			}
		}
	}()
	err = cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok {
		if ws.Exited() {
			return ws.ExitStatus(), nil
		}
		return 1, fmt.Errorf("sandbox ended by signal %v", ws.Signal())
	}
	return 1, err
}

// machineLinksEnv names the devices of the machine (of the namespace
// nsscript --sandbox ran in) for the nsscript inside, which has none of
// them: a script that asks for one is told so (see MachineLink).
const machineLinksEnv = "NSSCRIPT_SANDBOX_HOST_LINKS"

// machineLinks is, in a sandbox's nsscript, the devices of the machine
// (see machineLinksEnv); read once, and the variable dropped (the init
// passes it on).
var machineLinks = func() []string {
	v, ok := os.LookupEnv(machineLinksEnv)
	if !ok || !inSandbox {
		return nil
	}
	os.Unsetenv(machineLinksEnv)
	return strings.Split(v, ",")
}()

// MachineLink reports whether, in a sandbox, name is a device of the
// machine's (of where nsscript --sandbox ran), which the sandbox has not.
func MachineLink(name string) bool { return inSandbox && slices.Contains(machineLinks, name) }

// hostLinkNames lists the devices of this namespace but lo, by name.
func hostLinkNames() string {
	ifs, err := net.Interfaces()
	if err != nil {
		return ""
	}
	var names []string
	for _, i := range ifs {
		if i.Flags&net.FlagLoopback == 0 {
			names = append(names, i.Name)
		}
	}
	return strings.Join(names, ",")
}

// MaybeSandboxInit must be called first in main. In the process that
// RunSandboxed starts (PID 1 of the sandbox) it sets the sandbox up, runs
// nsscript again as its only child, reaps every orphan the way init does
// (so no zombie outlives its parent), passes signals on, and exits with
// the child's status; it never returns there.
func MaybeSandboxInit() {
	mode := os.Getenv(SandboxEnv)
	if mode != "init" && !strings.HasPrefix(mode, "init-") {
		return
	}
	flags := strings.Split(mode, "-")[1:]
	if err := SetupSandbox(slices.Contains(flags, "cgroup"), slices.Contains(flags, "userns")); err != nil {
		if slices.Contains(flags, "userns") {
			err = rootlessSetupError(err, UsernsSettings())
		}
		fmt.Fprintf(os.Stderr, "nsscript: sandbox: %v\n", err)
		os.Exit(1)
	}
	// The pid of this process outside (see RunSandboxed).
	pidFile := os.NewFile(3, "sandbox pid")
	pid, _ := io.ReadAll(io.LimitReader(pidFile, 32))
	pidFile.Close()
	os.Setenv(SandboxEnv, "1,"+string(pid))
	os.Unsetenv(SandboxLabEnv)
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, unix.SIGINT, unix.SIGTERM, unix.SIGHUP, unix.SIGQUIT)
	attr := &os.ProcAttr{Files: []*os.File{os.Stdin, os.Stdout, os.Stderr}}
	if slices.Contains(flags, "tty") {
		attr.Sys = &syscall.SysProcAttr{Setpgid: true, Foreground: true, Ctty: 0}
	}
	p, err := os.StartProcess("/proc/self/exe", os.Args, attr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "nsscript: sandbox: %v\n", err)
		os.Exit(1)
	}
	go func() {
		for s := range sigs {
			_ = p.Signal(s)
		}
	}()
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, 0, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			os.Exit(1)
		}
		if pid == p.Pid {
			if ws.Exited() {
				os.Exit(ws.ExitStatus())
			}
			os.Exit(128 + int(ws.Signal()))
		}
	}
}

// SetupSandbox, in the sandbox's init, makes the mount namespace private
// and gives it its own /proc, /sys, /run and /etc overlays with empty
// /run/netns, /etc/netns and /run/nsscript, so nothing reaches the host.
// In a user namespace of the sandbox's own (rootless), where the kernel
// refuses an overlay (over one: the host's /etc in a container, a
// sandbox's own /run), a tmpfs with the host's entries bound read-only
// into it stands in for it (see shadow).
func SetupSandbox(cgroup, rootless bool) error {
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make mounts private: %w", err)
	}
	// A scratch tmpfs holds the overlays' upper layers. It is mounted over
	// /run itself, then hidden again under the /run overlay, so no
	// directory is created on the host.
	lowerRun, err := unix.Open("/run", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open /run: %w", err)
	}
	defer unix.Close(lowerRun)
	lowerEtc, err := unix.Open("/etc", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open /etc: %w", err)
	}
	defer unix.Close(lowerEtc)
	if err := unix.Mount("nsscript-sandbox", "/run", "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=0755"); err != nil {
		return fmt.Errorf("mount scratch tmpfs: %w", err)
	}
	for _, d := range []string{"/run/u/run", "/run/w/run", "/run/u/etc", "/run/w/etc"} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	scratch, err := unix.Open("/run", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(scratch)
	overlay := func(target string, lower int, name string) error {
		opts := fmt.Sprintf("lowerdir=/proc/self/fd/%d,upperdir=/proc/self/fd/%d/u/%s,workdir=/proc/self/fd/%d/w/%s", lower, scratch, name, scratch, name)
		err := unix.Mount("overlay", target, "overlay", 0, opts)
		if err != nil && rootless {
			if serr := shadow(target, lower, "netns", "nsscript"); serr != nil {
				return fmt.Errorf("mount overlay on %s: %w; nor a tmpfs in its place: %w", target, err, serr)
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("mount overlay on %s: %w", target, err)
		}
		return nil
	}
	if err := overlay("/run", lowerRun, "run"); err != nil {
		return err
	}
	if err := overlay("/etc", lowerEtc, "etc"); err != nil {
		return err
	}
	for _, d := range []string{"/run/netns", "/run/nsscript", "/etc/netns"} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
		if err := unix.Mount("tmpfs", d, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=0755"); err != nil {
			return fmt.Errorf("mount tmpfs on %s: %w", d, err)
		}
	}
	if err := unix.Mount("proc", "/proc", "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return fmt.Errorf("mount /proc: %w", err)
	}
	if err := unix.Mount("sysfs", "/sys", "sysfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return fmt.Errorf("mount /sys: %w", err)
	}
	if cgroup {
		// The sandbox's own cgroup, as the root of its cgroup namespace.
		// Without it (no mount point in this sysfs) labs go without.
		_ = unix.Mount("cgroup2", "/sys/fs/cgroup", "cgroup2", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "")
	}
	return nil
}

// shadow mounts a tmpfs on target in place of an overlay, with every
// entry of lower (the directory target was) but those named skip in it: a
// symbolic link as a copy, anything else bound there (with the mounts
// under it) and made read-only, so that the sandbox sees what the host has
// there, makes its own new entries, and writes nothing of the host's.
func shadow(target string, lower int, skip ...string) error {
	dir, err := unix.Openat(lower, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	f := os.NewFile(uintptr(dir), target)
	ents, err := f.ReadDir(-1)
	f.Close()
	if err != nil {
		return err
	}
	var st unix.Stat_t
	if err := unix.Fstat(lower, &st); err != nil {
		return err
	}
	if err := unix.Mount("nsscript-sandbox", target, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, fmt.Sprintf("mode=%o", st.Mode&0o7777)); err != nil {
		return err
	}
	for _, e := range ents {
		name := e.Name()
		if slices.Contains(skip, name) {
			continue
		}
		src, dst := fmt.Sprintf("/proc/self/fd/%d/%s", lower, name), filepath.Join(target, name)
		switch {
		case e.Type()&os.ModeSymlink != 0:
			link, err := os.Readlink(src)
			if err == nil {
				err = os.Symlink(link, dst)
			}
			if err != nil {
				return err
			}
			continue
		case e.IsDir():
			err = os.Mkdir(dst, 0o755)
		default:
			var fd int
			fd, err = unix.Open(dst, unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY|unix.O_CLOEXEC, 0o644)
			if err == nil {
				unix.Close(fd)
			}
		}
		if err != nil {
			return err
		}
		if err := unix.Mount(src, dst, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			// What the user may not see (a socket of root's, say) is
			// left out.
			_ = os.Remove(dst)
			continue
		}
		// Read-only, mounts under it too; the flags the host's mounts
		// have are theirs still (the kernel locks them).
		_ = unix.MountSetattr(-1, dst, unix.AT_RECURSIVE, &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY})
	}
	return nil
}

// sandboxCgroup makes the cgroup a sandbox is started in, under this
// process's own; nil where cgroup v2 is not there or not writable.
func sandboxCgroup() (*os.File, string) {
	rel, ok := CgroupFor(fmt.Sprintf("%ssandbox-%d", CgroupPrefix, os.Getpid()))
	if !ok {
		return nil, ""
	}
	removeStaleSandboxes(path.Dir(rel))
	f, err := MakeCgroup(rel)
	if err != nil {
		return nil, ""
	}
	return f, f.Name()
}

// removeStaleSandboxes removes the empty cgroups of sandboxes whose
// nsscript is gone (killed before it could remove its own): rmdir only
// takes a cgroup that holds no process.
func removeStaleSandboxes(parent string) {
	dir, err := cgroupDir(path.Join(parent, CgroupPrefix+"x"))
	if err != nil {
		return
	}
	dir = filepath.Dir(dir)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		pid, err := strconv.Atoi(strings.TrimPrefix(e.Name(), CgroupPrefix+"sandbox-"))
		if err != nil || !e.IsDir() || pid == os.Getpid() || unix.Kill(pid, 0) == nil {
			continue
		}
		_ = removeCgroupTree(filepath.Join(dir, e.Name()), 1)
	}
}
