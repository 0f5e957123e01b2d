package why

import (
	"fmt"
	"net"
	"path/filepath"
	"strings"

	"github.com/nsscript/nsscript/builtins/kernel"
)

// What the walk knows of the namespaces: each read once, when first
// needed, and kept for the rest of the walk.

// view is one namespace as the walk reads it.
type view struct {
	ns    *kernel.NS
	label string
	host  bool // the namespace the report calls host

	links   []*kernel.LinkInfo // nil until read
	linkErr error
	addrs   map[int][]*net.IPNet
	sysctls map[string]string
	fws     map[bool]firewall // by v6
	fwErr   map[bool]error
	socks   []kernel.Socket
	sockErr error
	sockRd  bool
	nft     []string
	nftRd   bool
}

// world is the namespaces the walk may meet.
type world struct {
	k       kernel.Reader
	views   []*view
	byInode map[uint64]*view
	scanned bool       // processes looked at for namespaces without a name
	release []func()   // lets go of the namespaces the walk opened
	host    *kernel.NS // a sandbox's host namespace, or nil
}

// close lets go of what the walk opened.
func (w *world) close() {
	for _, r := range w.release {
		r()
	}
}

// newWorld starts from nss (the host's first) and, unless the host is
// a sandbox's (host), every namespace named in /run/netns, opened for the
// walk only.
func newWorld(k kernel.Reader, nss []*kernel.NS, host *kernel.NS) *world {
	w := &world{k: k, byInode: map[uint64]*view{}, host: host}
	for _, ns := range nss {
		w.add(ns)
	}
	if host != nil {
		return w
	}
	if names, err := k.ListNamed(); err == nil {
		for _, name := range names {
			if ns, release, err := k.OpenBrief(filepath.Join(kernel.NetnsDir, name)); err == nil {
				w.release = append(w.release, release)
				w.add(ns)
			}
		}
	}
	return w
}

func (w *world) add(ns *kernel.NS) *view {
	if v := w.byInode[ns.Inode]; v != nil {
		return v
	}
	v := &view{ns: ns, label: ns.Label(), host: ns.Host, addrs: map[int][]*net.IPNet{}, sysctls: map[string]string{},
		fws: map[bool]firewall{}, fwErr: map[bool]error{}}
	if w.host != nil {
		// A lab in a sandbox: its host is the sandbox's; the machine's
		// own namespace is no part of it.
		v.host = ns == w.host
		switch {
		case v.host:
			v.label = "host"
		case ns.Host:
			v.label = "the machine's namespace"
		}
	}
	w.views = append(w.views, v)
	w.byInode[ns.Inode] = v
	return v
}

// allLinks reads the namespace's devices once.
func (w *world) allLinks(v *view) []*kernel.LinkInfo {
	if v.links == nil && v.linkErr == nil {
		v.links, v.linkErr = w.k.Links(v.ns)
		if v.links == nil {
			v.links = []*kernel.LinkInfo{}
		}
	}
	return v.links
}

func (w *world) link(v *view, index int) *kernel.LinkInfo {
	for _, l := range w.allLinks(v) {
		if l.Index == index {
			return l
		}
	}
	return nil
}

func (w *world) linkNamed(v *view, name string) *kernel.LinkInfo {
	for _, l := range w.allLinks(v) {
		if l.Name == name {
			return l
		}
	}
	return nil
}

// addrsOf is a device's addresses.
func (w *world) addrsOf(v *view, index int) []*net.IPNet {
	if a, ok := v.addrs[index]; ok {
		return a
	}
	var out []*net.IPNet
	if ss, err := w.k.Addrs(v.ns, index); err == nil {
		for _, s := range ss {
			if ip, n, err := net.ParseCIDR(s); err == nil {
				n.IP = ip
				out = append(out, n)
			}
		}
	}
	v.addrs[index] = out
	return out
}

// owner is the device of v that has ip, or nil.
func (w *world) owner(v *view, ip net.IP) *kernel.LinkInfo {
	for _, l := range w.allLinks(v) {
		for _, a := range w.addrsOf(v, l.Index) {
			if a.IP.Equal(ip) {
				return l
			}
		}
	}
	return nil
}

func (w *world) isLocal(v *view) func(net.IP) bool {
	return func(ip net.IP) bool { return w.owner(v, ip) != nil }
}

// sysctl reads a key once; "" when the namespace has none of that name.
func (w *world) sysctl(v *view, key string) string {
	if s, ok := v.sysctls[key]; ok {
		return s
	}
	s, err := w.k.ReadSysctl(v.ns, key)
	if err != nil {
		s = ""
	}
	v.sysctls[key] = s
	return s
}

// firewall reads the namespace's iptables (ip6tables) once; nil and the
// reason when it cannot.
func (w *world) firewall(v *view, v6 bool) (firewall, error) {
	if fw, ok := v.fws[v6]; ok {
		return fw, v.fwErr[v6]
	}
	text, err := w.k.IptablesSave(v.ns, v6)
	var fw firewall
	if err == nil {
		fw = parseSave(text)
	}
	v.fws[v6], v.fwErr[v6] = fw, err
	return fw, err
}

// sockets reads the listening sockets once.
func (w *world) sockets(v *view) ([]kernel.Socket, error) {
	if !v.sockRd {
		v.socks, v.sockErr = w.k.Sockets(v.ns)
		v.sockRd = true
	}
	return v.socks, v.sockErr
}

// foreignTables are the namespace's nftables tables that iptables did not
// make: a firewall the walk does not evaluate.
func (w *world) foreignTables(v *view) []string {
	if !v.nftRd {
		v.nftRd = true
		tables, _ := w.k.NftTables(v.ns)
		for _, t := range tables {
			fam, name, _ := strings.Cut(t, " ")
			switch {
			case (fam == "ip" || fam == "ip6") && (name == "filter" || name == "nat" || name == "mangle" || name == "raw" || name == "security"):
			case fam == "bridge" && (name == "filter" || name == "nat" || name == "broute"):
			case fam == "arp" && name == "filter":
			default:
				v.nft = append(v.nft, t)
			}
		}
	}
	return v.nft
}

// peer is a veth's other end and its namespace; nil when it is in a
// namespace the walk cannot open.
func (w *world) peer(v *view, l *kernel.LinkInfo) (*view, *kernel.LinkInfo) {
	if l.Kind != "veth" || l.PeerIndex == 0 {
		return nil, nil
	}
	if l.PeerNetnsID < 0 {
		return v, w.link(v, l.PeerIndex)
	}
	find := func() (*view, *kernel.LinkInfo) {
		for _, c := range w.views {
			if c == v {
				continue
			}
			if id, err := w.k.NetnsID(v.ns, c.ns); err == nil && id == l.PeerNetnsID {
				return c, w.link(c, l.PeerIndex)
			}
		}
		return nil, nil
	}
	if c, p := find(); c != nil {
		return c, p
	}
	if w.scan() {
		return find()
	}
	return nil, nil
}

// scan adds the namespaces of the machine's processes (a container's,
// which has no name) once; false when it found none new.
func (w *world) scan() bool {
	if w.scanned {
		return false
	}
	w.scanned = true
	all, err := w.k.PidsByNetns()
	if err != nil {
		return false
	}
	added := false
	for ino, pids := range all {
		if w.byInode[ino] != nil || len(pids) == 0 {
			continue
		}
		if ns, release, err := w.k.OpenBrief(fmt.Sprintf("/proc/%d/ns/net", pids[0])); err == nil {
			w.release = append(w.release, release)
			w.add(ns)
			added = true
		}
	}
	return added
}

// node is a device the frames of one link reach, and how.
type node struct {
	v    *view
	l    *kernel.LinkInfo
	prev *node
	// how: "start"; "lower" (a VLAN's or macvlan's parent, which sends
	// its frames); "wire" (a veth's other end); "bridge" (into a bridge);
	// "port" (out of one); "upper" (a VLAN or macvlan that receives them).
	how string
	vid int // the 802.1Q tag the frames carry here; 0: none
}

// upper reports whether a device is a VLAN or macvlan on another.
func upper(l *kernel.LinkInfo) bool {
	return l.Device != nil && (l.Device.Kind == "vlan" || l.Device.Kind == "macvlan")
}

// segment finds every device the frames sent out of l in v reach, as far
// as veths, bridges, VLANs and macvlans carry them, whatever their state
// (the state is checked on the way to the one that answers). Endpoints
// are where the frames are received: a veth end on no bridge, a bridge
// itself, a VLAN of the tag they carry, a macvlan. beyond names the
// devices frames leave through that the walk cannot follow (a NIC, a
// tunnel, a tap).
func (w *world) segment(v *view, l *kernel.LinkInfo) (endpoints []*node, beyond []*node) {
	start := &node{v: v, l: l, how: "start"}
	seen := map[string]bool{}
	key := func(n *node) string { return fmt.Sprintf("%d/%d/%d", n.v.ns.Inode, n.l.Index, n.vid) }
	seen[key(start)] = true
	queue := []*node{start}
	push := func(n *node) {
		if n.l == nil || seen[key(n)] {
			return
		}
		seen[key(n)] = true
		queue = append(queue, n)
	}
	ports := func(n *node, bridge *kernel.LinkInfo, except int) {
		for _, p := range w.allLinks(n.v) {
			if p.MasterIndex == bridge.Index && p.Index != except {
				push(&node{v: n.v, l: p, prev: n, how: "port", vid: n.vid})
			}
		}
	}
	// receive: the frames arrive at n, which takes them itself (untagged)
	// or hands them to its VLAN of their tag or to its macvlans.
	receive := func(n *node) {
		if n.vid == 0 {
			endpoints = append(endpoints, n)
		}
		for _, u := range w.allLinks(n.v) {
			if !upper(u) || u.Device.Link != n.l.Index {
				continue
			}
			if u.Device.Kind == "vlan" && u.Device.VlanID == n.vid || u.Device.Kind == "macvlan" && n.vid == 0 {
				endpoints = append(endpoints, &node{v: n.v, l: u, prev: n, how: "upper"})
			}
		}
	}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		switch {
		case n.how == "bridge":
			receive(n)
			ports(n, n.l, n.prev.l.Index)
		case (n.how == "start" || n.how == "lower") && n.l.Kind == "bridge":
			ports(n, n.l, 0)
		case n.how == "start" && upper(n.l):
			parent := w.link(n.v, n.l.Device.Link)
			if n.l.Device.Link == 0 || parent == nil {
				beyond = append(beyond, n)
				continue
			}
			vid := n.vid
			if n.l.Device.Kind == "vlan" {
				vid = n.l.Device.VlanID
			}
			push(&node{v: n.v, l: parent, prev: n, how: "lower", vid: vid})
		case n.how == "wire" && n.l.MasterIndex != 0:
			if b := w.link(n.v, n.l.MasterIndex); b != nil && b.Kind == "bridge" {
				push(&node{v: n.v, l: b, prev: n, how: "bridge", vid: n.vid})
			}
		case n.how == "wire":
			receive(n)
		case n.l.Kind == "veth":
			pv, pl := w.peer(n.v, n.l)
			if pv == nil || pl == nil {
				beyond = append(beyond, n)
				continue
			}
			push(&node{v: pv, l: pl, prev: n, how: "wire", vid: n.vid})
		case n.l.Kind == "loopback":
		default:
			beyond = append(beyond, n)
		}
	}
	return endpoints, beyond
}

// route is the path from the start of a segment to one node, in order.
func (n *node) route() []*node {
	var out []*node
	for c := n; c != nil; c = c.prev {
		out = append([]*node{c}, out...)
	}
	return out
}
