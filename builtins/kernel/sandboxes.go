package kernel

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nsscript/nsscript/builtins/names"
)

// A running sandbox is found from outside by its process: the init
// RunSandboxed starts for a lab (PID 1 inside the sandbox) carries the
// lab's name in the environment it is started with, which /proc shows as
// it was then. nsscript ls, shell, exec and down look through /proc for
// such processes: the init of a PID namespace made from this one, started
// as a sandbox's init, and either root's (this user's) in this user
// namespace, or (a sandbox made without root, see userns.go) in a user
// namespace made from this one by the user the init runs as, who owns it:
// this user's own, or anyone's for root (who goes into one only as its
// owner, see EnterUserns). No file on the host names a sandbox, so none is
// left behind when one is killed, and there is nothing stale to trust: a
// process is taken for a sandbox only once a pidfd holds it and it is
// checked again (see open), so a pid that ended and was reused in between
// is no sandbox.

// SandboxLabEnv is the lab of the sandbox's init (see RunSandboxed).
const SandboxLabEnv = "NSSCRIPT_SANDBOX_LAB"

// SandboxInfo is a running sandbox as /proc shows it.
type SandboxInfo struct {
	Lab   string `json:"lab"`
	Pid   int    `json:"pid"`   // its init (PID 1 inside it), as this PID namespace sees it
	Start uint64 `json:"start"` // the init's start time: tells it from a later process with its pid
	// Made without root: in a user namespace of its own, which Uid owns
	// (as this user namespace knows the user).
	Rootless bool `json:"rootless,omitempty"`
	Uid      int  `json:"uid"`
}

// sandboxAt reads what /proc says of process pid, and whether that is a
// running sandbox's init (see above).
func sandboxAt(pid int) (SandboxInfo, bool) {
	info := SandboxInfo{Pid: pid}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return info, false
	}
	var uidOK, initOK bool
	for _, l := range strings.Split(string(status), "\n") {
		f := strings.Fields(l)
		switch {
		case len(f) == 5 && f[0] == "Uid:":
			// One uid, real, effective, saved and for files alike.
			uid, err := strconv.Atoi(f[1])
			uidOK = err == nil && f[2] == f[1] && f[3] == f[1] && f[4] == f[1]
			info.Uid = uid
		case len(f) >= 1 && f[0] == "NSpid:":
			// Its pid here, and 1 in a PID namespace of its own, one
			// level down: a nested sandbox's is a sandbox's business.
			initOK = len(f) == 3 && f[2] == "1"
		}
	}
	if !uidOK || !initOK {
		return info, false
	}
	rootless, ok := sandboxUserns(pid, info.Uid)
	if !ok {
		return info, false
	}
	info.Rootless = rootless
	env, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
	if err != nil {
		return info, false
	}
	var marked bool
	for _, kv := range strings.Split(string(env), "\x00") {
		if v, ok := strings.CutPrefix(kv, SandboxEnv+"="); ok {
			marked = v == "init" || strings.HasPrefix(v, "init-")
		}
		if v, ok := strings.CutPrefix(kv, SandboxLabEnv+"="); ok {
			info.Lab = v
		}
	}
	if !marked || names.Lab(info.Lab) != nil {
		return info, false
	}
	info.Start = ProcStart(pid)
	return info, info.Start != 0
}

// sandboxUserns checks the user namespace of process pid, which runs as
// uid: this one, when uid is this user's (a sandbox made with root's
// powers); or one made from this one, that uid owns, when uid is this
// user's or this user is root (a sandbox made without, see userns.go),
// and that owns the process's network, mount, PID, UTS and IPC
// namespaces, as it does when all of them are made at once.
func sandboxUserns(pid, uid int) (rootless, ok bool) {
	own, err := nsID("/proc/self/ns/user")
	if err != nil {
		return false, false
	}
	fd, err := unix.Open(fmt.Sprintf("/proc/%d/ns/user", pid), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return false, false
	}
	defer unix.Close(fd)
	its, err := fdID(fd)
	if err != nil {
		return false, false
	}
	if its == own {
		return false, uid == os.Geteuid()
	}
	if uid != os.Geteuid() && !Privileged() {
		return false, false
	}
	owner, err := unix.IoctlGetUint32(fd, unix.NS_GET_OWNER_UID)
	if err != nil || int(owner) != uid {
		return false, false
	}
	if parent, err := related(fd, unix.NS_GET_PARENT); err != nil || parent != own {
		return false, false
	}
	for _, kind := range []string{"net", "mnt", "pid", "uts", "ipc"} {
		nfd, err := unix.Open(fmt.Sprintf("/proc/%d/ns/%s", pid, kind), unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return false, false
		}
		owner, err := related(nfd, unix.NS_GET_USERNS)
		unix.Close(nfd)
		if err != nil || owner != its {
			return false, false
		}
	}
	return true, true
}

// related identifies the namespace an ioctl (NS_GET_PARENT, NS_GET_USERNS)
// finds from the namespace open as fd.
func related(fd int, req uint) (nsKey, error) {
	rfd, err := unix.IoctlRetInt(fd, req)
	if err != nil {
		return nsKey{}, err
	}
	defer unix.Close(rfd)
	return fdID(rfd)
}

// nsKey tells namespaces apart (their nsfs device and inode).
type nsKey struct{ dev, ino uint64 }

func nsID(path string) (nsKey, error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return nsKey{}, err
	}
	return nsKey{st.Dev, st.Ino}, nil
}

func fdID(fd int) (nsKey, error) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nsKey{}, err
	}
	return nsKey{st.Dev, st.Ino}, nil
}

// open returns a pidfd on the sandbox's init, once the process it holds
// is checked to be the one info names, still a sandbox's init (see
// sandboxAt). The pidfd keeps the check true: it refers to that process
// for good, even once its pid is reused.
func (info SandboxInfo) open() (int, error) {
	fd, err := unix.PidfdOpen(info.Pid, 0)
	if err != nil {
		return -1, errNotSandbox
	}
	if now, ok := sandboxAt(info.Pid); !ok || now != info || !pidfdAlive(fd) {
		// (Alive after the checks: the pid was that process all along.)
		unix.Close(fd)
		return -1, errNotSandbox
	}
	return fd, nil
}

// errNotSandbox: the process is not that sandbox (any more).
var errNotSandbox = errors.New("not a running sandbox")

// pidfdAlive reports whether the process of a pidfd has not ended.
func pidfdAlive(fd int) bool { return unix.PidfdSendSignal(fd, 0, nil, 0) == nil }

// Sandboxes lists the sandboxes running labs, made from this PID
// namespace, by lab and pid.
func (k *Linux) Sandboxes() ([]SandboxInfo, error) {
	d, err := os.Open("/proc")
	if err != nil {
		return nil, err
	}
	ents, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return nil, err
	}
	var out []SandboxInfo
	for _, e := range ents {
		if pid, err := strconv.Atoi(e); err == nil && pid > 1 {
			if info, ok := sandboxAt(pid); ok {
				out = append(out, info)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Lab != out[j].Lab {
			return out[i].Lab < out[j].Lab
		}
		return out[i].Pid < out[j].Pid
	})
	return out, nil
}

// Sandbox is a running sandbox, open: a pidfd on its init, through which
// a process is started inside it (see Start), and its namespaces.
type Sandbox struct {
	SandboxInfo
	pidfd  int
	host   *NS
	opened []*NS
}

// OpenSandbox opens a running sandbox (see SandboxInfo.open).
func (k *Linux) OpenSandbox(info SandboxInfo) (*Sandbox, error) {
	fd, err := info.open()
	if err != nil {
		return nil, fmt.Errorf("sandbox %d of lab %q: %w", info.Pid, info.Lab, err)
	}
	s := &Sandbox{SandboxInfo: info, pidfd: fd}
	p := fmt.Sprintf("/proc/%d/ns/net", info.Pid)
	nfd, err := unix.Open(p, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err == nil {
		s.host, err = netnsFD(nfd, p)
	}
	if err == nil && !pidfdAlive(fd) {
		err = errNotSandbox
	}
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("sandbox %d of lab %q: %w", info.Pid, info.Lab, err)
	}
	s.host.sandbox = s
	s.opened = append(s.opened, s.host)
	return s, nil
}

// Host is the sandbox's own network namespace (its host).
func (s *Sandbox) Host() *NS { return s.host }

// netnsDir opens the sandbox's /run/netns, one component at a time
// without following links, for reading (flags O_RDONLY) or as a path.
func (s *Sandbox) netnsDir() (int, error) {
	fd, err := unix.Open(fmt.Sprintf("/proc/%d/root", s.Pid), unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	for _, c := range []string{"run", "netns"} {
		next, err := unix.Openat(fd, c, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		unix.Close(fd)
		if err != nil {
			return -1, err
		}
		fd = next
	}
	if !pidfdAlive(s.pidfd) {
		unix.Close(fd)
		return -1, errNotSandbox
	}
	return fd, nil
}

// ListNamed lists the sandbox's named namespaces (its /run/netns), sorted;
// names that are no namespace name are left out.
func (s *Sandbox) ListNamed() ([]string, error) {
	fd, err := s.netnsDir()
	if errors.Is(err, unix.ENOENT) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	dir := os.NewFile(uintptr(fd), "netns")
	defer dir.Close()
	all, err := dir.Readdirnames(-1)
	var out []string
	for _, n := range all {
		if names.Netns(n) == nil {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out, err
}

// OpenNamed opens the sandbox's namespace NAME (its /run/netns/NAME),
// not following a link there; ErrNoNamespace when there is none.
func (s *Sandbox) OpenNamed(name string) (*NS, error) {
	if err := names.Netns(name); err != nil {
		return nil, err
	}
	dir, err := s.netnsDir()
	if errors.Is(err, unix.ENOENT) {
		return nil, ErrNoNamespace
	}
	if err != nil {
		return nil, err
	}
	defer unix.Close(dir)
	p := fmt.Sprintf("/proc/%d/root%s/%s", s.Pid, NetnsDir, name)
	pfd, err := unix.Openat(dir, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if errors.Is(err, unix.ENOENT) {
		return nil, ErrNoNamespace
	}
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: p, Err: err}
	}
	defer unix.Close(pfd)
	var st unix.Stat_t
	if err := unix.Fstat(pfd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil, fmt.Errorf("%s is not a network namespace (not a namespace file)", p)
	}
	// A namespace file opened as a path cannot be entered: open it anew
	// through the descriptor (it is the file checked: no path is walked).
	fd, err := unix.Open(fmt.Sprintf("/proc/self/fd/%d", pfd), unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NONBLOCK|unix.O_NOCTTY, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: p, Err: err}
	}
	ns, err := netnsFD(fd, p)
	if err != nil {
		return nil, err
	}
	ns.Name, ns.sandbox = name, s
	s.opened = append(s.opened, ns)
	return ns, nil
}

// Close releases the sandbox and the namespaces opened in it.
func (s *Sandbox) Close() {
	for _, ns := range s.opened {
		if ns.fd >= 0 {
			unix.Close(ns.fd)
			ns.fd = -1
		}
	}
	s.opened = nil
	if s.pidfd >= 0 {
		unix.Close(s.pidfd)
		s.pidfd = -1
	}
}

// do runs fn on a throwaway OS thread inside the sandbox: in its mount,
// PID (for the processes fn starts), UTS, IPC and cgroup namespaces, and
// in ns. A thread can join a mount namespace only with a filesystem
// context of its own (unshare CLONE_FS), and can never return to the PID
// namespace it left; so it never comes back: its goroutine ends with it
// locked, and Go ends the thread.
func (s *Sandbox) do(ns *NS, fn func() error) error {
	return throwaway(func() error {
		if err := unix.Unshare(unix.CLONE_FS); err != nil {
			return fmt.Errorf("enter sandbox %d: %w", s.Pid, err)
		}
		if err := unix.Setns(s.pidfd, s.joins()); err != nil {
			return fmt.Errorf("enter sandbox %d: %w", s.Pid, err)
		}
		if err := unix.Setns(ns.fd, unix.CLONE_NEWNET); err != nil {
			return fmt.Errorf("enter namespace %s of sandbox %d: %w", ns, s.Pid, err)
		}
		return fn()
	})
}

// joins are the namespaces do enters: the sandbox's mount, PID, UTS, IPC
// and cgroup namespaces, those that are not this process's own already.
// (A sandbox without a cgroup of its own is in nsscript's cgroup
// namespace, which one made without root could not enter again.)
func (s *Sandbox) joins() int {
	flags := 0
	for _, ns := range []struct {
		name string
		flag int
	}{{"mnt", unix.CLONE_NEWNS}, {"pid", unix.CLONE_NEWPID}, {"uts", unix.CLONE_NEWUTS}, {"ipc", unix.CLONE_NEWIPC}, {"cgroup", unix.CLONE_NEWCGROUP}} {
		own, err1 := nsID("/proc/self/ns/" + ns.name)
		its, err2 := nsID(fmt.Sprintf("/proc/%d/ns/%s", s.Pid, ns.name))
		if err1 != nil || err2 != nil || own != its {
			flags |= ns.flag
		}
	}
	return flags
}

// EndSandbox ends a running sandbox: TERM to its init (which passes it on
// to the nsscript inside: a held sandbox ends, a running script stops and
// rolls back), KILL after ten seconds (which ends every process inside,
// and with them its namespaces); it returns once the init has ended. A
// sandbox that is gone already is no error.
func (k *Linux) EndSandbox(info SandboxInfo) error {
	fd, err := info.open()
	if err != nil {
		return nil
	}
	defer unix.Close(fd)
	ended := func(wait time.Duration) bool {
		deadline := time.Now().Add(wait)
		for {
			left := time.Until(deadline)
			if left < 0 {
				left = 0
			}
			fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
			n, err := unix.Poll(fds, int(left.Milliseconds()))
			if n > 0 {
				return true
			}
			if err != unix.EINTR || left == 0 {
				return false
			}
		}
	}
	if err := unix.PidfdSendSignal(fd, unix.SIGTERM, nil, 0); err != nil && !errors.Is(err, unix.ESRCH) {
		return fmt.Errorf("end sandbox %d: %w", info.Pid, err)
	}
	if !ended(10 * time.Second) {
		_ = unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0)
		if !ended(10 * time.Second) {
			return fmt.Errorf("sandbox %d (lab %s) does not end", info.Pid, info.Lab)
		}
	}
	return nil
}
