// Package kernel is the only part of nsscript that talks to the Linux
// kernel: netlink, network namespaces, setns, sysctls, raw sockets and
// process start. Nothing outside it may import netlink, netns or call
// setns.
//
// Two rules keep it safe in a Go program:
//   - Every link, address and route call goes through a netlink handle
//     opened inside its namespace; no thread switches namespace for it.
//   - What must run inside a namespace (opening a handle or a socket, a
//     sysctl, starting a process) runs on a fresh goroutine that locks its
//     OS thread, switches, does only that work, and switches back. If the
//     switch back fails the goroutine exits still locked, so Go discards
//     the thread instead of reusing it in the wrong namespace.
package kernel

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/nsscript/nsscript/builtins/names"
)

// NetnsDir is where named namespaces live, as for `ip netns`.
const NetnsDir = "/run/netns"

// NS is an open network namespace: a file descriptor that keeps it alive
// while nsscript uses it, and a lazily opened netlink handle inside it.
type NS struct {
	Name  string // "" when the namespace has no name in NetnsDir
	Path  string
	Inode uint64
	Host  bool

	fd      int
	sandbox *Sandbox // the running sandbox it belongs to (see OpenSandbox), else nil
	mu      sync.Mutex
	handle  *netlink.Handle
	raw     *nl.SocketHandle // for what the netlink package has no call for (see rawSocket)
	cookie  uint64           // 0 until known (see Cookie)
}

// FD is the namespace file descriptor (valid while the NS is open).
func (n *NS) FD() int { return n.fd }

// Linux is the kernel backend.
type Linux struct {
	host *NS

	mu      sync.Mutex
	byInode map[uint64]*NS
	netnsOK bool // NetnsDir exists and is a shared mount point

	dummyMissing bool   // the kernel has no dummy driver: use ifb stand-ins
	dummyMade    bool   // a dummy was made: the driver is there
	ipt          [2]ipt // iptables, ip6tables

	shapeOnce sync.Once
	shapeSup  ShapeSupport // what the kernel has of what shaping needs (shape_linux.go)

	aheadMu sync.Mutex
	made    int            // namespaces made so far
	ahead   chan unnamedNS // the next one, being made ahead (see unnamed)
}

// New opens the namespace the process runs in as the host namespace.
func New() (*Linux, error) {
	fd, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open own network namespace: %w", err)
	}
	ino, err := fdInode(fd)
	if err != nil {
		unix.Close(fd)
		return nil, err
	}
	host := &NS{Path: "/proc/self/ns/net", Inode: ino, Host: true, fd: fd}
	k := &Linux{host: host, byInode: map[uint64]*NS{ino: host}}
	return k, nil
}

// Host is the namespace nsscript runs in.
func (k *Linux) Host() *NS { return k.host }

func fdInode(fd int) (uint64, error) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return 0, fmt.Errorf("stat namespace: %w", err)
	}
	return st.Ino, nil
}

// Do runs fn on a throwaway OS thread that is inside ns. fn must not start
// goroutines that expect to be inside ns.
func (k *Linux) Do(ns *NS, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := unix.Setns(ns.fd, unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("enter namespace %s: %w", ns, err)
			return
		}
		ferr := fn()
		if err := unix.Setns(k.host.fd, unix.CLONE_NEWNET); err != nil {
			// Leave the thread locked: it dies with this goroutine.
			errc <- fmt.Errorf("return from namespace %s: %w", ns, err)
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

func (n *NS) String() string {
	if n.Host {
		return "host"
	}
	if n.Name != "" {
		return strconv.Quote(n.Name)
	}
	return n.Path
}

// Label names a namespace in listings, plans and traces: "host", its
// name, or the path it was opened by.
func (n *NS) Label() string {
	switch {
	case n.Host:
		return "host"
	case n.Name != "":
		return n.Name
	}
	return n.Path
}

// Handle returns the netlink handle inside ns, opening it on first use.
func (k *Linux) Handle(ns *NS) (*netlink.Handle, error) {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	if ns.handle != nil {
		return ns.handle, nil
	}
	var h *netlink.Handle
	if err := k.opening(ns, func() (err error) {
		h, err = netlink.NewHandle(unix.NETLINK_ROUTE)
		return err
	}); err != nil {
		return nil, err
	}
	ns.handle = h
	return h, nil
}

// opening runs fn, which opens a socket, inside ns: on the calling
// thread for the host, else on one of Do's.
func (k *Linux) opening(ns *NS, fn func() error) error {
	var err error
	if ns.Host {
		err = fn()
	} else {
		err = k.Do(ns, fn)
	}
	if err != nil {
		return fmt.Errorf("open netlink in namespace %s: %w", ns, err)
	}
	return nil
}

// rawSocket returns nsscript's second netlink socket inside ns, for the
// requests the netlink package makes otherwise than nsscript wants them
// (a veth made with its indexes echoed, a device read for its side
// effect only), opening it on first use.
func (k *Linux) rawSocket(ns *NS) (*nl.SocketHandle, error) {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	if ns.raw != nil {
		return ns.raw, nil
	}
	var s *nl.NetlinkSocket
	if err := k.opening(ns, func() (err error) {
		s, err = openRaw()
		return err
	}); err != nil {
		return nil, err
	}
	ns.raw = &nl.SocketHandle{Socket: s}
	return ns.raw, nil
}

// openRaw opens a netlink socket in the calling thread's namespace.
func openRaw() (*nl.NetlinkSocket, error) {
	return nl.GetNetlinkSocketAt(netns.None(), netns.None(), unix.NETLINK_ROUTE)
}

// rawRequest sends req on ns's raw socket and returns the replies of type
// resType.
func (k *Linux) rawRequest(ns *NS, req *nl.NetlinkRequest, resType uint16) ([][]byte, error) {
	s, err := k.rawSocket(ns)
	if err != nil {
		return nil, err
	}
	req.Sockets = map[int]*nl.SocketHandle{unix.NETLINK_ROUTE: s}
	return req.Execute(unix.NETLINK_ROUTE, resType)
}

// ErrNoNamespace is returned when a named namespace does not exist.
var ErrNoNamespace = errors.New("no such namespace")

// OpenNamed opens /run/netns/NAME.
func (k *Linux) OpenNamed(name string) (*NS, error) {
	if err := names.Netns(name); err != nil {
		return nil, err
	}
	p := filepath.Join(NetnsDir, name)
	var st unix.Stat_t
	if err := unix.Lstat(p, &st); err == nil && st.Mode&unix.S_IFMT == unix.S_IFLNK {
		// ip netns mounts a namespace there; a link may point anywhere
		// (the host's own namespace, say).
		return nil, fmt.Errorf("%s is a symbolic link, not a namespace (ip netns mounts one there): remove it", p)
	}
	ns, err := k.OpenPath(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNoNamespace
	}
	if err != nil {
		return nil, err
	}
	if ns.Name == "" && !ns.Host {
		ns.Name = name
		ns.Path = p
	}
	return ns, nil
}

// OpenPath opens a namespace file (/run/netns/X, /proc/PID/ns/net, ...).
// Opening the same namespace twice returns the same NS.
//
// Only a regular file is opened (a namespace file is one): opening a
// FIFO would block, and opening a device (a watchdog, a tape) can act.
func (k *Linux) OpenPath(path string) (*NS, error) {
	// The path as the journal keeps it: absolute and clean.
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil, fmt.Errorf("%s is not a network namespace (not a namespace file)", path)
	}
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NONBLOCK|unix.O_NOCTTY, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	opened, err := netnsFD(fd, path)
	if err != nil {
		return nil, err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if ns, ok := k.byInode[opened.Inode]; ok {
		unix.Close(fd)
		return ns, nil
	}
	k.byInode[opened.Inode] = opened
	return opened, nil
}

// netnsFD makes an NS of an open file that must be a network namespace
// (opened from path); it closes fd when it is not one.
func netnsFD(fd int, path string) (*NS, error) {
	var sfs unix.Statfs_t
	if err := unix.Fstatfs(fd, &sfs); err != nil || sfs.Type != unix.NSFS_MAGIC {
		unix.Close(fd)
		return nil, fmt.Errorf("%s is not a network namespace (a leftover file?)", path)
	}
	if t, err := unix.IoctlRetInt(fd, unix.NS_GET_NSTYPE); err != nil || t != unix.CLONE_NEWNET {
		unix.Close(fd)
		return nil, fmt.Errorf("%s is not a network namespace", path)
	}
	ino, err := fdInode(fd)
	if err != nil {
		unix.Close(fd)
		return nil, err
	}
	return &NS{Path: path, Inode: ino, fd: fd}, nil
}

// Lookup returns an already open namespace by inode, or nil.
func (k *Linux) Lookup(inode uint64) *NS {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.byInode[inode]
}

// ownCookie is the cookie of the network namespace the calling thread is
// in (SO_NETNS_COOKIE, Linux 5.14); 0 when the kernel has none.
func ownCookie() uint64 {
	s, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return 0
	}
	defer unix.Close(s)
	c, err := unix.GetsockoptUint64(s, unix.SOL_SOCKET, unix.SO_NETNS_COOKIE)
	if err != nil {
		return 0
	}
	return c
}

// Cookie is the namespace's cookie, a number the kernel never gives
// another namespace (its inode, it does reuse); 0 on kernels before 5.14.
func (k *Linux) Cookie(ns *NS) uint64 {
	ns.mu.Lock()
	c := ns.cookie
	ns.mu.Unlock()
	if c != 0 {
		return c
	}
	if ns.Host {
		c = ownCookie()
	} else {
		_ = k.Do(ns, func() error { c = ownCookie(); return nil })
	}
	ns.mu.Lock()
	ns.cookie = c
	ns.mu.Unlock()
	return c
}

// Close releases nsscript's hold on a namespace.
func (k *Linux) Close(ns *NS) {
	if ns.Host {
		return
	}
	k.mu.Lock()
	delete(k.byInode, ns.Inode)
	k.mu.Unlock()
	ns.mu.Lock()
	if ns.handle != nil {
		ns.handle.Close()
		ns.handle = nil
	}
	if ns.raw != nil {
		ns.raw.Close()
		ns.raw = nil
	}
	ns.mu.Unlock()
	if ns.fd >= 0 {
		unix.Close(ns.fd)
		ns.fd = -1
	}
}

// ListNamed lists /run/netns like `ip netns list`, sorted.
func (k *Linux) ListNamed() ([]string, error) {
	ents, err := os.ReadDir(NetnsDir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range ents {
		if !e.IsDir() {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names, nil
}

// PidInode is the inode of the network namespace a process is in.
func PidInode(pid int) (uint64, error) {
	var st unix.Stat_t
	err := unix.Stat(fmt.Sprintf("/proc/%d/ns/net", pid), &st)
	if errors.Is(err, unix.EACCES) || errors.Is(err, unix.EPERM) {
		return 0, fmt.Errorf("process %d: %w: it is another user's, whose namespaces only root may open (nsscript as root)", pid, err)
	}
	if err != nil {
		return 0, fmt.Errorf("process %d: %w", pid, err)
	}
	return st.Ino, nil
}

// Pids lists the processes inside ns, like `ip netns pids`.
func (k *Linux) Pids(ns *NS) ([]int, error) {
	all, err := k.PidsByNetns()
	return all[ns.Inode], err
}

// PidsByNetns lists every process by the inode of its network namespace:
// one pass over /proc for many namespaces.
func (k *Linux) PidsByNetns() (map[uint64][]int, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	out := map[uint64][]int{}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ino, err := PidInode(pid); err == nil {
			out[ino] = append(out[ino], pid)
		}
	}
	return out, nil
}

// Identify finds the namespace a process is in, like `ip netns identify`:
// the host, a named namespace, or (unnamed) /proc/PID/ns/net.
func (k *Linux) Identify(pid int) (*NS, error) {
	ino, err := PidInode(pid)
	if err != nil {
		return nil, err
	}
	if ns := k.Lookup(ino); ns != nil && (ns.Host || ns.Name != "") {
		return ns, nil
	}
	names, _ := k.ListNamed()
	for _, name := range names {
		var st unix.Stat_t
		if unix.Stat(filepath.Join(NetnsDir, name), &st) == nil && st.Ino == ino {
			return k.OpenNamed(name)
		}
	}
	return k.OpenPath(fmt.Sprintf("/proc/%d/ns/net", pid))
}

// ReadSysctl reads key (dotted, e.g. net.ipv4.ip_forward) inside ns.
func (k *Linux) ReadSysctl(ns *NS, key string) (string, error) {
	return k.sysctl(ns, key, nil)
}

// WriteSysctl writes key inside ns and returns the value before.
func (k *Linux) WriteSysctl(ns *NS, key, value string) (string, error) {
	return k.sysctl(ns, key, &value)
}

func (k *Linux) sysctl(ns *NS, key string, value *string) (string, error) {
	p, err := names.SysctlKey(key)
	if err != nil {
		return "", err
	}
	var old string
	err = k.Do(ns, func() error {
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		old = strings.TrimSpace(string(b))
		if value != nil {
			return os.WriteFile(p, []byte(*value), 0o644)
		}
		return nil
	})
	return old, err
}
