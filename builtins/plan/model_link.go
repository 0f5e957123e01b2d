package plan

import (
	"fmt"
	"net"
	"sort"

	"golang.org/x/sys/unix"

	"github.com/nsscript/nsscript/builtins/kernel"
)

// LinkByName reads a device by name.
func (r *Model) LinkByName(ns *kernel.NS, name string) (*kernel.LinkInfo, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n, err := r.nsOf(ns)
	if err != nil {
		return nil, err
	}
	l := n.byName(name)
	if l == nil {
		return nil, kernel.ErrNoLink
	}
	return r.info(l), nil
}

// LinkByIndex reads a device by index.
func (r *Model) LinkByIndex(ns *kernel.NS, index int) (*kernel.LinkInfo, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, l, err := r.link(ns, index)
	if err != nil {
		return nil, err
	}
	return r.info(l), nil
}

// Links lists a namespace's devices in index order.
func (r *Model) Links(ns *kernel.NS) ([]*kernel.LinkInfo, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n, err := r.nsOf(ns)
	if err != nil {
		return nil, err
	}
	ls := append([]*rlink(nil), n.links...)
	sort.Slice(ls, func(i, j int) bool { return ls[i].index < ls[j].index })
	out := make([]*kernel.LinkInfo, len(ls))
	for i, l := range ls {
		out[i] = r.info(l)
	}
	return out, nil
}

func exists(name string) error {
	return fmt.Errorf("create %q: %w", name, unix.EEXIST)
}

// AddVeth creates a pair, each end in its namespace, down.
func (r *Model) AddVeth(ns *kernel.NS, name string, peerNS *kernel.NS, peer string, o kernel.LinkOpts) (int, error) {
	mtu := o.MTU
	r.mu.Lock()
	defer r.mu.Unlock()
	n, err := r.nsOf(ns)
	if err != nil {
		return 0, err
	}
	pn, err := r.nsOf(peerNS)
	if err != nil {
		return 0, err
	}
	if n.byName(name) != nil {
		return 0, exists(name)
	}
	if pn.byName(peer) != nil || (n == pn && name == peer) {
		return 0, exists(peer)
	}
	a := r.addLink(n, name, "veth", mtu)
	b := r.addLink(pn, peer, "veth", mtu)
	a.setMAC(o.MAC)
	b.setMAC(o.PeerMAC)
	a.peer, b.peer = b, a
	return a.index, nil
}

// AddBridge creates a bridge, down.
func (r *Model) AddBridge(ns *kernel.NS, name string, o kernel.LinkOpts) error {
	return r.addDevice(ns, name, "bridge", o.MAC)
}

// addDevice creates a device of one kind, down, unless the name is taken.
func (r *Model) addDevice(ns *kernel.NS, name, kind string, mac net.HardwareAddr) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	n, err := r.nsOf(ns)
	if err != nil {
		return err
	}
	if n.byName(name) != nil {
		return exists(name)
	}
	r.addLink(n, name, kind, 0).setMAC(mac)
	return nil
}

// SetBridgeSTP turns spanning tree on or off.
func (r *Model) SetBridgeSTP(ns *kernel.NS, index int, on bool) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, l, err := r.link(ns, index)
	if err != nil {
		return err
	}
	if l.kind != "bridge" {
		return fmt.Errorf("%s is not a bridge: %w", l.name, unix.EOPNOTSUPP)
	}
	l.stp = on
	return nil
}

// AddDevice creates a vxlan, tap, vlan or macvlan, down. Like Linux it
// refuses a device it would sit on that is not there, and a second VXLAN
// of a VNI on the same port; its MTU is its parent's
// (a VXLAN's less the 50 bytes of its headers, 70 over IPv6).
func (r *Model) AddDevice(ns *kernel.NS, name string, d kernel.Device, o kernel.LinkOpts) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	n, err := r.nsOf(ns)
	if err != nil {
		return err
	}
	var lower *rlink
	if d.Link != 0 {
		at := n
		if d.LinkNS != nil {
			if at, err = r.nsOf(d.LinkNS); err != nil {
				return err
			}
		}
		if lower = at.byIndex(d.Link); lower == nil {
			return fmt.Errorf("create %s %q: device %d: %w", d.Kind, name, d.Link, unix.ENODEV)
		}
	}
	if n.byName(name) != nil {
		return exists(name)
	}
	if _, ok := kernel.MacvlanModes[d.Mode]; d.Kind == "macvlan" && !ok {
		return fmt.Errorf("macvlan mode %q: %w", d.Mode, unix.EINVAL)
	}
	mtu := o.MTU
	if mtu == 0 && lower != nil {
		mtu = lower.mtu
		if d.Kind == "vxlan" {
			mtu -= 50
			if ip := append(d.Remote, d.Group...); ip != nil && ip.To4() == nil {
				mtu -= 20
			}
		}
	}
	if d.Kind == "vxlan" {
		for _, o := range n.links {
			if o.dev != nil && o.dev.Kind == "vxlan" && o.dev.VNI == d.VNI && o.dev.Port == d.Port {
				return fmt.Errorf("create vxlan %q: %w: A VXLAN device with the specified VNI already exists", name, unix.EEXIST)
			}
		}
	}
	l := r.addLink(n, name, d.Kind, mtu)
	l.setMAC(o.MAC)
	d.LinkNS = nil
	l.dev, l.lower = &d, lower
	return nil
}

// AddDummy creates a dummy device. (Which driver a real kernel has, the
// model does not know: DummyKind says "".)
func (r *Model) AddDummy(ns *kernel.NS, name string, o kernel.LinkOpts) error {
	return r.addDevice(ns, name, "dummy", o.MAC)
}

// DummyKind is "": the model does not know whether the kernel that will
// run the plan has the dummy driver.
func (r *Model) DummyKind() string { return "" }

// setUp changes IFF_UP and what follows from it: an up device gets the
// connected routes of its addresses (and lo its 127.0.0.1/8 and ::1); a
// device going down loses every route through it, and its IPv6 addresses.
func (r *Model) setUp(l *rlink, up bool) {
	if l.up == up {
		return
	}
	l.up = up
	if !up {
		l.ns.flushNeighs(l)
		l.ns.dropRoutes(func(rt *rroute) bool { return rt.dev == l })
		var keep []*net.IPNet
		for _, a := range l.addrs {
			if a.IP.To4() != nil {
				keep = append(keep, a)
			}
		}
		l.addrs = keep
		return
	}
	if l.kind == "loopback" {
		for _, c := range []string{"127.0.0.1/8", "::1/128"} {
			ip, nw, _ := net.ParseCIDR(c)
			nw.IP = ip
			if !hasAddr(l, nw) {
				l.addrs = append(l.addrs, nw)
			}
		}
		return
	}
	for _, a := range l.addrs {
		l.ns.connect(l, a)
	}
}

func hasAddr(l *rlink, a *net.IPNet) bool {
	for _, have := range l.addrs {
		if have.String() == a.String() {
			return true
		}
	}
	return false
}

func (n *rns) dropRoutes(drop func(*rroute) bool) {
	var keep []*rroute
	for _, rt := range n.routes {
		if !drop(rt) {
			keep = append(keep, rt)
		}
	}
	n.routes = keep
}

// connect adds the connected route of address a on l (up, not loopback).
func (n *rns) connect(l *rlink, a *net.IPNet) {
	ones, bits := a.Mask.Size()
	if ones == bits || l.kind == "loopback" {
		return
	}
	dst := &net.IPNet{IP: a.IP.Mask(a.Mask), Mask: a.Mask}
	metric := 0
	if bits == 128 {
		metric = 256
	}
	for _, rt := range n.routes {
		if rt.kernel && rt.dev == l && rt.dst.String() == dst.String() {
			return
		}
	}
	n.routes = append(n.routes, &rroute{dst: dst, dev: l, metric: metric, table: kernel.MainTable, scope: unix.RT_SCOPE_LINK, kernel: true})
}

// change makes a change to the device index of ns.
func (r *Model) change(ns *kernel.NS, index int, f func(n *rns, l *rlink) error) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	n, l, err := r.link(ns, index)
	if err != nil {
		return err
	}
	return f(n, l)
}

// SetUp is `ip link set DEV up|down`.
func (r *Model) SetUp(ns *kernel.NS, index int, up bool) error {
	return r.change(ns, index, func(n *rns, l *rlink) error {
		if l.up == up {
			return nil
		}
		r.setUp(l, up)
		return nil
	})
}

// SetUpByName is SetUp by name (lo of a new namespace).
func (r *Model) SetUpByName(ns *kernel.NS, name string) error {
	r.mu.Lock()
	n, err := r.nsOf(ns)
	var l *rlink
	if err == nil {
		if l = n.byName(name); l == nil {
			err = kernel.ErrNoLink
		}
	}
	r.mu.Unlock()
	if err != nil {
		return err
	}
	return r.SetUp(ns, l.index, true)
}

// Sync does nothing: the model has no carrier to settle.
func (r *Model) Sync(ns *kernel.NS, index int) {}

// SetMTU is `ip link set DEV mtu M`.
func (r *Model) SetMTU(ns *kernel.NS, index, mtu int) error {
	return r.change(ns, index, func(n *rns, l *rlink) error {
		if mtu < 68 && l.kind != "loopback" {
			return fmt.Errorf("mtu %d: %w", mtu, unix.EINVAL)
		}
		if l.mtu == mtu {
			return nil
		}
		l.mtu = mtu
		return nil
	})
}

// SetMAC is `ip link set DEV address MAC`.
func (r *Model) SetMAC(ns *kernel.NS, index int, mac net.HardwareAddr) error {
	return r.change(ns, index, func(n *rns, l *rlink) error {
		if l.mac != mac.String() {
			n.flushNeighs(l) // as Linux does, static entries too
		}
		l.mac = mac.String()
		return nil
	})
}

// SetName is `ip link set DEV name NEW`; like Linux it refuses an up device.
func (r *Model) SetName(ns *kernel.NS, index int, name string) error {
	return r.change(ns, index, func(n *rns, l *rlink) error {
		if l.up {
			return kernel.ErrBusy
		}
		if o := n.byName(name); o != nil && o != l {
			return exists(name)
		}
		l.name = name
		return nil
	})
}

// SetMaster is `ip link set DEV master BR` (nomaster for 0).
func (r *Model) SetMaster(ns *kernel.NS, index, master int) error {
	return r.change(ns, index, func(n *rns, l *rlink) error {
		if master == 0 && l.master == nil || l.master != nil && l.master.index == master {
			return nil
		}
		if master == 0 {
			l.master = nil
			return nil
		}
		br := n.byIndex(master)
		if br == nil || br.kind != "bridge" || br == l {
			return fmt.Errorf("master %d: %w", master, unix.EINVAL)
		}
		l.master = br
		return nil
	})
}

// Move is `ip link set DEV netns TARGET`. Like Linux it takes the device
// down and out of its bridge and drops its addresses and routes; a bridge
// or lo cannot move.
func (r *Model) Move(ns *kernel.NS, index int, target *kernel.NS) error {
	if ns == target {
		return nil // already there
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	n, l, err := r.link(ns, index)
	if err != nil {
		return err
	}
	to, err := r.nsOf(target)
	if err != nil {
		return err
	}
	if l.kind == "bridge" || l.kind == "loopback" {
		return fmt.Errorf("%s cannot leave its namespace: %w", l.name, unix.EINVAL)
	}
	if to.byName(l.name) != nil {
		return exists(l.name)
	}
	r.unplug(l)
	l.up = false
	l.addrs = nil
	l.shape = nil // a move takes a device's qdiscs
	n.remove(l)
	l.ns = to
	if to.byIndex(l.index) != nil {
		r.nextIndex++
		l.index = r.nextIndex
	}
	to.links = append(to.links, l)
	return nil
}

// unplug takes l out of its namespace's bridges and routes.
func (r *Model) unplug(l *rlink) {
	l.ns.flushNeighs(l)
	l.master = nil
	for _, o := range l.ns.links {
		if o.master == l {
			o.master = nil
		}
	}
	l.ns.dropRoutes(func(rt *rroute) bool { return rt.dev == l })
}

func (n *rns) remove(l *rlink) {
	var keep []*rlink
	for _, o := range n.links {
		if o != l {
			keep = append(keep, o)
		}
	}
	n.links = keep
}

func (r *Model) deleteLink(l *rlink) {
	for _, d := range []*rlink{l, l.peer} {
		if d == nil || d.ns.byIndex(d.index) != d {
			continue
		}
		r.unplug(d)
		d.ns.remove(d)
		// What sits on it goes with it (a VLAN, a macvlan, a VXLAN
		// whose underlay it was).
		for _, n := range r.all {
			for _, up := range append([]*rlink(nil), n.links...) {
				if up.lower == d {
					r.deleteLink(up)
				}
			}
		}
	}
}

// flushNeighs drops the static entries of l: Linux flushes a device's
// neighbours when it goes down, changes its MAC or leaves.
func (n *rns) flushNeighs(l *rlink) {
	var keep []*rneigh
	for _, e := range n.neighs {
		if e.dev != l {
			keep = append(keep, e)
		}
	}
	n.neighs = keep
}

// DeleteLink is `ip link del DEV` (a veth's peer goes with it).
func (r *Model) DeleteLink(ns *kernel.NS, index int) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, l, err := r.link(ns, index)
	if err != nil {
		return err
	}
	if l.kind == "loopback" {
		return fmt.Errorf("lo: %w", unix.EOPNOTSUPP)
	}
	r.deleteLink(l)
	return nil
}
