package plan

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mattn/go-shellwords"
	"golang.org/x/sys/unix"

	"github.com/nsscript/nsscript/builtins"
	"github.com/nsscript/nsscript/builtins/kernel"
)

// Recorder is a model of the kernel that records every change a script
// makes, as data (Ops) and as the equivalent shell command. It needs no
// root and changes nothing. It models a fresh host, as under --sandbox:
// only lo (up), no routes, net.ipv4.ip_forward 0, empty iptables.
//
// It knows namespaces (named, and unnamed ones of processes started with
// `unshare --net`), devices (kind, up, mtu, mac, master, veth peers across
// namespaces, moves and renames), addresses, routes (with the connected
// routes the kernel adds for an address on an up device, so that route()'s
// gateway check passes exactly when it would), sysctls, iptables rules and
// /etc/netns files. Commands run with exec run nowhere: each is recorded;
// a background one gets a pid above the kernel's pid_max, and `kill PID`
// of such a pid ends it (and a namespace it alone kept alive).
type Recorder struct {
	Lab string
	R   *Renderer

	mu        sync.Mutex
	host      *rns
	all       []*rns
	external  map[string]*rns // namespaces attached by path
	nextInode uint64
	nextIndex int
	nextMAC   int
	procs     []*rproc
	etc       map[string][]byte
	ops       []Op
	clock     time.Duration
	notes     int
}

// MaxWait is how long a plan lets a script sleep in all before it calls
// it stuck: a script polling for a command's output would loop forever.
const MaxWait = time.Hour

// pidBase is above the largest pid Linux gives (PID_MAX_LIMIT, 2^22):
// a planned process's pid is never a real one.
const pidBase = 1 << 22

type rns struct {
	ns      *kernel.NS
	alive   bool
	named   bool
	links   []*rlink
	routes  []*rroute
	sysctl  map[string]string
	rules   map[string][][]string // "table chain" -> specs
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

type rproc struct {
	pid   int
	n     int // $pidN in the plan
	ns    *rns
	argv  []string
	alive bool
	// started: the plan starts it (argv[0] is known), so $pidN is set.
	started bool
}

var (
	_ builtins.Kernel  = (*Recorder)(nil)
	_ builtins.Planner = (*Recorder)(nil)
)

// NewRecorder makes an empty model: a host namespace with lo up.
func NewRecorder(lab string) *Recorder {
	r := &Recorder{Lab: lab, nextInode: 4026531840, nextIndex: 1, etc: map[string][]byte{}, external: map[string]*rns{}}
	r.R = &Renderer{PidVar: r.pidVar}
	r.host = r.newNS("", "/proc/self/ns/net", true)
	lo := r.host.links[0]
	r.setUp(lo, true)
	return r
}

// pidVar names the variable that holds a planned process's pid; a
// process the plan does not start keeps its number (which no process has).
func (r *Recorder) pidVar(pid int) (string, bool) {
	p := r.proc(pid)
	if p == nil || !p.started {
		return "", false
	}
	return "pid" + strconv.Itoa(p.n), true
}

func (r *Recorder) newNS(name, path string, host bool) *rns {
	n := &rns{ns: kernel.FakeNS(name, path, r.nextInode, host), alive: true, named: name != "",
		sysctl: map[string]string{}, rules: map[string][][]string{}, nsids: map[uint64]int{}}
	r.nextInode++
	if !host && r.nextInode < 4026532000 {
		r.nextInode = 4026532000
	}
	// Every namespace starts with its loopback, down, index 1.
	n.links = []*rlink{{ns: n, name: "lo", index: 1, kind: "loopback", mtu: 65536}}
	r.all = append(r.all, n)
	return n
}

// Ops are the operations recorded so far.
func (r *Recorder) Ops() []Op {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Op(nil), r.ops...)
}

func (r *Recorder) record(op Op) {
	r.ops = append(r.ops, op)
}

// Print records a line the script printed, as a comment.
func (r *Recorder) Print(msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.record(Op{Op: "print", Text: msg, Cmd: comment(msg)})
	if msg == "" {
		r.ops[len(r.ops)-1].Cmd = ""
	}
}

// --- lookups ---

func (r *Recorder) nsOf(ns *kernel.NS) (*rns, error) {
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

func (r *Recorder) link(ns *kernel.NS, index int) (*rns, *rlink, error) {
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

func (r *Recorder) named(name string) *rns {
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

func (r *Recorder) info(l *rlink) *kernel.LinkInfo {
	li := &kernel.LinkInfo{Name: l.name, Index: l.index, Kind: l.kind, MAC: l.mac, MTU: l.mtu, Up: l.up,
		PeerNetnsID: -1, Alias: l.alias}
	if l.master != nil {
		li.MasterIndex = l.master.index
	}
	if l.peer != nil {
		li.PeerIndex = l.peer.index
		if l.peer.ns != l.ns {
			li.PeerNetnsID = l.ns.nsid(l.peer.ns)
		}
	}
	return li
}

func (r *Recorder) mac() string {
	r.nextMAC++
	return fmt.Sprintf("02:5e:00:%02x:%02x:%02x", r.nextMAC>>16&0xff, r.nextMAC>>8&0xff, r.nextMAC&0xff)
}

func (r *Recorder) addLink(n *rns, name, kind string, mtu int) *rlink {
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
func (r *Recorder) Host() *kernel.NS { return r.host.ns }

// CreateNamed is `ip netns add NAME` (nothing when it exists).
// With lo, also `ip -n NAME link set lo up`.
func (r *Recorder) CreateNamed(name string, lo bool, claim func(kernel.NetnsClaim) error) (*kernel.NS, bool, error) {
	r.mu.Lock()
	if n := r.named(name); n != nil {
		r.mu.Unlock()
		return n.ns, false, nil
	}
	n := r.newNS(name, filepath.Join(kernel.NetnsDir, name), false)
	r.record(Op{Op: "netns_add", NS: name, Cmd: r.R.NetnsAdd(name)})
	r.mu.Unlock()
	if lo {
		if err := r.SetUp(n.ns, 1, true); err != nil {
			return nil, false, err
		}
	}
	return n.ns, true, nil
}

// ReleaseClaimed is `ip netns del NAME` of a namespace the plan made, if
// it is the one claimed (the model's cookie is the inode).
func (r *Recorder) ReleaseClaimed(name string, c kernel.NetnsClaim) error {
	ns, err := r.OpenNamed(name)
	if err != nil {
		return nil
	}
	if ns.Inode != c.Inode || c.Cookie != ns.Inode {
		return fmt.Errorf("%w: namespace %q is another one", kernel.ErrNotOurs, name)
	}
	return r.DeleteNamed(ns)
}

// Mine: in a plan, everything there was made by the script.
func (r *Recorder) Mine(ns *kernel.NS, name string) bool { return true }

// Locate: the plan starts from a fresh host, where nothing moved.
func (r *Recorder) Locate(ns *kernel.NS, name string) (*kernel.NS, string) { return ns, name }

// Replaceable: a plan starts from a fresh host; a conflict is the script's.
func (r *Recorder) Replaceable(ns *kernel.NS, name string) bool { return false }

// FindProcess: a plan adopts no process.
func (r *Recorder) FindProcess(ns *kernel.NS, argv, env []string) (kernel.ProcInfo, bool) {
	return kernel.ProcInfo{}, false
}

// Cookie is the model namespace's inode: the plan never reuses one.
func (r *Recorder) Cookie(ns *kernel.NS) uint64 { return ns.Inode }

// OpenNamed opens a namespace the script created.
func (r *Recorder) OpenNamed(name string) (*kernel.NS, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if n := r.named(name); n != nil {
		return n.ns, nil
	}
	return nil, kernel.ErrNoNamespace
}

// OpenPath opens /run/netns/NAME, /proc/PID/ns/net of a planned process,
// or attaches a namespace the plan does not know (modelled as empty).
func (r *Recorder) OpenPath(path string) (*kernel.NS, error) {
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
	r.record(Op{Op: "note", Text: "attached " + path + ": the plan models it as holding only lo", Cmd: comment("attached " + path + ": the plan models it as holding only lo")})
	return n.ns, nil
}

// DeleteNamed is `ip netns del NAME`. Like nsscript, it deletes the
// namespace's veths first when no process keeps it alive, so that their
// peers elsewhere go at once.
func (r *Recorder) DeleteNamed(ns *kernel.NS) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	n, err := r.nsOf(ns)
	if err != nil {
		return err
	}
	if ns.Host || !n.named {
		return fmt.Errorf("namespace %s has no name to delete", ns)
	}
	if len(r.pidsIn(n)) == 0 {
		for _, l := range append([]*rlink(nil), n.links...) {
			if l.kind == "veth" && n.byIndex(l.index) == l {
				r.record(Op{Op: "link_del", NS: nsLabel(ns), Dev: l.name, Cmd: r.R.LinkDel(ns, l.name)})
				r.deleteLink(l)
			}
		}
	}
	r.record(Op{Op: "netns_del", NS: ns.Name, Cmd: r.R.NetnsDel(ns.Name)})
	n.named = false
	if len(r.pidsIn(n)) == 0 {
		r.destroy(n)
	}
	return nil
}

// destroy ends a namespace: its devices go, and with each veth its peer.
func (r *Recorder) destroy(n *rns) {
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
		// gone, asynchronously: wait for it before going on.
		r.record(Op{Op: "wait", NS: nsLabel(l.ns.ns), Dev: l.name, Text: "the kernel deletes a namespace (and its veths' peers) after its last process is gone",
			Cmd: "i=0; while " + r.R.ip(l.ns.ns, "link", "show", "dev", l.name) + " >/dev/null 2>&1 && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done  # the kernel deletes the namespace and the peers of its veths"})
	}
}

// ListNamed lists the named namespaces, sorted.
func (r *Recorder) ListNamed() ([]string, error) {
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

func (r *Recorder) proc(pid int) *rproc {
	if pid <= pidBase || pid > pidBase+len(r.procs) {
		return nil
	}
	return r.procs[pid-pidBase-1]
}

// Identify is the namespace of a process the plan started.
func (r *Recorder) Identify(pid int) (*kernel.NS, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if pid == 1 {
		return r.host.ns, nil
	}
	if p := r.proc(pid); p != nil && p.alive {
		return p.ns.ns, nil
	}
	return nil, fmt.Errorf("process %d: no such process (a plan knows only the processes the script starts)", pid)
}

func (r *Recorder) pidsIn(n *rns) []int {
	var pids []int
	for _, p := range r.procs {
		if p.alive && p.ns == n {
			pids = append(pids, p.pid)
		}
	}
	return pids
}

// Pids lists the planned processes in ns.
// PidsByNetns lists the plan's processes by namespace.
func (r *Recorder) PidsByNetns() (map[uint64][]int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[uint64][]int{}
	for _, n := range r.all {
		if n.alive {
			out[n.ns.Inode] = r.pidsIn(n)
		}
	}
	return out, nil
}

func (r *Recorder) Pids(ns *kernel.NS) ([]int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n, err := r.nsOf(ns)
	if err != nil {
		return nil, err
	}
	return r.pidsIn(n), nil
}

// NetnsID is the id under which ns knows other.
func (r *Recorder) NetnsID(ns, other *kernel.NS) (int, error) {
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

// ReadSysctl reads a sysctl in the model (as Sysctl does without a value).
func (r *Recorder) ReadSysctl(ns *kernel.NS, key string) (string, error) {
	return r.Sysctl(ns, key, nil)
}

// Sysctl reads or writes a sysctl in the model. A key the model has no
// value for reads as it does on this machine (or fails when this
// machine has no such key).
func (r *Recorder) Sysctl(ns *kernel.NS, key string, value *string) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n, err := r.nsOf(ns)
	if err != nil {
		return "", err
	}
	old, ok := n.sysctl[key]
	if !ok {
		old, ok = sysctlDefaults[key]
	}
	if !ok {
		b, err := os.ReadFile("/proc/sys/" + strings.ReplaceAll(key, ".", "/"))
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
		}
		r.record(Op{Op: "sysctl", NS: nsLabel(ns), Key: key, Value: *value, Cmd: r.R.Sysctl(ns, key, *value)})
	}
	return old, nil
}

// --- devices ---

// LinkByName reads a device by name.
func (r *Recorder) LinkByName(ns *kernel.NS, name string) (*kernel.LinkInfo, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n, err := r.nsOf(ns)
	if err != nil {
		return nil, err
	}
	l := n.byName(name)
	if l == nil {
		return nil, kernel.ErrNoLink
	}
	return r.info(l), nil
}

// LinkByIndex reads a device by index.
func (r *Recorder) LinkByIndex(ns *kernel.NS, index int) (*kernel.LinkInfo, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, l, err := r.link(ns, index)
	if err != nil {
		return nil, err
	}
	return r.info(l), nil
}

// Links lists a namespace's devices in index order.
func (r *Recorder) Links(ns *kernel.NS) ([]*kernel.LinkInfo, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n, err := r.nsOf(ns)
	if err != nil {
		return nil, err
	}
	ls := append([]*rlink(nil), n.links...)
	sort.Slice(ls, func(i, j int) bool { return ls[i].index < ls[j].index })
	out := make([]*kernel.LinkInfo, len(ls))
	for i, l := range ls {
		out[i] = r.info(l)
	}
	return out, nil
}

func exists(name string) error {
	return fmt.Errorf("create %q: %w", name, unix.EEXIST)
}

// AddVeth creates a pair, each end in its namespace, down.
func (r *Recorder) AddVeth(ns *kernel.NS, name string, peerNS *kernel.NS, peer string, o kernel.LinkOpts) (int, error) {
	mtu := o.MTU
	r.mu.Lock()
	defer r.mu.Unlock()
	n, err := r.nsOf(ns)
	if err != nil {
		return 0, err
	}
	pn, err := r.nsOf(peerNS)
	if err != nil {
		return 0, err
	}
	if n.byName(name) != nil {
		return 0, exists(name)
	}
	if pn.byName(peer) != nil || (n == pn && name == peer) {
		return 0, exists(peer)
	}
	a := r.addLink(n, name, "veth", mtu)
	b := r.addLink(pn, peer, "veth", mtu)
	a.setMAC(o.MAC)
	b.setMAC(o.PeerMAC)
	a.peer, b.peer = b, a
	r.record(Op{Op: "veth_add", NS: nsLabel(ns), Dev: name, Peer: peer, PeerNS: nsLabel(peerNS), MTU: mtu,
		Cmd: r.R.VethAdd(ns, name, peerNS, peer, mtu)})
	return a.index, nil
}

// AddBridge creates a bridge, down.
func (r *Recorder) AddBridge(ns *kernel.NS, name string, o kernel.LinkOpts) error {
	return r.addDevice(ns, name, "bridge", o.MAC, "bridge_add", r.R.BridgeAdd(ns, name))
}

// addDevice creates a device of one kind, down, unless the name is taken.
func (r *Recorder) addDevice(ns *kernel.NS, name, kind string, mac net.HardwareAddr, op, cmd string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	n, err := r.nsOf(ns)
	if err != nil {
		return err
	}
	if n.byName(name) != nil {
		return exists(name)
	}
	r.addLink(n, name, kind, 0).setMAC(mac)
	r.record(Op{Op: op, NS: nsLabel(ns), Dev: name, Cmd: cmd})
	return nil
}

// SetBridgeSTP turns spanning tree on or off.
func (r *Recorder) SetBridgeSTP(ns *kernel.NS, index int, on bool) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, l, err := r.link(ns, index)
	if err != nil {
		return err
	}
	if l.kind != "bridge" {
		return fmt.Errorf("%s is not a bridge: %w", l.name, unix.EOPNOTSUPP)
	}
	l.stp = on
	r.record(Op{Op: "bridge_stp", NS: nsLabel(ns), Dev: l.name, On: &on, Cmd: r.R.BridgeSTP(ns, l.name, on)})
	return nil
}

// AddDummy creates a dummy device (the plan tries the dummy driver and
// falls back to an ifb stand-in, as nsscript does).
func (r *Recorder) AddDummy(ns *kernel.NS, name string, o kernel.LinkOpts) error {
	return r.addDevice(ns, name, "dummy", o.MAC, "dummy_add", r.R.DummyAdd(ns, name, false, true))
}

// setUp changes IFF_UP and what follows from it: an up device gets the
// connected routes of its addresses (and lo its 127.0.0.1/8 and ::1); a
// device going down loses every route through it, and its IPv6 addresses.
func (r *Recorder) setUp(l *rlink, up bool) {
	if l.up == up {
		return
	}
	l.up = up
	if !up {
		l.ns.dropRoutes(func(rt *rroute) bool { return rt.dev == l })
		var keep []*net.IPNet
		for _, a := range l.addrs {
			if a.IP.To4() != nil {
				keep = append(keep, a)
			}
		}
		l.addrs = keep
		return
	}
	if l.kind == "loopback" {
		for _, c := range []string{"127.0.0.1/8", "::1/128"} {
			ip, nw, _ := net.ParseCIDR(c)
			nw.IP = ip
			if !hasAddr(l, nw) {
				l.addrs = append(l.addrs, nw)
			}
		}
		return
	}
	for _, a := range l.addrs {
		l.ns.connect(l, a)
	}
}

func hasAddr(l *rlink, a *net.IPNet) bool {
	for _, have := range l.addrs {
		if have.String() == a.String() {
			return true
		}
	}
	return false
}

func (n *rns) dropRoutes(drop func(*rroute) bool) {
	var keep []*rroute
	for _, rt := range n.routes {
		if !drop(rt) {
			keep = append(keep, rt)
		}
	}
	n.routes = keep
}

// connect adds the connected route of address a on l (up, not loopback).
func (n *rns) connect(l *rlink, a *net.IPNet) {
	ones, bits := a.Mask.Size()
	if ones == bits || l.kind == "loopback" {
		return
	}
	dst := &net.IPNet{IP: a.IP.Mask(a.Mask), Mask: a.Mask}
	metric := 0
	if bits == 128 {
		metric = 256
	}
	for _, rt := range n.routes {
		if rt.kernel && rt.dev == l && rt.dst.String() == dst.String() {
			return
		}
	}
	n.routes = append(n.routes, &rroute{dst: dst, dev: l, metric: metric, table: kernel.MainTable, scope: unix.RT_SCOPE_LINK, kernel: true})
}

func (r *Recorder) change(ns *kernel.NS, index int, f func(n *rns, l *rlink) (Op, error)) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	n, l, err := r.link(ns, index)
	if err != nil {
		return err
	}
	op, err := f(n, l)
	if err != nil || op.Op == "" { // "": nothing changes
		return err
	}
	op.NS = nsLabel(ns)
	r.record(op)
	return nil
}

// SetUp is `ip link set DEV up|down`.
func (r *Recorder) SetUp(ns *kernel.NS, index int, up bool) error {
	return r.change(ns, index, func(n *rns, l *rlink) (Op, error) {
		if l.up == up {
			return Op{}, nil
		}
		cmd := r.R.LinkSet(ns, l.name, boolWord(up))
		r.setUp(l, up)
		return Op{Op: "link_set", Dev: l.name, Up: &up, Cmd: cmd}, nil
	})
}

// SetUpByName is SetUp by name (lo of a new namespace).
func (r *Recorder) SetUpByName(ns *kernel.NS, name string) error {
	r.mu.Lock()
	n, err := r.nsOf(ns)
	var l *rlink
	if err == nil {
		if l = n.byName(name); l == nil {
			err = kernel.ErrNoLink
		}
	}
	r.mu.Unlock()
	if err != nil {
		return err
	}
	return r.SetUp(ns, l.index, true)
}

// Sync does nothing: the model has no carrier to settle.
func (r *Recorder) Sync(ns *kernel.NS, index int) {}

// SetMTU is `ip link set DEV mtu M`.
func (r *Recorder) SetMTU(ns *kernel.NS, index, mtu int) error {
	return r.change(ns, index, func(n *rns, l *rlink) (Op, error) {
		if mtu < 68 && l.kind != "loopback" {
			return Op{}, fmt.Errorf("mtu %d: %w", mtu, unix.EINVAL)
		}
		if l.mtu == mtu {
			return Op{}, nil
		}
		l.mtu = mtu
		return Op{Op: "link_set", Dev: l.name, MTU: mtu, Cmd: r.R.LinkSet(ns, l.name, "mtu", strconv.Itoa(mtu))}, nil
	})
}

// SetMAC is `ip link set DEV address MAC`.
func (r *Recorder) SetMAC(ns *kernel.NS, index int, mac net.HardwareAddr) error {
	return r.change(ns, index, func(n *rns, l *rlink) (Op, error) {
		l.mac = mac.String()
		return Op{Op: "link_set", Dev: l.name, MAC: l.mac, Cmd: r.R.LinkSet(ns, l.name, "address", l.mac)}, nil
	})
}

// SetName is `ip link set DEV name NEW`; like Linux it refuses an up device.
func (r *Recorder) SetName(ns *kernel.NS, index int, name string) error {
	return r.change(ns, index, func(n *rns, l *rlink) (Op, error) {
		if l.up {
			return Op{}, kernel.ErrBusy
		}
		if o := n.byName(name); o != nil && o != l {
			return Op{}, exists(name)
		}
		old := l.name
		l.name = name
		return Op{Op: "link_set", Dev: old, Name: name, Cmd: r.R.LinkSet(ns, old, "name", name)}, nil
	})
}

// SetMaster is `ip link set DEV master BR` (nomaster for 0).
func (r *Recorder) SetMaster(ns *kernel.NS, index, master int) error {
	return r.change(ns, index, func(n *rns, l *rlink) (Op, error) {
		if master == 0 && l.master == nil || l.master != nil && l.master.index == master {
			return Op{}, nil
		}
		if master == 0 {
			l.master = nil
			return Op{Op: "link_set", Dev: l.name, Master: "", Cmd: r.R.LinkSet(ns, l.name, "nomaster")}, nil
		}
		br := n.byIndex(master)
		if br == nil || br.kind != "bridge" || br == l {
			return Op{}, fmt.Errorf("master %d: %w", master, unix.EINVAL)
		}
		l.master = br
		return Op{Op: "link_set", Dev: l.name, Master: br.name, Cmd: r.R.LinkSet(ns, l.name, "master", br.name)}, nil
	})
}

// Move is `ip link set DEV netns TARGET`. Like Linux it takes the device
// down and out of its bridge and drops its addresses and routes; a bridge
// or lo cannot move.
func (r *Recorder) Move(ns *kernel.NS, index int, target *kernel.NS) error {
	if ns == target {
		return nil // already there
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	n, l, err := r.link(ns, index)
	if err != nil {
		return err
	}
	to, err := r.nsOf(target)
	if err != nil {
		return err
	}
	if l.kind == "bridge" || l.kind == "loopback" {
		return fmt.Errorf("%s cannot leave its namespace: %w", l.name, unix.EINVAL)
	}
	if to.byName(l.name) != nil {
		return exists(l.name)
	}
	cmd := r.R.Move(ns, l.name, target)
	r.unplug(l)
	l.up = false
	l.addrs = nil
	n.remove(l)
	l.ns = to
	if to.byIndex(l.index) != nil {
		r.nextIndex++
		l.index = r.nextIndex
	}
	to.links = append(to.links, l)
	r.record(Op{Op: "link_move", NS: nsLabel(ns), Dev: l.name, To: nsLabel(target), Cmd: cmd})
	return nil
}

// unplug takes l out of its namespace's bridges and routes.
func (r *Recorder) unplug(l *rlink) {
	l.master = nil
	for _, o := range l.ns.links {
		if o.master == l {
			o.master = nil
		}
	}
	l.ns.dropRoutes(func(rt *rroute) bool { return rt.dev == l })
}

func (n *rns) remove(l *rlink) {
	var keep []*rlink
	for _, o := range n.links {
		if o != l {
			keep = append(keep, o)
		}
	}
	n.links = keep
}

func (r *Recorder) deleteLink(l *rlink) {
	for _, d := range []*rlink{l, l.peer} {
		if d == nil {
			continue
		}
		r.unplug(d)
		d.ns.remove(d)
	}
}

// DeleteLink is `ip link del DEV` (a veth's peer goes with it).
func (r *Recorder) DeleteLink(ns *kernel.NS, index int) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, l, err := r.link(ns, index)
	if err != nil {
		return err
	}
	if l.kind == "loopback" {
		return fmt.Errorf("lo: %w", unix.EOPNOTSUPP)
	}
	r.record(Op{Op: "link_del", NS: nsLabel(ns), Dev: l.name, Cmd: r.R.LinkDel(ns, l.name)})
	r.deleteLink(l)
	return nil
}

// --- addresses and routes ---

// Addrs lists a device's addresses.
func (r *Recorder) Addrs(ns *kernel.NS, index int) ([]string, error) {
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
func (r *Recorder) AddAddr(ns *kernel.NS, index int, cidr *net.IPNet) error {
	return r.change(ns, index, func(n *rns, l *rlink) (Op, error) {
		a := &net.IPNet{IP: cidr.IP, Mask: cidr.Mask}
		if hasAddr(l, a) {
			return Op{}, nil
		}
		l.addrs = append(l.addrs, a)
		if l.up {
			n.connect(l, a)
		}
		return Op{Op: "addr_add", Dev: l.name, Addr: a.String(), Cmd: r.R.Addr(ns, "add", a, l.name)}, nil
	})
}

// DelAddr is `ip addr del CIDR dev DEV`.
func (r *Recorder) DelAddr(ns *kernel.NS, index int, cidr *net.IPNet) error {
	return r.change(ns, index, func(n *rns, l *rlink) (Op, error) {
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
			return Op{}, fmt.Errorf("%s: %w", cidr, unix.EADDRNOTAVAIL)
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
		return Op{Op: "addr_del", Dev: l.name, Addr: cidr.String(), Cmd: r.R.Addr(ns, "del", cidr, l.name)}, nil
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
func (r *Recorder) Routes(ns *kernel.NS, table int) ([]kernel.RouteInfo, error) {
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
func (r *Recorder) ReplaceRoute(ns *kernel.NS, ri kernel.RouteInfo) error {
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
	devName := ""
	if ri.DevIndex != 0 {
		devName = dev.name
	}
	spec := Spec(kernel.RouteInfo{Dst: ri.Dst, Via: ri.Via, Metric: ri.Metric, Table: ri.Table}, devName)
	r.record(Op{Op: "route_replace", NS: nsLabel(ns), Route: &spec, Cmd: r.R.Route(ns, "replace", spec)})
	return nil
}

// DeleteRoute is `ip route del ...`.
func (r *Recorder) DeleteRoute(ns *kernel.NS, ri kernel.RouteInfo) error {
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
			devName := ""
			if ri.DevIndex != 0 && rt.dev != nil {
				devName = rt.dev.name
			}
			spec := Spec(kernel.RouteInfo{Dst: ri.Dst, Via: ri.Via, Metric: ri.Metric, Table: ri.Table}, devName)
			n.routes = append(n.routes[:i], n.routes[i+1:]...)
			r.record(Op{Op: "route_del", NS: nsLabel(ns), Route: &spec, Cmd: r.R.Route(ns, "del", spec)})
			return nil
		}
	}
	return fmt.Errorf("no such route: %w", unix.ESRCH)
}

// Neighbors is empty: a plan sends no packets, so nothing is learnt.
func (r *Recorder) Neighbors(ns *kernel.NS) ([]kernel.NeighInfo, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, err := r.nsOf(ns); err != nil {
		return nil, err
	}
	return nil, nil
}

// --- processes and sockets ---

var errPlan = errors.New("a plan runs nothing and sends no packets")

// Start is never called in a plan (exec asks Exec); it refuses.
func (r *Recorder) Start(ns *kernel.NS, argv, env []string, stdio kernel.Stdio) (*exec.Cmd, error) {
	return nil, errPlan
}

// ICMPConn refuses: ping asks the planner instead.
func (r *Recorder) ICMPConn(ns *kernel.NS, v6 bool) (net.PacketConn, error) { return nil, errPlan }

// DialTCP refuses: assert.reachable asks the planner instead.
func (r *Recorder) DialTCP(ns *kernel.NS, addr string, timeout float64) error { return errPlan }

// WriteEtc records /etc/netns/NAME/FILE. Like nsscript it refuses a file
// /etc lacks (exec could not bind it over /etc/FILE).
func (r *Recorder) WriteEtc(name, file string, content []byte) (string, error) {
	etc := filepath.Join("/etc", file)
	if st, err := os.Stat(etc); errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("%s does not exist, so no process in namespace %q would see it (exec binds /etc/netns/%s/%s over it, as ip netns exec does); create %s first, or use a file that /etc has", etc, name, name, file, etc)
	} else if err == nil && st.IsDir() {
		return "", fmt.Errorf("%s is a directory: etc() writes one file, like \"hosts\" or \"resolv.conf\"", etc)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	p := filepath.Join(kernel.EtcNetnsDir, name, file)
	r.etc[p] = append([]byte(nil), content...)
	r.record(Op{Op: "etc", NS: name, File: p, Content: string(content), Cmd: r.R.Etc(name, file, content)})
	return p, nil
}

// Etc is what the plan wrote to /etc/netns: path -> content.
func (r *Recorder) Etc() map[string][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string][]byte{}
	for k, v := range r.etc {
		out[k] = v
	}
	return out
}

// --- iptables ---

func chainKey(table, chain string) string { return table + " " + chain }

// checkSpec refuses what iptables' own parser refuses and the plan can
// see: a port match without a protocol.
func checkSpec(spec []string) error {
	proto := false
	for i, w := range spec {
		switch w {
		case "-p", "--protocol", "-m", "--match":
			if i+1 < len(spec) && spec[i+1] != "comment" {
				proto = true
			}
		case "--dport", "--sport", "--destination-port", "--source-port", "--syn", "--tcp-flags":
			if !proto {
				return &kernel.IptablesError{Args: spec, Msg: fmt.Sprintf("unknown option %q", w)}
			}
		}
	}
	return nil
}

func sameSpec(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// RuleExists is `iptables -C`.
func (r *Recorder) RuleExists(ns *kernel.NS, table, chain string, spec []string) (bool, error) {
	if err := checkSpec(spec); err != nil {
		return false, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	n, err := r.nsOf(ns)
	if err != nil {
		return false, err
	}
	for _, s := range n.rules[chainKey(table, chain)] {
		if sameSpec(s, spec) {
			return true, nil
		}
	}
	return false, nil
}

// AppendRule is `iptables -t TABLE -A CHAIN RULE...`.
func (r *Recorder) AppendRule(ns *kernel.NS, table, chain string, spec []string) error {
	if err := checkSpec(spec); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	n, err := r.nsOf(ns)
	if err != nil {
		return err
	}
	k := chainKey(table, chain)
	n.rules[k] = append(n.rules[k], append([]string(nil), spec...))
	r.record(Op{Op: "iptables_append", NS: nsLabel(ns), Table: table, Chain: chain, Rule: spec, Cmd: r.R.Iptables(ns, "-A", table, chain, spec)})
	return nil
}

// DeleteRule is `iptables -t TABLE -D CHAIN RULE...` (nothing when absent).
func (r *Recorder) DeleteRule(ns *kernel.NS, table, chain string, spec []string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	n, err := r.nsOf(ns)
	if err != nil {
		return err
	}
	k := chainKey(table, chain)
	for i, s := range n.rules[k] {
		if sameSpec(s, spec) {
			n.rules[k] = append(n.rules[k][:i:i], n.rules[k][i+1:]...)
			r.record(Op{Op: "iptables_delete", NS: nsLabel(ns), Table: table, Chain: chain, Rule: spec, Cmd: r.R.Iptables(ns, "-D", table, chain, spec)})
			return nil
		}
	}
	return nil
}

// ListRules is `iptables -t TABLE -S CHAIN` (the rules only).
func (r *Recorder) ListRules(ns *kernel.NS, table, chain string) ([]string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n, err := r.nsOf(ns)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, s := range n.rules[chainKey(table, chain)] {
		out = append(out, "-A "+chain+" "+strings.Join(s, " "))
	}
	return out, nil
}

// Namespaces lists the namespaces that are alive: the host first, then in
// the order they were made.
func (r *Recorder) Namespaces() []*kernel.NS {
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

// --- the Planner side ---

// Note records a comment.
func (r *Recorder) Note(text string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.notes++
	r.record(Op{Op: "note", Text: text, Cmd: comment(text)})
}

// Notes counts the checks the plan could not evaluate.
func (r *Recorder) Notes() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.notes
}

// Exec records a command. A background one gets a pid of its own ($pidN
// in the plan); `unshare --net` gives it a new namespace, and `kill PID`
// of planned pids ends them.
func (r *Recorder) Exec(ns *kernel.NS, argv, env []string, stdin []byte, background, check bool) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n, err := r.nsOf(ns)
	if err != nil {
		return 0
	}
	op := Op{Op: "exec", NS: nsLabel(ns), Argv: argv, Env: env, Background: background}
	if stdin != nil {
		s := string(stdin)
		op.Stdin = &s
	}
	if !check {
		f := false
		op.Check = &f
	}
	cmd := r.R.Exec(ns, argv, env, stdin)
	if !background {
		// A script polling with the same command records it once.
		if last := len(r.ops) - 1; last >= 0 && r.ops[last].Op == "exec" && !r.ops[last].Background &&
			r.ops[last].NS == op.NS && strings.Join(r.ops[last].Argv, "\x00") == strings.Join(argv, "\x00") {
			return 0
		}
		op.Cmd = cmd + " || true"
		if argv[0] == "" {
			op.Cmd = comment(cmd + "  (not run: the program's name came from a command's output, which a plan does not know)")
		}
		r.record(op)
		r.kills(argv)
		return 0
	}
	p := &rproc{pid: pidBase + len(r.procs) + 1, ns: n, argv: argv, alive: true, started: argv[0] != ""}
	p.n = len(r.procs) + 1
	r.procs = append(r.procs, p)
	op.Pid = p.pid
	if p.started {
		op.Cmd = cmd + " >/dev/null 2>&1 &\npid" + strconv.Itoa(p.n) + "=$!"
	} else {
		op.Cmd = comment(cmd + " &  (not run: the program's name came from a command's output, which a plan does not know)")
	}
	if unshareNet(argv) {
		c := r.newNS("", fmt.Sprintf("/proc/%d/ns/net", p.pid), false)
		c.creator = p
		p.ns = c
		if p.started {
			from := "/proc/$$/ns/net"
			if !n.ns.Host {
				from = n.ns.Path
			}
			op.Cmd += "\ni=0; while [ \"$(stat -L -c %i /proc/$pid" + strconv.Itoa(p.n) + "/ns/net 2>/dev/null)\" = \"$(stat -L -c %i " + from + ")\" ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i+1)); done  # until unshare has made its namespace"
		}
	}
	r.record(op)
	return p.pid
}

// unshareNet recognizes `unshare ... --net|-n ... CMD`.
func unshareNet(argv []string) bool {
	if len(argv) < 2 || filepath.Base(argv[0]) != "unshare" {
		return false
	}
	for _, a := range argv[1:] {
		switch {
		case a == "--net" || a == "-n":
			return true
		case strings.HasPrefix(a, "--"):
		case strings.HasPrefix(a, "-") && len(a) > 1:
			if strings.Contains(a[1:], "n") {
				return true
			}
		default:
			return false
		}
	}
	return false
}

// kills ends the planned processes a `kill PID...` command names.
func (r *Recorder) kills(argv []string) {
	words := argv
	if len(argv) == 3 && argv[0] == "/bin/sh" && argv[1] == "-c" {
		w, err := shellwords.Parse(argv[2])
		if err != nil {
			return
		}
		words = w
	}
	if len(words) < 2 || filepath.Base(words[0]) != "kill" {
		return
	}
	sig := "TERM"
	for i := 1; i < len(words); i++ {
		w := words[i]
		if w == "-s" && i+1 < len(words) {
			sig = strings.TrimPrefix(strings.ToUpper(words[i+1]), "SIG")
			i++
			continue
		}
		if strings.HasPrefix(w, "-") {
			sig = strings.TrimPrefix(strings.ToUpper(w[1:]), "SIG")
			continue
		}
		pid, err := strconv.Atoi(w)
		if err != nil {
			return // a shell expression: not understood
		}
		if p := r.proc(pid); p != nil && p.alive && sig != "STOP" && sig != "CONT" && sig != "0" && sig != "19" && sig != "18" {
			r.end(p)
		}
	}
}

// end ends a planned process; a namespace that only it kept alive goes.
func (r *Recorder) end(p *rproc) {
	p.alive = false
	n := p.ns
	if !n.alive || n.named || n.ns.Host || len(r.pidsIn(n)) > 0 {
		return
	}
	for _, e := range r.external {
		if e == n {
			return // attached by path: something else holds it
		}
	}
	r.destroy(n)
}

// Signal records a signal to a planned process ("" is its own exit).
func (r *Recorder) Signal(pid int, signal string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.proc(pid)
	if p == nil || !p.alive {
		return
	}
	if signal != "" {
		v := "$pid" + strconv.Itoa(p.n)
		r.record(Op{Op: "kill", Pid: pid, Signal: signal, Cmd: "kill -" + signal + " \"" + v + "\" || true"})
	} else {
		r.record(Op{Op: "wait", Pid: pid, Cmd: "wait \"$pid" + strconv.Itoa(p.n) + "\" || true"})
	}
	if signal != "STOP" && signal != "CONT" {
		r.end(p)
	}
}

// Alive reports whether a planned process still runs.
func (r *Recorder) Alive(pid int) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.proc(pid)
	return p != nil && p.alive
}

// Sleep advances the plan's clock.
func (r *Recorder) Sleep(d time.Duration) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.clock += d
	if r.clock > MaxWait {
		return fmt.Errorf("the script has slept %s in all: in a plan nothing it waits for happens (commands give no output), so it would wait forever", MaxWait)
	}
	return nil
}

// Checkpoint returns a function that puts the model and the record back
// as they are now.
func (r *Recorder) Checkpoint() func() {
	r.mu.Lock()
	defer r.mu.Unlock()
	snap := r.clone()
	return func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.restore(snap)
	}
}

type snapshot struct {
	host      *rns
	all       []*rns
	external  map[string]*rns
	nextIndex int
	nextMAC   int
	procs     []*rproc
	etc       map[string][]byte
	nops      int
	notes     int
}

// clone copies the model (namespaces keep their kernel.NS values, which
// the builtins hold).
func (r *Recorder) clone() *snapshot {
	nsMap := map[*rns]*rns{}
	linkMap := map[*rlink]*rlink{}
	procMap := map[*rproc]*rproc{}
	s := &snapshot{nextIndex: r.nextIndex, nextMAC: r.nextMAC, etc: map[string][]byte{}, external: map[string]*rns{},
		nops: len(r.ops), notes: r.notes}
	for _, n := range r.all {
		c := *n
		c.sysctl, c.rules, c.nsids = map[string]string{}, map[string][][]string{}, map[uint64]int{}
		for k, v := range n.sysctl {
			c.sysctl[k] = v
		}
		for k, v := range n.rules {
			c.rules[k] = append([][]string(nil), v...)
		}
		for k, v := range n.nsids {
			c.nsids[k] = v
		}
		nsMap[n] = &c
	}
	for _, n := range r.all {
		for _, l := range n.links {
			c := *l
			c.addrs = append([]*net.IPNet(nil), l.addrs...)
			linkMap[l] = &c
		}
	}
	for _, p := range r.procs {
		c := *p
		procMap[p] = &c
	}
	for _, n := range r.all {
		c := nsMap[n]
		c.links = nil
		for _, l := range n.links {
			cl := linkMap[l]
			cl.ns = c
			if l.master != nil {
				cl.master = linkMap[l.master]
			}
			if l.peer != nil {
				cl.peer = linkMap[l.peer]
			}
			c.links = append(c.links, cl)
		}
		c.routes = nil
		for _, rt := range n.routes {
			crt := *rt
			crt.dev = linkMap[rt.dev]
			c.routes = append(c.routes, &crt)
		}
		if n.creator != nil {
			c.creator = procMap[n.creator]
		}
		s.all = append(s.all, c)
	}
	s.host = nsMap[r.host]
	for k, v := range r.external {
		s.external[k] = nsMap[v]
	}
	for _, p := range r.procs {
		c := procMap[p]
		c.ns = nsMap[p.ns]
		s.procs = append(s.procs, c)
	}
	for k, v := range r.etc {
		s.etc[k] = v
	}
	return s
}

func (r *Recorder) restore(s *snapshot) {
	r.host, r.all, r.external, r.nextIndex, r.nextMAC, r.procs, r.etc = s.host, s.all, s.external, s.nextIndex, s.nextMAC, s.procs, s.etc
	r.ops = r.ops[:s.nops]
	r.notes = s.notes
}

// Label names a namespace a planned process made after its $pidN.
func (r *Recorder) Label(ns *kernel.NS) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, n := range r.all {
		if n.ns == ns && n.creator != nil {
			return "netns of $pid" + strconv.Itoa(n.creator.n)
		}
	}
	return ""
}

func nsLabel(ns *kernel.NS) string {
	switch {
	case ns.Host:
		return "host"
	case ns.Name != "":
		return ns.Name
	}
	return ns.Path
}
