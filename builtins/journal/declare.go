package journal

import (
	"net"

	"github.com/nsscript/nsscript/builtins/kernel"
)

// What the creation calls of a run want of the lab's devices. A run from
// nothing leaves each device as the calls made it, and a re-run must
// leave it the same: so the journal keeps what each call wanted (the
// link record's Want), and a re-run
//   - undoes what an earlier run's call wanted and this one's does not
//     (a bridge, an MTU, up), and
//   - configures a device an earlier run moved away only when the run
//     ends, if the device is then back where the call makes it (this run
//     no longer moves it): a move would take all that from it, and a run
//     that moves it again finds it configured as the move left it.

// wanted is what a creation call of this run wants of a device.
type wanted struct {
	w     kernel.Want
	ns    *NSRef // where the call asked for it
	name  string
	later bool // configured when the run ends
	moved bool // the run moved it since: the move took what it wanted
}

// defaultMTU is what a new veth or dummy gets.
const defaultMTU = 1500

// Declare notes what a creation call wants of a device the lab made (in
// this run, or fresh) and says whether to configure it now.
func (k *Kernel) Declare(ns *kernel.NS, name string, at *kernel.NS, index int, fresh bool, w kernel.Want) (bool, error) {
	o, ours := k.origins[linkKey{k.nsKey(ns), name}]
	if !ours {
		return true, nil // another's device, adopted: as it is
	}
	d := &wanted{w: w, ns: k.ref(ns), name: name}
	k.wants[o.mac] = d
	if fresh {
		return true, nil
	}
	li, err := k.Reader.LinkByIndex(at, index)
	if err != nil || li.MAC != o.mac {
		return true, err // (not the device the lab made: as it is)
	}
	if k.nsKey(at) != k.nsKey(ns) {
		d.later = true
		return false, nil
	}
	old := k.earlierWant(li.MAC)
	if old == nil {
		return true, nil
	}
	// What this undoes, a rollback puts back; a run that succeeds drops
	// those records: the device is now as this call wants it.
	k.rollbackOnly = true
	defer func() { k.rollbackOnly = false }()
	if old.Master != "" && w.Master == "" && li.MasterIndex != 0 {
		if err := k.SetMaster(at, index, 0); err != nil {
			return false, err
		}
	}
	if old.MTU != 0 && w.MTU == 0 && li.MTU != defaultMTU && li.Kind != "bridge" {
		if err := k.SetMTU(at, index, defaultMTU); err != nil {
			return false, err
		}
	}
	if old.Up && !w.Up && li.Up {
		if err := k.SetUp(at, index, false); err != nil {
			return false, err
		}
	}
	return true, nil
}

// earlierWant is what the earlier run's call wanted of the device with
// that MAC, if it is known.
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

// moved notes that the run moved the device: what its creation call
// wanted, the move took.
func (k *Kernel) moved(mac string) {
	if d := k.wants[mac]; d != nil {
		d.moved = true
	}
}

// configureLater configures, as their calls wanted, the devices that an
// earlier run had moved away and this run did not move: by now (after
// the prune) they are back where the calls make them.
func (k *Kernel) configureLater() []error {
	var errs []error
	for mac, d := range k.wants {
		if !d.later || d.moved {
			continue
		}
		ns, err := openNS(k.Reader, d.ns)
		if err != nil {
			continue
		}
		li, err := k.LinkByName(ns, d.name)
		if err != nil || li.MAC != mac {
			continue // not back: it went elsewhere
		}
		if d.w.MTU != 0 && li.MTU != d.w.MTU {
			errs = append(errs, k.SetMTU(ns, li.Index, d.w.MTU))
		}
		if d.w.Master != "" {
			if m, err := k.Reader.LinkByName(ns, d.w.Master); err == nil && li.MasterIndex != m.Index {
				errs = append(errs, k.SetMaster(ns, li.Index, m.Index))
			}
		}
		if ip, n, err := net.ParseCIDR(d.w.Addr); err == nil {
			n.IP = ip
			errs = append(errs, k.AddAddr(ns, li.Index, n))
		}
		if d.w.Up && !li.Up {
			errs = append(errs, k.SetUp(ns, li.Index, true))
		}
	}
	var out []error
	for _, err := range errs {
		if err != nil {
			out = append(out, err)
		}
	}
	return out
}

// withWants gives the link records of recs what this run's calls wanted
// of their devices, and reports whether any changed.
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
