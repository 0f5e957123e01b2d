package journal

import (
	"errors"
	"fmt"
	"net"
	"slices"

	"github.com/nsscript/nsscript/builtins/kernel"
)

// Undo of devices, addresses and routes. A device is found by the
// identity its record holds (device), and left alone when it is not the
// one recorded.

// devID is what a record knows of a device: for one the lab made, its
// kind and the MAC nsscript gave it; for any other, its index and MAC
// when recorded.
type devID struct {
	kind   string
	index  int
	mac    string
	inside bool // in a namespace, or on a device, the lab made
}

// recordedID is the identity a record of a change to a device holds.
func recordedID(r Record) devID {
	return devID{index: r.Index, mac: r.MAC, inside: r.Within != ""}
}

// madeKinds are the kinds of device nsscript makes, and so may delete.
var madeKinds = map[string]bool{"veth": true, "bridge": true, "dummy": true, "vxlan": true, "tap": true, "vlan": true, "macvlan": true}

func (id devID) matches(li *kernel.LinkInfo) bool {
	if id.kind != "" {
		kindOK := li.Kind == id.kind || id.kind == "dummy" && li.Type == "ifb"
		return madeKinds[id.kind] && kindOK && id.mac != "" && li.MAC == id.mac
	}
	if id.index != 0 {
		return li.Index == id.index
	}
	return id.mac != "" && li.MAC == id.mac
}

// device finds the device name in the namespace r, if it is still the one
// id describes.
func (u *Undoer) device(r *NSRef, name string, id devID) (*kernel.NS, *kernel.LinkInfo, error) {
	ns, err := u.open(r)
	if err != nil {
		return nil, nil, err
	}
	li, err := u.K.LinkByName(ns, name)
	if err != nil && id.index != 0 && id.kind == "" {
		li, err = u.K.LinkByIndex(ns, id.index) // renamed since
	}
	if err != nil {
		return nil, nil, errGone
	}
	if !id.matches(li) && id.inside {
		// Inside what the lab made, a device that is not the one recorded
		// is the lab's too: the recorded one is gone.
		return nil, nil, errGone
	}
	if !id.matches(li) {
		what := fmt.Sprintf("index %d, mac %s", id.index, id.mac)
		if id.kind != "" {
			what = fmt.Sprintf("a %s with mac %s", id.kind, id.mac)
		}
		if id.mac == "" && id.index == 0 {
			what = "no identity (journaled by an older nsscript)"
		}
		return nil, nil, notOurs("device %q in %s is not the one the lab recorded (%s; now a %s with index %d, mac %s)", name, r, what, li.Kind, li.Index, li.MAC)
	}
	return ns, li, nil
}

// undoDevice puts a device back: deletes one the lab made, gives back
// a MAC, up state, MTU, master or name the lab changed, moves one back.
func (u *Undoer) undoDevice(r Record) error {
	id := recordedID(r)
	switch r.Op {
	case "link":
		ns, li, err := u.device(r.NS, r.Name, devID{kind: r.Kind, mac: r.MAC, inside: r.Within != ""})
		if errors.Is(err, errGone) && r.Peer != "" {
			ns, li, err = u.device(r.PeerNS, r.Peer, devID{kind: r.Kind, mac: r.PeerMAC, inside: r.Within != ""})
		}
		if err != nil {
			return err
		}
		return u.K.DeleteLink(ns, li.Index)
	case "ident":
		ns, li, err := u.device(r.NS, r.Name, devID{mac: r.MAC})
		if err != nil || r.OldMAC == "" {
			return err
		}
		mac, err := net.ParseMAC(r.OldMAC)
		if err != nil {
			return err
		}
		if err := u.K.SetMAC(ns, li.Index, mac); err != nil {
			return err
		}
		u.putBackNeighs(ns, li, r.Neighs)
		return nil
	case "up":
		ns, li, err := u.device(r.NS, r.Name, id)
		if err != nil {
			return err
		}
		want := r.WasUp != nil && *r.WasUp
		if li.Up != want {
			if err := u.K.SetUp(ns, li.Index, want); err != nil {
				return err
			}
		}
		if want && r.Kind != "loopback" {
			u.putBack(ns, li, r.Addrs)
			u.putBackNeighs(ns, li, r.Neighs)
		}
		if r.Kind == "loopback" && !want && !slices.Contains(r.Addrs, "127.0.0.1/8") {
			// The kernel gave it 127.0.0.1/8 when it came up.
			lo := &net.IPNet{IP: net.IPv4(127, 0, 0, 1).To4(), Mask: net.CIDRMask(8, 32)}
			if err := ignoreMissing(u.K.DelAddr(ns, li.Index, lo)); err != nil {
				return err
			}
		}
		if want {
			return u.restoreRoutes(ns, r.Routes)
		}
		return nil
	case "mtu":
		ns, li, err := u.device(r.NS, r.Name, id)
		if err != nil {
			return err
		}
		if li.MTU != r.OldMTU {
			if err := u.K.SetMTU(ns, li.Index, r.OldMTU); err != nil {
				return err
			}
		}
		u.putBack(ns, li, r.Addrs)
		return nil
	case "mac":
		ns, li, err := u.device(r.NS, r.Name, devID{index: r.Index})
		if err != nil {
			return err
		}
		mac, err := net.ParseMAC(r.OldMAC)
		if err != nil {
			return err
		}
		if li.MAC == mac.String() {
			return nil
		}
		if err := u.K.SetMAC(ns, li.Index, mac); err != nil {
			return err
		}
		u.putBackNeighs(ns, li, r.Neighs)
		return nil
	case "master":
		ns, li, err := u.device(r.NS, r.Name, id)
		if err != nil {
			return err
		}
		master := 0
		if r.OldMaster != "" {
			m, err := u.K.LinkByName(ns, r.OldMaster)
			if err != nil {
				return errGone
			}
			master = m.Index
		}
		if li.MasterIndex == master {
			return nil
		}
		return u.K.SetMaster(ns, li.Index, master)
	case "rename":
		ns, li, err := u.device(r.NS, r.Name, id)
		if err != nil {
			return err
		}
		// Linux renames only devices that are down.
		if li.Up {
			_ = u.K.SetUp(ns, li.Index, false)
		}
		err = u.K.SetName(ns, li.Index, r.OldName)
		if li.Up {
			_ = u.K.SetUp(ns, li.Index, true)
		}
		return err
	case "move":
		// The index may change on a move; the MAC does not.
		to, li, err := u.device(r.To, r.Name, devID{mac: r.MAC})
		if err != nil {
			return err
		}
		from, err := u.open(r.NS)
		if err != nil {
			return err
		}
		if err := u.K.Move(to, li.Index, from); err != nil {
			return err
		}
		return u.restore(from, r)
	}
	return fmt.Errorf("unknown journal record %q", r.Op)
}

// undoAddrRoute removes an address or route the lab added, and puts
// back one it deleted or replaced.
func (u *Undoer) undoAddrRoute(r Record) error {
	switch r.Op {
	case "addr", "addr_del":
		ns, li, err := u.device(r.NS, r.Name, recordedID(r))
		if err != nil {
			return err
		}
		ip, n, err := net.ParseCIDR(r.Addr)
		if err != nil {
			return err
		}
		n.IP = ip
		if r.Op == "addr" {
			return u.delAddr(ns, li, n)
		}
		return u.K.AddAddr(ns, li.Index, n)
	case "route":
		ns, err := u.open(r.NS)
		if err != nil {
			return err
		}
		if r.Prev != nil {
			if ri, err := u.routeInfo(ns, r.Prev); err == nil {
				return u.K.ReplaceRoute(ns, ri)
			}
		}
		ri, err := u.routeInfo(ns, r.Route)
		if err != nil {
			return err
		}
		return ignoreMissing(u.K.DeleteRoute(ns, ri))
	}
	return fmt.Errorf("unknown journal record %q", r.Op)
}

// delAddr deletes an address the lab added, and puts back what the
// kernel takes with it: deleting the primary IPv4 address of a subnet
// deletes its secondary ones (net.ipv4.conf.*.promote_secondaries is 0
// by default), someone else's or the lab's next one, and the routes
// through them.
func (u *Undoer) delAddr(ns *kernel.NS, li *kernel.LinkInfo, cidr *net.IPNet) error {
	before, _ := u.K.Addrs(ns, li.Index)
	var others []*net.IPNet // the other addresses of its subnet
	for _, a := range before {
		ip, n, err := net.ParseCIDR(a)
		if err == nil && a != cidr.String() && ip.To4() != nil && n.String() == (&net.IPNet{IP: cidr.IP.Mask(cidr.Mask), Mask: cidr.Mask}).String() {
			n.IP = ip
			others = append(others, n)
		}
	}
	var routes []kernel.RouteInfo
	if len(others) > 0 {
		routes, _ = u.K.Routes(ns, 0)
	}
	if err := ignoreMissing(u.K.DelAddr(ns, li.Index, cidr)); err != nil || len(others) == 0 {
		return err
	}
	after, _ := u.K.Addrs(ns, li.Index)
	for _, a := range others {
		if !slices.Contains(after, a.String()) {
			if err := u.K.AddAddr(ns, li.Index, a); err != nil {
				u.warn("could not put back %s on %q (the kernel took it with %s): %v", a, li.Name, cidr, err)
			}
		}
	}
	now, _ := u.K.Routes(ns, 0)
	for _, rt := range routes {
		if rt.Kernel || slices.ContainsFunc(now, func(o kernel.RouteInfo) bool { return sameRoute(o, rt) }) {
			continue
		}
		if err := u.K.ReplaceRoute(ns, rt); err != nil {
			u.warn("could not put back the route to %s (the kernel took it with %s): %v", dstWord(routeDst(rt)), cidr, err)
		}
	}
	return nil
}

func sameRoute(a, b kernel.RouteInfo) bool {
	return sameNet(a.Dst, b.Dst) && a.Via.Equal(b.Via) && a.DevIndex == b.DevIndex && a.Metric == b.Metric && a.Table == b.Table
}

func routeDst(r kernel.RouteInfo) string {
	if r.Dst == nil {
		return ""
	}
	return r.Dst.String()
}

// restore gives a device of the host's that came back from a namespace
// what it had before it left: addresses, master, up state and routes.
func (u *Undoer) restore(ns *kernel.NS, r Record) error {
	if !r.givesBack() {
		return nil // the lab's own device
	}
	li, err := u.K.LinkByName(ns, r.Name)
	if err != nil {
		return err
	}
	var errs []error
	for _, a := range r.Addrs {
		ip, n, err := net.ParseCIDR(a)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		n.IP = ip
		errs = append(errs, u.K.AddAddr(ns, li.Index, n))
	}
	if r.OldMaster != "" {
		if m, err := u.K.LinkByName(ns, r.OldMaster); err == nil {
			errs = append(errs, u.K.SetMaster(ns, li.Index, m.Index))
		}
	}
	if *r.WasUp {
		errs = append(errs, u.K.SetUp(ns, li.Index, true))
	}
	errs = append(errs, u.restoreRoutes(ns, r.Routes))
	return errors.Join(errs...)
}

// restoreRoutes puts back routes the kernel dropped with a device. One
// that the kernel no longer takes (its gateway went with an address
// someone removed since) is a warning: it must not keep the lab from
// coming down.
func (u *Undoer) restoreRoutes(ns *kernel.NS, routes []Route) error {
	for _, rt := range routes {
		ri, err := u.routeInfo(ns, &rt)
		if err == nil {
			err = u.K.ReplaceRoute(ns, ri)
		}
		if err != nil && !errors.Is(err, errGone) {
			u.warn("could not put back the route to %s via %s dev %s: %v", dstWord(rt.Dst), rt.Via, rt.Dev, err)
		}
	}
	return nil
}

func dstWord(d string) string {
	if d == "" {
		return "default"
	}
	return d
}

// putBack puts back addresses the kernel dropped from a device (IPv6, when
// it went down or its MTU below 1280); one it refuses is a warning.
func (u *Undoer) putBack(ns *kernel.NS, li *kernel.LinkInfo, addrs []string) {
	for _, a := range addrs {
		ip, n, err := net.ParseCIDR(a)
		if err == nil {
			n.IP = ip
			err = u.K.AddAddr(ns, li.Index, n)
		}
		if err != nil {
			u.warn("could not put back %s on %q: %v", a, li.Name, err)
		}
	}
}

func (u *Undoer) routeInfo(ns *kernel.NS, r *Route) (kernel.RouteInfo, error) {
	ri := kernel.RouteInfo{Metric: r.Metric, Table: r.Table}
	if r.Dst != "" {
		_, n, err := net.ParseCIDR(r.Dst)
		if err != nil {
			return ri, err
		}
		ri.Dst = n
	}
	if r.Via != "" {
		ri.Via = net.ParseIP(r.Via)
		if v4 := ri.Via.To4(); v4 != nil {
			ri.Via = v4
		}
	}
	if r.Dev != "" {
		li, err := u.K.LinkByName(ns, r.Dev)
		if err != nil {
			return ri, errGone
		}
		ri.DevIndex = li.Index
	}
	return ri, nil
}
