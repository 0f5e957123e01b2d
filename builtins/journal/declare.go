package journal

import (
	"fmt"
	"net"
	"slices"

	"github.com/nsscript/nsscript/builtins/kernel"
)

// What a run wants of the lab's devices. A run from nothing leaves each
// device as its creation call (veth, bridge, dummy) and the calls after
// it (set_master, set(mtu=), set_up, move) made it, and a re-run of an
// edited script must leave it the same. So the journal keeps, in each
// device's link record, what the run wanted of it in the end (Want); and
// when a run ends (Commit) it
//   - configures a device that an earlier run had moved away and this
//     run did not move, now that the prune has brought it back (during
//     the run it stayed where the earlier run left it: a re-run of a
//     script that moves it again finds it configured as the move left
//     it, and changes nothing), and
//   - undoes on each device what the earlier runs wanted of it and this
//     one no longer does: a bridge, an MTU, up.

// wanted is what this run wants of a device, by its MAC.
type wanted struct {
	w     kernel.Want
	ns    *NSRef // where the creation call asked for it
	name  string
	later bool // configured when the run ends
	moved bool // the run moved it: the move took what the call wanted
	// at, index: where the device is now, as this run knows it.
	at    *kernel.NS
	index int
}

// defaultMTU is what a new veth, dummy or tap gets.
const defaultMTU = 1500

// kernelMTU is the MTU the kernel gives a new device like li: 1500, or
// for a VLAN or macvlan its parent's, for a VXLAN its underlay device's
// less the 50 bytes of its headers (70 over IPv6); false for a bridge
// (it follows its ports) or when the parent is not known.
func (k *Kernel) kernelMTU(ns *kernel.NS, li *kernel.LinkInfo) (int, bool) {
	d := li.Device
	switch {
	case li.Kind == "bridge":
		return 0, false
	case d == nil || d.Kind == "tap" || d.Kind == "vxlan" && d.Link == 0:
		return defaultMTU, true
	case d.Link == 0:
		return 0, false
	}
	p, err := k.Reader.LinkByIndex(ns, d.Link)
	if err != nil {
		return 0, false
	}
	if d.Kind != "vxlan" {
		return p.MTU, true
	}
	if ip := append(d.Remote, d.Group...); ip != nil && ip.To4() == nil {
		return p.MTU - 70, true
	}
	return p.MTU - 50, true
}

// Declare notes what a creation call wants of a device the lab made (in
// this run, fresh, or in an earlier one) and says whether to configure
// it now (see builtins.Ownership).
func (k *Kernel) Declare(ns *kernel.NS, name string, at *kernel.NS, index int, fresh bool, w kernel.Want) (bool, error) {
	var mac string
	if o, ok := k.origins[linkKey{k.nsKey(ns), name}]; ok {
		mac = o.mac
	} else if m, ok := k.createdLinks[linkKey{k.nsKey(ns), name}]; ok {
		// Made elsewhere by an earlier run and moved here since: where
		// the call wants it. The device, and the moves that brought it
		// here, are declared.
		mac = m
		k.declare(k.linkRecKey(mac))
		for _, r := range k.earlier {
			if r.Op == "move" && r.MAC == mac {
				k.declare(recKey(r))
			}
		}
	} else {
		return true, nil // another's device, adopted: as it is
	}
	k.wants[mac] = &wanted{w: w, ns: k.ref(ns), name: name, at: at, index: index}
	k.wantIdx[idxKey{k.nsKey(at), index}] = mac
	if !fresh && k.nsKey(at) != k.nsKey(ns) {
		k.wants[mac].later = true
		return false, nil
	}
	return true, nil
}

// Elsewhere lists the devices this run found where an earlier run had
// moved them and did not move itself, as "NAME in NS (asked for in
// NS2)": until the run ends they are there, unconfigured. A run that
// fails using one of them (the script no longer moves it) tells the user.
func (k *Kernel) Elsewhere() []string {
	var out []string
	for _, d := range k.wants {
		if d.later && !d.moved && d.at != nil {
			out = append(out, fmt.Sprintf("%s in %s (asked for in %s)", d.name, d.at, d.ns))
		}
	}
	slices.Sort(out)
	return out
}

// wantOf is this run's want of the device index in ns, if it has one.
func (k *Kernel) wantOf(ns *kernel.NS, index int) *wanted {
	if len(k.wants) == 0 {
		return nil
	}
	return k.wants[k.wantIdx[idxKey{k.nsKey(ns), index}]]
}

// earlierWant is what the earlier runs wanted of the device with that
// MAC, if it is known.
func (k *Kernel) earlierWant(mac string) *kernel.Want {
	for _, r := range k.earlier {
		switch {
		case r.Op != "link":
		case r.MAC == mac:
			return r.Want
		case r.PeerMAC == mac:
			return r.PeerWant
		}
	}
	return nil
}

// wantMaster, wantMTU, wantUp and wantMove follow what the calls after
// the creation call do to a device: what the run wants of it in the end.
func (k *Kernel) wantMaster(ns *kernel.NS, index, master int) {
	if d := k.wantOf(ns, index); d != nil {
		d.w.Master = ""
		if master != 0 {
			d.w.Master = k.devName(ns, master)
		}
	}
}

func (k *Kernel) wantMTU(ns *kernel.NS, index, mtu int) {
	if d := k.wantOf(ns, index); d != nil {
		d.w.MTU = mtu
	}
}

func (k *Kernel) wantUp(ns *kernel.NS, index int, up bool) {
	if d := k.wantOf(ns, index); d != nil {
		d.w.Up = up
	}
}

// wantMove: a move takes the device down and out of its bridge (and its
// addresses); where it is now is looked up by name when the run ends.
func (k *Kernel) wantMove(mac string, to *kernel.NS) {
	if d := k.wants[mac]; d != nil {
		d.moved = true
		d.w.Up, d.w.Master, d.w.Addr = false, "", ""
		delete(k.wantIdx, idxKey{k.nsKey(d.at), d.index})
		d.at, d.index = to, 0
	}
}

// endWants is the end of a run for the devices: configure those that are
// back (later), then undo what earlier runs wanted and this one does not.
func (k *Kernel) endWants() []error {
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	for mac, d := range k.wants {
		ns, li := k.findWanted(mac, d)
		if li == nil {
			continue
		}
		if d.later && !d.moved {
			if d.w.MTU != 0 && li.MTU != d.w.MTU {
				add(k.SetMTU(ns, li.Index, d.w.MTU))
			}
			if d.w.Master != "" {
				if m, err := k.Reader.LinkByName(ns, d.w.Master); err == nil && li.MasterIndex != m.Index {
					add(k.SetMaster(ns, li.Index, m.Index))
				}
			}
			if ip, n, err := net.ParseCIDR(d.w.Addr); err == nil {
				n.IP = ip
				add(k.AddAddr(ns, li.Index, n))
			}
			if d.w.Up && !li.Up {
				add(k.SetUp(ns, li.Index, true))
			}
			if li, _ = k.Reader.LinkByIndex(ns, li.Index); li == nil {
				continue
			}
		}
		old := k.earlierWant(mac)
		if old == nil {
			continue
		}
		// What this undoes, the records of are for a rollback only: the
		// device is now as this run wants it, and stays so.
		k.rollbackOnly = true
		if old.Master != "" && d.w.Master == "" && li.MasterIndex != 0 {
			add(k.SetMaster(ns, li.Index, 0))
		}
		if mtu, ok := k.kernelMTU(ns, li); ok && old.MTU != 0 && d.w.MTU == 0 && li.MTU != mtu {
			add(k.SetMTU(ns, li.Index, mtu))
		}
		if old.Up && !d.w.Up && li.Up {
			add(k.SetUp(ns, li.Index, false))
		}
		k.rollbackOnly = false
	}
	return errs
}

// findWanted finds a device of the run's wants where it is now: where
// the call asked for it (after a prune brought it back), or where the
// run left it.
func (k *Kernel) findWanted(mac string, d *wanted) (*kernel.NS, *kernel.LinkInfo) {
	if ns, err := openNS(k.Reader, d.ns); err == nil {
		if li, err := k.Reader.LinkByName(ns, d.name); err == nil && li.MAC == mac {
			return ns, li
		}
	}
	if d.at != nil {
		if links, err := k.Reader.Links(d.at); err == nil {
			for _, li := range links {
				if li.MAC == mac {
					return d.at, li
				}
			}
		}
	}
	return nil, nil
}

// withWants gives the link records of recs what this run wanted of their
// devices in the end, and reports whether any changed.
func (k *Kernel) withWants(recs []Record) bool {
	changed := false
	set := func(p **kernel.Want, mac string) {
		d := k.wants[mac]
		if d == nil || *p != nil && **p == d.w {
			return
		}
		w := d.w
		*p, changed = &w, true
	}
	for i := range recs {
		if recs[i].Op == "link" {
			set(&recs[i].Want, recs[i].MAC)
			if recs[i].PeerMAC != "" {
				set(&recs[i].PeerWant, recs[i].PeerMAC)
			}
		}
	}
	return changed
}
