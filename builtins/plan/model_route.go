package plan

import (
	"bytes"
	"fmt"
	"net"
	"sort"

	"golang.org/x/sys/unix"

	"github.com/nsscript/nsscript/builtins/kernel"
)

// Addrs lists a device's addresses.
func (r *Model) Addrs(ns *kernel.NS, index int) ([]string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, l, err := r.link(ns, index)
	if err != nil {
		return nil, err
	}
	var v4, v6 []string
	for _, a := range l.addrs {
		if a.IP.To4() != nil {
			v4 = append(v4, a.String())
		} else {
			v6 = append(v6, a.String())
		}
	}
	return append(v4, v6...), nil
}

// AddAddr is `ip addr add CIDR dev DEV`.
func (r *Model) AddAddr(ns *kernel.NS, index int, cidr *net.IPNet) error {
	if cidr.IP.To4() == nil && r.ipv6Off(ns, index) {
		return unix.EACCES // as the kernel's
	}
	return r.change(ns, index, func(n *rns, l *rlink) error {
		a := &net.IPNet{IP: cidr.IP, Mask: cidr.Mask}
		if hasAddr(l, a) {
			return nil
		}
		l.addrs = append(l.addrs, a)
		if l.up {
			n.connect(l, a)
		}
		return nil
	})
}

// ipv6Off reports whether the device index of ns has IPv6 off, which
// makes the kernel refuse it an IPv6 address or route.
func (r *Model) ipv6Off(ns *kernel.NS, index int) bool {
	li, err := r.LinkByIndex(ns, index)
	if err != nil {
		return false
	}
	v, err := r.ReadSysctl(ns, kernel.PortSysctl(li.Name))
	return err == nil && v == "1"
}

// DelAddr is `ip addr del CIDR dev DEV`.
func (r *Model) DelAddr(ns *kernel.NS, index int, cidr *net.IPNet) error {
	return r.change(ns, index, func(n *rns, l *rlink) error {
		var keep []*net.IPNet
		found := false
		for _, a := range l.addrs {
			if a.String() == cidr.String() {
				found = true
				continue
			}
			keep = append(keep, a)
		}
		if !found {
			return fmt.Errorf("%s: %w", cidr, unix.EADDRNOTAVAIL)
		}
		l.addrs = keep
		v4 := cidr.IP.To4() != nil
		left4 := false
		for _, a := range keep {
			left4 = left4 || a.IP.To4() != nil
		}
		dst := (&net.IPNet{IP: cidr.IP.Mask(cidr.Mask), Mask: cidr.Mask}).String()
		n.dropRoutes(func(rt *rroute) bool {
			if rt.dev != l {
				return false
			}
			if v4 && !left4 && (rt.dst == nil || rt.dst.IP.To4() != nil) && (rt.via == nil || rt.via.To4() != nil) {
				return true // the device's last IPv4 address: every IPv4 route through it goes
			}
			if !rt.kernel || rt.dst == nil || rt.dst.String() != dst {
				return false
			}
			for _, a := range keep {
				if (&net.IPNet{IP: a.IP.Mask(a.Mask), Mask: a.Mask}).String() == dst {
					return false
				}
			}
			return true
		})
		return nil
	})
}

func routeLess(a, b *rroute) bool {
	a4, b4 := a.family() == 4, b.family() == 4
	if a4 != b4 {
		return a4
	}
	if (a.dst == nil) != (b.dst == nil) {
		return a.dst == nil
	}
	if a.dst != nil {
		if c := bytes.Compare(a.dst.IP.To16(), b.dst.IP.To16()); c != 0 {
			return c < 0
		}
		ao, _ := a.dst.Mask.Size()
		bo, _ := b.dst.Mask.Size()
		if ao != bo {
			return ao < bo
		}
	}
	return a.metric < b.metric
}

func (rt *rroute) family() int {
	switch {
	case rt.dst != nil && rt.dst.IP.To4() == nil:
		return 6
	case rt.dst == nil && rt.via != nil && rt.via.To4() == nil:
		return 6
	}
	return 4
}

func (rt *rroute) info() kernel.RouteInfo {
	ri := kernel.RouteInfo{Dst: rt.dst, Via: rt.via, Metric: rt.metric, Table: rt.table, Scope: rt.scope, Kernel: rt.kernel}
	if rt.dev != nil {
		ri.DevIndex = rt.dev.index
	}
	return ri
}

// Routes lists a table's routes (0: main), in the kernel's order.
func (r *Model) Routes(ns *kernel.NS, table int) ([]kernel.RouteInfo, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n, err := r.nsOf(ns)
	if err != nil {
		return nil, err
	}
	if table == 0 {
		table = kernel.MainTable
	}
	var rs []*rroute
	for _, rt := range n.routes {
		if rt.table == table {
			rs = append(rs, rt)
		}
	}
	sort.SliceStable(rs, func(i, j int) bool { return routeLess(rs[i], rs[j]) })
	out := make([]kernel.RouteInfo, len(rs))
	for i, rt := range rs {
		out[i] = rt.info()
	}
	return out, nil
}

func sameDst(a, b *net.IPNet) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.String() == b.String()
}

// ReplaceRoute is `ip route replace ...`: a gateway must be on a connected
// route (of dev, when given), and dev must be up.
func (r *Model) ReplaceRoute(ns *kernel.NS, ri kernel.RouteInfo) error {
	if (ri.Dst != nil && ri.Dst.IP.To4() == nil || ri.Via != nil && ri.Via.To4() == nil) && ri.DevIndex != 0 && r.ipv6Off(ns, ri.DevIndex) {
		return unix.EACCES // as the kernel's
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	n, err := r.nsOf(ns)
	if err != nil {
		return err
	}
	table := ri.Table
	if table == 0 {
		table = kernel.MainTable
	}
	var dev *rlink
	if ri.DevIndex != 0 {
		if dev = n.byIndex(ri.DevIndex); dev == nil {
			return kernel.ErrNoLink
		}
		if !dev.up {
			return fmt.Errorf("%s: %w", dev.name, unix.ENETDOWN)
		}
	}
	if ri.Via != nil {
		var through *rlink
		best := -1
		for _, rt := range n.routes {
			if rt.via != nil || rt.dst == nil || !rt.dst.Contains(ri.Via) || (rt.table != kernel.MainTable && rt.table != table) {
				continue
			}
			if dev != nil && rt.dev != dev {
				continue
			}
			if ones, _ := rt.dst.Mask.Size(); ones > best {
				best, through = ones, rt.dev
			}
		}
		if through == nil {
			return fmt.Errorf("nexthop has invalid gateway %s: %w", ri.Via, unix.ENETUNREACH)
		}
		dev = through
	}
	nr := &rroute{dst: ri.Dst, via: ri.Via, dev: dev, metric: ri.Metric, table: table, scope: unix.RT_SCOPE_UNIVERSE}
	if ri.Via == nil {
		nr.scope = unix.RT_SCOPE_LINK
	}
	if nr.dst == nil && ri.Via == nil && dev != nil && len(dev.addrs) == 0 {
		nr.scope = unix.RT_SCOPE_LINK
	}
	replaced := false
	for i, rt := range n.routes {
		if rt.table == table && sameDst(rt.dst, nr.dst) && rt.metric == nr.metric && rt.family() == nr.family() {
			n.routes[i] = nr
			replaced = true
			break
		}
	}
	if !replaced {
		n.routes = append(n.routes, nr)
	}
	return nil
}

// DeleteRoute is `ip route del ...`.
func (r *Model) DeleteRoute(ns *kernel.NS, ri kernel.RouteInfo) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	n, err := r.nsOf(ns)
	if err != nil {
		return err
	}
	table := ri.Table
	if table == 0 {
		table = kernel.MainTable
	}
	for i, rt := range n.routes {
		if rt.table == table && sameDst(rt.dst, ri.Dst) && rt.metric == ri.Metric &&
			(ri.Via == nil || ri.Via.Equal(rt.via)) && (ri.DevIndex == 0 || (rt.dev != nil && rt.dev.index == ri.DevIndex)) {
			n.routes = append(n.routes[:i], n.routes[i+1:]...)
			return nil
		}
	}
	return fmt.Errorf("no such route: %w", unix.ESRCH)
}

// Neighbors are the static entries: a plan sends no packets, so
// nothing is learnt.
func (r *Model) Neighbors(ns *kernel.NS) ([]kernel.NeighInfo, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n, err := r.nsOf(ns)
	if err != nil {
		return nil, err
	}
	var out []kernel.NeighInfo
	for _, e := range n.neighs {
		out = append(out, kernel.NeighInfo{IP: e.ip, MAC: e.mac, DevIndex: e.dev.index, State: "PERMANENT"})
	}
	return out, nil
}

// ReplaceNeigh is `ip neigh replace IP lladdr MAC dev DEV nud permanent`.
func (r *Model) ReplaceNeigh(ns *kernel.NS, nb kernel.NeighInfo) error {
	return r.change(ns, nb.DevIndex, func(n *rns, l *rlink) error {
		if l.kind == "loopback" {
			return fmt.Errorf("neighbour on %s: %w", l.name, unix.EINVAL)
		}
		for _, e := range n.neighs {
			if e.dev == l && e.ip.Equal(nb.IP) {
				e.mac = nb.MAC
				return nil
			}
		}
		n.neighs = append(n.neighs, &rneigh{ip: nb.IP, mac: nb.MAC, dev: l})
		return nil
	})
}

// DeleteNeigh is `ip neigh del IP dev DEV`: ENOENT when there is none.
func (r *Model) DeleteNeigh(ns *kernel.NS, nb kernel.NeighInfo) error {
	return r.change(ns, nb.DevIndex, func(n *rns, l *rlink) error {
		for i, e := range n.neighs {
			if e.dev == l && e.ip.Equal(nb.IP) {
				n.neighs = append(n.neighs[:i:i], n.neighs[i+1:]...)
				return nil
			}
		}
		return unix.ENOENT
	})
}
