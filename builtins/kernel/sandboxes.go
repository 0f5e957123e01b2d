package kernel

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nsscript/nsscript/builtins/names"
)

// A running sandbox is found from outside by its registration: while it
// runs, the nsscript that started it keeps a small file in the host's
// SandboxesDir naming the lab and the sandbox's init (its pid and start
// time). Nothing in such a file is trusted: a pid is taken for the
// sandbox only once a pidfd holds that process and it is checked to be a
// sandbox's init (started when the file says, root, PID 1 of a PID
// namespace of its own, in this user namespace, started as one), so a stale file (its
// nsscript killed) whose pid is dead or reused is ignored. Files are
// opened without following links, and names are checked by package names.

// SandboxesDir holds the registrations, one file per sandbox named by its
// init's pid. It is inside the labs' directory (/run/nsscript), under a
// name no lab can have.
const SandboxesDir = labsDir + "/.sandboxes"

// labsDir is where the journal keeps the labs (journal.Dir).
const labsDir = "/run/nsscript"

// SandboxInfo is a running sandbox as its registration names it.
type SandboxInfo struct {
	Lab   string `json:"lab"`
	Pid   int    `json:"pid"`   // its init (PID 1 inside it), as the host sees it
	Start uint64 `json:"start"` // the init's start time: tells it from a later process with its pid
}

// maxRegistration bounds what is read of a registration file.
const maxRegistration = 4096

// registerSandbox writes the registration of a sandbox just started, and
// returns what removes it again; it first removes the registrations of
// sandboxes that are gone.
func registerSandbox(info SandboxInfo) (func(), error) {
	if err := names.Lab(info.Lab); err != nil {
		return nil, err
	}
	b, err := json.Marshal(info)
	if err != nil {
		return nil, err
	}
	file := filepath.Join(SandboxesDir, strconv.Itoa(info.Pid))
	removeStaleRegistrations()
	for try := 0; ; try++ {
		if err = sandboxesDir(true); err == nil {
			err = writeRegistration(file, b)
		}
		// Another sandbox's end may remove the directory between its
		// creation and the write: make it again.
		if err == nil || !errors.Is(err, os.ErrNotExist) || try == 2 {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	return func() { removeRegistration(info) }, nil
}

// newPrefix starts the name of a registration being written (see
// writeRegistration): ".new-PID-", PID the writer's.
const newPrefix = ".new-"

// writeRegistration writes file whole, or not at all: a sandbox that
// starts meanwhile and reads the directory (see removeStaleRegistrations)
// never sees it half-written. It is written under another name first,
// root's only, and renamed: over a stale registration of a dead sandbox
// that had this pid (the sandbox of this one lives).
func writeRegistration(file string, content []byte) error {
	f, err := os.CreateTemp(SandboxesDir, fmt.Sprintf("%s%d-*", newPrefix, os.Getpid()))
	if err != nil {
		return err
	}
	_, err = f.Write(content)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), file)
	}
	if err != nil {
		_ = os.Remove(f.Name())
	}
	return err
}

// sandboxesDir checks SandboxesDir and the directory it is in (made when
// create is set): directories, not links, that only this user may write.
func sandboxesDir(create bool) error {
	if create {
		if err := os.MkdirAll(labsDir, 0o755); err != nil {
			return err
		}
		if err := os.Mkdir(SandboxesDir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
			return err
		}
	}
	for _, d := range []string{labsDir, SandboxesDir} {
		var st unix.Stat_t
		if err := unix.Lstat(d, &st); err != nil {
			return &os.PathError{Op: "lstat", Path: d, Err: err}
		}
		if st.Mode&unix.S_IFMT != unix.S_IFDIR || int(st.Uid) != os.Geteuid() || st.Mode&0o022 != 0 {
			return fmt.Errorf("%s is not a directory of nsscript's (a link, or writable by others): remove it", d)
		}
	}
	return nil
}

// registrations reads every registration file; bad lists the files that
// are not one (junk in a directory that is nsscript's).
func registrations() (infos []SandboxInfo, bad []string) {
	if sandboxesDir(false) != nil {
		return nil, nil
	}
	ents, err := os.ReadDir(SandboxesDir)
	if err != nil {
		return nil, nil
	}
	for _, e := range ents {
		file := filepath.Join(SandboxesDir, e.Name())
		if writer, ok := strings.CutPrefix(e.Name(), newPrefix); ok {
			// Being written, unless its writer is gone.
			pid, _, _ := strings.Cut(writer, "-")
			if n, err := strconv.Atoi(pid); err == nil && n > 0 && unix.Kill(n, 0) == nil {
				continue
			}
			bad = append(bad, file)
			continue
		}
		info, err := readRegistration(file)
		if err != nil || strconv.Itoa(info.Pid) != e.Name() {
			bad = append(bad, file)
			continue
		}
		infos = append(infos, info)
	}
	return infos, bad
}

// readRegistration reads one registration file: a regular file of this
// user's with one link, not followed if it is a link.
func readRegistration(file string) (SandboxInfo, error) {
	var info SandboxInfo
	f, err := os.OpenFile(file, os.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK, 0)
	if err != nil {
		return info, err
	}
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return info, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG || int(st.Uid) != os.Geteuid() || st.Nlink != 1 || st.Size > maxRegistration {
		return info, fmt.Errorf("%s is not a registration nsscript wrote", file)
	}
	b := make([]byte, maxRegistration+1)
	n, _ := f.Read(b)
	if err := json.Unmarshal(b[:n], &info); err != nil {
		return info, fmt.Errorf("%s: %w", file, err)
	}
	if err := names.Lab(info.Lab); err != nil || info.Pid <= 1 || info.Start == 0 {
		return info, fmt.Errorf("%s is not a registration nsscript wrote", file)
	}
	return info, nil
}

// removeStaleRegistrations removes the registrations of sandboxes that
// are gone (their nsscript was killed before it could), and files that
// are no registration.
func removeStaleRegistrations() {
	infos, bad := registrations()
	for _, f := range bad {
		_ = os.Remove(f)
	}
	for _, info := range infos {
		if fd, err := info.open(); err == nil {
			unix.Close(fd)
		} else {
			removeRegistration(info)
		}
	}
}

// removeRegistration removes the registration of info if the file still
// says what info says, then the directories if that left them empty.
func removeRegistration(info SandboxInfo) {
	file := filepath.Join(SandboxesDir, strconv.Itoa(info.Pid))
	if cur, err := readRegistration(file); err == nil && cur == info {
		_ = os.Remove(file)
	}
	_ = os.Remove(SandboxesDir)
	_ = os.Remove(labsDir)
}

// errNotSandbox: the process a registration names is not that sandbox.
var errNotSandbox = errors.New("not a running sandbox")

// open returns a pidfd on the sandbox's init, once it is checked to be
// the process the registration names and a sandbox's init: started then,
// running as this user, PID 1 of a PID namespace of its own, in this
// user namespace. The pidfd keeps the check true: it refers to that
// process for good, even once its pid is reused.
func (info SandboxInfo) open() (int, error) {
	fd, err := unix.PidfdOpen(info.Pid, 0)
	if err != nil {
		return -1, errNotSandbox
	}
	if !isSandboxInit(info) || !pidfdAlive(fd) {
		// (Alive after the checks: the pid was that process all along.)
		unix.Close(fd)
		return -1, errNotSandbox
	}
	return fd, nil
}

// isSandboxInit checks the process at info.Pid (see open).
func isSandboxInit(info SandboxInfo) bool {
	if ProcStart(info.Pid) != info.Start {
		return false
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", info.Pid))
	if err != nil {
		return false
	}
	uid := strconv.Itoa(os.Geteuid())
	var uidOK, initOK bool
	for _, l := range strings.Split(string(status), "\n") {
		f := strings.Fields(l)
		switch {
		case len(f) == 5 && f[0] == "Uid:":
			uidOK = f[1] == uid && f[2] == uid && f[3] == uid && f[4] == uid
		case len(f) >= 3 && f[0] == "NSpid:":
			initOK = f[len(f)-1] == "1"
		}
	}
	var own, its unix.Stat_t
	sameUserNS := unix.Stat("/proc/self/ns/user", &own) == nil && unix.Stat(fmt.Sprintf("/proc/%d/ns/user", info.Pid), &its) == nil &&
		own.Ino == its.Ino && own.Dev == its.Dev
	return uidOK && initOK && sameUserNS && startedAsInit(info.Pid)
}

// startedAsInit reports whether the process was started as a sandbox's
// init: RunSandboxed marks it so in the environment it starts it with
// (which /proc shows as it was at the start), and no other process
// nsscript starts has that mark.
func startedAsInit(pid int) bool {
	env, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
	if err != nil {
		return false
	}
	for _, kv := range strings.Split(string(env), "\x00") {
		if v, ok := strings.CutPrefix(kv, SandboxEnv+"="); ok {
			return v == "init" || strings.HasPrefix(v, "init-")
		}
	}
	return false
}

// pidfdAlive reports whether the process of a pidfd has not ended.
func pidfdAlive(fd int) bool { return unix.PidfdSendSignal(fd, 0, nil, 0) == nil }

// Sandboxes lists the running sandboxes that registered here, by lab and
// pid; registrations of sandboxes that are gone are left out.
func (k *Linux) Sandboxes() ([]SandboxInfo, error) {
	infos, _ := registrations()
	var out []SandboxInfo
	for _, info := range infos {
		if fd, err := info.open(); err == nil {
			unix.Close(fd)
			out = append(out, info)
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
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := unix.Unshare(unix.CLONE_FS); err != nil {
			errc <- fmt.Errorf("enter sandbox %d: %w", s.Pid, err)
			return
		}
		if err := unix.Setns(s.pidfd, unix.CLONE_NEWNS|unix.CLONE_NEWPID|unix.CLONE_NEWUTS|unix.CLONE_NEWIPC|unix.CLONE_NEWCGROUP); err != nil {
			errc <- fmt.Errorf("enter sandbox %d: %w", s.Pid, err)
			return
		}
		if err := unix.Setns(ns.fd, unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("enter namespace %s of sandbox %d: %w", ns, s.Pid, err)
			return
		}
		errc <- fn()
	}()
	return <-errc
}

// EndSandbox ends a running sandbox: TERM to its init (which passes it on
// to the nsscript inside: a held sandbox ends, a running script stops and
// rolls back), KILL after ten seconds (which ends every process inside,
// and with them its namespaces); it returns once the init has ended, and
// removes the registration. A sandbox that is gone already is no error.
func (k *Linux) EndSandbox(info SandboxInfo) error {
	fd, err := info.open()
	if err != nil {
		removeRegistration(info)
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
	removeRegistration(info)
	return nil
}
