package plan

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/nsscript/nsscript/builtins/kernel"
)

// Model is a kernel in memory: a kernel.Kernel that needs no root and
// changes nothing real. `nsscript plan` runs scripts against it (with a
// Recorder above it, which writes down each change), and the journal's
// tests run undo against it. It models a fresh host, as under --sandbox:
// only lo (up), no routes, net.ipv4.ip_forward 0, empty iptables.
//
// It knows namespaces (named, and unnamed ones of processes started with
// `unshare --net`), devices (kind, up, mtu, mac, master, veth peers across
// namespaces, moves and renames), addresses, routes (with the connected
// routes the kernel adds for an address on an up device, so that route()'s
// gateway check passes exactly when it would), sysctls, iptables rules and
// /etc/netns files, and the processes a plan starts (see Spawn): their
// pids are above the kernel's pid_max, and ending the last process of an
// unnamed namespace ends the namespace.
type Model struct {
	// Gone is told of a device that goes away in the background: the
	// peer of a veth whose namespace the kernel tears down once its last
	// process has gone.
	Gone func(ns *kernel.NS, dev string)
	// Attached is told of a namespace the model did not know, attached
	// by path: it is modelled as holding only lo.
	Attached func(path string)

	mu        sync.Mutex
	host      *rns
	all       []*rns
	external  map[string]*rns // namespaces attached by path
	nextInode uint64
	nextIndex int
	nextMAC   int
	procs     []*rproc
	etc       map[string][]byte
	netnsDir  bool      // /run/netns exists
	gone      []goneDev // for Gone and Attached, told once the lock is let go
	attached  []string
}

type goneDev struct {
	ns   *kernel.NS
	name string
}

// tell tells Gone of the devices that went, and Attached of the
// namespaces attached; called (deferred) before the
// lock is taken, so that it runs after it is let go.
func (r *Model) tell() {
	r.mu.Lock()
	gone, attached := r.gone, r.attached
	r.gone, r.attached = nil, nil
	r.mu.Unlock()
	for _, p := range attached {
		if r.Attached != nil {
			r.Attached(p)
		}
	}
	for _, g := range gone {
		if r.Gone != nil {
			r.Gone(g.ns, g.name)
		}
	}
}

type rns struct {
	ns      *kernel.NS
	alive   bool
	named   bool
	links   []*rlink
	routes  []*rroute
	neighs  []*rneigh // static entries (a plan sends no packets: nothing is learnt)
	sysctl  map[string]string
	rules   map[kernel.Chain][][]string // a chain's rules; one of the user's while it exists
	prules  []kernel.PolicyRule         // ip rule: those added
	nsids   map[uint64]int
	creator *rproc // the process an unshare made it for
}

type rlink struct {
	ns     *rns
	name   string
	index  int
	kind   string
	mac    string
	mtu    int
	up     bool
	master *rlink
	peer   *rlink
	addrs  []*net.IPNet
	alias  string
	stp    bool
	shape  *kernel.Shaping // what nsscript set on its egress (model_shape.go)
	dev    *kernel.Device  // a vxlan's, tap's, vlan's or macvlan's settings
	lower  *rlink          // the device it sits on: it goes with that
	// portOnly: made as a bridge port, without IPv6 (see
	// kernel.LinkOpts.PortOnly).
	portOnly bool
}

type rneigh struct {
	ip  net.IP
	mac string
	dev *rlink
}

type rroute struct {
	dst    *net.IPNet // nil: default
	via    net.IP
	dev    *rlink
	metric int
	table  int
	scope  int
	kernel bool
}

var _ kernel.Kernel = (*Model)(nil)

// NewModel makes an empty model: a host namespace with lo up.
func NewModel() *Model {
	r := &Model{nextInode: 4026531840, nextIndex: 1, etc: map[string][]byte{}, external: map[string]*rns{}}
	r.host = r.newNS("", "/proc/self/ns/net", true)
	lo := r.host.links[0]
	r.setUp(lo, true)
	return r
}

func (r *Model) newNS(name, path string, host bool) *rns {
	n := &rns{ns: kernel.FakeNS(name, path, r.nextInode, host), alive: true, named: name != "",
		sysctl: map[string]string{}, rules: map[kernel.Chain][][]string{}, nsids: map[uint64]int{}}
	r.nextInode++
	if !host && r.nextInode < 4026532000 {
		r.nextInode = 4026532000
	}
	// Every namespace starts with its loopback, down, index 1.
	n.links = []*rlink{{ns: n, name: "lo", index: kernel.LoopbackIndex, kind: "loopback", mtu: 65536}}
	r.all = append(r.all, n)
	return n
}

// --- lookups ---

// Knows reports whether ns is a namespace of the model that is alive.
func (r *Model) Knows(ns *kernel.NS) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, err := r.nsOf(ns)
	return err
}

func (r *Model) nsOf(ns *kernel.NS) (*rns, error) {
	for _, n := range r.all {
		if n.ns == ns || n.ns.Inode == ns.Inode {
			if !n.alive {
				return nil, fmt.Errorf("namespace %s no longer exists", ns)
			}
			return n, nil
		}
	}
	return nil, fmt.Errorf("namespace %s is not known to the plan", ns)
}

func (n *rns) byName(name string) *rlink {
	for _, l := range n.links {
		if l.name == name {
			return l
		}
	}
	return nil
}

func (n *rns) byIndex(index int) *rlink {
	for _, l := range n.links {
		if l.index == index {
			return l
		}
	}
	return nil
}

func (r *Model) link(ns *kernel.NS, index int) (*rns, *rlink, error) {
	n, err := r.nsOf(ns)
	if err != nil {
		return nil, nil, err
	}
	l := n.byIndex(index)
	if l == nil {
		return nil, nil, kernel.ErrNoLink
	}
	return n, l, nil
}

func (r *Model) named(name string) *rns {
	for _, n := range r.all {
		if n.alive && n.named && n.ns.Name == name {
			return n
		}
	}
	return nil
}

func (n *rns) nsid(other *rns) int {
	if id, ok := n.nsids[other.ns.Inode]; ok {
		return id
	}
	id := len(n.nsids)
	n.nsids[other.ns.Inode] = id
	return id
}

func (r *Model) info(l *rlink) *kernel.LinkInfo {
	li := &kernel.LinkInfo{Name: l.name, Index: l.index, Kind: l.kind, MAC: l.mac, MTU: l.mtu, Up: l.up,
		PeerNetnsID: -1, Alias: l.alias}
	if l.master != nil {
		li.MasterIndex = l.master.index
	}
	li.Carrier = l.up && (l.peer == nil || l.peer.up)
	if l.dev != nil {
		d := *l.dev
		li.Device = &d
	}
	if l.peer != nil {
		li.PeerIndex = l.peer.index
		if l.peer.ns != l.ns {
			li.PeerNetnsID = l.ns.nsid(l.peer.ns)
		}
	}
	return li
}

func (r *Model) mac() string {
	r.nextMAC++
	return fmt.Sprintf("02:5e:00:%02x:%02x:%02x", r.nextMAC>>16&0xff, r.nextMAC>>8&0xff, r.nextMAC&0xff)
}

func (r *Model) addLink(n *rns, name, kind string, mtu int) *rlink {
	r.nextIndex++
	if mtu == 0 {
		mtu = 1500
	}
	l := &rlink{ns: n, name: name, index: r.nextIndex, kind: kind, mtu: mtu, mac: r.mac()}
	n.links = append(n.links, l)
	return l
}

// setMAC gives a new device the MAC its creator chose, if any.
func (l *rlink) setMAC(mac net.HardwareAddr) {
	if mac != nil {
		l.mac = mac.String()
	}
}

// --- namespaces ---

// Host is the model's host namespace.
func (r *Model) Host() *kernel.NS { return r.host.ns }

// CreateNamed is `ip netns add NAME` (nothing when it exists).
// With setup.Lo, also `ip -n NAME link set lo up`; with setup.NoIPv6,
// net.ipv6.conf.all.disable_ipv6 (and .default) is 1 there.
func (r *Model) CreateNamed(name string, setup kernel.NetnsSetup, claim func(kernel.NetnsClaim) error) (*kernel.NS, bool, error) {
	r.mu.Lock()
	if n := r.named(name); n != nil {
		r.mu.Unlock()
		return n.ns, false, nil
	}
	n := r.newNS(name, filepath.Join(kernel.NetnsDir, name), false)
	r.netnsDir = true
	if claim != nil {
		if err := claim(kernel.NetnsClaim{Inode: n.ns.Inode, Cookie: n.ns.Inode}); err != nil {
			n.alive = false
			r.mu.Unlock()
			return nil, false, err
		}
	}
	if setup.NoIPv6 {
		r.noIPv6(n)
	}
	if setup.Lo {
		r.setUp(n.links[0], true)
	}
	r.mu.Unlock()
	return n.ns, true, nil
}

// ReleaseClaimed is `ip netns del NAME` of the namespace claimed (the
// model's cookie is the inode); ErrNotOurs for another one.
func (r *Model) ReleaseClaimed(name string, c kernel.NetnsClaim) error {
	ns, err := r.OpenNamed(name)
	if err != nil {
		return nil
	}
	if ns.Inode != c.Inode || c.Cookie != ns.Inode {
		return fmt.Errorf("%w: namespace %q is another one", kernel.ErrNotOurs, name)
	}
	defer r.tell()
	r.mu.Lock()
	defer r.mu.Unlock()
	n, err := r.nsOf(ns)
	if err != nil {
		return err
	}
	r.unname(n)
	return nil
}

// Cookie is the model namespace's inode: the plan never reuses one.
func (r *Model) Cookie(ns *kernel.NS) uint64 { return ns.Inode }

// OpenNamed opens a namespace the script created.
func (r *Model) OpenNamed(name string) (*kernel.NS, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if n := r.named(name); n != nil {
		return n.ns, nil
	}
	return nil, kernel.ErrNoNamespace
}

// OpenPath opens /run/netns/NAME, /proc/PID/ns/net of a planned process,
// or attaches a namespace the plan does not know (modelled as empty).
func (r *Model) OpenPath(path string) (*kernel.NS, error) {
	defer r.tell()
	r.mu.Lock()
	defer r.mu.Unlock()
	if strings.HasPrefix(path, kernel.NetnsDir+"/") {
		if n := r.named(strings.TrimPrefix(path, kernel.NetnsDir+"/")); n != nil {
			return n.ns, nil
		}
		return nil, &os.PathError{Op: "open", Path: path, Err: os.ErrNotExist}
	}
	if path == "/proc/self/ns/net" || path == "/proc/thread-self/ns/net" || path == "/proc/1/ns/net" {
		return r.host.ns, nil
	}
	if m := procNet().FindStringSubmatch(path); m != nil {
		pid, _ := strconv.Atoi(m[1])
		if p := r.proc(pid); p != nil {
			if !p.alive {
				return nil, &os.PathError{Op: "open", Path: path, Err: unix.ENOENT}
			}
			return p.ns.ns, nil
		}
	}
	if n, ok := r.external[path]; ok && n.alive {
		return n.ns, nil
	}
	n := r.newNS("", path, false)
	n.links[0].up = true
	r.external[path] = n
	r.attached = append(r.attached, path)
	return n.ns, nil
}

// DeleteNamed is `ip netns del NAME`. Like nsscript, it deletes the
// namespace's veths first when no process keeps it alive, so that their
// peers elsewhere go at once (kernel.VethsFirst).
func (r *Model) DeleteNamed(ns *kernel.NS) error {
	if ns.Host || ns.Name == "" {
		return fmt.Errorf("namespace %s has no name to delete", ns)
	}
	for _, l := range kernel.VethsFirst(r, ns) {
		if err := r.DeleteLink(ns, l.Index); err != nil {
			return err
		}
	}
	defer r.tell()
	r.mu.Lock()
	defer r.mu.Unlock()
	n, err := r.nsOf(ns)
	if err != nil {
		return err
	}
	if !n.named {
		return fmt.Errorf("namespace %s has no name to delete", ns)
	}
	r.unname(n)
	return nil
}

// unname takes a namespace's name away; without processes it ends.
func (r *Model) unname(n *rns) {
	n.named = false
	if len(r.pidsIn(n)) == 0 {
		r.destroy(n)
	}
}

// destroy ends a namespace: its devices go, and with each veth its peer.
func (r *Model) destroy(n *rns) {
	var gone []*rlink
	for _, l := range append([]*rlink(nil), n.links...) {
		if l.peer != nil && l.peer.ns != n {
			gone = append(gone, l.peer)
		}
		r.deleteLink(l)
	}
	n.alive = false
	n.links = nil
	for _, l := range gone {
		if !l.ns.alive {
			continue
		}
		// The kernel tears a namespace down after its last process has
		// gone, asynchronously.
		r.gone = append(r.gone, goneDev{l.ns.ns, l.name})
	}
}

// ListNamed lists the named namespaces, sorted.
func (r *Model) ListNamed() ([]string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var names []string
	for _, n := range r.all {
		if n.alive && n.named {
			names = append(names, n.ns.Name)
		}
	}
	sort.Strings(names)
	return names, nil
}

// NetnsID is the id under which ns knows other.
func (r *Model) NetnsID(ns, other *kernel.NS) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n, err := r.nsOf(ns)
	if err != nil {
		return -1, err
	}
	o, err := r.nsOf(other)
	if err != nil {
		return -1, err
	}
	return n.nsid(o), nil
}

// sysctlDefaults are the values of a fresh namespace.
var sysctlDefaults = map[string]string{
	"net.ipv4.ip_forward":              "0",
	"net.ipv4.conf.all.forwarding":     "0",
	"net.ipv4.conf.default.forwarding": "0",
	"net.ipv6.conf.all.forwarding":     "0",
	"net.ipv6.conf.default.forwarding": "0",
}

// ReadSysctl reads a sysctl of the model. A key the model has no value
// for reads as it does on this machine (or fails when this machine has
// no such key).
func (r *Model) ReadSysctl(ns *kernel.NS, key string) (string, error) {
	return r.sysctl(ns, key, nil)
}

// WriteSysctl writes a sysctl of the model and returns the value before.
func (r *Model) WriteSysctl(ns *kernel.NS, key, value string) (string, error) {
	return r.sysctl(ns, key, &value)
}

func (r *Model) sysctl(ns *kernel.NS, key string, value *string) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n, err := r.nsOf(ns)
	if err != nil {
		return "", err
	}
	read := key
	if dev, def, ok := deviceSysctl(key); ok {
		// A device's own key (net.ipv4.conf.eth1.rp_filter) is there while
		// the device is, and starts as the namespace's default.
		if !slices.ContainsFunc(n.links, func(l *rlink) bool { return l.name == dev }) {
			return "", fmt.Errorf("open /proc/sys/%s: %w", strings.ReplaceAll(key, ".", "/"), os.ErrNotExist)
		}
		if _, set := n.sysctl[key]; !set {
			read = def
		}
	}
	old, ok := n.sysctl[read]
	if !ok {
		old, ok = sysctlDefaults[read]
	}
	for _, l := range n.links {
		if !ok && l.portOnly && key == kernel.PortSysctl(l.name) {
			old, ok = "1", true
		}
	}
	if !ok {
		b, err := os.ReadFile("/proc/sys/" + strings.ReplaceAll(read, ".", "/"))
		if err != nil {
			return "", err
		}
		old = strings.TrimSpace(string(b))
	}
	if value != nil {
		n.sysctl[key] = *value
		if key == "net.ipv4.ip_forward" {
			n.sysctl["net.ipv4.conf.all.forwarding"] = *value
		} else if key == "net.ipv4.conf.all.forwarding" {
			n.sysctl["net.ipv4.ip_forward"] = *value
		} else if key == kernel.DisableIPv6Key {
			// As the kernel does: .all sets .default, and every device;
			// and as the journal does in a namespace the lab made, which
			// keeps its bridge ports without when IPv6 comes back
			// (journal.switchIPv6).
			n.sysctl[kernel.DefaultDisableIPv6Key] = *value
			for _, l := range n.links {
				delete(n.sysctl, kernel.PortSysctl(l.name))
				if *value == "0" && old != "0" && l.master != nil {
					n.sysctl[kernel.PortSysctl(l.name)] = "1"
				}
			}
		}
	}
	return old, nil
}

// noIPv6 is a namespace made with IPv6 off (kernel.NetnsSetup.NoIPv6).
func (r *Model) noIPv6(n *rns) {
	n.sysctl[kernel.DisableIPv6Key] = "1"
	n.sysctl[kernel.DefaultDisableIPv6Key] = "1"
}

// deviceSysctl reads a key of one device's (net.ipv4.conf.DEV.KEY,
// net.ipv6.conf.DEV.KEY): the device, and the namespace's default key
// for it (net.ipv4.conf.default.KEY).
func deviceSysctl(key string) (dev, def string, ok bool) {
	p := strings.Split(key, ".")
	if len(p) != 5 || p[0] != "net" || p[1] != "ipv4" && p[1] != "ipv6" || p[2] != "conf" || p[3] == "all" || p[3] == "default" {
		return "", "", false
	}
	return strings.ReplaceAll(p[3], "/", "."), strings.Join([]string{p[0], p[1], p[2], "default", p[4]}, "."), true
}

// Namespaces lists the namespaces that are alive: the host first, then in
// the order they were made.
func (r *Model) Namespaces() []*kernel.NS {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*kernel.NS
	for _, n := range r.all {
		if n.alive {
			out = append(out, n.ns)
		}
	}
	return out
}

// Label names a namespace a planned process made after its $pidN.
func (r *Model) Label(ns *kernel.NS) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, n := range r.all {
		if n.ns == ns && n.creator != nil {
			return "netns of $pid" + strconv.Itoa(n.creator.n)
		}
	}
	return ""
}
