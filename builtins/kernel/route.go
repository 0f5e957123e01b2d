package kernel

import (
	"fmt"
	"net"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// MainTable is the kernel's main routing table.
const MainTable = unix.RT_TABLE_MAIN

// RouteInfo is one IPv4/IPv6 route.
type RouteInfo struct {
	Dst      *net.IPNet // nil: default
	Via      net.IP     // nil: directly connected
	DevIndex int
	Metric   int
	Table    int
	Scope    int // unix.RT_SCOPE_*
	Kernel   bool
}

// Routes lists the unicast routes of a table (0: main), like `ip route show table T`.
func (k *Linux) Routes(ns *NS, table int) ([]RouteInfo, error) {
	h, err := k.Handle(ns)
	if err != nil {
		return nil, err
	}
	if table == 0 {
		table = MainTable
	}
	filter := &netlink.Route{Table: table}
	rs, err := retry(func() ([]netlink.Route, error) {
		return h.RouteListFiltered(netlink.FAMILY_ALL, filter, netlink.RT_FILTER_TABLE)
	})
	if err != nil {
		return nil, fmt.Errorf("list routes in namespace %s: %w", ns, err)
	}
	var out []RouteInfo
	for _, r := range rs {
		if r.Type != unix.RTN_UNICAST {
			continue
		}
		if r.Dst != nil && r.Dst.IP.To4() == nil && r.Dst.IP.IsLinkLocalUnicast() {
			continue // fe80::/64 on every IPv6 device
		}
		dst := r.Dst
		if dst != nil {
			if ones, _ := dst.Mask.Size(); ones == 0 {
				dst = nil
			}
		}
		out = append(out, RouteInfo{
			Dst: dst, Via: r.Gw, DevIndex: r.LinkIndex, Metric: r.Priority,
			Table: r.Table, Scope: int(r.Scope), Kernel: r.Protocol == unix.RTPROT_KERNEL,
		})
	}
	return out, nil
}

// ReplaceRoute is: ip -n NS route replace DST [via GW] [dev DEV] [metric M] [table T]
func (k *Linux) ReplaceRoute(ns *NS, r RouteInfo) error {
	h, err := k.Handle(ns)
	if err != nil {
		return err
	}
	nr := &netlink.Route{Dst: r.Dst, Gw: r.Via, LinkIndex: r.DevIndex, Priority: r.Metric, Table: r.Table}
	if nr.Dst == nil {
		if r.Via != nil && r.Via.To4() == nil {
			nr.Dst = &net.IPNet{IP: net.IPv6zero, Mask: net.CIDRMask(0, 128)}
		} else {
			nr.Dst = &net.IPNet{IP: net.IPv4zero, Mask: net.CIDRMask(0, 32)}
		}
	}
	if r.Via == nil {
		nr.Scope = netlink.SCOPE_LINK
	}
	return h.RouteReplace(nr)
}

// DeleteRoute is: ip -n NS route del DST [via GW] [dev DEV] [metric M] [table T]
func (k *Linux) DeleteRoute(ns *NS, r RouteInfo) error {
	h, err := k.Handle(ns)
	if err != nil {
		return err
	}
	nr := &netlink.Route{Dst: r.Dst, Gw: r.Via, LinkIndex: r.DevIndex, Priority: r.Metric, Table: r.Table}
	if nr.Dst == nil {
		nr.Dst = &net.IPNet{IP: net.IPv4zero, Mask: net.CIDRMask(0, 32)}
	}
	return h.RouteDel(nr)
}

// NeighInfo is one ARP/NDP cache entry.
type NeighInfo struct {
	IP       net.IP
	MAC      string
	DevIndex int
	State    string
}

var neighStates = map[int]string{
	netlink.NUD_INCOMPLETE: "INCOMPLETE", netlink.NUD_REACHABLE: "REACHABLE",
	netlink.NUD_STALE: "STALE", netlink.NUD_DELAY: "DELAY", netlink.NUD_PROBE: "PROBE",
	netlink.NUD_FAILED: "FAILED", netlink.NUD_NOARP: "NOARP", netlink.NUD_PERMANENT: "PERMANENT",
}

// Neighbors lists the ARP and NDP caches, like `ip neigh`.
func (k *Linux) Neighbors(ns *NS) ([]NeighInfo, error) {
	h, err := k.Handle(ns)
	if err != nil {
		return nil, err
	}
	var out []NeighInfo
	for _, fam := range []int{netlink.FAMILY_V4, netlink.FAMILY_V6} {
		ns, err := retry(func() ([]netlink.Neigh, error) { return h.NeighList(0, fam) })
		if err != nil {
			return nil, err
		}
		for _, n := range ns {
			if n.IP.IsMulticast() || n.State == netlink.NUD_NOARP {
				continue
			}
			st := neighStates[n.State]
			if st == "" {
				st = fmt.Sprintf("0x%x", n.State)
			}
			out = append(out, NeighInfo{IP: n.IP, MAC: n.HardwareAddr.String(), DevIndex: n.LinkIndex, State: st})
		}
	}
	return out, nil
}

func neighFamily(ip net.IP) int {
	if ip.To4() != nil {
		return netlink.FAMILY_V4
	}
	return netlink.FAMILY_V6
}

// ReplaceNeigh makes n a static entry, replacing whatever entry the
// cache has for its address on its device. Equivalent to:
// ip -n NS neigh replace IP lladdr MAC dev DEV nud permanent
func (k *Linux) ReplaceNeigh(ns *NS, n NeighInfo) error {
	mac, err := net.ParseMAC(n.MAC)
	if err != nil {
		return err
	}
	h, err := k.Handle(ns)
	if err != nil {
		return err
	}
	return h.NeighSet(&netlink.Neigh{LinkIndex: n.DevIndex, Family: neighFamily(n.IP), State: netlink.NUD_PERMANENT, IP: n.IP, HardwareAddr: mac})
}

// DeleteNeigh removes the entry for n's address on its device, whatever
// its state. Equivalent to: ip -n NS neigh del IP dev DEV
func (k *Linux) DeleteNeigh(ns *NS, n NeighInfo) error {
	h, err := k.Handle(ns)
	if err != nil {
		return err
	}
	return h.NeighDel(&netlink.Neigh{LinkIndex: n.DevIndex, Family: neighFamily(n.IP), IP: n.IP})
}
