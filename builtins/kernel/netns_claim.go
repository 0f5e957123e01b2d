package kernel

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"

	"github.com/nsscript/nsscript/builtins/names"
)

// Making and deleting named namespaces: ip netns add/del, with the
// claim that lets a journal tell a namespace nsscript made from any
// other of that name.

// ensureNetnsDir makes NetnsDir a shared mount point, as iproute2 does, so
// that namespaces mounted there are seen from every mount namespace.
func (k *Linux) ensureNetnsDir() error {
	if k.netnsOK {
		return nil
	}
	if err := os.MkdirAll(NetnsDir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", NetnsDir, err)
	}
	err := unix.Mount("", NetnsDir, "none", unix.MS_SHARED|unix.MS_REC, "")
	if errors.Is(err, unix.EINVAL) {
		if err = unix.Mount(NetnsDir, NetnsDir, "none", unix.MS_BIND|unix.MS_REC, ""); err == nil {
			err = unix.Mount("", NetnsDir, "none", unix.MS_SHARED|unix.MS_REC, "")
		}
	}
	if err != nil {
		return fmt.Errorf("make %s a shared mount: %w", NetnsDir, err)
	}
	k.netnsOK = true
	return nil
}

// NetnsClaim is what identifies a namespace nsscript made, written to
// its journal before the namespace gets its name: the namespace's inode
// and cookie, and the inode of the file that carries the name.
type NetnsClaim struct {
	Inode  uint64 // nsfs inode: the kernel reuses it once the namespace is gone
	Cookie uint64 // the namespace's cookie: never reused (0: the kernel has none)
	File   uint64 // the placeholder file /run/netns/NAME (0: not known)
}

// CreateNamed creates /run/netns/NAME like `ip netns add NAME`. It
// reports false (and opens the namespace) when it already exists.
//
// The name is claimed atomically: the namespace is made first, unnamed
// (it dies with nsscript if nsscript dies now), claim is told what
// identifies it (the journal writes it down), and only then does the name
// appear, by linking a file made with O_TMPFILE into /run/netns, which
// fails if another process took the name meanwhile. Then CreateNamed
// reports false and opens that namespace, once its maker has mounted it.
// Loopback is up (setup.Lo), and IPv6 off (setup.NoIPv6), before the
// namespace has a name, so no one ever sees it otherwise.
func (k *Linux) CreateNamed(name string, setup NetnsSetup, claim func(NetnsClaim) error) (*NS, bool, error) {
	if err := names.Netns(name); err != nil {
		return nil, false, err
	}
	if ns, err := k.OpenNamed(name); err == nil {
		return ns, false, nil
	} else if !errors.Is(err, ErrNoNamespace) {
		return nil, false, err
	}
	if err := k.ensureNetnsDir(); err != nil {
		return nil, false, err
	}
	s := k.unnamed(setup)
	fd, err := s.fd, s.err
	c := NetnsClaim{Cookie: s.cookie}
	closeAll := s.close
	if err == nil {
		c.Inode, err = fdInode(fd)
	}
	if err != nil {
		closeAll()
		return nil, false, err
	}
	p := filepath.Join(NetnsDir, name)
	tmp, terr := unix.Open(NetnsDir, unix.O_TMPFILE|unix.O_RDWR|unix.O_CLOEXEC, 0)
	if terr == nil {
		var st unix.Stat_t
		if err := unix.Fstat(tmp, &st); err == nil {
			c.File = st.Ino
		}
		defer unix.Close(tmp)
	}
	if claim == nil {
		claim = func(NetnsClaim) error { return nil }
	}
	if err := claim(c); err != nil {
		closeAll()
		return nil, false, err
	}
	if terr == nil {
		err = unix.Linkat(unix.AT_FDCWD, fmt.Sprintf("/proc/self/fd/%d", tmp), unix.AT_FDCWD, p, unix.AT_SYMLINK_FOLLOW)
	} else {
		// No O_TMPFILE on this file system: a plain exclusive create.
		var f int
		if f, err = unix.Open(p, unix.O_RDONLY|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC, 0); err == nil {
			unix.Close(f)
		}
	}
	if errors.Is(err, unix.EEXIST) {
		closeAll()
		ns, err := k.openClaimed(name)
		return ns, false, err
	}
	if err != nil {
		closeAll()
		return nil, false, fmt.Errorf("create %s: %w", p, err)
	}
	if err := unix.Mount(fmt.Sprintf("/proc/self/fd/%d", fd), p, "none", unix.MS_BIND, ""); err != nil {
		os.Remove(p)
		closeAll()
		return nil, false, fmt.Errorf("bind %s: %w", p, err)
	}
	ns := &NS{Name: name, Path: p, Inode: c.Inode, fd: fd, handle: s.h, cookie: c.Cookie}
	if s.raw != nil {
		ns.raw = &nl.SocketHandle{Socket: s.raw}
	}
	k.mu.Lock()
	k.byInode[c.Inode] = ns
	k.mu.Unlock()
	return ns, true, nil
}

// unnamedNS is a new network namespace, made but not named yet (see
// CreateNamed): its descriptor, nsscript's netlink handle in it (nil if
// that failed: Handle opens one later), its cookie, and how it is set up.
type unnamedNS struct {
	fd     int
	h      *netlink.Handle
	raw    *nl.NetlinkSocket // nil: rawSocket opens one later
	cookie uint64
	setup  NetnsSetup
	err    error
}

func (s unnamedNS) close() {
	if s.h != nil {
		s.h.Close()
	}
	if s.raw != nil {
		s.raw.Close()
	}
	if s.fd >= 0 {
		unix.Close(s.fd)
	}
}

// aheadAfter is how many namespaces a run makes before it makes each
// next one ahead (see unnamed): a script that makes only a few wastes
// none.
const aheadAfter = 4

// unnamed returns a new namespace, set up as setup says. Making one takes
// the kernel about as long as building a host's links does, most of it
// outside the RTNL lock; so once a run has made a few, the next one is
// made ahead on another thread while the run builds with the last. The
// one made ahead is unnamed, like any before its name is claimed: if
// nsscript ends first, it goes with nsscript.
func (k *Linux) unnamed(setup NetnsSetup) unnamedNS {
	k.aheadMu.Lock()
	defer k.aheadMu.Unlock()
	k.made++
	var s unnamedNS
	if k.ahead != nil {
		s = <-k.ahead
		k.ahead = nil
		if s.err != nil || s.setup != setup {
			s.close()
			s = makeUnnamed(k, setup)
		}
	} else {
		s = makeUnnamed(k, setup)
	}
	if s.err == nil && k.made >= aheadAfter {
		k.ahead = make(chan unnamedNS, 1)
		go func(c chan<- unnamedNS) { c <- makeUnnamed(k, setup) }(k.ahead)
	}
	return s
}

// makeUnnamed makes a namespace on a thread that then opens nsscript's
// netlink handle there, reads its cookie, turns IPv6 off and sets lo up,
// as setup says: one trip.
func makeUnnamed(k *Linux, setup NetnsSetup) unnamedNS {
	s := unnamedNS{fd: -1, setup: setup}
	s.err = k.spawn(func() error {
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			return fmt.Errorf("unshare: %w", err)
		}
		var err error
		if s.fd, err = unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0); err != nil {
			return err
		}
		s.cookie = ownCookie()
		s.h, _ = netlink.NewHandle(unix.NETLINK_ROUTE) // if not, Handle opens one later
		s.raw, _ = openRaw()
		if setup.NoIPv6 {
			// The thread is in the namespace: so is /proc/sys/net.
			p, _ := names.SysctlKey(DisableIPv6Key)
			// (A kernel without IPv6 has no such file: nothing to do.)
			if err := os.WriteFile(p, []byte("1"), 0o644); err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("turn IPv6 off (%s=1): %w", DisableIPv6Key, err)
			}
		}
		if setup.Lo && s.h != nil {
			if err := s.h.LinkSetUp(&netlink.Device{LinkAttrs: netlink.LinkAttrs{Index: LoopbackIndex}}); err != nil {
				return fmt.Errorf("set lo up: %w", err)
			}
		}
		return nil
	})
	if s.err != nil {
		s.close()
		s.h, s.raw, s.fd = nil, nil, -1
	}
	return s
}

// openClaimed opens a namespace whose name another process has just
// claimed, waiting (up to two seconds) for it to mount the namespace
// there: until then the name is an empty file.
func (k *Linux) openClaimed(name string) (*NS, error) {
	deadline := time.Now().Add(2 * time.Second)
	for {
		ns, err := k.OpenNamed(name)
		if err == nil || time.Now().After(deadline) {
			return ns, err
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// ErrNotOurs is returned when what is at a name is not what a journal
// recorded there: nsscript leaves it alone.
var ErrNotOurs = errors.New("not the one nsscript made")

// ReleaseClaimed is the undo of CreateNamed, for a namespace known only by
// its journal record: it releases /run/netns/NAME (like ip netns del)
// only when it is the namespace the claim names, and finishes a release
// or a creation that was interrupted (the name left as an empty file)
// only when that file is the claim's placeholder. It returns nil when
// there is nothing left, ErrNotOurs (wrapped, saying what is there) when
// the name belongs to something else now. The caller empties the
// namespace first.
func (k *Linux) ReleaseClaimed(name string, c NetnsClaim) error {
	if err := names.Netns(name); err != nil {
		return err
	}
	p := filepath.Join(NetnsDir, name)
	var st unix.Stat_t
	if err := unix.Lstat(p, &st); errors.Is(err, unix.ENOENT) {
		return nil
	} else if err != nil {
		return err
	}
	if ns, err := k.OpenPath(p); err == nil {
		// The inode alone is no proof where the kernel has cookies: it
		// reuses inodes at once.
		if cookie := k.Cookie(ns); ns.Inode != c.Inode || c.Cookie != cookie {
			return fmt.Errorf("%w: %s is another namespace now (inode %d), made since", ErrNotOurs, p, ns.Inode)
		}
		if ns.Name == "" {
			ns.Name, ns.Path = name, p
		}
		if err := unix.Unmount(p, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) {
			return fmt.Errorf("unmount %s: %w", p, err)
		}
		k.Close(ns)
		// The file it was mounted on carries the name: nsscript's, since
		// the claimed namespace was mounted on it.
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove %s: %w", p, err)
		}
		return nil
	}
	// The file under the mount: remove it if it is the placeholder made
	// for this namespace, as an interrupted create or release left it.
	if st.Mode&unix.S_IFMT != unix.S_IFREG || c.File == 0 || st.Ino != c.File {
		return fmt.Errorf("%w: %s is a file nsscript did not make (inode %d); remove it yourself if it is a leftover", ErrNotOurs, p, st.Ino)
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove %s: %w", p, err)
	}
	return nil
}

// spawn runs fn on a throwaway thread that starts in the host namespace
// and is returned there afterwards (fn may unshare).
func (k *Linux) spawn(fn func() error) error {
	return k.Do(k.host, fn)
}

// DeleteNamed removes a named namespace like `ip netns del`. The
// namespace itself lives on while a process or open descriptor uses it.
func (k *Linux) DeleteNamed(ns *NS) error {
	if ns.Host || ns.Name == "" {
		return fmt.Errorf("namespace %s has no name to delete", ns)
	}
	// The kernel tears a namespace's devices down only after its last
	// reference is gone, and nsscript's netlink socket there lets go of
	// it an RCU grace period after the close: a veth's peer in another
	// namespace would outlive this call by tens of milliseconds, and a
	// script re-creating that veth would find it still there. Unless
	// processes keep the namespace alive (as with ip netns del, it then
	// lives on with its devices), delete its veths first: synchronously,
	// both ends.
	for _, l := range VethsFirst(k, ns) {
		_ = k.DeleteLink(ns, l.Index)
	}
	return k.releaseNamed(ns)
}

// releaseNamed is `ip netns del` exactly: it unmounts the name and lets
// go of the namespace, which the kernel then tears down with its devices
// in the background (many namespaces at once in one batch, far faster
// than deleting their veths one by one). A caller that must not see the
// devices afterwards waits for them to go.
func (k *Linux) releaseNamed(ns *NS) error {
	if ns.Host || ns.Name == "" {
		return fmt.Errorf("namespace %s has no name to delete", ns)
	}
	p := filepath.Join(NetnsDir, ns.Name)
	if err := unix.Unmount(p, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("unmount %s: %w", p, err)
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove %s: %w", p, err)
	}
	k.Close(ns)
	return nil
}
