package journal

import (
	"fmt"
	"net"

	"github.com/nsscript/nsscript/builtins/kernel"
)

// Static neighbours: ip neigh replace ... nud permanent, ip neigh del.
//
// A "neigh" record is a static entry the lab made, on a device named as
// an address record names it (Name, Index, MAC); undo deletes it if the
// cache still holds it as the lab set it, and puts back the static entry
// it replaced (PrevNeigh), if any. A "neigh_del" record is a static
// entry of another's that the lab deleted (PrevNeigh), which undo puts
// back. Entries the kernel learnt (not PERMANENT) are no one's: they are
// replaced and deleted without a record, and learnt again.

// Neigh is a neighbour entry as the journal keeps it.
type Neigh struct {
	IP     string `json:"ip"`
	LLAddr string `json:"lladdr,omitempty"`
}

func (n *Neigh) check() error {
	if net.ParseIP(n.IP) == nil {
		return fmt.Errorf("neighbour %q is not an address", n.IP)
	}
	return optional(n.LLAddr, checkMAC)
}

func checkNeighs(ns []Neigh) error {
	for i := range ns {
		if err := ns[i].check(); err != nil {
			return err
		}
	}
	return nil
}

// staticNeighs are the static entries on a device, which the kernel
// flushes when it goes down or changes its MAC: what undo puts back.
func staticNeighs(k kernel.Reader, ns *kernel.NS, index int) []Neigh {
	ents, err := k.Neighbors(ns)
	if err != nil {
		return nil
	}
	var out []Neigh
	for _, e := range ents {
		if e.DevIndex == index && e.State == "PERMANENT" {
			out = append(out, Neigh{IP: e.IP.String(), LLAddr: e.MAC})
		}
	}
	return out
}

// putBackNeighs puts back static entries the kernel flushed from a
// device; one it refuses is a warning.
func (u *Undoer) putBackNeighs(ns *kernel.NS, li *kernel.LinkInfo, neighs []Neigh) {
	for _, n := range neighs {
		err := u.K.ReplaceNeigh(ns, kernel.NeighInfo{IP: net.ParseIP(n.IP), MAC: n.LLAddr, DevIndex: li.Index})
		if err != nil {
			u.warn("could not put back the static entry %s lladdr %s on %q: %v", n.IP, n.LLAddr, li.Name, err)
		}
	}
}

// staticNeigh is the static entry for n's address on its device, if any.
func staticNeigh(k kernel.Reader, ns *kernel.NS, index int, ip net.IP) *Neigh {
	ents, err := k.Neighbors(ns)
	if err != nil {
		return nil
	}
	for _, e := range ents {
		if e.DevIndex == index && e.IP.Equal(ip) && e.State == "PERMANENT" {
			return &Neigh{IP: e.IP.String(), LLAddr: e.MAC}
		}
	}
	return nil
}

// neighRecord is the record of a static entry on device n.DevIndex of
// ns: held by the lab's namespace or device (Within), or naming the
// device of another's it is on.
func (k *Kernel) neighRecord(ns *kernel.NS, n kernel.NeighInfo) (Record, error) {
	want := &Neigh{IP: n.IP.String(), LLAddr: n.MAC}
	if in := k.within(ns, n.DevIndex); in != "" {
		return Record{Op: "neigh", NS: k.ref(ns), Name: k.devName(ns, n.DevIndex), Index: n.DevIndex, Neigh: want, Within: in}, nil
	}
	li, err := k.linkName(ns, n.DevIndex)
	if err != nil {
		return Record{}, err
	}
	rec := k.devRecord("neigh", ns, li)
	rec.Neigh = want
	return rec, nil
}

// ReplaceNeigh journals a static entry, with the static entry it
// replaces. One the cache holds already as asked is the lab's only if
// an earlier run of it made it: else another (the user, another lab)
// may rely on it, and it is left to them.
func (k *Kernel) ReplaceNeigh(ns *kernel.NS, n kernel.NeighInfo) error {
	rec, err := k.neighRecord(ns, n)
	if err != nil {
		return err
	}
	prev := staticNeigh(k.Reader, ns, n.DevIndex, n.IP)
	key := recKey(rec)
	earlier := k.declare(key)
	if prev != nil && *prev == *rec.Neigh && (earlier || k.thisKeys[key] || rec.Within == "") {
		return k.in.ReplaceNeigh(ns, n) // as it is
	}
	rec.PrevNeigh = prev
	if err := k.write(rec); err != nil {
		return err
	}
	return k.in.ReplaceNeigh(ns, n)
}

// DeleteNeigh journals the deletion of a static entry: of another's, to
// put back; of an earlier run's, no longer declared (and put back by
// this run's rollback only).
func (k *Kernel) DeleteNeigh(ns *kernel.NS, n kernel.NeighInfo) error {
	del := func() error { return k.in.DeleteNeigh(ns, n) }
	rec, err := k.neighRecord(ns, n)
	if err != nil {
		return err
	}
	key := recKey(rec)
	rec.Op, rec.Neigh = "neigh_del", &Neigh{IP: n.IP.String()}
	prev := staticNeigh(k.Reader, ns, n.DevIndex, n.IP)
	if prev == nil {
		// None, or one the kernel learnt; or another's that an earlier
		// run deleted, which this one declares deleted still.
		k.declare(recKey(rec))
		return del()
	}
	rec.PrevNeigh = prev
	switch {
	case k.earlierKeys[key]:
		if !k.thisKeys[key] {
			delete(k.declared, key)
		}
		rec.Rollback = true
	case k.thisKeys[key] || rec.Within != "":
		return del() // this run's own, or inside what the lab made
	}
	if err := k.write(rec); err != nil {
		return err
	}
	return del()
}

// undoNeigh deletes a static entry the lab made, if the cache holds it
// as the lab set it, and puts back what the lab replaced or deleted.
func (u *Undoer) undoNeigh(r Record) error {
	ns, li, err := u.device(r.NS, r.Name, recordedID(r))
	if err != nil {
		return err
	}
	ip := net.ParseIP(r.Neigh.IP)
	cur := staticNeigh(u.K, ns, li.Index, ip)
	at := fmt.Sprintf("%s on %q in %s", r.Neigh.IP, li.Name, r.NS)
	putBack := func() error {
		if r.PrevNeigh == nil {
			return nil
		}
		return u.K.ReplaceNeigh(ns, kernel.NeighInfo{IP: ip, MAC: r.PrevNeigh.LLAddr, DevIndex: li.Index})
	}
	if r.Op == "neigh_del" {
		switch {
		case cur == nil:
			return putBack()
		case *cur == *r.PrevNeigh:
			return nil
		}
		return notOurs("the static entry for %s is lladdr %s now, not the %s the lab deleted: left as it is", at, cur.LLAddr, r.PrevNeigh.LLAddr)
	}
	switch {
	case cur == nil:
		return errGone // flushed (the device went down), or deleted since
	case cur.LLAddr != r.Neigh.LLAddr:
		return notOurs("the static entry for %s is lladdr %s now, not the lab's %s", at, cur.LLAddr, r.Neigh.LLAddr)
	case r.PrevNeigh != nil:
		return putBack()
	}
	return ignoreMissing(u.K.DeleteNeigh(ns, kernel.NeighInfo{IP: ip, DevIndex: li.Index}))
}

// liveNeighs are the lab's static entries as the kernel holds them
// now: every one in the lab's namespaces, and those it made elsewhere
// that are still as it set them; as (namespace, device, ip, lladdr).
func liveNeighs(k kernel.Reader, recs []Record, labNS []*kernel.NS) [][4]string {
	var out [][4]string
	inLab := map[uint64]bool{}
	devName := func(ns *kernel.NS, index int) string {
		if li, err := k.LinkByIndex(ns, index); err == nil {
			return li.Name
		}
		return fmt.Sprintf("if%d", index)
	}
	for _, ns := range labNS {
		inLab[ns.Inode] = true
		ents, err := k.Neighbors(ns)
		if err != nil {
			continue
		}
		for _, e := range ents {
			if e.State == "PERMANENT" {
				out = append(out, [4]string{ns.Label(), devName(ns, e.DevIndex), e.IP.String(), e.MAC})
			}
		}
	}
	for _, r := range recs {
		if r.Op != "neigh" || r.Neigh == nil {
			continue
		}
		ns, err := openNS(k, r.NS)
		if err != nil || inLab[ns.Inode] {
			continue
		}
		li, err := k.LinkByName(ns, r.Name)
		if err != nil || r.MAC != "" && li.MAC != r.MAC {
			continue
		}
		if cur := staticNeigh(k, ns, li.Index, net.ParseIP(r.Neigh.IP)); cur != nil && *cur == *r.Neigh {
			out = append(out, [4]string{ns.Label(), li.Name, cur.IP, cur.LLAddr})
		}
	}
	return out
}
