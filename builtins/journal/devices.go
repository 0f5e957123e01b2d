package journal

import (
	"fmt"
	"net"
	"strings"

	"github.com/nsscript/nsscript/builtins/kernel"
)

// Devices: ip link add/set/del.

// AddVeth gives both ends MACs picked here, so that the record written
// before the pair exists already tells it from any later namesake.
//
// A pair the lab made in an earlier run is not made again: wherever it is
// now (moved into a namespace, say), the run declares it, and the kernel
// is not asked; ErrExist tells the caller to find it (Locate).
func (k *Kernel) AddVeth(ns *kernel.NS, name string, peerNS *kernel.NS, peer string, o kernel.LinkOpts) (int, error) {
	k.claimSeq++
	if k.ownDevice(ns, name) || k.ownDevice(peerNS, peer) {
		return 0, kernel.ErrExist
	}
	if o.MAC == nil {
		o.MAC = kernel.RandomMAC()
	}
	if o.PeerMAC == nil {
		o.PeerMAC = kernel.RandomMAC()
	}
	if err := k.macFree(o.MAC, ns, name); err != nil {
		return 0, err
	}
	if err := k.macFree(o.PeerMAC, peerNS, peer); err != nil {
		return 0, err
	}
	var index int
	add := func() (err error) {
		index, err = k.in.AddVeth(ns, name, peerNS, peer, o)
		return err
	}
	// Journaled also between two namespaces the lab made (it goes with
	// them, Within), so that a later run that no longer declares it can
	// delete it on its own.
	in := k.within(ns, 0)
	if in == "" {
		in = k.within(peerNS, 0)
	}
	err := k.tentative(Record{Op: "link", Kind: "veth", NS: k.ref(ns), Name: name, MAC: o.MAC.String(),
		PeerNS: k.ref(peerNS), Peer: peer, PeerMAC: o.PeerMAC.String(), Within: in, Want: o.Want, PeerWant: o.PeerWant}, add)
	if err == nil && index != 0 {
		dev := ownedDev{name: name}
		if !k.owned(ns) {
			dev.key = "link " + o.MAC.String()
		}
		k.ownedIdx[idxKey{k.nsKey(ns), index}] = dev
	}
	return index, err
}

func (k *Kernel) addLink(ns *kernel.NS, name, kind string, o *kernel.LinkOpts, add func() error) error {
	k.claimSeq++
	if k.ownDevice(ns, name) {
		return kernel.ErrExist
	}
	if o.MAC == nil {
		o.MAC = kernel.RandomMAC()
	}
	if err := k.macFree(o.MAC, ns, name); err != nil {
		return err
	}
	return k.tentative(Record{Op: "link", Kind: kind, NS: k.ref(ns), Name: name, MAC: o.MAC.String(), Within: k.within(ns, 0), Want: o.Want}, add)
}

// macFree refuses a MAC (one a script chose) that is the lab's
// already, on another device than name in ns: the journal tells the
// lab's devices apart by their MACs.
func (k *Kernel) macFree(mac net.HardwareAddr, ns *kernel.NS, name string) error {
	p, ok := k.where[mac.String()]
	if o, made := k.origins[linkKey{k.nsKey(ns), name}]; !ok || made && o.mac == mac.String() || refKey(p.ns) == k.nsKey(ns) && p.name == name {
		return nil
	}
	return fmt.Errorf("MAC address %s is already the lab's %q in %s: nsscript tells the lab's devices apart by their MACs; give each device its own", mac, p.name, p.ns)
}

// tentative journals the creation rec before making it, and takes the
// record back if the kernel refuses (a name already taken, say): the
// device there is not the lab's, and down must not delete it.
func (k *Kernel) tentative(rec Record, create func() error) error {
	mark, err := k.mark()
	if err != nil {
		return err
	}
	keys := []linkKey{{refKey(rec.NS), rec.Name}}
	if rec.Peer != "" {
		keys = append(keys, linkKey{refKey(rec.PeerNS), rec.Peer})
	}
	had := make([]bool, len(keys))
	hadOrigin := make([]bool, len(keys))
	for i, key := range keys {
		_, had[i] = k.createdLinks[key]
		_, hadOrigin[i] = k.origins[key]
	}
	if err := k.write(rec); err != nil {
		return err
	}
	cerr := create()
	if cerr == nil {
		return nil
	}
	if err := k.takeBack(mark, 1, func() {
		k.thisRun = k.thisRun[:len(k.thisRun)-1]
		key := recKey(rec)
		delete(k.thisKeys, key)
		delete(k.declared, key)
		delete(k.where, rec.MAC)
		delete(k.where, rec.PeerMAC)
		for i, key := range keys {
			if !had[i] {
				delete(k.createdLinks, key)
			}
			if !hadOrigin[i] {
				delete(k.origins, key)
			}
		}
	}); err != nil {
		return fmt.Errorf("%w (and taking its journal record back failed: %v)", cerr, err)
	}
	return cerr
}

func (k *Kernel) AddBridge(ns *kernel.NS, name string, o kernel.LinkOpts) error {
	return k.addLink(ns, name, "bridge", &o, func() error { return k.in.AddBridge(ns, name, o) })
}

func (k *Kernel) AddDummy(ns *kernel.NS, name string, o kernel.LinkOpts) error {
	return k.addLink(ns, name, "dummy", &o, func() error { return k.in.AddDummy(ns, name, o) })
}

// AddDevice journals a vxlan, tap, vlan or macvlan as AddBridge does a
// bridge: by kind and the MAC picked here.
func (k *Kernel) AddDevice(ns *kernel.NS, name string, d kernel.Device, o kernel.LinkOpts) error {
	return k.addLink(ns, name, d.Kind, &o, func() error { return k.in.AddDevice(ns, name, d, o) })
}

// attr journals the old value of a device attribute before it changes,
// unless the lab made the device (it goes away whole): before puts it in
// the record. The record names the device by its index and MAC too,
// which undo checks.
func (k *Kernel) attr(ns *kernel.NS, index int, op string, before func(*kernel.LinkInfo, *Record), change func() error) error {
	if k.indexOwned(ns, index) {
		// A device of the lab's goes whole; but one an earlier run made
		// keeps its MTU, MAC or bridge when a later run changes it, so
		// that run's rollback (or a prune) puts them back.
		if op == "mtu" || op == "mac" || op == "master" {
			if li, err := k.Reader.LinkByIndex(ns, index); err == nil && k.earlierDev(ns, li) {
				rec := k.devRecord(op, ns, li)
				before(li, &rec)
				rec.Within = k.within(ns, index)
				if err := k.write(rec); err != nil {
					return err
				}
			}
		}
		return change()
	}
	li, err := k.linkName(ns, index)
	if err != nil {
		return err
	}
	if !k.linkOwned(ns, li.Name) {
		// Journaled also when an earlier run changed it: a rollback of
		// this run then puts back the earlier run's value; the journal
		// keeps the oldest record's, from before the lab (Commit).
		rec := k.devRecord(op, ns, li)
		before(li, &rec)
		if err := k.write(rec); err != nil {
			return err
		}
	}
	return change()
}

// earlierDev reports whether a device of the lab's was made by an
// earlier run, not this one (nor with a namespace this run made).
func (k *Kernel) earlierDev(ns *kernel.NS, li *kernel.LinkInfo) bool {
	return !k.madeNS[k.nsKey(ns)] && !k.thisMACs[li.MAC]
}

// devRecord is a record about a device of ns, with what identifies it.
func (k *Kernel) devRecord(op string, ns *kernel.NS, li *kernel.LinkInfo) Record {
	return Record{Op: op, NS: k.ref(ns), Name: li.Name, Index: li.Index, MAC: li.MAC}
}

// upRecord is the "up" record of a device of the host's about to go up or
// down, with what the kernel changes on the side: loopback gets
// 127.0.0.1/8 the first time it comes up (and keeps it when it goes down
// again), and a device that goes down loses the routes through it.
func (k *Kernel) upRecord(ns *kernel.NS, li *kernel.LinkInfo, up bool) Record {
	rec := k.devRecord("up", ns, li)
	rec.WasUp = new(li.Up)
	if up && li.Kind == "loopback" {
		rec.Kind = "loopback" // Addrs are what it had, possibly none
		rec.Addrs, _ = k.Reader.Addrs(ns, li.Index)
	}
	if !up {
		// The kernel flushes a device's IPv6 addresses when it goes down
		// (keep_addr_on_down=0), the routes through it and its static
		// neighbours.
		rec.Addrs = k.ipv6Addrs(ns, li.Index)
		rec.Routes = k.devRoutes(ns, li.Index)
		rec.Neighs = staticNeighs(k.Reader, ns, li.Index)
	}
	return rec
}

// ipv6Addrs are a device's global IPv6 addresses, which the kernel drops
// when the device goes down or its MTU below 1280.
func (k *Kernel) ipv6Addrs(ns *kernel.NS, index int) []string {
	as, _ := k.Reader.Addrs(ns, index)
	var out []string
	for _, a := range as {
		if strings.Contains(a, ":") {
			out = append(out, a)
		}
	}
	return out
}

func (k *Kernel) SetUp(ns *kernel.NS, index int, up bool) error {
	k.wantUp(ns, index, up)
	if k.indexOwned(ns, index) {
		// As attr: the up state of a device an earlier run made.
		if li, err := k.Reader.LinkByIndex(ns, index); err == nil && k.earlierDev(ns, li) {
			rec := k.upRecord(ns, li, up)
			rec.Within = k.within(ns, index)
			if k.declare(recKey(rec)); li.Up != up {
				if err := k.write(rec); err != nil {
					return err
				}
			}
		}
		return k.in.SetUp(ns, index, up)
	}
	li, err := k.linkName(ns, index)
	if err != nil {
		return err
	}
	if !k.linkOwned(ns, li.Name) {
		if err := k.upChange(ns, li, up); err != nil {
			return err
		}
	}
	return k.in.SetUp(ns, index, up)
}

// upChange journals a device of another's going up or down, unless an
// earlier run of the lab did that already (it is declared again) or it
// is so already.
func (k *Kernel) upChange(ns *kernel.NS, li *kernel.LinkInfo, up bool) error {
	rec := k.upRecord(ns, li, up)
	if k.declare(recKey(rec)); li.Up == up {
		return nil
	}
	return k.write(rec)
}

func (k *Kernel) SetUpByName(ns *kernel.NS, name string) error {
	if !k.linkOwned(ns, name) {
		li, err := k.Reader.LinkByName(ns, name)
		if err != nil {
			return err
		}
		if err := k.upChange(ns, li, true); err != nil {
			return err
		}
	}
	return k.in.SetUpByName(ns, name)
}

func (k *Kernel) SetMTU(ns *kernel.NS, index, mtu int) error {
	k.wantMTU(ns, index, mtu)
	if mtu < 1280 && !k.indexOwned(ns, index) {
		// Below 1280 the kernel takes IPv6 off the device: keep its
		// addresses too, to put back.
		li, err := k.linkName(ns, index)
		if err != nil {
			return err
		}
		if !k.linkOwned(ns, li.Name) {
			rec := k.devRecord("mtu", ns, li)
			rec.OldMTU = li.MTU
			rec.Addrs = k.ipv6Addrs(ns, index)
			if !k.declare(recKey(rec)) {
				if err := k.write(rec); err != nil {
					return err
				}
			}
			return k.in.SetMTU(ns, index, mtu)
		}
	}
	return k.attr(ns, index, "mtu", func(li *kernel.LinkInfo, rec *Record) { rec.OldMTU = li.MTU },
		func() error { return k.in.SetMTU(ns, index, mtu) })
}

// SetMAC journals a device's old MAC; for a device the lab made, the new
// MAC, by which undo and later runs will know it (an ident record; in a
// namespace the lab made it goes with the namespace).
func (k *Kernel) SetMAC(ns *kernel.NS, index int, mac net.HardwareAddr) error {
	li, err := k.linkName(ns, index)
	if err != nil {
		return err
	}
	if _, ok := k.createdLinks[linkKey{k.nsKey(ns), li.Name}]; ok {
		if li.MAC == mac.String() {
			k.declare("ident " + li.MAC)
			return nil
		}
		rec := Record{Op: "ident", NS: k.ref(ns), Name: li.Name, MAC: mac.String(), OldMAC: li.MAC, Within: k.within(ns, index),
			Neighs: staticNeighs(k.Reader, ns, index)} // (the kernel flushes them)
		if err := k.write(rec); err != nil {
			return err
		}
		return k.in.SetMAC(ns, index, mac)
	}
	return k.attr(ns, index, "mac", func(li *kernel.LinkInfo, rec *Record) {
		rec.OldMAC, rec.Neighs = li.MAC, staticNeighs(k.Reader, ns, index)
	}, func() error { return k.in.SetMAC(ns, index, mac) })
}

func (k *Kernel) SetMaster(ns *kernel.NS, index, master int) error {
	k.wantMaster(ns, index, master)
	// A bridge takes the lowest mac of its ports, and keeps it when the
	// port leaves (or gets all zeroes): keep a bridge's own to put it back.
	if master != 0 && !k.indexOwned(ns, master) {
		br, err := k.LinkByIndex(ns, master)
		if err != nil {
			return err
		}
		rec := k.devRecord("mac", ns, br)
		rec.OldMAC = br.MAC
		if !k.linkOwned(ns, br.Name) && !k.declare(recKey(rec)) {
			if err := k.write(rec); err != nil {
				return err
			}
		}
	}
	return k.attr(ns, index, "master", func(li *kernel.LinkInfo, rec *Record) {
		if li.MasterIndex == 0 {
			return
		}
		if m, err := k.Reader.LinkByIndex(ns, li.MasterIndex); err == nil {
			rec.OldMaster = m.Name
		}
	}, func() error { return k.in.SetMaster(ns, index, master) })
}

func (k *Kernel) SetName(ns *kernel.NS, index int, name string) error {
	li, err := k.linkName(ns, index)
	if err != nil {
		return err
	}
	// A rename to the name it has (a re-run's) changes nothing; the
	// renames that gave it that name are declared again. So is every
	// earlier rename of a device renamed anew: undone newest first, they
	// lead it back to its first name.
	k.declareRenames(li.MAC)
	if li.Name == name {
		return nil
	}
	// Renames are always journaled: undoing them lets later records (and
	// the device's own creation record) find the device by its name.
	rec := k.devRecord("rename", ns, li)
	rec.OldName, rec.Name = li.Name, name
	if err := k.write(rec); err != nil {
		return err
	}
	return k.in.SetName(ns, index, name)
}

// declareRenames declares the earlier runs' renames of the device with
// that MAC.
func (k *Kernel) declareRenames(mac string) {
	if mac == "" {
		return
	}
	for _, r := range k.earlier {
		if r.Op == "rename" && r.MAC == mac {
			k.declare(recKey(r))
		}
	}
}

// A move to where the device is already is no change: an earlier run's
// move of it there is declared again.
func (k *Kernel) Move(ns *kernel.NS, index int, target *kernel.NS) error {
	li, err := k.linkName(ns, index)
	if err != nil {
		return err
	}
	rec := k.devRecord("move", ns, li)
	rec.To = k.ref(target)
	k.wantMove(li.MAC, target)
	if k.nsKey(ns) == k.nsKey(target) {
		k.declare(recKey(rec))
		return nil
	}
	if !k.linkOwned(ns, li.Name) || k.earlierDev(ns, li) {
		// What the device loses on the way, to put back when it returns
		// (a device of another's; or of an earlier run's, for the
		// rollback of this one).
		rec.WasUp = new(li.Up)
		if rec.Addrs, err = k.Reader.Addrs(ns, index); err != nil {
			return err
		}
		if li.MasterIndex != 0 {
			if m, err := k.Reader.LinkByIndex(ns, li.MasterIndex); err == nil {
				rec.OldMaster = m.Name
			}
		}
		rec.Routes = k.devRoutes(ns, index)
	}
	if err := k.write(rec); err != nil {
		return err
	}
	return k.in.Move(ns, index, target)
}

// devRoutes lists the routes through a device that the kernel did not
// make itself (those come back with the device's addresses).
func (k *Kernel) devRoutes(ns *kernel.NS, index int) []Route {
	rs, err := k.Reader.Routes(ns, 0)
	if err != nil {
		return nil
	}
	var out []Route
	for _, r := range rs {
		if r.DevIndex == index && !r.Kernel {
			out = append(out, *k.routeRec(ns, r))
		}
	}
	return out
}

// DeleteLink: a device of the lab's that the script deletes is no longer
// declared (a veth() that met it may have declared it), so the end of the
// run prunes its record.
func (k *Kernel) DeleteLink(ns *kernel.NS, index int) error {
	if li, err := k.Reader.LinkByIndex(ns, index); err == nil {
		for _, o := range k.origins {
			if o.mac == li.MAC {
				if !k.thisKeys[o.key] {
					delete(k.declared, o.key)
				}
			}
		}
	}
	return k.in.DeleteLink(ns, index)
}
