package journal

import (
	"net"
	"slices"

	"github.com/nsscript/nsscript/builtins/kernel"
)

// Addresses and routes: ip addr add/del, ip route replace.

// AddAddr journals an address: in a namespace the lab made, or on a
// device it made, as held by that (Within); on a device of another's,
// with the device's identity, unless the device has it already (then it
// is not the lab's to remove: another lab, or the user, may rely on it).
func (k *Kernel) AddAddr(ns *kernel.NS, index int, cidr *net.IPNet) error {
	add := func() error { return k.in.AddAddr(ns, index, cidr) }
	if in := k.within(ns, index); in != "" {
		rec := Record{Op: "addr", NS: k.ref(ns), Name: k.devName(ns, index), Index: index, Addr: cidr.String(), Within: in}
		if !k.declare(recKey(rec)) && !k.thisKeys[recKey(rec)] {
			if err := k.write(rec); err != nil {
				return err
			}
		}
		return add()
	}
	li, err := k.linkName(ns, index)
	if err != nil {
		return err
	}
	rec := k.devRecord("addr", ns, li)
	rec.Addr = cidr.String()
	if k.declare(recKey(rec)) {
		return add()
	}
	if have, err := k.Reader.Addrs(ns, index); err == nil && slices.Contains(have, cidr.String()) {
		return add()
	}
	if err := k.write(rec); err != nil {
		return err
	}
	return add()
}

// DelAddr journals an address deleted from a device of another's (a
// later undo puts it back); one the lab added goes without a trace.
func (k *Kernel) DelAddr(ns *kernel.NS, index int, cidr *net.IPNet) error {
	del := func() error { return k.in.DelAddr(ns, index, cidr) }
	if in := k.within(ns, index); in != "" {
		// The lab's address of an earlier run's: no longer declared (its
		// record is pruned, the address gone already), and journaled for
		// this run's rollback to add back.
		rec := Record{Op: "addr", NS: k.ref(ns), Name: k.devName(ns, index), Index: index, Addr: cidr.String(), Within: in}
		if key := recKey(rec); k.earlierKeys[key] {
			delete(k.declared, key)
			rec.Op, rec.Rollback = "addr_del", true
			if err := k.write(rec); err != nil {
				return err
			}
		}
		return del()
	}
	return k.attr(ns, index, "addr_del", func(_ *kernel.LinkInfo, rec *Record) { rec.Addr = cidr.String() }, del)
}

func (k *Kernel) routeRec(ns *kernel.NS, r kernel.RouteInfo) *Route {
	out := &Route{Metric: r.Metric, Table: r.Table}
	if out.Table == 0 {
		out.Table = kernel.MainTable
	}
	if r.Dst != nil {
		out.Dst = r.Dst.String()
	}
	if r.Via != nil {
		out.Via = r.Via.String()
	}
	if r.DevIndex != 0 {
		out.Dev = k.devName(ns, r.DevIndex)
	}
	return out
}

func (k *Kernel) ReplaceRoute(ns *kernel.NS, r kernel.RouteInfo) error {
	rec := Record{Op: "route", NS: k.ref(ns), Route: k.routeRec(ns, r), Within: k.within(ns, r.DevIndex)}
	// A route replace overwrites the route with the same destination,
	// table and metric (its "key"): keep it to put it back. In a
	// namespace this run made there is none.
	if !k.madeNS[k.nsKey(ns)] {
		if rs, err := k.Reader.Routes(ns, r.Table); err == nil {
			for _, old := range rs {
				if sameNet(old.Dst, r.Dst) && old.Metric == r.Metric {
					rec.Prev = k.routeRec(ns, old)
					break
				}
			}
		}
	}
	if rec.Prev != nil && *rec.Prev == *rec.Route && k.declare(recKey(rec)) {
		return k.in.ReplaceRoute(ns, r) // as an earlier run left it
	}
	if err := k.write(rec); err != nil {
		return err
	}
	return k.in.ReplaceRoute(ns, r)
}

func sameNet(a, b *net.IPNet) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.String() == b.String()
}
