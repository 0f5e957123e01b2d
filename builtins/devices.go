package builtins

import (
	"errors"
	"net"
	"strconv"

	"go.starlark.net/starlark"

	"github.com/nsscript/nsscript/builtins/kernel"
)

// The devices of kernel.Device's kinds: a VXLAN tunnel end, a tap, a
// VLAN and a macvlan. Each is made like a bridge (create, or find the
// one there), then configured as its call asks (mtu, bridge, address,
// up); one of that name already there must be what the call asks for.

// vxlan is the vxlan builtin: the kernel's own overlay, an Ethernet
// segment carried in UDP to another machine (remote=) or to a multicast
// group (group=, with dev=).
func (e *Env) vxlan(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	fn := b.Name()
	var name IfName
	var vni VNI
	var remote, group, local IP
	var dev OptIfName
	port := Port(4789)
	var ns NamespaceArg
	var addr CIDR
	var master BridgeArg
	var mtu MTU
	up := true
	if err := unpack(b, args, kwargs, &name, &vni, &remote, &group, &local, &dev, &port, &ns, &addr, &master, &mtu, &up); err != nil {
		return nil, err
	}
	n := ns.or(e.host)
	if err := checkTunnel(fn, remote.IP, group.IP, local.IP, dev.IfName != ""); err != nil {
		return nil, err
	}
	if err := dev.in(fn, "dev", n); err != nil {
		return nil, err
	}
	if err := master.checkSameNS(fn, "master", string(name), n); err != nil {
		return nil, err
	}
	d := kernel.Device{Kind: "vxlan", VNI: int(vni), Remote: remote.IP, Group: group.IP, Local: local.IP, Port: int(port)}
	lower := ""
	if dev.IfName != "" {
		l, _, err := n.lookupLink(fn, string(dev.IfName))
		if err != nil {
			return nil, err
		}
		d.Link, lower = l.index, l.name
	}
	return e.makeDevice(fn, n, string(name), d, lower, mtu, master.Link, addr.IPNet, up)
}

// checkTunnel checks a VXLAN's addresses: one far end at most, a
// unicast remote, a multicast group on a device, one family.
func checkTunnel(fn string, remote, group, local net.IP, dev bool) error {
	switch {
	case remote != nil && group != nil:
		return errorf(fn, "give remote= (the one other end, unicast) or group= (a multicast group of ends), not both")
	case group != nil && !group.IsMulticast():
		return errorf(fn, "for parameter group: %s is not a multicast address (224.0.0.0/4, ff00::/8): for the one other end give remote=%q", group, group.String())
	case group != nil && !dev:
		return errorf(fn, "group= needs dev=, the device that joins the multicast group (the underlay, e.g. dev=\"eth0\")")
	case remote != nil && remote.IsMulticast():
		return errorf(fn, "for parameter remote: %s is a multicast address: give it as group= (with dev=)", remote)
	case remote != nil && (remote.IsUnspecified() || remote.IsLoopback()):
		return errorf(fn, "for parameter remote: %s is not the address of another machine: give the other end's underlay address", remote)
	case local != nil && (local.IsMulticast() || local.IsUnspecified()):
		return errorf(fn, "for parameter local: %s is not an address of this machine: give the underlay address of this end, or leave local= out", local)
	}
	far := remote
	if far == nil {
		far = group
	}
	if far != nil && local != nil && (far.To4() == nil) != (local.To4() == nil) {
		return errorf(fn, "local %s and %s are of different families: give both IPv4 or both IPv6", local, far)
	}
	return nil
}

// tap is the tap builtin: a persistent tap device, the kind a virtual
// machine's NIC is backed by, which no process holds open yet.
func (e *Env) tap(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	fn := b.Name()
	var name IfName
	var ns NamespaceArg
	var addr CIDR
	var master BridgeArg
	var mtu MTU
	up := true
	if err := unpack(b, args, kwargs, &name, &ns, &addr, &master, &mtu, &up); err != nil {
		return nil, err
	}
	n := ns.or(e.host)
	if err := master.checkSameNS(fn, "master", string(name), n); err != nil {
		return nil, err
	}
	return e.makeDevice(fn, n, string(name), kernel.Device{Kind: "tap"}, "", mtu, master.Link, addr.IPNet, up)
}

// vlan is the vlan builtin: an 802.1Q sub-interface of a device, which
// tags what it sends with its id and receives what carries it.
func (e *Env) vlan(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	fn := b.Name()
	var parent LinkArg
	var id VlanID
	var name OptIfName
	var ns NamespaceArg
	var addr CIDR
	var master BridgeArg
	var mtu MTU
	up := true
	if err := unpack(b, args, kwargs, &parent, &id, &name, &ns, &addr, &master, &mtu, &up); err != nil {
		return nil, err
	}
	return e.onParent(fn, parent.Link, kernel.Device{Kind: "vlan", VlanID: int(id)}, name, parent.name+"."+strconv.Itoa(int(id)), ns, addr, master, mtu, up)
}

// macvlan is the macvlan builtin: a device with a MAC of its own on
// another device's wire (a container's NIC on the host's LAN).
func (e *Env) macvlan(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	fn := b.Name()
	var parent LinkArg
	var name OptIfName
	mode := MacvlanMode("bridge")
	var ns NamespaceArg
	var addr CIDR
	var master BridgeArg
	var mtu MTU
	up := true
	if err := unpack(b, args, kwargs, &parent, &name, &mode, &ns, &addr, &master, &mtu, &up); err != nil {
		return nil, err
	}
	return e.onParent(fn, parent.Link, kernel.Device{Kind: "macvlan", Mode: string(mode)}, name, "mv-"+parent.name, ns, addr, master, mtu, up)
}

// onParent makes a device that sits on parent (a VLAN, a macvlan): named
// name, or def when name is None; in ns, or the parent's namespace.
func (e *Env) onParent(fn string, parent *Link, d kernel.Device, name OptIfName, def string, ns NamespaceArg, addr CIDR, master BridgeArg, mtu MTU, up bool) (starlark.Value, error) {
	if name.IfName == "" {
		if err := checkIfName(def); err != nil {
			return nil, errorf(fn, "for parameter name: the default name %q will not do (%v): give name=", def, err)
		}
		name.IfName = IfName(def)
	}
	if name.link != nil {
		return nil, errorf(fn, "for parameter name: want the new device's name (str), got a Link")
	}
	n := ns.or(parent.ns)
	if err := master.checkSameNS(fn, "master", string(name.IfName), n); err != nil {
		return nil, err
	}
	li, err := parent.Info()
	if err != nil {
		return nil, errorf(fn, "for parameter link: %w", err)
	}
	if li.Kind == "loopback" || li.MAC == "" {
		return nil, errorf(fn, "for parameter link: %q carries no Ethernet frames (it has no MAC address): give an Ethernet device (a NIC, a veth, a bridge)", li.Name)
	}
	d.Link = parent.index
	lower := parent.name
	if parent.ns != n {
		d.LinkNS, lower = parent.ns.ns, ""
	}
	return e.makeDevice(fn, n, string(name.IfName), d, lower, mtu, master.Link, addr.IPNet, up)
}

// makeDevice creates the device d named name in n, or finds it there
// (the lab's own wherever a run moved it), and configures it. lower is
// the name of the device it sits on, in n ("" for none, or when that is
// in another namespace). A device of that name and kind that is not
// what d asks for is an error; the lab's own, from an earlier run of an
// edited script, is made again.
func (e *Env) makeDevice(fn string, n *Namespace, name string, d kernel.Device, lower string, mtu MTU, master *Link, addr *net.IPNet, up bool) (starlark.Value, error) {
	if err := n.checkIPv6Addr(fn, "addr", addr, false); err != nil {
		return nil, err
	}
	l, created, err := e.device(fn, d.Kind, n, name, func() error {
		return e.K.AddDevice(n.ns, name, d, kernel.LinkOpts{Want: wantOf(mtu, master, addr, up)})
	})
	if err != nil {
		if d.Kind == "vxlan" && errors.Is(err, kernel.ErrExist) {
			// Not the name (device() found none of it): the VNI.
			if links, lerr := e.K.Links(n.ns); lerr == nil {
				for _, o := range links {
					if od := o.Device; od != nil && od.Kind == "vxlan" && od.VNI == d.VNI && od.Port == d.Port {
						return nil, because(errorf(fn, "namespace %s already has VXLAN %q with VNI %d on port %d: the kernel carries a VNI on one device per port in a namespace; put more ports on that device's bridge, or give another vni= or dstport=", n.Name(), o.Name, d.VNI, d.Port), err)
					}
				}
			}
		}
		return nil, err
	}
	if !created {
		li, err := l.Info()
		if err != nil {
			return nil, errorf(fn, "%w", err)
		}
		have, want := "", d.Summary(lower)
		if li.Device != nil {
			on := ""
			if p, err := e.K.LinkByIndex(l.ns.ns, li.Device.Link); li.Device.Link != 0 && err == nil {
				on = p.Name
			}
			have = li.Device.Summary(on)
		}
		if have != want {
			if e.Own.Replaceable(l.ns.ns, li.Name) && e.K.DeleteLink(l.ns.ns, l.index) == nil {
				e.forgetLink(l)
				return e.makeDevice(fn, n, name, d, lower, mtu, master, addr, up)
			}
			return nil, errorf(fn, "namespace %s already has a %s %q with %s, not %s as asked: delete it or choose another name", l.ns.Name(), d.Kind, li.Name, have, want)
		}
	}
	return e.finishDevice(fn, l, created, l.configure(fn, n, name, nil, created, mtu, master, addr, up))
}
