package kernel

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// What `nsscript doctor` asks of the machine and cannot read from a file:
// whether the kernel can make a device or qdisc, tried where nothing is
// left behind; whether an ordinary user may make user namespaces; whether
// cgroup v2 is there and writable. None of it changes the host.

// Probes are the kernel features ProbeFeatures can try, in the order it
// tries them (the veth first: vlan and macvlan stand on it).
var Probes = []string{"veth", "bridge", "dummy", "ifb", "vlan", "macvlan", "bond", "vxlan", "tun",
	"netem", "tbf", "htb", "fq", "nat", "ip6tables"}

// ErrNotProbed is a probe's result when it could not be tried (what it
// stands on is missing, or a program it runs is not installed).
var ErrNotProbed = errors.New("not probed")

// ProbeFeatures tries each named feature (see Probes) in a network
// namespace made for it and gone afterwards: a veth, a bridge, a qdisc on
// the namespace's lo, an iptables MASQUERADE rule. A feature maps to nil
// when the kernel did it, else to why not (an error wrapping
// ErrNotProbed when it could not be tried). The namespace is made by a
// throwaway thread (unshare), never by the caller's, and dies with the
// thread's netlink socket when the probes are done.
//
// It may load modules (the kernel loads a driver on first use): call it
// only where that cannot happen, or the module is already loaded.
func (k *Linux) ProbeFeatures(features []string) (map[string]error, error) {
	out := map[string]error{}
	err := k.inThrowawayNS(func(h *netlink.Handle) {
		for _, f := range Probes {
			for _, want := range features {
				if want == f {
					out[f] = probe(h, f)
				}
			}
		}
	})
	for _, f := range features {
		if _, ok := out[f]; !ok && err == nil {
			out[f] = fmt.Errorf("%w: no probe %q", ErrNotProbed, f)
		}
	}
	return out, err
}

// inThrowawayNS runs fn on a throwaway thread in a network namespace of
// its own, made for fn and gone after it, with a netlink handle there:
// where the probes try what the kernel has without touching anything
// else.
func (k *Linux) inThrowawayNS(fn func(h *netlink.Handle)) error {
	return k.Do(k.host, func() error {
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			return fmt.Errorf("make a network namespace: %w", err)
		}
		h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
		if err != nil {
			return fmt.Errorf("open netlink: %w", err)
		}
		defer h.Close()
		fn(h)
		return nil
	})
}

// Names of what the probes make, all in the throwaway namespace.
const (
	probeVeth = "probe0"
	probePeer = "probe1"
)

func probe(h *netlink.Handle, f string) error {
	attrs := func(name string) netlink.LinkAttrs {
		a := netlink.NewLinkAttrs()
		a.Name = name
		return a
	}
	parent := func() (int, error) {
		l, err := h.LinkByName(probeVeth)
		if err != nil {
			return 0, fmt.Errorf("%w: it stands on a veth, which could not be made", ErrNotProbed)
		}
		return l.Attrs().Index, nil
	}
	link := func(l netlink.Link) error {
		err := h.LinkAdd(l)
		if err == nil && f != "veth" {
			_ = h.LinkDel(l)
		}
		if errors.Is(err, unix.EOPNOTSUPP) {
			return fmt.Errorf("unknown device type (%w)", err)
		}
		return err
	}
	switch f {
	case "veth":
		return link(&netlink.Veth{LinkAttrs: attrs(probeVeth), PeerName: probePeer})
	case "bridge":
		return link(&netlink.Bridge{LinkAttrs: attrs("probe-br")})
	case "dummy":
		return link(&netlink.Dummy{LinkAttrs: attrs("probe-dummy")})
	case "ifb":
		return link(&netlink.Ifb{LinkAttrs: attrs("probe-ifb")})
	case "vlan", "macvlan":
		idx, err := parent()
		if err != nil {
			return err
		}
		a := attrs("probe-" + f)
		a.ParentIndex = idx
		if f == "vlan" {
			return link(&netlink.Vlan{LinkAttrs: a, VlanId: 10})
		}
		return link(&netlink.Macvlan{LinkAttrs: a, Mode: netlink.MACVLAN_MODE_BRIDGE})
	case "bond":
		return link(netlink.NewLinkBond(attrs("probe-bond")))
	case "vxlan":
		return link(&netlink.Vxlan{LinkAttrs: attrs("probe-vxlan"), VxlanId: 42, Port: 4789})
	case "tun":
		return probeTap()
	case "netem", "tbf", "htb", "fq":
		return probeQdisc(h, f)
	case "nat":
		return probeCommand("iptables", "-t", "nat", "-A", "POSTROUTING", "-j", "MASQUERADE")
	case "ip6tables":
		return probeCommand("ip6tables", "-t", "filter", "-A", "INPUT", "-j", "ACCEPT")
	}
	return fmt.Errorf("%w: no probe %q", ErrNotProbed, f)
}

// probeTap makes a tap device the way a program does (open /dev/net/tun,
// TUNSETIFF), not persistent: it goes when the descriptor is closed.
func probeTap() error {
	fd, err := unix.Open(tunFile, unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", tunFile, err)
	}
	defer unix.Close(fd)
	if err := attachTap(fd, "probe-tap", 0); err != nil {
		return fmt.Errorf("TUNSETIFF: %w", err)
	}
	return nil
}

// probeQdisc sets a qdisc of the kind as lo's root and takes it away. A
// kernel without the kind says ENOENT ("Specified qdisc kind is
// unknown"); any other refusal (of the parameters) means it has it.
func probeQdisc(h *netlink.Handle, kind string) error {
	lo, err := h.LinkByName("lo")
	if err != nil {
		return fmt.Errorf("%w: no lo: %v", ErrNotProbed, err)
	}
	a := netlink.QdiscAttrs{LinkIndex: lo.Attrs().Index, Handle: netlink.MakeHandle(1, 0), Parent: netlink.HANDLE_ROOT}
	var q netlink.Qdisc
	switch kind {
	case "netem":
		q = netlink.NewNetem(a, netlink.NetemQdiscAttrs{Latency: 1000})
	case "tbf":
		q = &netlink.Tbf{QdiscAttrs: a, Rate: 125000, Limit: 32768, Buffer: 1 << 20}
	case "htb":
		q = netlink.NewHtb(a)
	case "fq":
		q = &netlink.Fq{QdiscAttrs: a, Pacing: 1, HorizonDropPolicy: netlink.HORIZON_DROP_POLICY_DEFAULT}
	}
	err = h.QdiscAdd(q)
	if err == nil {
		_ = h.QdiscDel(q)
		return nil
	}
	if errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("unknown qdisc kind (%w)", err)
	}
	return nil
}

// probeCommand runs a command on this thread's namespace (the throwaway
// one: a process forked from this thread is born in it).
func probeCommand(name string, args ...string) error {
	if _, err := exec.LookPath(name); err != nil {
		return fmt.Errorf("%w: %s is not installed", ErrNotProbed, name)
	}
	cmd := exec.Command(name, args...)
	lock, done := XtablesLock()
	defer done()
	cmd.Env = append(os.Environ(), lock)
	return runSaying(cmd)
}

// runSaying runs cmd; its error is what the command said, else how it
// ended.
func runSaying(cmd *exec.Cmd) error {
	out, err := cmd.CombinedOutput()
	if err != nil {
		msg := strings.TrimSpace(string(out))
		if msg == "" {
			msg = err.Error()
		}
		return errors.New(msg)
	}
	return nil
}

// ProbeUserns reports whether an ordinary user can make a user namespace
// and, inside it, network and mount namespaces (what a sandbox without
// root needs): nil, or why not in the kernel's (or unshare's) words. As
// root it asks as the user nobody (65534), since root itself may always.
// It runs `unshare -Urnm true`: a process of its own, whose namespaces go
// with it. The error wraps ErrNotProbed when unshare is not installed.
func ProbeUserns() error {
	path, err := exec.LookPath("unshare")
	if err != nil {
		return fmt.Errorf("%w: unshare (util-linux) is not installed", ErrNotProbed)
	}
	cmd := exec.Command(path, "--user", "--map-root-user", "--net", "--mount", "true")
	cmd.Dir = "/"
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}
	if os.Geteuid() == 0 {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	}
	return runSaying(cmd)
}

// CgroupV2 says where this process's cgroup v2 is (its directory), and
// whether nsscript may make cgroups under it; ok is false without
// cgroup v2.
func CgroupV2() (dir string, writable, ok bool) {
	mount, own, ok := cgroup2()
	if !ok {
		return "", false, false
	}
	dir = filepath.Join(mount, own)
	return dir, unix.Access(dir, unix.W_OK) == nil, true
}

// IsNetnsFile reports whether path is a network namespace file (what ip
// netns mounts in /run/netns), not a file left there without one.
func IsNetnsFile(path string) bool {
	var st unix.Statfs_t
	return unix.Statfs(path, &st) == nil && st.Type == unix.NSFS_MAGIC
}

// XtablesLock is an environment entry (XTABLES_LOCKFILE=...) that points
// an iptables command at a lock file of its own, and what removes it
// afterwards: iptables-legacy makes /run/xtables.lock where it does not
// exist, and what only looks must not leave that behind.
func XtablesLock() (env string, done func()) {
	dir, err := os.MkdirTemp("", "nsscript-xtables-")
	if err != nil {
		return "XTABLES_LOCKFILE=/dev/null", func() {}
	}
	return "XTABLES_LOCKFILE=" + filepath.Join(dir, "xtables.lock"), func() { os.RemoveAll(dir) }
}
