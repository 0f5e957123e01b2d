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
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/nsscript/nsscript/builtins/kernel"
	"github.com/nsscript/nsscript/builtins/names"
)

// Dir holds one directory per lab. (A variable only so that the
// journal's own tests can work in a directory of theirs.)
var Dir = "/run/nsscript"

// OwnerEnv marks the processes a run starts (see kernel.OwnerEnv).
const OwnerEnv = kernel.OwnerEnv

// ErrBusy is returned when another run holds the lab.
var ErrBusy = errors.New("lab is in use")

type linkKey struct {
	ns   uint64 // nsKey of its namespace
	name string
}

// Kernel is a kernel.Kernel that journals every change before making it.
// It reads through the kernel it wraps (the embedded Reader) and writes
// only through methods of its own: every method of kernel.Writer is here,
// each saying what it journals or why it needs no record, so a change the
// journal does not know of cannot compile through it. It is also the
// builtins' Ownership: what the lab made.
type Kernel struct {
	kernel.Reader
	in  kernel.Kernel // what it wraps
	Lab string
	// Problems are the lines of the lab's journal that Open skipped.
	Problems []Problem

	dir     string
	lock    *os.File
	file    *os.File
	start   int64  // where this run's records begin
	n       int    // records written by this run
	token   string // OwnerEnv's value in the processes this run starts
	spawned bool   // the token is journaled
	cgroup  *os.File

	createdNS map[uint64]bool // by nsKey
	// createdLinks: the devices the lab made in namespaces it did not
	// make, with the MAC that tells them apart from a later namesake.
	createdLinks map[linkKey]string
	// ownedIdx: devices of the lab's, by index, as lookups meet them, so
	// that a change to one needs no lookup to know it needs no record
	// (the kernel does not reuse an index in a namespace soon); with the
	// device's name and, for one the lab made outside its namespaces, the
	// key of its record.
	ownedIdx map[idxKey]ownedDev

	// The apply (see apply.go).
	earlier     []Record        // what earlier runs of the lab made
	earlierKeys map[string]bool // their keys
	declared    map[string]bool // what this run declared
	thisRun     []Record        // what this run wrote
	thisKeys    map[string]bool // their keys
	dups        bool            // this run wrote a key that was there
	madeNS      map[uint64]bool // namespaces this run made (nothing was there before)
	claimSeq    int             // creation calls so far
	claimedAt   map[string]int  // the creation call that first met a device of an earlier run
	where       map[string]place
	origins     map[linkKey]origin
}

type ownedDev struct {
	name string
	key  string // the device's link record, if it is outside the lab's namespaces
}

type idxKey struct {
	ns    uint64
	index int
}

// Open returns the journaling kernel for a lab. It changes nothing: a new
// lab's directory and lock are taken at the first change (so a script that
// only looks makes no lab), an existing lab's at once; a lab another run
// holds is refused then, before anything is made.
func Open(inner kernel.Kernel, lab string) (*Kernel, error) {
	if err := names.Lab(lab); err != nil {
		return nil, err
	}
	k := &Kernel{Reader: inner, in: inner, Lab: lab, dir: filepath.Join(Dir, lab),
		createdNS: map[uint64]bool{}, createdLinks: map[linkKey]string{}, ownedIdx: map[idxKey]ownedDev{},
		earlierKeys: map[string]bool{}, declared: map[string]bool{}, thisKeys: map[string]bool{}, madeNS: map[uint64]bool{}, claimedAt: map[string]int{},
		where: map[string]place{}, origins: map[linkKey]origin{}}
	var id [8]byte
	if _, err := rand.Read(id[:]); err != nil {
		return nil, err
	}
	k.token = lab + ":" + hex.EncodeToString(id[:])
	// What earlier runs of the lab made counts as made by the lab.
	recs, probs, err := readRecords(filepath.Join(k.dir, "journal"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	k.Problems = probs
	k.earlier = recs
	for _, r := range recs {
		k.note(r)
		k.earlierKeys[recKey(r)] = true
	}
	if len(recs) > 0 || len(probs) > 0 {
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
	if err := labDir(k.dir); err != nil {
		return err
	}
	lock, err := takeLock(k.dir, k.Lab)
	if err != nil {
		return err
	}
	f, err := openRegular(filepath.Join(k.dir, "journal"), os.O_RDWR|os.O_CREATE|os.O_APPEND)
	if err != nil {
		lock.Close()
		return err
	}
	st, err := f.Stat()
	if err == nil && st.Size() > 0 {
		// A run killed in the middle of a write left a torn last line:
		// end it, so that this run's first record starts a line of its own.
		last := make([]byte, 1)
		if _, err = f.ReadAt(last, st.Size()-1); err == nil && last[0] != '\n' {
			if _, err = f.Write([]byte{'\n'}); err == nil {
				st, err = f.Stat()
			}
		}
	}
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
	lock, err := openRegular(filepath.Join(dir, "lock"), os.O_RDWR|os.O_CREATE)
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
	if f, err := openRegular(filepath.Join(dir, "owner"), os.O_WRONLY|os.O_CREATE|os.O_TRUNC); err == nil {
		fmt.Fprintf(f, "pid %d (%s)\n", os.Getpid(), strings.Join(os.Args, " "))
		f.Close()
	}
	return lock, nil
}

// labDir makes a lab's directory, readable by root only (a journal keeps
// the old contents of the files a lab replaced), or checks the one there:
// a directory, not a link to one.
func labDir(dir string) error {
	if err := os.MkdirAll(Dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", Dir, err)
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	if st, err := os.Lstat(dir); err != nil || !st.IsDir() {
		return fmt.Errorf("%s is not a directory (a link?): nsscript keeps its labs' journals there; remove it", dir)
	}
	return os.Chmod(dir, 0o700)
}

// nsKey is how the lab tells namespaces apart: by cookie, which the
// kernel never reuses (by inode on kernels without cookies).
func (k *Kernel) nsKey(ns *kernel.NS) uint64 {
	if c := k.Reader.Cookie(ns); c != 0 {
		return c
	}
	return ns.Inode
}

func refKey(r *NSRef) uint64 {
	if r.Cookie != 0 {
		return r.Cookie
	}
	return r.Inode
}

func (k *Kernel) ref(ns *kernel.NS) *NSRef {
	c := k.Reader.Cookie(ns)
	switch {
	case ns.Host:
		return &NSRef{Host: true, Inode: ns.Inode, Cookie: c}
	case ns.Name != "":
		return &NSRef{Name: ns.Name, Inode: ns.Inode, Cookie: c}
	}
	return &NSRef{Path: ns.Path, Inode: ns.Inode, Cookie: c}
}

// note updates what the lab is known to have made.
func (k *Kernel) note(r Record) {
	k.track(r)
	switch r.Op {
	case "netns", "netns_inode":
		if r.NS.Inode != 0 {
			k.createdNS[refKey(r.NS)] = true
		}
	case "link":
		k.createdLinks[linkKey{refKey(r.NS), r.Name}] = r.MAC
		if r.Peer != "" {
			k.createdLinks[linkKey{refKey(r.PeerNS), r.Peer}] = r.PeerMAC
		}
	case "ident":
		k.createdLinks[linkKey{refKey(r.NS), r.Name}] = r.MAC
	case "rename":
		if mac, ok := k.createdLinks[linkKey{refKey(r.NS), r.Old}]; ok {
			delete(k.createdLinks, linkKey{refKey(r.NS), r.Old})
			k.createdLinks[linkKey{refKey(r.NS), r.Name}] = mac
		}
	case "move":
		if mac, ok := k.createdLinks[linkKey{refKey(r.NS), r.Name}]; ok {
			delete(k.createdLinks, linkKey{refKey(r.NS), r.Name})
			k.createdLinks[linkKey{refKey(r.To), r.Name}] = mac
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
	key := recKey(r)
	if k.declare(key) || k.thisKeys[key] {
		k.dups = true
	}
	k.thisKeys[key] = true
	k.thisRun = append(k.thisRun, r)
	return nil
}

// mark is where the journal ends now, for takeBack.
func (k *Kernel) mark() (int64, error) {
	if err := k.begin(); err != nil {
		return 0, err
	}
	st, err := k.file.Stat()
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}

// takeBack removes the records written since mark (n of them): what they
// announced did not happen, and undo must not act on it. forget undoes
// what note learnt from them.
func (k *Kernel) takeBack(mark int64, n int, forget func()) error {
	if err := k.file.Truncate(mark); err != nil {
		return err
	}
	k.n -= n
	forget()
	return nil
}

// owned reports changes that need no record of their own: everything in
// a namespace the lab created goes with it.
func (k *Kernel) owned(ns *kernel.NS) bool { return k.createdNS[k.nsKey(ns)] }

func (k *Kernel) linkOwned(ns *kernel.NS, name string) bool {
	key := k.nsKey(ns)
	if k.createdNS[key] {
		return true
	}
	_, ok := k.createdLinks[linkKey{key, name}]
	return ok
}

func (k *Kernel) linkName(ns *kernel.NS, index int) (*kernel.LinkInfo, error) {
	return k.LinkByIndex(ns, index)
}

// indexOwned is linkOwned for a device known by index: true when the lab
// made its namespace, or a lookup has met it as the lab's.
func (k *Kernel) indexOwned(ns *kernel.NS, index int) bool {
	key := k.nsKey(ns)
	if k.createdNS[key] {
		return true
	}
	_, ok := k.ownedIdx[idxKey{key, index}]
	return ok
}

// seen notes the name and index of a device of the lab's (in a namespace
// it made, or one it made elsewhere), which changes name by index only.
func (k *Kernel) seen(ns *kernel.NS, li *kernel.LinkInfo) {
	key := k.nsKey(ns)
	mac, made := k.createdLinks[linkKey{key, li.Name}]
	switch {
	case made:
		k.ownedIdx[idxKey{key, li.Index}] = ownedDev{name: li.Name, key: k.linkRecKey(mac)}
	case k.createdNS[key]:
		k.ownedIdx[idxKey{key, li.Index}] = ownedDev{name: li.Name}
	}
}

// linkRecKey is the key of the link record of the lab's device with mac.
func (k *Kernel) linkRecKey(mac string) string {
	for _, o := range k.origins {
		if o.mac == mac {
			return o.key
		}
	}
	return "link " + mac
}

// within is the key of what the lab made that holds a change in ns (to
// device index, 0 for none): the lab's namespace, or the lab's device
// outside its namespaces; "" when neither.
func (k *Kernel) within(ns *kernel.NS, index int) string {
	key := k.nsKey(ns)
	if k.createdNS[key] {
		return "netns " + ns.Name
	}
	if d, ok := k.ownedIdx[idxKey{key, index}]; ok && index != 0 {
		return d.key
	}
	return ""
}

// devName is the name of the device index of ns as far as the journal
// knows it, without asking the kernel when it can.
func (k *Kernel) devName(ns *kernel.NS, index int) string {
	if d, ok := k.ownedIdx[idxKey{k.nsKey(ns), index}]; ok {
		return d.name
	}
	if li, err := k.LinkByIndex(ns, index); err == nil {
		return li.Name
	}
	return "if" + strconv.Itoa(index)
}

func (k *Kernel) LinkByName(ns *kernel.NS, name string) (*kernel.LinkInfo, error) {
	li, err := k.Reader.LinkByName(ns, name)
	if err == nil {
		k.seen(ns, li)
	}
	return li, err
}

func (k *Kernel) LinkByIndex(ns *kernel.NS, index int) (*kernel.LinkInfo, error) {
	li, err := k.Reader.LinkByIndex(ns, index)
	if err == nil {
		k.seen(ns, li)
	}
	return li, err
}

// --- namespaces ---

// CreateNamed journals the namespace, with what identifies it, before it
// gets its name; if another process took the name meanwhile, the record
// is taken back and the namespace is adopted (the lab did not make it).
func (k *Kernel) CreateNamed(name string, lo bool, claim func(kernel.NetnsClaim) error) (*kernel.NS, bool, error) {
	for {
		ns, created, err := k.createNamed(name, lo, claim)
		if err == nil && !created && k.owned(ns) {
			k.declare("netns " + name) // the lab's, from an earlier run
		}
		if err != nil || created || k.owned(ns) {
			if created {
				k.madeNS[k.nsKey(ns)] = true
			}
			return ns, created, err
		}
		// Adopted: the lab joins the namespace's users, unless its maker
		// deleted it meanwhile; then the lab makes it itself. (The host's
		// own namespace under a name is no one's to delete.)
		if ns.Host {
			return ns, false, nil
		}
		if still, err := k.adoptNetns(name, ns); still || err != nil {
			return ns, false, err
		}
	}
}

func (k *Kernel) createNamed(name string, lo bool, claim func(kernel.NetnsClaim) error) (*kernel.NS, bool, error) {
	if ns, err := k.Reader.OpenNamed(name); err == nil {
		return ns, false, nil
	}
	if _, err := os.Stat(kernel.NetnsDir); errors.Is(err, os.ErrNotExist) {
		if err := k.write(Record{Op: "netns_dir"}); err != nil {
			return nil, false, err
		}
	}
	var mark int64 = -1
	var key uint64
	ns, created, err := k.in.CreateNamed(name, lo, func(c kernel.NetnsClaim) error {
		if claim != nil {
			if err := claim(c); err != nil {
				return err
			}
		}
		m, err := k.mark()
		if err != nil {
			return err
		}
		rec := Record{Op: "netns", NS: &NSRef{Name: name, Inode: c.Inode, Cookie: c.Cookie}, Placeholder: c.File}
		if err := k.write(rec); err != nil {
			return err
		}
		mark, key = m, refKey(rec.NS)
		return nil
	})
	if mark >= 0 && !created {
		if terr := k.takeBack(mark, 1, func() {
			delete(k.createdNS, key)
			k.thisRun = k.thisRun[:len(k.thisRun)-1]
			delete(k.thisKeys, "netns "+name)
			if !k.earlierKeys["netns "+name] {
				delete(k.declared, "netns "+name)
			}
		}); terr != nil && err == nil {
			err = fmt.Errorf("take back the journal record of namespace %q: %w", name, terr)
		}
	}
	return ns, created, err
}

// WriteSysctl journals a write: in a namespace the lab made, with the
// value before (read first), so that a later run that no longer sets it
// puts it back; in any other, as shared among the labs (see shared.go).
func (k *Kernel) WriteSysctl(ns *kernel.NS, key, value string) (string, error) {
	if !k.owned(ns) {
		return k.sharedSysctl(ns, key, value)
	}
	// Journaled whenever the value changes, also when an earlier run set
	// it (then the run declares it too): a rollback of this run puts back
	// the earlier run's value; the journal keeps the oldest's (Commit).
	rec := Record{Op: "sysctl", NS: k.ref(ns), Name: key, Within: k.within(ns, 0)}
	old, err := k.Reader.ReadSysctl(ns, key)
	if err != nil {
		return "", err
	}
	rec.Old = old
	if known := k.declare(recKey(rec)) || k.thisKeys[recKey(rec)]; !known || old != value {
		if err := k.write(rec); err != nil {
			return "", err
		}
	}
	return k.in.WriteSysctl(ns, key, value)
}

// --- devices ---

// AddVeth gives both ends MACs picked here, so that the record written
// before the pair exists already tells it from any later namesake.
//
// A pair the lab made in an earlier run is not made again: wherever it is
// now (moved into a namespace, say), the run declares it, and the kernel
// is not asked; ErrExist tells the caller to find it (Locate).
func (k *Kernel) AddVeth(ns *kernel.NS, name string, peerNS *kernel.NS, peer string, o kernel.LinkOpts) (int, error) {
	k.claimSeq++
	if k.ownDevice(ns, name) || k.ownDevice(peerNS, peer) {
		return 0, kernel.ErrExist
	}
	if o.MAC == nil {
		o.MAC = kernel.RandomMAC()
	}
	if o.PeerMAC == nil {
		o.PeerMAC = kernel.RandomMAC()
	}
	var index int
	add := func() (err error) {
		index, err = k.in.AddVeth(ns, name, peerNS, peer, o)
		return err
	}
	// Journaled also between two namespaces the lab made (it goes with
	// them, Within), so that a later run that no longer declares it can
	// delete it on its own.
	in := k.within(ns, 0)
	if in == "" {
		in = k.within(peerNS, 0)
	}
	err := k.tentative(Record{Op: "link", Kind: "veth", NS: k.ref(ns), Name: name, MAC: o.MAC.String(),
		PeerNS: k.ref(peerNS), Peer: peer, PeerMAC: o.PeerMAC.String(), Within: in}, add)
	if err == nil && index != 0 {
		dev := ownedDev{name: name}
		if !k.owned(ns) {
			dev.key = "link " + o.MAC.String()
		}
		k.ownedIdx[idxKey{k.nsKey(ns), index}] = dev
	}
	return index, err
}

func (k *Kernel) addLink(ns *kernel.NS, name, kind string, o *kernel.LinkOpts, add func() error) error {
	k.claimSeq++
	if k.ownDevice(ns, name) {
		return kernel.ErrExist
	}
	if o.MAC == nil {
		o.MAC = kernel.RandomMAC()
	}
	return k.tentative(Record{Op: "link", Kind: kind, NS: k.ref(ns), Name: name, MAC: o.MAC.String(), Within: k.within(ns, 0)}, add)
}

// tentative journals the creation rec before making it, and takes the
// record back if the kernel refuses (a name already taken, say): the
// device there is not the lab's, and down must not delete it.
func (k *Kernel) tentative(rec Record, create func() error) error {
	mark, err := k.mark()
	if err != nil {
		return err
	}
	keys := []linkKey{{refKey(rec.NS), rec.Name}}
	if rec.Peer != "" {
		keys = append(keys, linkKey{refKey(rec.PeerNS), rec.Peer})
	}
	had := make([]bool, len(keys))
	hadOrigin := make([]bool, len(keys))
	for i, key := range keys {
		_, had[i] = k.createdLinks[key]
		_, hadOrigin[i] = k.origins[key]
	}
	if err := k.write(rec); err != nil {
		return err
	}
	cerr := create()
	if cerr == nil {
		return nil
	}
	if err := k.takeBack(mark, 1, func() {
		k.thisRun = k.thisRun[:len(k.thisRun)-1]
		key := recKey(rec)
		delete(k.thisKeys, key)
		delete(k.declared, key)
		delete(k.where, rec.MAC)
		delete(k.where, rec.PeerMAC)
		for i, key := range keys {
			if !had[i] {
				delete(k.createdLinks, key)
			}
			if !hadOrigin[i] {
				delete(k.origins, key)
			}
		}
	}); err != nil {
		return fmt.Errorf("%w (and taking its journal record back failed: %v)", cerr, err)
	}
	return cerr
}

func (k *Kernel) AddBridge(ns *kernel.NS, name string, o kernel.LinkOpts) error {
	return k.addLink(ns, name, "bridge", &o, func() error { return k.in.AddBridge(ns, name, o) })
}

func (k *Kernel) AddDummy(ns *kernel.NS, name string, o kernel.LinkOpts) error {
	return k.addLink(ns, name, "dummy", &o, func() error { return k.in.AddDummy(ns, name, o) })
}

// attr journals the old value of a device attribute before it changes,
// unless the lab made the device (it goes away whole). The record names
// the device by its index and MAC too, which undo checks.
func (k *Kernel) attr(ns *kernel.NS, index int, op string, old func(*kernel.LinkInfo) string, change func() error) error {
	if k.indexOwned(ns, index) {
		// A device of the lab's goes whole; but one an earlier run made
		// keeps its MTU, MAC or bridge when a later run changes it, so
		// that run's rollback (or a prune) puts them back.
		d, ok := k.ownedIdx[idxKey{k.nsKey(ns), index}]
		if ok && d.key != "" && !k.thisKeys[d.key] && (op == "mtu" || op == "mac" || op == "master") {
			if li, err := k.Reader.LinkByIndex(ns, index); err == nil {
				rec := k.devRecord(op, ns, li, old(li))
				rec.Within = k.within(ns, index)
				if err := k.write(rec); err != nil {
					return err
				}
			}
		}
		return change()
	}
	li, err := k.linkName(ns, index)
	if err != nil {
		return err
	}
	if !k.linkOwned(ns, li.Name) {
		// Journaled also when an earlier run changed it: a rollback of
		// this run then puts back the earlier run's value; the journal
		// keeps the oldest record's, from before the lab (Commit).
		if err := k.write(k.devRecord(op, ns, li, old(li))); err != nil {
			return err
		}
	}
	return change()
}

// devRecord is a record about a device of ns, with what identifies it.
func (k *Kernel) devRecord(op string, ns *kernel.NS, li *kernel.LinkInfo, old string) Record {
	return Record{Op: op, NS: k.ref(ns), Name: li.Name, Old: old, Index: li.Index, MAC: li.MAC}
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
	rec := k.devRecord("up", ns, li, boolStr(li.Up))
	if up && li.Kind == "loopback" {
		rec.Kind = "loopback" // Addrs are what it had, possibly none
		rec.Addrs, _ = k.Reader.Addrs(ns, li.Index)
	}
	if !up {
		// The kernel flushes a device's IPv6 addresses when it goes down
		// (keep_addr_on_down=0), and the routes through it.
		rec.Addrs = k.ipv6Addrs(ns, li.Index)
		rec.Routes = k.devRoutes(ns, li.Index)
	}
	return rec
}

// ipv6Addrs are a device's global IPv6 addresses, which the kernel drops
// when the device goes down or its MTU below 1280.
func (k *Kernel) ipv6Addrs(ns *kernel.NS, index int) []string {
	as, _ := k.Reader.Addrs(ns, index)
	var out []string
	for _, a := range as {
		if strings.Contains(a, ":") {
			out = append(out, a)
		}
	}
	return out
}

func (k *Kernel) SetUp(ns *kernel.NS, index int, up bool) error {
	if k.indexOwned(ns, index) {
		return k.in.SetUp(ns, index, up)
	}
	li, err := k.linkName(ns, index)
	if err != nil {
		return err
	}
	if !k.linkOwned(ns, li.Name) {
		if err := k.upChange(ns, li, up); err != nil {
			return err
		}
	}
	return k.in.SetUp(ns, index, up)
}

// upChange journals a device of another's going up or down, unless an
// earlier run of the lab did that already (it is declared again) or it
// is so already.
func (k *Kernel) upChange(ns *kernel.NS, li *kernel.LinkInfo, up bool) error {
	rec := k.upRecord(ns, li, up)
	if k.declare(recKey(rec)); li.Up == up {
		return nil
	}
	return k.write(rec)
}

func (k *Kernel) SetUpByName(ns *kernel.NS, name string) error {
	if !k.linkOwned(ns, name) {
		li, err := k.Reader.LinkByName(ns, name)
		if err != nil {
			return err
		}
		if err := k.upChange(ns, li, true); err != nil {
			return err
		}
	}
	return k.in.SetUpByName(ns, name)
}

func (k *Kernel) SetMTU(ns *kernel.NS, index, mtu int) error {
	if mtu < 1280 && !k.indexOwned(ns, index) {
		// Below 1280 the kernel takes IPv6 off the device: keep its
		// addresses too, to put back.
		li, err := k.linkName(ns, index)
		if err != nil {
			return err
		}
		if !k.linkOwned(ns, li.Name) {
			rec := k.devRecord("mtu", ns, li, strconv.Itoa(li.MTU))
			rec.Addrs = k.ipv6Addrs(ns, index)
			if !k.declare(recKey(rec)) {
				if err := k.write(rec); err != nil {
					return err
				}
			}
			return k.in.SetMTU(ns, index, mtu)
		}
	}
	return k.attr(ns, index, "mtu", func(li *kernel.LinkInfo) string { return strconv.Itoa(li.MTU) },
		func() error { return k.in.SetMTU(ns, index, mtu) })
}

// SetMAC journals a device's old MAC; for a device the lab made in a
// namespace it did not make, the new MAC, by which undo will know it.
func (k *Kernel) SetMAC(ns *kernel.NS, index int, mac net.HardwareAddr) error {
	if !k.owned(ns) {
		li, err := k.linkName(ns, index)
		if err != nil {
			return err
		}
		if _, ok := k.createdLinks[linkKey{k.nsKey(ns), li.Name}]; ok {
			if li.MAC == mac.String() {
				k.declare("ident " + li.MAC)
				return nil
			}
			if err := k.write(Record{Op: "ident", NS: k.ref(ns), Name: li.Name, MAC: mac.String(), Old: li.MAC}); err != nil {
				return err
			}
			return k.in.SetMAC(ns, index, mac)
		}
	}
	return k.attr(ns, index, "mac", func(li *kernel.LinkInfo) string { return li.MAC },
		func() error { return k.in.SetMAC(ns, index, mac) })
}

func (k *Kernel) SetMaster(ns *kernel.NS, index, master int) error {
	// A bridge takes the lowest mac of its ports, and keeps it when the
	// port leaves (or gets all zeroes): keep a bridge's own to put it back.
	if master != 0 && !k.indexOwned(ns, master) {
		br, err := k.LinkByIndex(ns, master)
		if err != nil {
			return err
		}
		if rec := k.devRecord("mac", ns, br, br.MAC); !k.linkOwned(ns, br.Name) && !k.declare(recKey(rec)) {
			if err := k.write(rec); err != nil {
				return err
			}
		}
	}
	return k.attr(ns, index, "master", func(li *kernel.LinkInfo) string {
		if li.MasterIndex == 0 {
			return ""
		}
		if m, err := k.Reader.LinkByIndex(ns, li.MasterIndex); err == nil {
			return m.Name
		}
		return ""
	}, func() error { return k.in.SetMaster(ns, index, master) })
}

func (k *Kernel) SetName(ns *kernel.NS, index int, name string) error {
	li, err := k.linkName(ns, index)
	if err != nil {
		return err
	}
	// Renames are always journaled: undoing them lets later records (and
	// the device's own creation record) find the device by its name.
	rec := k.devRecord("rename", ns, li, li.Name)
	rec.Name = name
	if err := k.write(rec); err != nil {
		return err
	}
	return k.in.SetName(ns, index, name)
}

// A move to where the device is already is no change: an earlier run's
// move of it there is declared again.
func (k *Kernel) Move(ns *kernel.NS, index int, target *kernel.NS) error {
	li, err := k.linkName(ns, index)
	if err != nil {
		return err
	}
	rec := k.devRecord("move", ns, li, "")
	rec.To = k.ref(target)
	if k.nsKey(ns) == k.nsKey(target) {
		k.declare(recKey(rec))
		return nil
	}
	if !k.linkOwned(ns, li.Name) {
		// What the device loses on the way, to put back when it returns.
		rec.Old = boolStr(li.Up)
		if rec.Addrs, err = k.Reader.Addrs(ns, index); err != nil {
			return err
		}
		if li.MasterIndex != 0 {
			if m, err := k.Reader.LinkByIndex(ns, li.MasterIndex); err == nil {
				rec.Master = m.Name
			}
		}
		rec.Routes = k.devRoutes(ns, index)
	}
	if err := k.write(rec); err != nil {
		return err
	}
	return k.in.Move(ns, index, target)
}

// devRoutes lists the routes through a device that the kernel did not
// make itself (those come back with the device's addresses).
func (k *Kernel) devRoutes(ns *kernel.NS, index int) []Route {
	rs, err := k.Reader.Routes(ns, 0)
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

// DeleteLink: a device of the lab's that the script deletes is no longer
// declared (a veth() that met it may have declared it), so the end of the
// run prunes its record.
func (k *Kernel) DeleteLink(ns *kernel.NS, index int) error {
	if li, err := k.Reader.LinkByIndex(ns, index); err == nil {
		for _, o := range k.origins {
			if o.mac == li.MAC {
				if !k.thisKeys[o.key] {
					delete(k.declared, o.key)
				}
			}
		}
	}
	return k.in.DeleteLink(ns, index)
}

// Mine reports whether the lab made the device name in ns (or, with name
// "", the namespace).
func (k *Kernel) Mine(ns *kernel.NS, name string) bool {
	if name == "" {
		return k.owned(ns)
	}
	return k.linkOwned(ns, name)
}

// DeleteNamed deletes a namespace of the lab's (Mine); the devices of
// others that the lab moved into it are moved back first, with what they
// had, so that the namespace does not take them along.
func (k *Kernel) DeleteNamed(ns *kernel.NS) error {
	var back []Record
	key := k.nsKey(ns)
	for _, r := range append(slices.Clone(k.earlier), k.thisRun...) {
		if r.Op == "move" && r.Old != "" && refKey(r.To) == key {
			back = append(back, r)
		}
	}
	if len(back) > 0 {
		u := &Undoer{K: k.in, Lab: k.Lab}
		for i := len(back) - 1; i >= 0; i-- {
			if err := u.undoSafely(back[i]); err != nil && !errors.Is(err, errGone) {
				return fmt.Errorf("move %q back out of %s first: %w", back[i].Name, ns, err)
			}
		}
	}
	return k.in.DeleteNamed(ns)
}

// Replaceable reports whether the device name in ns is the lab's, made by
// an earlier run, and not yet met by this run but for the call now being
// made: the run may delete it and make it as the script asks now. What
// this run made or met before is the script's own conflict: an error.
func (k *Kernel) Replaceable(ns *kernel.NS, name string) bool {
	mac, ok := k.createdLinks[linkKey{k.nsKey(ns), name}]
	if !ok {
		return false
	}
	key := k.linkRecKey(mac)
	if !k.earlierKeys[key] || k.thisKeys[key] {
		return false
	}
	at, met := k.claimedAt[key]
	return !met || at == k.claimSeq
}

// --- addresses and routes ---

// AddAddr journals an address: in a namespace the lab made, or on a
// device it made, as held by that (Within); on a device of another's,
// with the device's identity, unless the device has it already (then it
// is not the lab's to remove: another lab, or the user, may rely on it).
func (k *Kernel) AddAddr(ns *kernel.NS, index int, cidr *net.IPNet) error {
	add := func() error { return k.in.AddAddr(ns, index, cidr) }
	if in := k.within(ns, index); in != "" {
		rec := Record{Op: "addr", NS: k.ref(ns), Name: k.devName(ns, index), Index: index, Old: cidr.String(), Within: in}
		if !k.declare(recKey(rec)) && !k.thisKeys[recKey(rec)] {
			if err := k.write(rec); err != nil {
				return err
			}
		}
		return add()
	}
	li, err := k.linkName(ns, index)
	if err != nil {
		return err
	}
	rec := k.devRecord("addr", ns, li, cidr.String())
	if k.declare(recKey(rec)) {
		return add()
	}
	if have, err := k.Reader.Addrs(ns, index); err == nil && slices.Contains(have, cidr.String()) {
		return add()
	}
	if err := k.write(rec); err != nil {
		return err
	}
	return add()
}

// DelAddr journals an address deleted from a device of another's (a
// later undo puts it back); one the lab added goes without a trace.
func (k *Kernel) DelAddr(ns *kernel.NS, index int, cidr *net.IPNet) error {
	del := func() error { return k.in.DelAddr(ns, index, cidr) }
	if k.within(ns, index) != "" {
		return del()
	}
	return k.attr(ns, index, "addr_del", func(*kernel.LinkInfo) string { return cidr.String() }, del)
}

func (k *Kernel) routeRec(ns *kernel.NS, r kernel.RouteInfo) *Route {
	out := &Route{Metric: r.Metric, Table: r.Table}
	if out.Table == 0 {
		out.Table = kernel.MainTable
	}
	if r.Dst != nil {
		out.Dst = r.Dst.String()
	}
	if r.Via != nil {
		out.Via = r.Via.String()
	}
	if r.DevIndex != 0 {
		out.Dev = k.devName(ns, r.DevIndex)
	}
	return out
}

func (k *Kernel) ReplaceRoute(ns *kernel.NS, r kernel.RouteInfo) error {
	rec := Record{Op: "route", NS: k.ref(ns), Route: k.routeRec(ns, r), Within: k.within(ns, r.DevIndex)}
	// A route replace overwrites the route with the same destination,
	// table and metric (its "key"): keep it to put it back. In a
	// namespace this run made there is none.
	if !k.madeNS[k.nsKey(ns)] {
		if rs, err := k.Reader.Routes(ns, r.Table); err == nil {
			for _, old := range rs {
				if sameNet(old.Dst, r.Dst) && old.Metric == r.Metric {
					rec.Prev = k.routeRec(ns, old)
					break
				}
			}
		}
	}
	if rec.Prev != nil && *rec.Prev == *rec.Route && k.declare(recKey(rec)) {
		return k.in.ReplaceRoute(ns, r) // as an earlier run left it
	}
	if err := k.write(rec); err != nil {
		return err
	}
	return k.in.ReplaceRoute(ns, r)
}

func sameNet(a, b *net.IPNet) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.String() == b.String()
}

// --- iptables, /etc/netns, processes ---

func (k *Kernel) AppendRule(ns *kernel.NS, table, chain string, spec []string) error {
	if err := k.write(Record{Op: "rule", NS: k.ref(ns), Table: table, Chain: chain, Spec: spec, Within: k.within(ns, 0)}); err != nil {
		return err
	}
	return k.in.AppendRule(ns, table, chain, spec)
}

// RuleExists declares a rule the lab added in an earlier run, when it
// finds it there.
func (k *Kernel) RuleExists(ns *kernel.NS, table, chain string, spec []string) (bool, error) {
	ok, err := k.Reader.RuleExists(ns, table, chain, spec)
	if ok && err == nil {
		k.declare(recKey(Record{Op: "rule", NS: k.ref(ns), Table: table, Chain: chain, Spec: spec}))
	}
	return ok, err
}

// WriteEtc journals the file's old contents (if any) and the checksum of
// the new, by which undo knows the file is still what nsscript wrote.
func (k *Kernel) WriteEtc(name, file string, content []byte) (string, error) {
	st, err := k.Reader.EtcState(name, file)
	if err != nil {
		return "", err
	}
	// Directories that do not exist yet are removed again when empty.
	if !st.TopExists {
		if err := k.write(Record{Op: "etc_dir"}); err != nil {
			return "", err
		}
	}
	if !st.DirExists {
		if err := k.write(Record{Op: "etc_dir", Name: name}); err != nil {
			return "", err
		}
	}
	if len(content) > kernel.MaxEtc {
		return "", fmt.Errorf("%d bytes for %s/%s/%s: nsscript writes at most %d bytes to an /etc/netns file", len(content), kernel.EtcNetnsDir, name, file, kernel.MaxEtc)
	}
	if err := k.write(Record{Op: "etc", Name: name, File: file, Has: st.Had, Data: st.Old, Sum: kernel.EtcSum(content), New: content}); err != nil {
		return "", err
	}
	return k.in.WriteEtc(name, file, content)
}

// Start journals the token the process will carry before the run's first
// start (killed right after a start, nsscript still leaves a trace that
// finds the process), then each process itself.
func (k *Kernel) Start(ns *kernel.NS, argv, env []string, stdio kernel.Stdio) (*exec.Cmd, error) {
	token := k.token
	if !k.spawned {
		// The run's processes go into a cgroup of the lab's, where the
		// machine has cgroup v2: journaled before it exists.
		if rel, ok := k.Reader.CgroupFor(kernel.CgroupPrefix + k.token[strings.LastIndexByte(k.token, ':')+1:] + "." + k.Lab); ok {
			if err := k.write(Record{Op: "cgroup", Name: rel, Token: token}); err != nil {
				return nil, err
			}
			k.cgroup, _ = k.in.MakeCgroup(rel) // nil: processes go without
		}
		if err := k.write(Record{Op: "spawn", NS: k.ref(ns), Argv: argv, Token: token}); err != nil {
			return nil, err
		}
		k.spawned = true
	}
	stdio.Cgroup = k.cgroup
	marked := make([]string, 0, len(env)+1)
	for _, kv := range env {
		if !strings.HasPrefix(kv, OwnerEnv+"=") {
			marked = append(marked, kv)
		}
	}
	marked = append(marked, OwnerEnv+"="+token)
	cmd, err := k.in.Start(ns, argv, marked, stdio)
	if err != nil {
		return nil, err
	}
	pid := cmd.Process.Pid
	rec := Record{Op: "proc", NS: k.ref(ns), Pid: pid, Start: k.startTime(pid), Argv: argv, Token: token}
	if stdio.Info.Background {
		rec.Bg, rec.Env, rec.Stdout, rec.Stderr = true, stdio.Info.Env, stdio.Info.Stdout, stdio.Info.Stderr
		rec.Cwd, _ = os.Getwd()
	}
	if werr := k.write(rec); werr != nil {
		return cmd, werr
	}
	return cmd, nil
}

// FindProcess finds a background process an earlier run of the lab
// started with the same argv and environment (what the script added to
// it), in the same namespace and from the same directory, that still
// runs; the run declares it (keeps it, and its cgroup).
func (k *Kernel) FindProcess(ns *kernel.NS, argv, env []string) (kernel.ProcInfo, bool) {
	cwd, _ := os.Getwd()
	want := recKey(Record{Op: "proc", NS: k.ref(ns), Argv: argv, Env: env, Cwd: cwd, Bg: true})
	for i := len(k.earlier) - 1; i >= 0; i-- {
		r := k.earlier[i]
		if r.Op != "proc" || !r.Bg || recKey(r) != want {
			continue
		}
		if st := k.startTime(r.Pid); st == 0 || st != r.Start {
			continue
		}
		k.declare(want)
		return kernel.ProcInfo{Pid: r.Pid, Start: r.Start, Stdout: r.Stdout, Stderr: r.Stderr}, true
	}
	return kernel.ProcInfo{}, false
}

// startTime tells a live process from a later one that reuses its pid:
// 0 when it is gone (or a zombie).
func (k *Kernel) startTime(pid int) uint64 {
	return liveStart(k.in, pid)
}

// liveStart is a process's start time, 0 when it is gone or a zombie.
func liveStart(r kernel.Reader, pid int) uint64 {
	if p, ok := r.Process(pid); ok && !p.Zombie {
		return p.Start
	}
	return 0
}

// Records is this lab's journal so far.
func (k *Kernel) Records() ([]Record, error) {
	recs, _, err := readRecords(filepath.Join(k.dir, "journal"))
	return recs, err
}

// Close ends the run, keeping what it made. A lab that holds nothing
// leaves no directory behind.
func (k *Kernel) Close() error {
	if k.file == nil {
		return nil
	}
	st, err := k.file.Stat()
	empty := err == nil && st.Size() == 0
	k.file.Close()
	if k.cgroup != nil {
		k.cgroup.Close()
	}
	if empty {
		removeLab(k.dir)
	}
	return k.lock.Close()
}

// Rollback undoes what this run made, newest first, and forgets it.
func (k *Kernel) Rollback(u *Undoer) []error {
	if k.file == nil {
		return nil
	}
	u.Lab = k.Lab
	mine, probs, err := readRecordsFrom(k.file.Name(), k.start)
	if err != nil {
		return []error{err}
	}
	for _, p := range probs {
		u.warn("%v", p)
	}
	errs := u.Undo(mine)
	if err := k.file.Truncate(k.start); err != nil {
		errs = append(errs, err)
	}
	return errs
}

// removeLab removes a lab's directory: the files nsscript keeps there and
// then the directory, if that left it empty; then Dir, if no lab is left.
func removeLab(dir string) {
	for _, f := range []string{"journal", "owner", "logs", "lock"} {
		_ = os.RemoveAll(filepath.Join(dir, f))
	}
	_ = os.Remove(dir)
	_ = os.Remove(Dir)
}
