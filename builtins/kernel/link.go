package kernel

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"sort"
	"strings"
	"unsafe"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"

	"github.com/nsscript/nsscript/builtins/names"
)

// DummyAlias marks an ifb device that stands in for a dummy on kernels
// built without the dummy driver (CONFIG_DUMMY). Both are NOARP devices
// whose carrier is always on and that drop what they are sent.
const DummyAlias = "nsscript:dummy"

// LinkInfo is what nsscript reads of a network device.
type LinkInfo struct {
	Name        string
	Index       int
	Kind        string // veth, bridge, dummy, vxlan, tap, vlan, macvlan, loopback, device
	MAC         string
	MTU         int
	Up          bool // administratively up (IFF_UP)
	Carrier     bool // up and with a carrier (IFF_LOWER_UP): a veth whose peer is up
	MasterIndex int
	PeerIndex   int // veth: the peer's index in its own namespace
	PeerNetnsID int // veth: the peer's namespace id as seen from here; -1 when in the same namespace
	Alias       string
	Type        string // the kernel's own kind (ifb for a dummy stand-in, "" for loopback and NICs)
	// Device is what AddDevice set of a vxlan, tap, vlan or macvlan.
	Device *Device
}

func info(l netlink.Link) *LinkInfo {
	a := l.Attrs()
	li := &LinkInfo{
		Name:        a.Name,
		Index:       a.Index,
		MAC:         a.HardwareAddr.String(),
		MTU:         a.MTU,
		Up:          a.Flags&net.FlagUp != 0,
		Carrier:     a.RawFlags&unix.IFF_LOWER_UP != 0,
		MasterIndex: a.MasterIndex,
		PeerNetnsID: -1,
		Alias:       a.Alias,
		Type:        l.Type(),
	}
	if li.Type == "device" {
		li.Type = ""
	}
	d := deviceOf(l)
	switch t := l.Type(); {
	case a.Flags&net.FlagLoopback != 0:
		li.Kind = "loopback"
	case t == "veth" || t == "bridge" || t == "dummy":
		li.Kind = t
	case t == "ifb" && a.Alias == DummyAlias:
		li.Kind = "dummy"
	case d != nil:
		li.Device, li.Kind = d, d.Kind
		if d.Kind != "vxlan" && a.NetNsID >= 0 {
			d.Link = 0 // the parent is in another namespace: its index is not one of here
		}
	default:
		li.Kind = "device"
	}
	if li.Kind == "veth" {
		li.PeerIndex = a.ParentIndex
		if a.NetNsID >= 0 {
			li.PeerNetnsID = a.NetNsID
		}
	}
	return li
}

// ErrNoLink is returned when a device does not exist.
var ErrNoLink = errors.New("no such device")

func notFound(err error) bool {
	var lnf netlink.LinkNotFoundError
	return errors.As(err, &lnf) || errors.Is(err, unix.ENODEV)
}

// retry repeats a netlink dump that the kernel interrupted because the
// table changed while it was read.
func retry[T any](f func() (T, error)) (T, error) {
	var v T
	var err error
	for range 5 {
		v, err = f()
		if !errors.Is(err, netlink.ErrDumpInterrupted) {
			return v, err
		}
	}
	return v, err
}

func (k *Linux) linkByName(ns *NS, name string) (netlink.Link, *netlink.Handle, error) {
	if err := checkNames(name); err != nil {
		return nil, nil, err
	}
	h, err := k.Handle(ns)
	if err != nil {
		return nil, nil, err
	}
	l, err := h.LinkByName(name)
	if err != nil {
		if notFound(err) {
			return nil, h, ErrNoLink
		}
		return nil, h, fmt.Errorf("look up %q in namespace %s: %w", name, ns, err)
	}
	return l, h, nil
}

func (k *Linux) linkByIndex(ns *NS, index int) (netlink.Link, *netlink.Handle, error) {
	h, err := k.Handle(ns)
	if err != nil {
		return nil, nil, err
	}
	l, err := h.LinkByIndex(index)
	if err != nil {
		if notFound(err) {
			return nil, h, ErrNoLink
		}
		return nil, h, fmt.Errorf("look up device %d in namespace %s: %w", index, ns, err)
	}
	return l, h, nil
}

// LinkByName reads a device by name; ErrNoLink when absent.
func (k *Linux) LinkByName(ns *NS, name string) (*LinkInfo, error) {
	l, _, err := k.linkByName(ns, name)
	if err != nil {
		return nil, err
	}
	return info(l), nil
}

// LinkByIndex reads a device by index; ErrNoLink when absent.
func (k *Linux) LinkByIndex(ns *NS, index int) (*LinkInfo, error) {
	l, _, err := k.linkByIndex(ns, index)
	if err != nil {
		return nil, err
	}
	return info(l), nil
}

// Links lists the devices of ns in index order, like `ip link` (but
// the taps of nsscript's forwarders).
func (k *Linux) Links(ns *NS) ([]*LinkInfo, error) {
	h, err := k.Handle(ns)
	if err != nil {
		return nil, err
	}
	ls, err := retry(h.LinkList)
	if err != nil {
		return nil, fmt.Errorf("list devices in namespace %s: %w", ns, err)
	}
	out := make([]*LinkInfo, 0, len(ls))
	for _, l := range ls {
		// A forwarder's tap is plumbing of the device it shapes, gone
		// with the forwarder: not one of the namespace's devices.
		if li := info(l); !IsForwarderTap(li) {
			out = append(out, li)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Index < out[j].Index })
	return out, nil
}

// Want is what a creation call (veth, bridge, dummy) makes of its
// device once it is there: the journal keeps it, so that a re-run can
// tell what the script no longer asks for.
type Want struct {
	MTU    int    `json:"mtu,omitempty"`    // 0: the kernel's default
	Master string `json:"master,omitempty"` // the bridge's name; "": none
	Addr   string `json:"addr,omitempty"`   // a CIDR; "": none
	Up     bool   `json:"up,omitempty"`
}

// LinkOpts are what a new device gets in the message that creates it.
type LinkOpts struct {
	MTU int              // 0: the kernel's default
	MAC net.HardwareAddr // nil: the kernel picks one at random
	// PeerMAC is a veth peer's MAC (nil: random).
	PeerMAC net.HardwareAddr
	// MACChosen, PeerMACChosen: MAC and PeerMAC are the script's own
	// (mac=, peer_mac=), not picked for it, so a plan or trace shows them.
	MACChosen, PeerMACChosen bool
	// Want, PeerWant are what the creation call makes of the device (and
	// a veth's peer) once it is there, for the journal to keep.
	Want, PeerWant *Want
	// PortOnly, PeerPortOnly: the end is made to be a bridge port, and
	// gets no IPv6 of its own (net.ipv6.conf.NAME.disable_ipv6 = 1, set
	// before it ever comes up): a bridge forwards IPv6 through its ports
	// all the same, while a port's own link-local address and routes
	// would cost the kernel a route walk per port in its namespace.
	PortOnly, PeerPortOnly bool
}

// PortSysctl is the key that takes IPv6 off a bridge port (see
// LinkOpts.PortOnly), set to "1". (A '.' in the device's name is a '/'
// in a dotted key, as for sysctl(8).)
func PortSysctl(name string) string { return DevSysctl("ipv6", name, "disable_ipv6") }

// DevSysctl is the key of a device's own setting of family ("ipv4",
// "ipv6"): net.FAMILY.conf.DEV.NAME, a '.' in the device's name written
// as '/', as sysctl(8) takes it.
func DevSysctl(family, dev, name string) string {
	return "net." + family + ".conf." + strings.ReplaceAll(dev, ".", "/") + "." + name
}

// RandomMAC is a random locally administered unicast MAC address, as the
// kernel would pick for a virtual device. Picked by nsscript, it is known
// before the device exists, so the journal can name it beforehand; and a
// MAC that was set, not random, is one udev's MACAddressPolicy leaves
// alone.
func RandomMAC() net.HardwareAddr {
	mac := make(net.HardwareAddr, 6)
	_, _ = rand.Read(mac)
	mac[0] = mac[0]&^1 | 2
	return mac
}

// AddVeth creates a veth pair with one end in ns and the other in peerNS,
// in one netlink call, and returns the indexes of name and of peer (0
// where the kernel did not say). Equivalent to:
// ip -n NS link add NAME [mtu M] [address MAC] type veth peer name PEER [netns PEER_NS] [mtu M] [address PEER_MAC]
func (k *Linux) AddVeth(ns *NS, name string, peerNS *NS, peer string, o LinkOpts) (int, int, error) {
	if err := checkNames(name, peer); err != nil {
		return 0, 0, err
	}
	// The kernel echoes the new device (NLM_F_ECHO, Linux 6.3), with its
	// peer's index (IFLA_LINK): no read of either end afterwards.
	req := nl.NewNetlinkRequest(unix.RTM_NEWLINK, unix.NLM_F_CREATE|unix.NLM_F_EXCL|unix.NLM_F_ACK|unix.NLM_F_ECHO)
	req.AddData(nl.NewIfInfomsg(unix.AF_UNSPEC))
	req.AddData(nl.NewRtAttr(unix.IFLA_IFNAME, nl.ZeroTerminated(name)))
	if o.MTU > 0 {
		req.AddData(nl.NewRtAttr(unix.IFLA_MTU, nl.Uint32Attr(uint32(o.MTU))))
	}
	if o.MAC != nil {
		req.AddData(nl.NewRtAttr(unix.IFLA_ADDRESS, []byte(o.MAC)))
	}
	info := nl.NewRtAttr(unix.IFLA_LINKINFO, nil)
	info.AddRtAttr(nl.IFLA_INFO_KIND, nl.NonZeroTerminated("veth"))
	p := info.AddRtAttr(nl.IFLA_INFO_DATA, nil).AddRtAttr(nl.VETH_INFO_PEER, nil)
	nl.NewIfInfomsgChild(p, unix.AF_UNSPEC)
	p.AddRtAttr(unix.IFLA_IFNAME, nl.ZeroTerminated(peer))
	if o.MTU > 0 {
		p.AddRtAttr(unix.IFLA_MTU, nl.Uint32Attr(uint32(o.MTU)))
	}
	if o.PeerMAC != nil {
		p.AddRtAttr(unix.IFLA_ADDRESS, []byte(o.PeerMAC))
	}
	if peerNS != ns {
		p.AddRtAttr(unix.IFLA_NET_NS_FD, nl.Uint32Attr(uint32(peerNS.fd)))
	}
	req.AddData(info)
	msgs, err := k.rawRequest(ns, req, unix.RTM_NEWLINK)
	if err != nil {
		return 0, 0, fmt.Errorf("create veth %q/%q: %w", name, peer, noDriver("veth", err))
	}
	var index, peerIndex int
	for _, m := range msgs {
		if len(m) < unix.SizeofIfInfomsg {
			continue
		}
		if im := nl.DeserializeIfInfomsg(m); im.Index > 0 {
			index = int(im.Index)
		}
		attrs, _ := nl.ParseRouteAttr(m[unix.SizeofIfInfomsg:])
		for _, a := range attrs {
			if a.Attr.Type == unix.IFLA_LINK && len(a.Value) >= 4 {
				peerIndex = int(nl.NativeEndian().Uint32(a.Value))
			}
		}
	}
	if o.PortOnly {
		k.portOnly(ns, name)
	}
	if o.PeerPortOnly {
		k.portOnly(peerNS, peer)
	}
	return index, peerIndex, nil
}

// portOnly takes IPv6 off a new device that is to be a bridge port (see
// LinkOpts.PortOnly). Where that fails (a kernel without IPv6), the port
// works as well with it.
func (k *Linux) portOnly(ns *NS, name string) {
	p := "/proc/sys/net/ipv6/conf/" + name + "/disable_ipv6"
	write := func() error { return os.WriteFile(p, []byte("1"), 0o644) }
	if ns.Host {
		_ = write() // (every thread but Do's is in the host namespace)
		return
	}
	_ = k.Do(ns, write)
}

// checkNames refuses an interface name the kernel would take otherwise
// than given (a NUL cuts it short), whoever calls.
func checkNames(ns ...string) error {
	for _, n := range ns {
		if err := names.IfName(n); err != nil {
			return err
		}
	}
	return nil
}

// AddBridge creates a bridge. Equivalent to: ip -n NS link add NAME [address MAC] type bridge
func (k *Linux) AddBridge(ns *NS, name string, o LinkOpts) error {
	if err := checkNames(name); err != nil {
		return err
	}
	h, err := k.Handle(ns)
	if err != nil {
		return err
	}
	attrs := netlink.NewLinkAttrs()
	attrs.Name = name
	attrs.HardwareAddr = o.MAC
	if err := h.LinkAdd(&netlink.Bridge{LinkAttrs: attrs}); err != nil {
		return fmt.Errorf("create bridge %q: %w", name, noDriver("bridge", err))
	}
	return nil
}

// SetBridgeSTP turns spanning tree on or off. Equivalent to:
// ip -n NS link set NAME type bridge stp_state 0|1
func (k *Linux) SetBridgeSTP(ns *NS, index int, on bool) error {
	// The netlink library has no STP attribute, and /sys/class/net shows
	// the sysfs mount's namespace, so send IFLA_BR_STP_STATE by hand from
	// inside the namespace.
	var v uint32
	if on {
		v = 1
	}
	return k.Do(ns, func() error {
		req := nl.NewNetlinkRequest(unix.RTM_NEWLINK, unix.NLM_F_ACK)
		msg := nl.NewIfInfomsg(unix.AF_UNSPEC)
		msg.Index = int32(index)
		req.AddData(msg)
		li := nl.NewRtAttr(unix.IFLA_LINKINFO, nil)
		li.AddRtAttr(nl.IFLA_INFO_KIND, nl.NonZeroTerminated("bridge"))
		data := li.AddRtAttr(nl.IFLA_INFO_DATA, nil)
		data.AddRtAttr(nl.IFLA_BR_STP_STATE, nl.Uint32Attr(v))
		req.AddData(li)
		_, err := req.Execute(unix.NETLINK_ROUTE, 0)
		return err
	})
}

// noDriver says which driver the kernel lacks when it refuses a kind of
// device it does not know (EOPNOTSUPP), and where to see what it has.
func noDriver(kind string, err error) error {
	if errors.Is(err, unix.EOPNOTSUPP) {
		return fmt.Errorf("%w: the kernel has no %s driver (nsscript doctor lists what this kernel has)", err, kind)
	}
	return err
}

// AddDummy creates a dummy device (a stand-in for a NIC). On a kernel
// without the dummy driver it creates an ifb device marked DummyAlias,
// which behaves the same for addresses, routes and moves. Equivalent to:
// ip -n NS link add NAME [address MAC] type dummy
func (k *Linux) AddDummy(ns *NS, name string, o LinkOpts) error {
	if err := checkNames(name); err != nil {
		return err
	}
	h, err := k.Handle(ns)
	if err != nil {
		return err
	}
	attrs := netlink.NewLinkAttrs()
	attrs.Name = name
	attrs.HardwareAddr = o.MAC
	k.mu.Lock()
	missing := k.dummyMissing
	k.mu.Unlock()
	if !missing {
		err = h.LinkAdd(&netlink.Dummy{LinkAttrs: attrs})
		if err == nil {
			k.mu.Lock()
			k.dummyMade = true
			k.mu.Unlock()
			return nil
		}
		if !errors.Is(err, unix.EOPNOTSUPP) {
			return fmt.Errorf("create dummy %q: %w", name, err)
		}
		k.mu.Lock()
		k.dummyMissing = true
		k.mu.Unlock()
	}
	if err := h.LinkAdd(&netlink.Ifb{LinkAttrs: attrs}); err != nil {
		return fmt.Errorf("create dummy %q (as ifb; the kernel has no dummy driver): %w", name, noDriver("ifb", err))
	}
	l, err := h.LinkByName(name)
	if err == nil {
		err = h.LinkSetAlias(l, DummyAlias)
	}
	if err != nil {
		return fmt.Errorf("mark %q as a dummy: %w", name, err)
	}
	return nil
}

// withLink runs a change on the device with that index. The netlink
// calls it makes address the device by index alone, so no lookup comes
// first: a device that is gone makes the kernel answer ENODEV, which is
// ErrNoLink here.
func (k *Linux) withLink(ns *NS, index int, f func(h *netlink.Handle, l netlink.Link) error) error {
	h, err := k.Handle(ns)
	if err != nil {
		return err
	}
	l := &netlink.Device{LinkAttrs: netlink.LinkAttrs{Index: index}}
	if err := f(h, l); err != nil {
		if notFound(err) {
			return ErrNoLink
		}
		return err
	}
	return nil
}

// SetUp sets a device up or down; a caller that sends packets through it
// next calls Sync (once the other end of a veth is up too). Equivalent to:
// ip -n NS link set DEV up|down
func (k *Linux) SetUp(ns *NS, index int, up bool) error {
	return k.withLink(ns, index, func(h *netlink.Handle, l netlink.Link) error {
		if !up {
			return h.LinkSetDown(l)
		}
		return h.LinkSetUp(l)
	})
}

// Sync makes the kernel apply a pending carrier change to a device now:
// the link watch, which attaches the device's transmit queue once it has
// its carrier, otherwise runs up to a second later, and the first packets
// (an ARP request, say) are dropped meanwhile and a first ping fails.
// Asking the device's link state runs it for that device: ethtool's
// GLINK (what ethtool DEV prints as "Link detected"), a microsecond; for
// a device without it (a dummy), a read of the device (RTM_GETLINK), ten
// times that.
func (k *Linux) Sync(ns *NS, index int) {
	s, err := k.rawSocket(ns)
	if err != nil {
		return
	}
	if ifr, err := unix.NewIfreq(""); err == nil {
		fd := s.Socket.GetFd()
		ifr.SetUint32(uint32(index))
		if unix.IoctlIfreq(fd, unix.SIOCGIFNAME, ifr) == nil && ethtoolLink(fd, ifr.Name()) == nil {
			return
		}
	}
	req := nl.NewNetlinkRequest(unix.RTM_GETLINK, unix.NLM_F_ACK)
	msg := nl.NewIfInfomsg(unix.AF_UNSPEC)
	msg.Index = int32(index)
	req.AddData(msg)
	req.AddData(nl.NewRtAttr(unix.IFLA_EXT_MASK, nl.Uint32Attr(nl.RTEXT_FILTER_VF)))
	_, _ = k.rawRequest(ns, req, unix.RTM_NEWLINK) // (the reply is not read: the read is what counts)
}

// ethtoolLink is SIOCETHTOOL ETHTOOL_GLINK on device name, through a
// socket of its namespace.
func ethtoolLink(fd int, name string) error {
	v := struct{ cmd, data uint32 }{cmd: unix.ETHTOOL_GLINK}
	ifr := struct {
		name [unix.IFNAMSIZ]byte
		data unsafe.Pointer // struct ethtool_value *
		_    [16]byte
	}{data: unsafe.Pointer(&v)}
	copy(ifr.name[:len(ifr.name)-1], name)
	_, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.SIOCETHTOOL, uintptr(unsafe.Pointer(&ifr)))
	runtime.KeepAlive(&v)
	if e != 0 {
		return e
	}
	return nil
}

// SetUpByName is SetUp for a device known by name (lo in a new namespace).
func (k *Linux) SetUpByName(ns *NS, name string) error {
	l, h, err := k.linkByName(ns, name)
	if err != nil {
		return err
	}
	return h.LinkSetUp(l)
}

// SetMTU is: ip -n NS link set DEV mtu MTU
func (k *Linux) SetMTU(ns *NS, index, mtu int) error {
	return k.withLink(ns, index, func(h *netlink.Handle, l netlink.Link) error { return h.LinkSetMTU(l, mtu) })
}

// SetMAC is: ip -n NS link set DEV address MAC
func (k *Linux) SetMAC(ns *NS, index int, mac net.HardwareAddr) error {
	return k.withLink(ns, index, func(h *netlink.Handle, l netlink.Link) error { return h.LinkSetHardwareAddr(l, mac) })
}

// SetName is: ip -n NS link set DEV name NAME
func (k *Linux) SetName(ns *NS, index int, name string) error {
	if err := checkNames(name); err != nil {
		return err
	}
	return k.withLink(ns, index, func(h *netlink.Handle, l netlink.Link) error { return h.LinkSetName(l, name) })
}

// SetMaster is: ip -n NS link set DEV master BRIDGE (nomaster when 0)
func (k *Linux) SetMaster(ns *NS, index, master int) error {
	return k.withLink(ns, index, func(h *netlink.Handle, l netlink.Link) error {
		if master == 0 {
			return h.LinkSetNoMaster(l)
		}
		return h.LinkSetMasterByIndex(l, master)
	})
}

// Move is: ip -n NS link set DEV netns TARGET
func (k *Linux) Move(ns *NS, index int, target *NS) error {
	if ns == target {
		return nil // already there
	}
	return k.withLink(ns, index, func(h *netlink.Handle, l netlink.Link) error { return h.LinkSetNsFd(l, target.fd) })
}

// DeleteLink is: ip -n NS link del DEV
func (k *Linux) DeleteLink(ns *NS, index int) error {
	return k.withLink(ns, index, func(h *netlink.Handle, l netlink.Link) error { return h.LinkDel(l) })
}

// Addrs lists a device's IPv4 and IPv6 addresses (global scope and host),
// as "a.b.c.d/len".
func (k *Linux) Addrs(ns *NS, index int) ([]string, error) {
	l, h, err := k.linkByIndex(ns, index)
	if err != nil {
		return nil, err
	}
	as, err := retry(func() ([]netlink.Addr, error) { return h.AddrList(l, netlink.FAMILY_ALL) })
	if err != nil {
		return nil, err
	}
	var out []string
	for _, a := range as {
		if a.IP.IsLinkLocalUnicast() {
			continue
		}
		out = append(out, a.IPNet.String())
	}
	return out, nil
}

// AddAddr is: ip -n NS addr replace CIDR dev DEV
//
// Like that command it sets no broadcast address (IFA_BROADCAST): the
// netlink package computes one when Broadcast is nil, and leaves it out
// when it is 0.0.0.0. (The kernel adds the subnet's broadcast route
// either way.)
func (k *Linux) AddAddr(ns *NS, index int, cidr *net.IPNet) error {
	a := &netlink.Addr{IPNet: cidr}
	if cidr.IP.To4() != nil {
		a.Broadcast = net.IPv4zero
	}
	return k.withLink(ns, index, func(h *netlink.Handle, l netlink.Link) error {
		return h.AddrReplace(l, a)
	})
}

// DelAddr is: ip -n NS addr del CIDR dev DEV
func (k *Linux) DelAddr(ns *NS, index int, cidr *net.IPNet) error {
	return k.withLink(ns, index, func(h *netlink.Handle, l netlink.Link) error {
		return h.AddrDel(l, &netlink.Addr{IPNet: cidr})
	})
}

// NetnsID is the id under which ns knows other (for a veth's peer).
func (k *Linux) NetnsID(ns, other *NS) (int, error) {
	h, err := k.Handle(ns)
	if err != nil {
		return -1, err
	}
	return h.GetNetNsIdByFd(other.fd)
}

// Errors callers map to advice.
var (
	ErrFull  error = unix.EXFULL // a bridge has no free port number
	ErrBusy  error = unix.EBUSY
	ErrExist error = unix.EEXIST
)
