// Package graph draws a topology: the namespaces a script builds or a lab
// holds, their devices and the veth pairs between them, as text, Graphviz,
// Mermaid or SVG (`nsscript graph`). It reads what it draws through
// Source, which both the real kernel and the plan's model of it provide,
// so it depends on neither the builtins nor the plan.
package graph

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/nsscript/nsscript/builtins/kernel"
)

// Graph is a topology: namespaces with their devices, the veth pairs
// between them, and the VXLAN tunnels. `nsscript graph` draws it; --json
// prints it.
type Graph struct {
	Title      string   `json:"title,omitempty"`
	Namespaces []*Box   `json:"namespaces"`
	Links      []Pair   `json:"links"`
	Tunnels    []Tunnel `json:"tunnels,omitempty"`
}

// Box is a namespace.
type Box struct {
	ID         string   `json:"id"` // "host", a name, a label such as "pid N", or a path
	Host       bool     `json:"host,omitempty"`
	LoUp       bool     `json:"lo_up"`
	Forwarding bool     `json:"forwarding"`
	NAT        []string `json:"nat,omitempty"`      // nat rules, as iptables -S shows them ("[ipv6] " before ip6tables')
	Firewall   []string `json:"firewall,omitempty"` // filter rules
	Routes     []string `json:"routes,omitempty"`   // routes other than the connected ones
	// Policy are the routing policy rules but the kernel's own (as ip
	// rule writes them after "add"); Routes then has the routes of the
	// tables they look up, each with its "table N".
	Policy  []string `json:"policy,omitempty"`
	Devices []*Dev   `json:"devices"` // lo aside; a bridge's ports follow it
}

// Dev is a network device.
type Dev struct {
	Name   string   `json:"name"`
	Kind   string   `json:"kind"`
	Up     bool     `json:"up"`
	Addrs  []string `json:"addrs,omitempty"`
	Master string   `json:"master,omitempty"`
	Peer   *End     `json:"peer,omitempty"` // a veth's other end
	// Shape is what nsscript shapes its egress with, as tc says it
	// ("rate 10mbit delay 20ms"), and by what ("tbf+netem").
	Shape string `json:"shape,omitempty"`
	// Detail is what a vxlan, vlan or macvlan is of its kind ("vni 42
	// remote 192.0.2.2 dev eth0 dstport 4789"); Lower the device of its
	// namespace it sits on (a VXLAN's underlay, a VLAN's parent).
	Detail string `json:"detail,omitempty"`
	Lower  string `json:"lower,omitempty"`

	dev *kernel.Device // a vxlan's settings, to find its tunnels
}

// Tunnel is a VXLAN tunnel between two drawn namespaces: VXLAN devices of
// one VNI and port, each the other's remote end, or in one multicast
// group.
type Tunnel struct {
	A   End `json:"a"`
	B   End `json:"b"`
	VNI int `json:"vni"`
}

// End is a device in a namespace.
type End struct {
	NS  string `json:"ns"`
	Dev string `json:"dev"`
}

func (e End) String() string { return e.NS + "/" + e.Dev }

// Pair is a veth pair.
type Pair struct {
	A End `json:"a"`
	B End `json:"b"`
}

// Source is what Build reads a topology from: the live kernel
// (*kernel.Linux) for a lab, the plan's model of it for a script.
type Source interface {
	Links(ns *kernel.NS) ([]*kernel.LinkInfo, error)
	LinkByIndex(ns *kernel.NS, index int) (*kernel.LinkInfo, error)
	Addrs(ns *kernel.NS, index int) ([]string, error)
	Routes(ns *kernel.NS, table int) ([]kernel.RouteInfo, error)
	NetnsID(ns, other *kernel.NS) (int, error)
	ReadSysctl(ns *kernel.NS, key string) (string, error)
	ListRules(ns *kernel.NS, c kernel.Chain) ([]string, error)
	PolicyRules(ns *kernel.NS, v6 bool) ([]kernel.PolicyRule, error)
}

// shaper is a Source that also reads link shaping (the real kernel and
// the plan's model do).
type shaper interface {
	Shaping(ns *kernel.NS, index int) (*kernel.Shaping, error)
}

// procNet is the path of a process's (or thread's) namespace.
var procNet = regexp.MustCompile(`^/proc/(\d+)(?:/task/\d+)?/ns/net$`)

// boxLabel is what label says of ns or, when it says nothing, "host", the
// name, "pid N" for /proc/N/ns/net, or the path.
func boxLabel(label func(*kernel.NS) string, ns *kernel.NS) string {
	if label != nil {
		if s := label(ns); s != "" {
			return s
		}
	}
	if m := procNet.FindStringSubmatch(ns.Path); m != nil && !ns.Host && ns.Name == "" {
		if pid, err := strconv.Atoi(m[1]); err == nil {
			return "pid " + strconv.Itoa(pid)
		}
	}
	return ns.Label()
}

// Unknown is the namespace a veth's peer is in when it is none of those
// drawn.
const Unknown = "?"

// Build reads the topology of the namespaces nss (the host first) from
// src. label names a box (the plan names a process's namespace after the
// $pidN of its script); it may be nil, and "" from it means the default.
func Build(src Source, nss []*kernel.NS, label func(*kernel.NS) string) (*Graph, error) {
	g := &Graph{Namespaces: []*Box{}, Links: []Pair{}}
	sorted := append([]*kernel.NS(nil), nss...)
	sort.SliceStable(sorted, func(i, j int) bool { return nsOrder(sorted[i]) < nsOrder(sorted[j]) })
	labels := map[uint64]string{}
	for _, ns := range sorted {
		labels[ns.Inode] = boxLabel(label, ns)
	}
	for _, ns := range sorted {
		b, err := box(src, ns, sorted, labels)
		if err != nil {
			return nil, fmt.Errorf("namespace %s: %w", labels[ns.Inode], err)
		}
		g.Namespaces = append(g.Namespaces, b)
	}
	seen := map[string]bool{}
	for _, b := range g.Namespaces {
		for _, d := range b.Devices {
			if d.Peer == nil {
				continue
			}
			a := End{b.ID, d.Name}
			if seen[d.Peer.String()+"\x00"+a.String()] {
				continue
			}
			seen[a.String()+"\x00"+d.Peer.String()] = true
			g.Links = append(g.Links, Pair{a, *d.Peer})
		}
	}
	g.Tunnels = tunnels(g.Namespaces)
	return g, nil
}

// tunnels pairs the VXLAN devices of the boxes: one whose remote end is
// an address of another box, with that box's VXLAN of the same VNI and
// port; those of one multicast group, VNI and port, each with each.
func tunnels(boxes []*Box) []Tunnel {
	type vx struct {
		end End
		d   *kernel.Device
		box *Box
	}
	var all []vx
	at := map[string]*Box{} // an address (without its length) -> its box
	for _, b := range boxes {
		for _, d := range b.Devices {
			for _, a := range d.Addrs {
				ip, _, _ := strings.Cut(a, "/")
				at[ip] = b
			}
			if d.dev != nil && d.dev.Kind == "vxlan" {
				all = append(all, vx{End{b.ID, d.Name}, d.dev, b})
			}
		}
	}
	var out []Tunnel
	for i, a := range all {
		for _, z := range all[i+1:] {
			if a.box == z.box || a.d.VNI != z.d.VNI || a.d.Port != z.d.Port {
				continue
			}
			group := a.d.Group != nil && a.d.Group.Equal(z.d.Group)
			facing := a.d.Remote != nil && z.d.Remote != nil && at[a.d.Remote.String()] == z.box && at[z.d.Remote.String()] == a.box
			if group || facing {
				out = append(out, Tunnel{a.end, z.end, a.d.VNI})
			}
		}
	}
	return out
}

func nsOrder(ns *kernel.NS) string {
	switch {
	case ns.Host:
		return "0"
	case ns.Name != "":
		return "1" + ns.Name
	}
	return "2" + ns.Path
}

func box(k Source, ns *kernel.NS, all []*kernel.NS, label map[uint64]string) (*Box, error) {
	b := &Box{ID: label[ns.Inode], Host: ns.Host, Devices: []*Dev{}}
	if v, err := k.ReadSysctl(ns, "net.ipv4.ip_forward"); err == nil {
		b.Forwarding = v == "1"
	}
	links, err := k.Links(ns)
	if err != nil {
		return nil, err
	}
	byIndex := map[int]*kernel.LinkInfo{}
	for _, l := range links {
		byIndex[l.Index] = l
	}
	devs := map[string]*Dev{}
	var names []string
	for _, l := range links {
		if l.Kind == "loopback" {
			b.LoUp = l.Up
			continue
		}
		d := &Dev{Name: l.Name, Kind: l.Kind, Up: l.Up}
		d.Addrs, _ = k.Addrs(ns, l.Index)
		if l.Device != nil {
			if lower := byIndex[l.Device.Link]; l.Device.Link != 0 && lower != nil {
				d.Lower = lower.Name
			}
			d.Detail, d.dev = l.Device.Summary(d.Lower), l.Device
		}
		if m := byIndex[l.MasterIndex]; l.MasterIndex != 0 && m != nil {
			d.Master = m.Name
		}
		if l.Kind == "veth" && l.PeerIndex != 0 {
			d.Peer = peerEnd(k, ns, l, all, label)
		}
		if sk, ok := k.(shaper); ok {
			if sh, err := sk.Shaping(ns, l.Index); err == nil && !sh.Empty() {
				d.Shape = sh.String() + " (" + sh.Mechanism() + ")"
			}
		}
		devs[l.Name] = d
		names = append(names, l.Name)
	}
	sort.Strings(names)
	// Devices by name, each bridge followed by its ports.
	for _, n := range names {
		d := devs[n]
		if d.Master != "" && devs[d.Master] != nil {
			continue
		}
		b.Devices = append(b.Devices, d)
		if d.Kind == "bridge" {
			for _, p := range names {
				if devs[p].Master == d.Name {
					b.Devices = append(b.Devices, devs[p])
				}
			}
		}
	}
	tables := []int{kernel.MainTable}
	for _, v6 := range []bool{false, true} {
		prs, _ := k.PolicyRules(ns, v6)
		for _, pr := range prs {
			if pr.Builtin() {
				continue
			}
			line := pr.Selector()
			if v6 {
				line = "-6 " + line
			}
			b.Policy = append(b.Policy, line)
			if pr.Table > 0 && pr.Table != unix.RT_TABLE_LOCAL && pr.Table != unix.RT_TABLE_DEFAULT && !slices.Contains(tables, pr.Table) {
				tables = append(tables, pr.Table)
			}
		}
	}
	for _, t := range tables {
		rs, err := k.Routes(ns, t)
		if err != nil {
			continue
		}
		for _, r := range rs {
			if r.Kernel {
				continue
			}
			dev := ""
			if l := byIndex[r.DevIndex]; l != nil {
				dev = l.Name
			}
			line := routeLine(r, dev)
			if t != kernel.MainTable {
				line += " table " + kernel.TableName(t)
			}
			b.Routes = append(b.Routes, line)
		}
	}
	b.NAT = append(rules(k, ns, kernel.Chain{Table: "nat"}, "PREROUTING", "POSTROUTING", "OUTPUT"),
		rules(k, ns, kernel.Chain{V6: true, Table: "nat"}, "PREROUTING", "POSTROUTING", "OUTPUT")...)
	b.Firewall = append(rules(k, ns, kernel.Chain{Table: "filter"}, "INPUT", "FORWARD", "OUTPUT"),
		rules(k, ns, kernel.Chain{V6: true, Table: "filter"}, "INPUT", "FORWARD", "OUTPUT")...)
	return b, nil
}

// routeLine is a route as a box lists it: DST [via VIA] [dev DEV]
// [metric M], with "default" for no destination. The table is not shown.
func routeLine(r kernel.RouteInfo, dev string) string {
	line := "default"
	if r.Dst != nil {
		line = r.Dst.String()
	}
	if r.Via != nil {
		line += " via " + r.Via.String()
	}
	if dev != "" {
		line += " dev " + dev
	}
	if r.Metric != 0 {
		line += fmt.Sprintf(" metric %d", r.Metric)
	}
	return line
}

// rules are the rules of the chains of table t (of iptables, or of
// ip6tables, marked "[ipv6] ").
func rules(k Source, ns *kernel.NS, t kernel.Chain, chains ...string) []string {
	var out []string
	for _, c := range chains {
		t.Name = c
		rs, err := k.ListRules(ns, t)
		if err != nil {
			continue
		}
		for _, r := range rs {
			if !strings.HasPrefix(r, "-A ") {
				continue
			}
			r = strings.TrimPrefix(r, "-A ")
			// nsscript's ownership mark says nothing about the topology.
			if i := strings.Index(r, " -m comment --comment "); i >= 0 {
				rest := r[i+len(" -m comment --comment "):]
				word, after, _ := strings.Cut(rest, " ")
				if strings.HasPrefix(strings.Trim(word, `"`), "nsscript:") {
					r = strings.TrimSpace(r[:i] + " " + after)
				}
			}
			if t.V6 {
				r = "[ipv6] " + r
			}
			out = append(out, r)
		}
	}
	return out
}

func peerEnd(k Source, ns *kernel.NS, l *kernel.LinkInfo, all []*kernel.NS, label map[uint64]string) *End {
	if l.PeerNetnsID < 0 {
		if p, err := k.LinkByIndex(ns, l.PeerIndex); err == nil {
			return &End{label[ns.Inode], p.Name}
		}
		return &End{Unknown, Unknown}
	}
	for _, c := range all {
		if c.Inode == ns.Inode {
			continue
		}
		id, err := k.NetnsID(ns, c)
		if err != nil || id != l.PeerNetnsID {
			continue
		}
		if p, err := k.LinkByIndex(c, l.PeerIndex); err == nil {
			return &End{label[c.Inode], p.Name}
		}
	}
	return &End{Unknown, Unknown}
}

// Formats are what Draw draws.
var Formats = []string{"text", "dot", "mermaid", "svg"}

// ErrFormat is an unknown format.
var ErrFormat = errors.New("unknown format")

// Draw renders the graph in a format: text (boxes drawn with characters),
// dot (Graphviz), mermaid, or svg (Graphviz when `dot` is installed,
// else drawn natively).
func (g *Graph) Draw(format string) (string, error) {
	switch format {
	case "", "text":
		return g.Text(), nil
	case "dot":
		return g.Dot(), nil
	case "mermaid":
		return g.Mermaid(), nil
	case "svg":
		return g.SVG(), nil
	}
	return "", fmt.Errorf("%w %q: use one of %s", ErrFormat, format, strings.Join(Formats, ", "))
}

// marks are what the title of a namespace's box says of it.
func (b *Box) marks() []string {
	var m []string
	if b.Forwarding {
		m = append(m, "forwarding")
	}
	masq, dnat := false, false
	for _, r := range b.NAT {
		masq = masq || strings.Contains(r, "MASQUERADE") || strings.Contains(r, "SNAT")
		dnat = dnat || strings.Contains(r, "DNAT")
	}
	if masq {
		m = append(m, "NAT")
	}
	if dnat {
		m = append(m, "DNAT")
	}
	if len(b.Firewall) > 0 {
		m = append(m, "firewall")
	}
	if !b.LoUp {
		m = append(m, "lo down")
	}
	return m
}

// Title is a box's heading: its name and marks.
func (b *Box) Title() string {
	m := b.marks()
	if len(m) == 0 {
		return b.ID
	}
	return b.ID + " (" + strings.Join(m, ", ") + ")"
}

func (t Tunnel) label() string { return "vxlan " + strconv.Itoa(t.VNI) }

func (d *Dev) state() string {
	if d.Up {
		return "up"
	}
	return "DOWN"
}
