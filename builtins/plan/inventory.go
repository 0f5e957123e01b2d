package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"sort"
	"strings"
)

// An inventory lists what a lab holds, one object a line, named the way
// a user names them (namespace and device names, not indexes), so that
// what a plan would build and what a live lab holds can be compared
// (`nsscript plan --diff LAB FILE`). These functions make its lines; the
// plan's model and the journal (for a live lab) both use them.

// ItemNetns is a named namespace.
func ItemNetns(name string) string { return "namespace " + name }

// ItemLink is a device: its kind, what it is of its kind (a VXLAN's VNI
// and remote end, see kernel.Device.Summary), a veth's peer, a port's
// bridge.
func ItemLink(ns, name, kind, detail, peer, master string) string {
	s := fmt.Sprintf("link %s/%s %s", ns, name, kind)
	if detail != "" {
		s += " " + detail
	}
	if peer != "" {
		s += " peer " + peer
	}
	if master != "" {
		s += " master " + master
	}
	return s
}

// ItemAddr is an address of a device.
func ItemAddr(ns, dev, cidr string) string { return fmt.Sprintf("addr %s/%s %s", ns, dev, cidr) }

// ItemNeigh is a static neighbour entry.
func ItemNeigh(ns, dev, ip, mac string) string {
	return fmt.Sprintf("neigh %s %s lladdr %s dev %s", ns, ip, mac, dev)
}

// ItemRoute is a route (not one the kernel makes for an address).
func ItemRoute(ns string, dst *net.IPNet, via net.IP, dev string, metric, table int) string {
	d := "default"
	if dst != nil {
		if ones, _ := dst.Mask.Size(); ones > 0 {
			d = dst.String()
		}
	}
	s := fmt.Sprintf("route %s %s", ns, d)
	if via != nil {
		s += " via " + via.String()
	}
	if dev != "" {
		s += " dev " + dev
	}
	if metric != 0 {
		s += fmt.Sprintf(" metric %d", metric)
	}
	if table != 0 && table != 254 {
		s += fmt.Sprintf(" table %d", table)
	}
	return s
}

// ItemRule is an iptables rule.
func ItemRule(ns, table, chain string, spec []string) string {
	return fmt.Sprintf("rule %s -t %s -A %s %s", ns, table, chain, strings.Join(spec, " "))
}

// ItemSysctl is a sysctl's value.
func ItemSysctl(ns, key, value string) string { return fmt.Sprintf("sysctl %s %s=%s", ns, key, value) }

// ItemEtc is an /etc/netns file, told apart by its contents.
func ItemEtc(ns, file string, content []byte) string {
	sum := sha256.Sum256(content)
	return fmt.Sprintf("etc %s/%s (%d bytes, sha256 %s)", ns, file, len(content), hex.EncodeToString(sum[:4]))
}

// ItemProc is a background process.
func ItemProc(ns string, argv []string) string {
	return fmt.Sprintf("process %s: %s", ns, strings.Join(argv, " "))
}

// Inventory lists what the plan's model holds at the end of the script.
func (r *Model) Inventory() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, n := range r.all {
		if !n.alive || !n.named && !n.ns.Host {
			continue
		}
		label := n.ns.Label()
		if n.named {
			out = append(out, ItemNetns(label))
		}
		for _, l := range n.links {
			if l.kind == "loopback" {
				continue
			}
			peer, master := "", ""
			if l.peer != nil {
				peer = l.peer.ns.ns.Label() + "/" + l.peer.name
			}
			if l.master != nil {
				master = l.master.name
			}
			out = append(out, ItemLink(label, l.name, l.kind, l.summary(), peer, master))
			for _, a := range l.addrs {
				out = append(out, ItemAddr(label, l.name, a.String()))
			}
		}
		for _, rt := range n.routes {
			if rt.kernel {
				continue
			}
			dev := ""
			if rt.dev != nil {
				dev = rt.dev.name
			}
			out = append(out, ItemRoute(label, rt.dst, rt.via, dev, rt.metric, rt.table))
		}
		for _, e := range n.neighs {
			out = append(out, ItemNeigh(label, e.dev.name, e.ip.String(), e.mac))
		}
		for key, specs := range n.rules {
			table, chain, _ := strings.Cut(key, " ")
			for _, spec := range specs {
				out = append(out, ItemRule(label, table, chain, spec))
			}
		}
		for key, v := range n.sysctl {
			if _, fwd := n.sysctl["net.ipv4.ip_forward"]; fwd && key == "net.ipv4.conf.all.forwarding" {
				continue // (the model's alias of ip_forward)
			}
			out = append(out, ItemSysctl(label, key, v))
		}
	}
	for p, content := range r.etc {
		rest := strings.TrimPrefix(p, "/etc/netns/")
		if ns, file, ok := strings.Cut(rest, "/"); ok {
			out = append(out, ItemEtc(ns, file, content))
		}
	}
	for _, p := range r.procs {
		if p.alive && p.started {
			out = append(out, ItemProc(p.ns.ns.Label(), p.argv))
		}
	}
	sort.Strings(out)
	return out
}

// summary is what a vxlan, tap, vlan or macvlan is of its kind (see
// kernel.Device.Summary), naming the device it sits on when that is in
// its namespace; "" for other kinds.
func (l *rlink) summary() string {
	if l.dev == nil {
		return ""
	}
	lower := ""
	if l.lower != nil && l.lower.ns == l.ns {
		lower = l.lower.name
	}
	return l.dev.Summary(lower)
}
