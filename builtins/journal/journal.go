// Package journal makes nsscript know exactly what it made. It wraps the
// builtins' Kernel: before each change a run makes, it appends a record
// of how to undo it to /run/nsscript/LAB/journal, so that `nsscript down
// LAB` (even after kill -9) or a failed run's rollback can undo exactly
// that, in reverse order, and never touch what it did not make.
//
// Records are plain write(2)s to a file in /run (a tmpfs): a killed
// process loses nothing it wrote, and no fsync sits on the hot path.
package journal

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/nsscript/nsscript/builtins"
	"github.com/nsscript/nsscript/builtins/kernel"
)

// Dir holds one directory per lab.
const Dir = "/run/nsscript"

// NSRef names a namespace in a way another process can find it again.
type NSRef struct {
	Host  bool   `json:"host,omitempty"`
	Name  string `json:"name,omitempty"`
	Path  string `json:"path,omitempty"`
	Inode uint64 `json:"inode,omitempty"`
}

func ref(ns *kernel.NS) *NSRef {
	switch {
	case ns.Host:
		return &NSRef{Host: true, Inode: ns.Inode}
	case ns.Name != "":
		return &NSRef{Name: ns.Name, Inode: ns.Inode}
	}
	return &NSRef{Path: ns.Path, Inode: ns.Inode}
}

func (r *NSRef) String() string {
	switch {
	case r == nil:
		return "?"
	case r.Host:
		return "host"
	case r.Name != "":
		return r.Name
	}
	return r.Path
}

// Route is a route as the journal keeps it (devices by name).
type Route struct {
	Dst    string `json:"dst"` // "" for default
	Via    string `json:"via,omitempty"`
	Dev    string `json:"dev,omitempty"`
	Metric int    `json:"metric,omitempty"`
	Table  int    `json:"table,omitempty"`
}

// Record is one change and what undoes it.
type Record struct {
	Op     string   `json:"op"`
	NS     *NSRef   `json:"ns,omitempty"`
	Name   string   `json:"name,omitempty"` // link, namespace, sysctl key or /etc file
	Kind   string   `json:"kind,omitempty"`
	Peer   string   `json:"peer,omitempty"`
	PeerNS *NSRef   `json:"peer_ns,omitempty"`
	To     *NSRef   `json:"to,omitempty"`
	Old    string   `json:"old,omitempty"`
	Has    bool     `json:"has,omitempty"`
	Data   []byte   `json:"data,omitempty"`
	Route  *Route   `json:"route,omitempty"`
	Prev   *Route   `json:"prev,omitempty"`
	Table  string   `json:"table,omitempty"`
	Chain  string   `json:"chain,omitempty"`
	Spec   []string `json:"spec,omitempty"`
	Pid    int      `json:"pid,omitempty"`
	Start  uint64   `json:"start,omitempty"`
	Argv   []string `json:"argv,omitempty"`
	Token  string   `json:"token,omitempty"` // OwnerEnv's value in a started process
	// A device of the host's that moves loses its addresses, master,
	// up state and routes: "move" keeps them to put them back.
	Addrs  []string `json:"addrs,omitempty"`
	Master string   `json:"master,omitempty"`
	Routes []Route  `json:"routes,omitempty"`
	Lab    string   `json:"lab,omitempty"` // shared_sysctl: the lab among its users
}

// OwnerEnv marks the environment of every process a run starts with the
// run's token (LAB:RUN). Children inherit it, also those that leave their
// parent and process group (a daemon that double-forks), so undo finds
// the whole tree in /proc/PID/environ. (One token per run, not per
// process: every command of a run sees the same environment.)
const OwnerEnv = "NSSCRIPT_OWNER"

// ErrBusy is returned when another run holds the lab.
var ErrBusy = errors.New("lab is in use")

type linkKey struct {
	ns   uint64
	name string
}

// Kernel is a builtins.Kernel that journals every change before making it.
type Kernel struct {
	builtins.Kernel
	Lab string

	dir     string
	lock    *os.File
	file    *os.File
	start   int64  // where this run's records begin
	n       int    // records written by this run
	token   string // OwnerEnv's value in the processes this run starts
	spawned bool   // the token is journaled

	createdNS    map[uint64]bool
	createdLinks map[linkKey]bool
	// ownedIdx: devices of the lab's, by index, as lookups meet them, so
	// that a change to one needs no lookup to know it needs no record.
	// (The kernel does not reuse an index in a namespace soon.)
	ownedIdx map[idxKey]bool
}

type idxKey struct {
	ns    uint64
	index int
}

// Open returns the journaling kernel for a lab. It changes nothing: a new
// lab's directory and lock are taken at the first change (so a script that
// only looks makes no lab), an existing lab's at once; a lab another run
// holds is refused then, before anything is made.
func Open(inner builtins.Kernel, lab string) (*Kernel, error) {
	k := &Kernel{Kernel: inner, Lab: lab, dir: filepath.Join(Dir, lab),
		createdNS: map[uint64]bool{}, createdLinks: map[linkKey]bool{}, ownedIdx: map[idxKey]bool{}}
	var id [8]byte
	if _, err := rand.Read(id[:]); err != nil {
		return nil, err
	}
	k.token = lab + ":" + hex.EncodeToString(id[:])
	// What earlier runs of the lab made counts as made by the lab.
	recs, err := readRecords(filepath.Join(k.dir, "journal"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	for _, r := range recs {
		k.note(r)
	}
	if len(recs) > 0 {
		// The lab exists: take it now, so that a second run of a lab
		// another run holds is refused before its script does anything.
		if err := k.begin(); err != nil {
			return nil, err
		}
	}
	return k, nil
}

// begin takes the lab and opens its journal for this run's records.
func (k *Kernel) begin() error {
	if k.file != nil {
		return nil
	}
	if err := os.MkdirAll(k.dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", k.dir, err)
	}
	lock, err := takeLock(k.dir, k.Lab)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(filepath.Join(k.dir, "journal"), os.O_RDWR|os.O_CREATE|os.O_APPEND|unix.O_CLOEXEC, 0o644)
	if err != nil {
		lock.Close()
		return err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		lock.Close()
		return err
	}
	k.lock, k.file, k.start = lock, f, st.Size()
	return nil
}

// takeLock holds the lab for this process; the kernel drops it if the
// process dies, so a kill -9 never leaves a lab locked.
func takeLock(dir, lab string) (*os.File, error) {
	lock, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return nil, err
	}
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		b, _ := os.ReadFile(filepath.Join(dir, "owner"))
		lock.Close()
		who := strings.TrimSpace(string(b))
		if who == "" {
			who = "another nsscript"
		}
		return nil, fmt.Errorf("%w: lab %q is held by %s; wait for it to finish, or give this run another lab with --lab NAME", ErrBusy, lab, who)
	}
	_ = os.WriteFile(filepath.Join(dir, "owner"), []byte(fmt.Sprintf("pid %d (%s)\n", os.Getpid(), strings.Join(os.Args, " "))), 0o644)
	return lock, nil
}

// note updates what the lab is known to have made.
func (k *Kernel) note(r Record) {
	switch r.Op {
	case "netns_inode":
		k.createdNS[r.NS.Inode] = true
	case "link":
		k.createdLinks[linkKey{r.NS.Inode, r.Name}] = true
		if r.Peer != "" {
			k.createdLinks[linkKey{r.PeerNS.Inode, r.Peer}] = true
		}
	case "rename":
		if k.createdLinks[linkKey{r.NS.Inode, r.Old}] {
			delete(k.createdLinks, linkKey{r.NS.Inode, r.Old})
			k.createdLinks[linkKey{r.NS.Inode, r.Name}] = true
		}
	case "move":
		if k.createdLinks[linkKey{r.NS.Inode, r.Name}] {
			delete(k.createdLinks, linkKey{r.NS.Inode, r.Name})
			k.createdLinks[linkKey{r.To.Inode, r.Name}] = true
		}
	}
}

func (k *Kernel) write(r Record) error {
	if err := k.begin(); err != nil {
		return err
	}
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if _, err := k.file.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	k.n++
	k.note(r)
	return nil
}

// owned reports changes that need no record of their own: everything in
// a namespace the lab created goes with it.
func (k *Kernel) owned(ns *kernel.NS) bool { return k.createdNS[ns.Inode] }

func (k *Kernel) linkOwned(ns *kernel.NS, name string) bool {
	return k.createdNS[ns.Inode] || k.createdLinks[linkKey{ns.Inode, name}]
}

func (k *Kernel) linkName(ns *kernel.NS, index int) (*kernel.LinkInfo, error) {
	return k.LinkByIndex(ns, index)
}

// indexOwned is linkOwned for a device known by index: true when the lab
// made its namespace, or a lookup has met it as the lab's.
func (k *Kernel) indexOwned(ns *kernel.NS, index int) bool {
	return k.createdNS[ns.Inode] || k.ownedIdx[idxKey{ns.Inode, index}]
}

func (k *Kernel) seen(ns *kernel.NS, li *kernel.LinkInfo) {
	if k.createdLinks[linkKey{ns.Inode, li.Name}] {
		k.ownedIdx[idxKey{ns.Inode, li.Index}] = true
	}
}

func (k *Kernel) LinkByName(ns *kernel.NS, name string) (*kernel.LinkInfo, error) {
	li, err := k.Kernel.LinkByName(ns, name)
	if err == nil {
		k.seen(ns, li)
	}
	return li, err
}

func (k *Kernel) LinkByIndex(ns *kernel.NS, index int) (*kernel.LinkInfo, error) {
	li, err := k.Kernel.LinkByIndex(ns, index)
	if err == nil {
		k.seen(ns, li)
	}
	return li, err
}

// --- namespaces ---

func (k *Kernel) CreateNamed(name string) (*kernel.NS, bool, error) {
	if ns, err := k.Kernel.OpenNamed(name); err == nil {
		return ns, false, nil
	}
	if _, err := os.Stat(kernel.NetnsDir); errors.Is(err, os.ErrNotExist) {
		if err := k.write(Record{Op: "netns_dir"}); err != nil {
			return nil, false, err
		}
	}
	// The inode is known only once it exists: journal by name first, then
	// the record that marks it as the lab's.
	if err := k.write(Record{Op: "netns", NS: &NSRef{Name: name}}); err != nil {
		return nil, false, err
	}
	ns, created, err := k.Kernel.CreateNamed(name)
	if err == nil && created {
		k.createdNS[ns.Inode] = true
		err = k.write(Record{Op: "netns_inode", NS: ref(ns)})
	}
	return ns, created, err
}

func (k *Kernel) Sysctl(ns *kernel.NS, key string, value *string) (string, error) {
	if value == nil || k.owned(ns) {
		return k.Kernel.Sysctl(ns, key, value)
	}
	return k.sharedSysctl(ns, key, *value)
}

// --- devices ---

func (k *Kernel) AddVeth(ns *kernel.NS, name string, peerNS *kernel.NS, peer string, mtu int) (int, error) {
	var index int
	add := func() (err error) {
		index, err = k.Kernel.AddVeth(ns, name, peerNS, peer, mtu)
		return err
	}
	var err error
	if k.owned(ns) && k.owned(peerNS) {
		err = add()
	} else {
		err = k.tentative(Record{Op: "link", Kind: "veth", NS: ref(ns), Name: name, PeerNS: ref(peerNS), Peer: peer}, add)
	}
	if err == nil && index != 0 {
		k.ownedIdx[idxKey{ns.Inode, index}] = true
	}
	return index, err
}

func (k *Kernel) addLink(ns *kernel.NS, name, kind string, add func() error) error {
	if k.owned(ns) {
		return add()
	}
	return k.tentative(Record{Op: "link", Kind: kind, NS: ref(ns), Name: name}, add)
}

// tentative journals the creation rec before making it, and takes the
// record back if the kernel refuses (a name already taken, say): the
// device there is not the lab's, and down must not delete it.
func (k *Kernel) tentative(rec Record, create func() error) error {
	if err := k.begin(); err != nil {
		return err
	}
	st, err := k.file.Stat()
	if err != nil {
		return err
	}
	keys := []linkKey{{rec.NS.Inode, rec.Name}}
	if rec.Peer != "" {
		keys = append(keys, linkKey{rec.PeerNS.Inode, rec.Peer})
	}
	had := make([]bool, len(keys))
	for i, key := range keys {
		had[i] = k.createdLinks[key]
	}
	if err := k.write(rec); err != nil {
		return err
	}
	cerr := create()
	if cerr == nil {
		return nil
	}
	if err := k.file.Truncate(st.Size()); err != nil {
		return fmt.Errorf("%w (and taking its journal record back failed: %v)", cerr, err)
	}
	k.n--
	for i, key := range keys {
		if !had[i] {
			delete(k.createdLinks, key)
		}
	}
	return cerr
}

func (k *Kernel) AddBridge(ns *kernel.NS, name string) error {
	return k.addLink(ns, name, "bridge", func() error { return k.Kernel.AddBridge(ns, name) })
}

func (k *Kernel) AddDummy(ns *kernel.NS, name string) error {
	return k.addLink(ns, name, "dummy", func() error { return k.Kernel.AddDummy(ns, name) })
}

// attr journals the old value of a device attribute before it changes,
// unless the lab made the device (it goes away whole).
func (k *Kernel) attr(ns *kernel.NS, index int, op string, old func(*kernel.LinkInfo) string, change func() error) error {
	if k.indexOwned(ns, index) {
		return change()
	}
	li, err := k.linkName(ns, index)
	if err != nil {
		return err
	}
	if !k.linkOwned(ns, li.Name) {
		if err := k.write(Record{Op: op, NS: ref(ns), Name: li.Name, Old: old(li)}); err != nil {
			return err
		}
	}
	return change()
}

func boolStr(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// upRecord is the "up" record of a device of the host's about to go up or
// down, with what the kernel changes on the side: loopback gets
// 127.0.0.1/8 the first time it comes up (and keeps it when it goes down
// again), and a device that goes down loses the routes through it.
func (k *Kernel) upRecord(ns *kernel.NS, li *kernel.LinkInfo, up bool) Record {
	rec := Record{Op: "up", NS: ref(ns), Name: li.Name, Old: boolStr(li.Up)}
	if up && li.Kind == "loopback" {
		rec.Kind = "loopback" // Addrs are what it had, possibly none
		rec.Addrs, _ = k.Kernel.Addrs(ns, li.Index)
	}
	if !up {
		rec.Routes = k.devRoutes(ns, li.Index)
	}
	return rec
}

func (k *Kernel) SetUp(ns *kernel.NS, index int, up bool) error {
	if k.indexOwned(ns, index) {
		return k.Kernel.SetUp(ns, index, up)
	}
	li, err := k.linkName(ns, index)
	if err != nil {
		return err
	}
	if li.Up != up && !k.linkOwned(ns, li.Name) {
		if err := k.write(k.upRecord(ns, li, up)); err != nil {
			return err
		}
	}
	return k.Kernel.SetUp(ns, index, up)
}

func (k *Kernel) SetUpByName(ns *kernel.NS, name string) error {
	if !k.linkOwned(ns, name) {
		li, err := k.Kernel.LinkByName(ns, name)
		if err != nil {
			return err
		}
		if !li.Up {
			if err := k.write(k.upRecord(ns, li, true)); err != nil {
				return err
			}
		}
	}
	return k.Kernel.SetUpByName(ns, name)
}

func (k *Kernel) SetMTU(ns *kernel.NS, index, mtu int) error {
	return k.attr(ns, index, "mtu", func(li *kernel.LinkInfo) string { return strconv.Itoa(li.MTU) },
		func() error { return k.Kernel.SetMTU(ns, index, mtu) })
}

func (k *Kernel) SetMAC(ns *kernel.NS, index int, mac net.HardwareAddr) error {
	return k.attr(ns, index, "mac", func(li *kernel.LinkInfo) string { return li.MAC },
		func() error { return k.Kernel.SetMAC(ns, index, mac) })
}

func (k *Kernel) SetMaster(ns *kernel.NS, index, master int) error {
	// A bridge takes the lowest mac of its ports, and keeps it when the
	// port leaves (or gets all zeroes): keep a bridge's own to put it back.
	if master != 0 && !k.indexOwned(ns, master) {
		br, err := k.LinkByIndex(ns, master)
		if err != nil {
			return err
		}
		if !k.linkOwned(ns, br.Name) {
			if err := k.write(Record{Op: "mac", NS: ref(ns), Name: br.Name, Old: br.MAC}); err != nil {
				return err
			}
		}
	}
	return k.attr(ns, index, "master", func(li *kernel.LinkInfo) string {
		if li.MasterIndex == 0 {
			return ""
		}
		if m, err := k.Kernel.LinkByIndex(ns, li.MasterIndex); err == nil {
			return m.Name
		}
		return ""
	}, func() error { return k.Kernel.SetMaster(ns, index, master) })
}

func (k *Kernel) SetName(ns *kernel.NS, index int, name string) error {
	li, err := k.linkName(ns, index)
	if err != nil {
		return err
	}
	// Renames are always journaled: undoing them lets later records (and
	// the device's own creation record) find the device by its name.
	if err := k.write(Record{Op: "rename", NS: ref(ns), Name: name, Old: li.Name}); err != nil {
		return err
	}
	return k.Kernel.SetName(ns, index, name)
}

func (k *Kernel) Move(ns *kernel.NS, index int, target *kernel.NS) error {
	li, err := k.linkName(ns, index)
	if err != nil {
		return err
	}
	rec := Record{Op: "move", NS: ref(ns), To: ref(target), Name: li.Name}
	if !k.linkOwned(ns, li.Name) {
		// What the device loses on the way, to put back when it returns.
		rec.Old = boolStr(li.Up)
		if rec.Addrs, err = k.Kernel.Addrs(ns, index); err != nil {
			return err
		}
		if li.MasterIndex != 0 {
			if m, err := k.Kernel.LinkByIndex(ns, li.MasterIndex); err == nil {
				rec.Master = m.Name
			}
		}
		rec.Routes = k.devRoutes(ns, index)
	}
	if err := k.write(rec); err != nil {
		return err
	}
	return k.Kernel.Move(ns, index, target)
}

// devRoutes lists the routes through a device that the kernel did not
// make itself (those come back with the device's addresses).
func (k *Kernel) devRoutes(ns *kernel.NS, index int) []Route {
	rs, err := k.Kernel.Routes(ns, 0)
	if err != nil {
		return nil
	}
	var out []Route
	for _, r := range rs {
		if r.DevIndex == index && !r.Kernel {
			out = append(out, *k.routeRec(ns, r))
		}
	}
	return out
}

// --- addresses and routes ---

func (k *Kernel) AddAddr(ns *kernel.NS, index int, cidr *net.IPNet) error {
	return k.addrChange(ns, index, "addr", cidr, func() error { return k.Kernel.AddAddr(ns, index, cidr) })
}

func (k *Kernel) DelAddr(ns *kernel.NS, index int, cidr *net.IPNet) error {
	return k.addrChange(ns, index, "addr_del", cidr, func() error { return k.Kernel.DelAddr(ns, index, cidr) })
}

// addrChange journals an address added or deleted: the record names the
// address, which undo deletes or puts back.
func (k *Kernel) addrChange(ns *kernel.NS, index int, op string, cidr *net.IPNet, change func() error) error {
	return k.attr(ns, index, op, func(*kernel.LinkInfo) string { return cidr.String() }, change)
}

func (k *Kernel) routeRec(ns *kernel.NS, r kernel.RouteInfo) *Route {
	out := &Route{Metric: r.Metric, Table: r.Table}
	if r.Dst != nil {
		out.Dst = r.Dst.String()
	}
	if r.Via != nil {
		out.Via = r.Via.String()
	}
	if r.DevIndex != 0 {
		if li, err := k.Kernel.LinkByIndex(ns, r.DevIndex); err == nil {
			out.Dev = li.Name
		}
	}
	return out
}

func (k *Kernel) ReplaceRoute(ns *kernel.NS, r kernel.RouteInfo) error {
	if k.owned(ns) {
		return k.Kernel.ReplaceRoute(ns, r)
	}
	rec := Record{Op: "route", NS: ref(ns), Route: k.routeRec(ns, r)}
	// A route replace overwrites the route with the same destination,
	// table and metric (its "key"): keep it to put it back.
	if rs, err := k.Kernel.Routes(ns, r.Table); err == nil {
		for _, old := range rs {
			if sameNet(old.Dst, r.Dst) && old.Metric == r.Metric {
				rec.Prev = k.routeRec(ns, old)
				break
			}
		}
	}
	if err := k.write(rec); err != nil {
		return err
	}
	return k.Kernel.ReplaceRoute(ns, r)
}

func sameNet(a, b *net.IPNet) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.String() == b.String()
}

// --- iptables, /etc/netns, processes ---

func (k *Kernel) AppendRule(ns *kernel.NS, table, chain string, spec []string) error {
	if !k.owned(ns) {
		if err := k.write(Record{Op: "rule", NS: ref(ns), Table: table, Chain: chain, Spec: spec}); err != nil {
			return err
		}
	}
	return k.Kernel.AppendRule(ns, table, chain, spec)
}

func (k *Kernel) WriteEtc(name, file string, content []byte) (string, error) {
	p := filepath.Join(kernel.EtcNetnsDir, name, file)
	rec := Record{Op: "etc", Name: p}
	if old, err := os.ReadFile(p); err == nil {
		rec.Has, rec.Data = true, old
	}
	// Directories that do not exist yet are removed again when empty.
	for _, d := range []string{kernel.EtcNetnsDir, filepath.Dir(p)} {
		if _, err := os.Stat(d); errors.Is(err, os.ErrNotExist) {
			if err := k.write(Record{Op: "etc_dir", Name: d}); err != nil {
				return "", err
			}
		}
	}
	if err := k.write(rec); err != nil {
		return "", err
	}
	return k.Kernel.WriteEtc(name, file, content)
}

// Start journals the token the process will carry before the run's first
// start (killed right after a start, nsscript still leaves a trace that
// finds the process), then each process itself.
func (k *Kernel) Start(ns *kernel.NS, argv, env []string, stdio kernel.Stdio) (*exec.Cmd, error) {
	token := k.token
	if !k.spawned {
		if err := k.write(Record{Op: "spawn", NS: ref(ns), Argv: argv, Token: token}); err != nil {
			return nil, err
		}
		k.spawned = true
	}
	marked := make([]string, 0, len(env)+1)
	for _, kv := range env {
		if !strings.HasPrefix(kv, OwnerEnv+"=") {
			marked = append(marked, kv)
		}
	}
	marked = append(marked, OwnerEnv+"="+token)
	cmd, err := k.Kernel.Start(ns, argv, marked, stdio)
	if err != nil {
		return nil, err
	}
	pid := cmd.Process.Pid
	if werr := k.write(Record{Op: "proc", NS: ref(ns), Pid: pid, Start: startTime(pid), Argv: argv, Token: token}); werr != nil {
		return cmd, werr
	}
	return cmd, nil
}

// startTime tells a process from a later one that reuses its pid.
func startTime(pid int) uint64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 20 {
		return 0
	}
	v, _ := strconv.ParseUint(f[19], 10, 64)
	return v
}

// readRecords reads a journal; a torn last line (a kill during a write) is
// ignored.
func readRecords(path string) ([]Record, error) { return readRecordsFrom(path, 0) }

// readRecordsFrom reads the records that begin at or after offset.
func readRecordsFrom(path string, offset int64) ([]Record, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if _, err := f.Seek(offset, 0); err != nil {
		return nil, err
	}
	var out []Record
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	for sc.Scan() {
		var r Record
		if json.Unmarshal(sc.Bytes(), &r) == nil && r.Op != "" {
			out = append(out, r)
		}
	}
	return out, sc.Err()
}

// Records is this lab's journal so far.
func (k *Kernel) Records() ([]Record, error) { return readRecords(filepath.Join(k.dir, "journal")) }

// Close ends the run, keeping what it made. A lab that holds nothing
// leaves no directory behind.
func (k *Kernel) Close() error {
	if k.file == nil {
		return nil
	}
	st, err := k.file.Stat()
	empty := err == nil && st.Size() == 0
	k.file.Close()
	if empty {
		os.RemoveAll(k.dir)
		os.Remove(Dir) // only when no other lab is there
	}
	return k.lock.Close()
}

// Rollback undoes what this run made, newest first, and forgets it.
func (k *Kernel) Rollback(u *Undoer) []error {
	if k.file == nil {
		return nil
	}
	mine, err := readRecordsFrom(k.file.Name(), k.start)
	if err != nil {
		return []error{err}
	}
	errs := u.Undo(mine)
	if err := k.file.Truncate(k.start); err != nil {
		errs = append(errs, err)
	}
	return errs
}
