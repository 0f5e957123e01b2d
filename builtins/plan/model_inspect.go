package plan

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/nsscript/nsscript/builtins/kernel"
	"github.com/nsscript/nsscript/builtins/shell"
)

// What `why` reads, as far as the model knows it: the main table's
// longest match (no policy rules, no source check; forwarding as
// net.ipv4.ip_forward says), its iptables rules without counters,
// no nftables, no sockets (nothing runs in a plan), every port of a
// bridge forwarding.

// RouteGet is `ip route get DST`: the main table's longest match, or a
// local address.
func (r *Model) RouteGet(ns *kernel.NS, q kernel.RouteQuery) (kernel.RouteLookup, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n, err := r.nsOf(ns)
	if err != nil {
		return kernel.RouteLookup{}, err
	}
	for _, l := range n.links {
		for _, a := range l.addrs {
			if a.IP.Equal(q.Dst) {
				return kernel.RouteLookup{Type: "local", DevIndex: kernel.LoopbackIndex, PrefSrc: a.IP, Table: unix.RT_TABLE_LOCAL}, nil
			}
		}
	}
	if fwd, ok := n.sysctl["net.ipv4.ip_forward"]; q.Iif != 0 && q.Dst.To4() != nil && (!ok || fwd != "1") {
		return kernel.RouteLookup{}, unix.EHOSTUNREACH // a namespace that does not forward
	}
	var best *rroute
	bestLen := -1
	for _, rt := range n.routes {
		if rt.table != kernel.MainTable || rt.dev == nil || !rt.dev.up || (rt.family() == 4) != (q.Dst.To4() != nil) {
			continue
		}
		ones := 0
		if rt.dst != nil {
			if !rt.dst.Contains(q.Dst) {
				continue
			}
			ones, _ = rt.dst.Mask.Size()
		}
		if ones > bestLen || ones == bestLen && rt.metric < best.metric {
			best, bestLen = rt, ones
		}
	}
	if best == nil {
		return kernel.RouteLookup{}, unix.ENETUNREACH
	}
	out := kernel.RouteLookup{Type: "unicast", DevIndex: best.dev.index, Via: best.via, Table: best.table}
	for _, a := range best.dev.addrs {
		if (a.IP.To4() != nil) == (q.Dst.To4() != nil) {
			out.PrefSrc = a.IP
			break
		}
	}
	return out, nil
}

// PortState is "forwarding" for a bridge port (the model has no STP
// timers), "" for another device.
func (r *Model) PortState(ns *kernel.NS, index int) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, l, err := r.link(ns, index)
	if err != nil || l.master == nil {
		return "", err
	}
	return "forwarding", nil
}

// IptablesSave prints the model's rules of one family as iptables-save
// -c would, with zero counters (no packet goes through a plan).
func (r *Model) IptablesSave(ns *kernel.NS, v6 bool) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n, err := r.nsOf(ns)
	if err != nil {
		return "", err
	}
	tables := map[string][]string{}
	for c := range n.rules {
		if c.V6 == v6 {
			tables[c.Table] = append(tables[c.Table], c.Name)
		}
	}
	names := make([]string, 0, len(tables))
	for t := range tables {
		names = append(names, t)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, t := range names {
		fmt.Fprintf(&b, "*%s\n", t)
		chains := tables[t]
		sort.Strings(chains)
		for _, c := range chains {
			policy := "-"
			if (kernel.Chain{V6: v6, Table: t, Name: c}).Builtin() {
				policy = "ACCEPT"
			}
			fmt.Fprintf(&b, ":%s %s [0:0]\n", c, policy)
		}
		for _, c := range chains {
			for _, spec := range n.rules[kernel.Chain{V6: v6, Table: t, Name: c}] {
				fmt.Fprintf(&b, "[0:0] -A %s %s\n", c, shell.Join(spec))
			}
		}
		b.WriteString("COMMIT\n")
	}
	return b.String(), nil
}

// OpenBrief is OpenPath: the model holds nothing alive.
func (r *Model) OpenBrief(path string) (*kernel.NS, func(), error) {
	if filepath.Dir(path) == kernel.NetnsDir {
		ns, err := r.OpenNamed(filepath.Base(path))
		return ns, func() {}, err
	}
	ns, err := r.OpenPath(path)
	return ns, func() {}, err
}

// NeighTable: the model keeps no neighbour table.
func (r *Model) NeighTable(v6 bool) (kernel.NeighStats, error) { return kernel.NeighStats{}, errPlan }

// NftTables: the model has no nftables tables of its own.
func (r *Model) NftTables(ns *kernel.NS) ([]string, error) { return nil, nil }

// Sockets: nothing runs in a plan, so nothing listens.
func (r *Model) Sockets(ns *kernel.NS) ([]kernel.Socket, error) { return nil, nil }
