package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"sort"
	"strings"

	"github.com/nsscript/nsscript/builtins/kernel"
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

// ItemRule is an iptables (or ip6tables) rule.
func ItemRule(ns string, c kernel.Chain, spec []string) string {
	if c.V6 {
		return fmt.Sprintf("rule %s ip6tables -t %s -A %s %s", ns, c.Table, c.Name, strings.Join(spec, " "))
	}
	return fmt.Sprintf("rule %s -t %s -A %s %s", ns, c.Table, c.Name, strings.Join(spec, " "))
}

// ItemChain is an iptables chain of the user's.
func ItemChain(ns string, c kernel.Chain) string {
	return fmt.Sprintf("chain %s %s", ns, c.Command("-N", 0, nil))
}

// ItemPolicyRule is a routing policy rule (not one of the kernel's own).
func ItemPolicyRule(ns string, pr kernel.PolicyRule) string {
	if pr.V6 {
		return fmt.Sprintf("ip rule %s -6 %s", ns, pr.Selector())
	}
	return fmt.Sprintf("ip rule %s %s", ns, pr.Selector())
}

// ItemSysctl is a sysctl's value.
func ItemSysctl(ns, key, value string) string { return fmt.Sprintf("sysctl %s %s=%s", ns, key, value) }

// ItemEtc is an /etc/netns file, told apart by its contents.
func ItemEtc(ns, file string, content []byte) string {
	sum := sha256.Sum256(content)
	return fmt.Sprintf("etc %s/%s (%d bytes, sha256 %s)", ns, file, len(content), hex.EncodeToString(sum[:4]))
}

// ItemShape is the shaping of a device, in tc's words (a live lab's
// forwarder and a plan's netem alike).
func ItemShape(ns, dev string, s *kernel.Shaping) string {
	return fmt.Sprintf("shape %s/%s %s", ns, dev, s)
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
			if !l.shape.Empty() {
				out = append(out, ItemShape(label, l.name, l.shape))
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
		for c, specs := range n.rules {
			if !c.Builtin() {
				out = append(out, ItemChain(label, c))
			}
			for _, spec := range specs {
				out = append(out, ItemRule(label, c, spec))
			}
		}
		for _, pr := range n.prules {
			out = append(out, ItemPolicyRule(label, pr))
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
