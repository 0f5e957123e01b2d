package kernel

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Device is a device of a kind that sits on another device or reaches
// out of the machine: a VXLAN tunnel end, a tap, a VLAN or a macvlan. It
// is what AddDevice makes, and what LinkInfo.Device reads back.
type Device struct {
	Kind string // "vxlan", "tap", "vlan", "macvlan"
	// Link is the device it sits on, by index in LinkNS: a VXLAN's
	// underlay device (dev=; 0 for none), a VLAN's or macvlan's parent.
	Link int
	// LinkNS is where Link is when that is not where the device is made
	// (a macvlan made straight into a container's namespace); nil: the
	// same namespace. (Not read back: LinkInfo.Device has nil.)
	LinkNS *NS

	// VXLAN: the VNI, the remote end or multicast group (one of them),
	// the local address, and the UDP destination port.
	VNI           int
	Remote, Group net.IP
	Local         net.IP
	Port          int

	VlanID int    // VLAN: the 802.1Q id, 1 to 4094
	Mode   string // macvlan: private, vepa, bridge, passthru or source
}

// MacvlanModes are the modes of a macvlan, as ip link names them.
var MacvlanModes = map[string]netlink.MacvlanMode{
	"private": netlink.MACVLAN_MODE_PRIVATE, "vepa": netlink.MACVLAN_MODE_VEPA,
	"bridge": netlink.MACVLAN_MODE_BRIDGE, "passthru": netlink.MACVLAN_MODE_PASSTHRU,
	"source": netlink.MACVLAN_MODE_SOURCE,
}

// drivers are the kernel modules behind each kind, and their config
// option: what a kernel without them lacks.
var drivers = map[string]struct{ module, config string }{
	"vxlan":   {"vxlan", "CONFIG_VXLAN"},
	"tap":     {"tun", "CONFIG_TUN"},
	"vlan":    {"8021q", "CONFIG_VLAN_8021Q"},
	"macvlan": {"macvlan", "CONFIG_MACVLAN"},
}

// ErrNoDriver is what AddDevice answers on a kernel without the kind's
// driver.
var ErrNoDriver = errors.New("no driver")

// NoDriverError says which kernel module a kind of device needs.
type NoDriverError struct {
	Kind string
	Err  error // the kernel's answer
}

func (e *NoDriverError) Error() string {
	d := drivers[e.Kind]
	return fmt.Sprintf("the kernel has no %s module (%s): it cannot make %s devices (%s; %v); load it (modprobe %s) or run on a kernel built with it",
		d.module, e.Kind, e.Kind, d.config, e.Err, d.module)
}

func (e *NoDriverError) Is(target error) bool { return target == ErrNoDriver }
func (e *NoDriverError) Unwrap() error        { return e.Err }

// AddDevice makes a device of one of Device's kinds in ns. Equivalent to
//
//	ip -n NS link add NAME [address MAC] type vxlan id VNI [remote R|group G] [local L] [dev DEV] dstport PORT
//	ip -n NS tuntap add NAME mode tap
//	ip -n NS link add link PARENT name NAME type vlan id ID
//	ip -n NS link add link PARENT name NAME type macvlan mode MODE
//
// A tap is made the only way the kernel makes one, with /dev/net/tun
// (TUNSETIFF, TUNSETPERSIST) on a thread inside ns; the rest in one
// netlink message. A kernel without the kind's driver gives a
// NoDriverError.
func (k *Linux) AddDevice(ns *NS, name string, d Device, o LinkOpts) error {
	if err := checkNames(name); err != nil {
		return err
	}
	if d.Kind == "tap" {
		return k.addTap(ns, name, o)
	}
	at := ns
	if d.LinkNS != nil {
		at = d.LinkNS
	}
	h, err := k.Handle(at)
	if err != nil {
		return err
	}
	attrs := netlink.NewLinkAttrs()
	attrs.Name = name
	attrs.MTU = o.MTU
	attrs.HardwareAddr = o.MAC
	if at != ns {
		attrs.Namespace = netlink.NsFd(ns.fd)
	}
	var l netlink.Link
	switch d.Kind {
	case "vxlan":
		v := &netlink.Vxlan{LinkAttrs: attrs, VxlanId: d.VNI, VtepDevIndex: d.Link, SrcAddr: d.Local, Port: d.Port, Learning: true}
		v.Group = d.Remote
		if d.Group != nil {
			v.Group = d.Group
		}
		l = v
	case "vlan":
		attrs.ParentIndex = d.Link
		l = &netlink.Vlan{LinkAttrs: attrs, VlanId: d.VlanID, VlanProtocol: netlink.VLAN_PROTOCOL_8021Q}
	case "macvlan":
		mode, ok := MacvlanModes[d.Mode]
		if !ok {
			return fmt.Errorf("macvlan mode %q: %w", d.Mode, unix.EINVAL)
		}
		attrs.ParentIndex = d.Link
		l = &netlink.Macvlan{LinkAttrs: attrs, Mode: mode}
	default:
		return fmt.Errorf("device kind %q: %w", d.Kind, unix.EOPNOTSUPP)
	}
	if err := h.LinkAdd(l); err != nil {
		if errors.Is(err, unix.EOPNOTSUPP) && (d.Kind == "vxlan" || !kindKnown(h, d.Kind)) {
			return &NoDriverError{Kind: d.Kind, Err: err}
		}
		if errors.Is(err, unix.EOPNOTSUPP) {
			return fmt.Errorf("create %s %q: the kernel makes no %s on that device (not an Ethernet device that can carry one): %w", d.Kind, name, d.Kind, err)
		}
		return fmt.Errorf("create %s %q: %w", d.Kind, name, err)
	}
	return nil
}

// kindKnown tells a kernel without a kind's driver from one that refuses
// a device of that kind on a given parent: both answer EOPNOTSUPP
// ("Unknown device type"; "VLANs not supported on device"). Asked for
// the kind without a parent, a kernel that has the driver refuses with
// EINVAL (a VLAN and a macvlan need one), one without it with EOPNOTSUPP
// again; nothing is made either way.
func kindKnown(h *netlink.Handle, kind string) bool {
	attrs := netlink.NewLinkAttrs()
	attrs.Name = "nsprobe" + hex.EncodeToString(RandomMAC()[3:])
	err := h.LinkAdd(&netlink.GenericLink{LinkAttrs: attrs, LinkType: kind})
	if err == nil {
		if l, lerr := h.LinkByName(attrs.Name); lerr == nil {
			_ = h.LinkDel(l)
		}
	}
	return !errors.Is(err, unix.EOPNOTSUPP)
}

// tunFile is the tun driver's control device.
const tunFile = "/dev/net/tun"

// attachTap attaches fd, an open tunFile, to the tap device name (made
// if there is none), without packet information (ip tuntap's default)
// and with the IFF_* flags more: TUNSETIFF, as every tap here is made.
func attachTap(fd int, name string, more uint16) error {
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return err
	}
	ifr.SetUint16(unix.IFF_TAP | unix.IFF_NO_PI | more)
	return unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr)
}

// addTap makes a persistent tap device that no process holds open: the
// kernel refuses tun and tap devices over netlink ("tun/tap creation via
// rtnetlink is not supported"), so it is made as `ip tuntap add` makes
// it, with the ioctls of /dev/net/tun, on a thread inside ns (the
// device is made in the namespace of the thread that opens the file).
// IFF_TUN_EXCL makes a taken name an error (ErrExist) instead of
// attaching to the device of that name; IFF_NO_PI is ip's default.
func (k *Linux) addTap(ns *NS, name string, o LinkOpts) error {
	err := k.Do(ns, func() error {
		fd, err := unix.Open(tunFile, unix.O_RDWR|unix.O_CLOEXEC, 0)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) || errors.Is(err, unix.ENODEV) || errors.Is(err, unix.ENXIO) {
				return &NoDriverError{Kind: "tap", Err: fmt.Errorf("open %s: %w", tunFile, err)}
			}
			return fmt.Errorf("open %s: %w%s", tunFile, err, tunDenied(err))
		}
		defer unix.Close(fd)
		if err := attachTap(fd, name, unix.IFF_TUN_EXCL); err != nil {
			if errors.Is(err, unix.EBUSY) {
				err = unix.EEXIST // IFF_TUN_EXCL: the name is taken
			}
			return fmt.Errorf("create tap %q: %w", name, err)
		}
		if err := unix.IoctlSetInt(fd, unix.TUNSETPERSIST, 1); err != nil {
			return fmt.Errorf("make tap %q persistent: %w", name, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	// What TUNSETIFF cannot say: the MAC (the journal's pick) and MTU.
	l, h, err := k.linkByName(ns, name)
	if err == nil && o.MAC != nil {
		err = h.LinkSetHardwareAddr(l, o.MAC)
	}
	if err == nil && o.MTU != 0 {
		err = h.LinkSetMTU(l, o.MTU)
	}
	if err != nil {
		if l != nil {
			_ = h.LinkDel(l)
		}
		return fmt.Errorf("set up tap %q: %w", name, err)
	}
	return nil
}

// deviceOf reads back what AddDevice set of a device of its kinds; nil
// for the others.
func deviceOf(l netlink.Link) *Device {
	switch v := l.(type) {
	case *netlink.Vxlan:
		d := &Device{Kind: "vxlan", VNI: v.VxlanId, Link: v.VtepDevIndex, Local: v.SrcAddr, Port: v.Port}
		if v.Group != nil && !v.Group.IsUnspecified() {
			if v.Group.IsMulticast() {
				d.Group = v.Group
			} else {
				d.Remote = v.Group
			}
		}
		if d.Local != nil && d.Local.IsUnspecified() {
			d.Local = nil
		}
		return d
	case *netlink.Vlan:
		return &Device{Kind: "vlan", VlanID: v.VlanId, Link: v.ParentIndex}
	case *netlink.Macvlan:
		d := &Device{Kind: "macvlan", Link: v.ParentIndex}
		for name, m := range MacvlanModes {
			if m == v.Mode {
				d.Mode = name
			}
		}
		return d
	case *netlink.Tuntap:
		if v.Mode == netlink.TUNTAP_MODE_TAP {
			return &Device{Kind: "tap"}
		}
	}
	return nil
}

// Summary says what d is, as ls, graph and a plan's inventory show it:
// "vni 42 remote 10.0.0.2 dev eth0 dstport 4789", "id 10 on eth0",
// "mode bridge on eth0"; "" for a tap. lower is the name of the device it
// sits on ("" when there is none, or it is not known).
func (d *Device) Summary(lower string) string {
	var w []string
	switch d.Kind {
	case "vxlan":
		w = append(w, "vni", strconv.Itoa(d.VNI))
		if d.Remote != nil {
			w = append(w, "remote", d.Remote.String())
		}
		if d.Group != nil {
			w = append(w, "group", d.Group.String())
		}
		if d.Local != nil {
			w = append(w, "local", d.Local.String())
		}
		if lower != "" {
			w = append(w, "dev", lower)
		}
		w = append(w, "dstport", strconv.Itoa(d.Port))
		return strings.Join(w, " ")
	case "vlan":
		w = append(w, "id", strconv.Itoa(d.VlanID))
	case "macvlan":
		w = append(w, "mode", d.Mode)
	}
	if lower != "" {
		w = append(w, "on", lower)
	}
	return strings.Join(w, " ")
}
