package journal

import (
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nsscript/nsscript/builtins/kernel"
)

// Undoer undoes journal records against the real kernel. Before it
// changes anything it checks that the object is still the one the record
// describes: the namespace by inode and cookie, a device by its index or
// by the MAC address nsscript gave it, an /etc/netns file by the checksum
// of what nsscript wrote. Anything else (the user deleted the device and
// made another of that name, say) is left alone, with a warning.
type Undoer struct {
	K kernel.Kernel
	// Lab is the lab whose records these are.
	Lab string
	// Warn, when set, is told of what undo leaves alone because it is no
	// longer what the lab made, and of journal lines it skipped.
	Warn func(string)

	procs   []kernel.Proc            // every process, read once (with marked)
	marked  map[string][]kernel.Proc // OwnerEnv token -> processes
	cgroups []string                 // the lab's cgroups among the records undone
	// nsPids: the processes in each namespace, read once for all the
	// namespaces an undo deletes (by then it has stopped its own).
	nsPids map[uint64][]int
}

// pids lists the processes in ns.
func (u *Undoer) pids(ns *kernel.NS) ([]int, error) {
	if u.nsPids == nil {
		all, err := u.K.PidsByNetns()
		if err != nil {
			return nil, err
		}
		u.nsPids = all
	}
	return u.nsPids[ns.Inode], nil
}

func (u *Undoer) warn(format string, args ...any) {
	if u.Warn != nil {
		u.Warn(fmt.Sprintf(format, args...))
	}
}

// errGone marks what no longer exists: nothing to undo.
var errGone = errors.New("gone")

// notOurs says why undo leaves an object alone.
func notOurs(format string, args ...any) error {
	return fmt.Errorf("%w: %s", kernel.ErrNotOurs, fmt.Sprintf(format, args...))
}

// open opens a namespace a record names, if it is still that namespace.
func (u *Undoer) open(r *NSRef) (*kernel.NS, error) { return openNS(u.K, r) }

// openNS opens a namespace a record names, if it is still that namespace.
func openNS(k kernel.Reader, r *NSRef) (*kernel.NS, error) {
	var ns *kernel.NS
	var err error
	switch {
	case r == nil:
		return nil, errGone
	case r.Host:
		ns = k.Host()
	case r.Name != "":
		ns, err = k.OpenNamed(r.Name)
	default:
		ns, err = k.OpenPath(r.Path)
	}
	if err != nil {
		return nil, errGone
	}
	if r.Inode != 0 && ns.Inode != r.Inode || r.Cookie != k.Cookie(ns) {
		// Another namespace now has that name (or this is another host):
		// what the lab changed in its namesake went with it.
		return nil, errGone
	}
	return ns, nil
}

// devID is what a record knows of a device: for one the lab made, its
// kind and the MAC nsscript gave it; for any other, its index and MAC
// when recorded.
type devID struct {
	kind   string
	index  int
	mac    string
	inside bool // in a namespace, or on a device, the lab made
}

// madeKinds are the kinds of device nsscript makes, and so may delete.
var madeKinds = map[string]bool{"veth": true, "bridge": true, "dummy": true}

func (id devID) matches(li *kernel.LinkInfo) bool {
	if id.kind != "" {
		kindOK := li.Kind == id.kind || id.kind == "dummy" && li.Type == "ifb"
		return madeKinds[id.kind] && kindOK && id.mac != "" && li.MAC == id.mac
	}
	if id.index != 0 {
		return li.Index == id.index
	}
	return id.mac != "" && li.MAC == id.mac
}

// device finds the device name in the namespace r, if it is still the one
// id describes.
func (u *Undoer) device(r *NSRef, name string, id devID) (*kernel.NS, *kernel.LinkInfo, error) {
	ns, err := u.open(r)
	if err != nil {
		return nil, nil, err
	}
	li, err := u.K.LinkByName(ns, name)
	if err != nil && id.index != 0 && id.kind == "" {
		li, err = u.K.LinkByIndex(ns, id.index) // renamed since
	}
	if err != nil {
		return nil, nil, errGone
	}
	if !id.matches(li) && id.inside {
		// Inside what the lab made, a device that is not the one recorded
		// is the lab's too: the recorded one is gone.
		return nil, nil, errGone
	}
	if !id.matches(li) {
		what := fmt.Sprintf("index %d, mac %s", id.index, id.mac)
		if id.kind != "" {
			what = fmt.Sprintf("a %s with mac %s", id.kind, id.mac)
		}
		if id.mac == "" && id.index == 0 {
			what = "no identity (journaled by an older nsscript)"
		}
		return nil, nil, notOurs("device %q in %s is not the one the lab recorded (%s; now a %s with index %d, mac %s)", name, r, what, li.Kind, li.Index, li.MAC)
	}
	return ns, li, nil
}

// Undo undoes records newest first. What is already gone is skipped, and
// what is no longer the lab's is left alone with a warning; other
// failures are collected and the rest still undone.
func (u *Undoer) Undo(recs []Record) []error {
	inodes := map[string]uint64{}
	for _, r := range recs {
		if r.Op == "netns_inode" { // journals of nsscript 0.1
			inodes[r.NS.Name] = r.NS.Inode
		}
	}
	// A veth with an end in a namespace this undo deletes goes with that
	// namespace: the kernel tears the namespaces down in one batch, far
	// faster than deleting each veth (each waits for an RCU grace period).
	// Its other end is then awaited, so nothing lingers once down returns.
	// (Not a namespace another lab uses too: it is left to that lab.)
	doomed := map[string]bool{}
	for _, r := range recs {
		if r.Op == "netns" && !u.usedByOthers(r.NS) {
			doomed[r.NS.Name] = true
		}
	}
	inDoomed := func(ref *NSRef) bool { return ref != nil && ref.Name != "" && doomed[ref.Name] }
	// What goes with a namespace or device this undo removes needs no
	// undo of its own (unless it has something to put back).
	undone := map[string]bool{}
	for _, r := range recs {
		if r.Op != "netns" || doomed[r.NS.Name] { // (not one left to another lab)
			undone[recKey(r)] = true
		}
	}
	goesWith := func(r Record) bool { return r.Within != "" && undone[r.Within] && r.Prev == nil }
	for _, r := range recs {
		if r.Op == "cgroup" {
			u.cgroups = append(u.cgroups, r.Name)
		}
	}
	var await []linkEnd
	var errs []error
	for i := len(recs) - 1; i >= 0; i-- {
		r := recs[i]
		if r.Op == "netns" && r.NS.Inode == 0 {
			r.NS.Inode = inodes[r.NS.Name]
		}
		if r.Op == "link" && r.Kind == "veth" && (inDoomed(r.NS) || inDoomed(r.PeerNS)) {
			switch {
			case !inDoomed(r.NS):
				await = append(await, linkEnd{r.NS, r.Name, r.MAC})
			case !inDoomed(r.PeerNS):
				await = append(await, linkEnd{r.PeerNS, r.Peer, r.PeerMAC})
			}
			continue
		}
		if goesWith(r) {
			continue
		}
		err := u.undoSafely(r)
		switch {
		case err == nil, errors.Is(err, errGone):
		case errors.Is(err, kernel.ErrNotOurs):
			u.warn("left alone: %v", err)
		default:
			errs = append(errs, fmt.Errorf("undo %s %s: %w", r.Op, r.Name, err))
		}
	}
	u.awaitGone(await)
	return errs
}

// undoSafely is undo that reports, instead of crashing on, whatever a
// record it could not foresee makes it do.
func (u *Undoer) undoSafely(r Record) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("internal error (please report it): %v", p)
		}
	}()
	return u.undo(r)
}

type linkEnd struct {
	ns   *NSRef
	name string
	mac  string
}

// awaitGone waits until the veth ends whose peers died with their
// namespaces are gone too, and deletes any that outlive the wait (if
// they are still the lab's).
func (u *Undoer) awaitGone(ends []linkEnd) {
	deadline := time.Now().Add(5 * time.Second)
	for len(ends) > 0 {
		// One listing per namespace, not a lookup per device.
		// (A namesake with another MAC is not the end: that is gone.)
		have := map[string]map[string]string{}
		var left []linkEnd
		for _, e := range ends {
			key := e.ns.String()
			macs, ok := have[key]
			if !ok {
				macs = map[string]string{}
				if ns, err := u.open(e.ns); err == nil {
					if links, err := u.K.Links(ns); err == nil {
						for _, l := range links {
							macs[l.Name] = l.MAC
						}
					}
				}
				have[key] = macs
			}
			if mac, ok := macs[e.name]; ok && (mac == e.mac || e.mac == "") {
				left = append(left, e)
			}
		}
		ends = left
		if len(ends) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	for _, e := range ends {
		ns, li, err := u.device(e.ns, e.name, devID{kind: "veth", mac: e.mac})
		if err == nil {
			_ = u.K.DeleteLink(ns, li.Index)
		} else if errors.Is(err, kernel.ErrNotOurs) {
			u.warn("left alone: %v", err)
		}
	}
}

func (u *Undoer) undo(r Record) error {
	id := devID{index: r.Index, mac: r.MAC, inside: r.Within != ""}
	switch r.Op {
	case "proc", "spawn":
		return u.stopProcess(r)
	case "cgroup":
		return u.K.EndCgroup(r.Name)
	case "netns", "adopt":
		return u.leaveNetns(r, u.deleteNamespace)
	case "netns_inode":
		return nil // "netns" does it
	case "netns_dir":
		return u.K.RemoveNetnsDir()
	case "link":
		ns, li, err := u.device(r.NS, r.Name, devID{kind: r.Kind, mac: r.MAC, inside: r.Within != ""})
		if errors.Is(err, errGone) && r.Peer != "" {
			ns, li, err = u.device(r.PeerNS, r.Peer, devID{kind: r.Kind, mac: r.PeerMAC, inside: r.Within != ""})
		}
		if err != nil {
			return err
		}
		return u.K.DeleteLink(ns, li.Index)
	case "ident":
		ns, li, err := u.device(r.NS, r.Name, devID{mac: r.MAC})
		if err != nil || r.Old == "" {
			return err
		}
		mac, err := net.ParseMAC(r.Old)
		if err != nil {
			return err
		}
		return u.K.SetMAC(ns, li.Index, mac)
	case "up":
		ns, li, err := u.device(r.NS, r.Name, id)
		if err != nil {
			return err
		}
		want := r.Old == "1"
		if li.Up != want {
			if err := u.K.SetUp(ns, li.Index, want); err != nil {
				return err
			}
		}
		if want && r.Kind != "loopback" {
			u.putBack(ns, li, r.Addrs)
		}
		if r.Kind == "loopback" && !want && !slices.Contains(r.Addrs, "127.0.0.1/8") {
			// The kernel gave it 127.0.0.1/8 when it came up.
			lo := &net.IPNet{IP: net.IPv4(127, 0, 0, 1).To4(), Mask: net.CIDRMask(8, 32)}
			if err := ignoreMissing(u.K.DelAddr(ns, li.Index, lo)); err != nil {
				return err
			}
		}
		if want {
			return u.restoreRoutes(ns, r.Routes)
		}
		return nil
	case "mtu":
		ns, li, err := u.device(r.NS, r.Name, id)
		if err != nil {
			return err
		}
		mtu, err := strconv.Atoi(r.Old)
		if err != nil {
			return err
		}
		if li.MTU != mtu {
			if err := u.K.SetMTU(ns, li.Index, mtu); err != nil {
				return err
			}
		}
		u.putBack(ns, li, r.Addrs)
		return nil
	case "mac":
		ns, li, err := u.device(r.NS, r.Name, devID{index: r.Index})
		if err != nil {
			return err
		}
		mac, err := net.ParseMAC(r.Old)
		if err != nil {
			return err
		}
		if li.MAC == mac.String() {
			return nil
		}
		return u.K.SetMAC(ns, li.Index, mac)
	case "master":
		ns, li, err := u.device(r.NS, r.Name, id)
		if err != nil {
			return err
		}
		master := 0
		if r.Old != "" {
			m, err := u.K.LinkByName(ns, r.Old)
			if err != nil {
				return errGone
			}
			master = m.Index
		}
		if li.MasterIndex == master {
			return nil
		}
		return u.K.SetMaster(ns, li.Index, master)
	case "rename":
		ns, li, err := u.device(r.NS, r.Name, id)
		if err != nil {
			return err
		}
		// Linux renames only devices that are down.
		if li.Up {
			_ = u.K.SetUp(ns, li.Index, false)
		}
		err = u.K.SetName(ns, li.Index, r.Old)
		if li.Up {
			_ = u.K.SetUp(ns, li.Index, true)
		}
		return err
	case "move":
		// The index may change on a move; the MAC does not.
		to, li, err := u.device(r.To, r.Name, devID{mac: r.MAC})
		if err != nil {
			return err
		}
		from, err := u.open(r.NS)
		if err != nil {
			return err
		}
		if err := u.K.Move(to, li.Index, from); err != nil {
			return err
		}
		return u.restore(from, r)
	case "addr", "addr_del":
		ns, li, err := u.device(r.NS, r.Name, id)
		if err != nil {
			return err
		}
		ip, n, err := net.ParseCIDR(r.Old)
		if err != nil {
			return err
		}
		n.IP = ip
		if r.Op == "addr" {
			return ignoreMissing(u.K.DelAddr(ns, li.Index, n))
		}
		return u.K.AddAddr(ns, li.Index, n)
	case "route":
		ns, err := u.open(r.NS)
		if err != nil {
			return err
		}
		if r.Prev != nil {
			if ri, err := u.routeInfo(ns, r.Prev); err == nil {
				return u.K.ReplaceRoute(ns, ri)
			}
		}
		ri, err := u.routeInfo(ns, r.Route)
		if err != nil {
			return err
		}
		return ignoreMissing(u.K.DeleteRoute(ns, ri))
	case "shared_sysctl":
		return u.undoSharedSysctl(r)
	case "sysctl":
		ns, err := u.open(r.NS)
		if err != nil {
			return err
		}
		_, err = u.K.WriteSysctl(ns, r.Name, r.Old)
		return err
	case "rule":
		ns, err := u.open(r.NS)
		if err != nil {
			return err
		}
		return u.K.DeleteRule(ns, r.Table, r.Chain, r.Spec)
	case "etc":
		ns, file, err := r.etcName()
		if err != nil {
			return err
		}
		if r.Sum == "" {
			return notOurs("%s/%s/%s was journaled without a checksum (by an older nsscript)", kernel.EtcNetnsDir, ns, file)
		}
		return u.K.UndoEtc(ns, file, r.Sum, r.New, r.Has, r.Data)
	case "etc_dir":
		ns, err := r.etcDir()
		if err != nil {
			return err
		}
		return u.K.RemoveEtcDir(ns)
	}
	return fmt.Errorf("unknown journal record %q", r.Op)
}

// restore gives a device of the host's that came back from a namespace
// what it had before it left: addresses, master, up state and routes.
func (u *Undoer) restore(ns *kernel.NS, r Record) error {
	if r.Old == "" {
		return nil // the lab's own device
	}
	li, err := u.K.LinkByName(ns, r.Name)
	if err != nil {
		return err
	}
	var errs []error
	for _, a := range r.Addrs {
		ip, n, err := net.ParseCIDR(a)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		n.IP = ip
		errs = append(errs, u.K.AddAddr(ns, li.Index, n))
	}
	if r.Master != "" {
		if m, err := u.K.LinkByName(ns, r.Master); err == nil {
			errs = append(errs, u.K.SetMaster(ns, li.Index, m.Index))
		}
	}
	if r.Old == "1" {
		errs = append(errs, u.K.SetUp(ns, li.Index, true))
	}
	errs = append(errs, u.restoreRoutes(ns, r.Routes))
	return errors.Join(errs...)
}

// restoreRoutes puts back routes the kernel dropped with a device. One
// that the kernel no longer takes (its gateway went with an address
// someone removed since) is a warning: it must not keep the lab from
// coming down.
func (u *Undoer) restoreRoutes(ns *kernel.NS, routes []Route) error {
	for _, rt := range routes {
		ri, err := u.routeInfo(ns, &rt)
		if err == nil {
			err = u.K.ReplaceRoute(ns, ri)
		}
		if err != nil && !errors.Is(err, errGone) {
			u.warn("could not put back the route to %s via %s dev %s: %v", dstWord(rt.Dst), rt.Via, rt.Dev, err)
		}
	}
	return nil
}

func dstWord(d string) string {
	if d == "" {
		return "default"
	}
	return d
}

// putBack puts back addresses the kernel dropped from a device (IPv6, when
// it went down or its MTU below 1280); one it refuses is a warning.
func (u *Undoer) putBack(ns *kernel.NS, li *kernel.LinkInfo, addrs []string) {
	for _, a := range addrs {
		ip, n, err := net.ParseCIDR(a)
		if err == nil {
			n.IP = ip
			err = u.K.AddAddr(ns, li.Index, n)
		}
		if err != nil {
			u.warn("could not put back %s on %q: %v", a, li.Name, err)
		}
	}
}

func ignoreMissing(err error) error {
	if errors.Is(err, unix.ESRCH) || errors.Is(err, unix.EADDRNOTAVAIL) || errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENODEV) {
		return nil
	}
	return err
}

func ignoreNotExist(err error) error {
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

func (u *Undoer) routeInfo(ns *kernel.NS, r *Route) (kernel.RouteInfo, error) {
	ri := kernel.RouteInfo{Metric: r.Metric, Table: r.Table}
	if r.Dst != "" {
		_, n, err := net.ParseCIDR(r.Dst)
		if err != nil {
			return ri, err
		}
		ri.Dst = n
	}
	if r.Via != "" {
		ri.Via = net.ParseIP(r.Via)
		if v4 := ri.Via.To4(); v4 != nil {
			ri.Via = v4
		}
	}
	if r.Dev != "" {
		li, err := u.K.LinkByName(ns, r.Dev)
		if err != nil {
			return ri, errGone
		}
		ri.DevIndex = li.Index
	}
	return ri, nil
}

// deleteNamespace empties a namespace a lab created (its processes, and
// their trees, are stopped) and deletes it, like
// `ip netns pids NAME | xargs kill; ip netns del NAME`, if it is still the
// namespace the claim names. It also finishes a creation or a deletion
// that was interrupted (the name left as an empty file), if that file is
// the claim's. A claim without the namespace's identity never deletes
// anything.
func (u *Undoer) deleteNamespace(name string, c kernel.NetnsClaim) error {
	if c.Inode == 0 {
		if _, err := u.K.OpenNamed(name); err != nil {
			return errGone
		}
		return notOurs("namespace %q was journaled before it existed (a run killed then, or an older nsscript): nothing says it is the lab's", name)
	}
	if ns, err := u.open(&NSRef{Name: name, Inode: c.Inode, Cookie: c.Cookie}); err == nil {
		if pids, err := u.pids(ns); err == nil && len(pids) > 0 {
			u.K.StopProcesses(pids)
		}
	}
	return u.K.ReleaseClaimed(name, c)
}

// stopProcess stops a process nsscript started and everything it started:
// its process group and descendants, and every process that carries its
// token (OwnerEnv), such as a daemon that double-forked out of both. A pid
// that is now another process is left alone.
//
// The recorded process is stopped only if it is still the lab's: the same
// pid and start time (both anyone can read), and the run's mark in its
// environment or its place in one of the lab's cgroups. A journal that
// names another process (pid 1, say) kills nothing.
func (u *Undoer) stopProcess(r Record) error {
	u.readProcs()
	var pids []int
	if r.Pid > 1 && r.Pid != os.Getpid() && r.Start != 0 && liveStart(u.K, r.Pid) == r.Start && u.labProcess(r.Pid, r.Token) {
		pids = append(pids, -r.Pid, r.Pid) // its process group, and it
		pids = append(pids, kernel.Descendants(u.procs, r.Pid)...)
	}
	if r.Token != "" {
		for _, p := range u.marked[r.Token] {
			if !slices.Contains(pids, p.Pid) && liveStart(u.K, p.Pid) == p.Start {
				pids = append(pids, p.Pid)
			}
		}
	}
	if len(pids) == 0 {
		return errGone
	}
	u.K.StopProcesses(pids)
	return nil
}

// readProcs reads the process table once for the whole undo: the
// processes a lab's undo stops are there when it begins.
func (u *Undoer) readProcs() {
	if u.marked != nil {
		return
	}
	u.marked = map[string][]kernel.Proc{}
	u.procs, _ = u.K.Processes()
	for _, p := range u.procs {
		if p.Owner != "" {
			u.marked[p.Owner] = append(u.marked[p.Owner], p)
		}
	}
}

// labProcess reports whether a process carries the run's token in its
// environment, or is in a cgroup of the records undone.
func (u *Undoer) labProcess(pid int, token string) bool {
	p, ok := u.K.Process(pid)
	if !ok {
		return false
	}
	if token != "" && p.Owner == token {
		return true
	}
	for _, c := range u.cgroups {
		if p.Cgroup != "" && (p.Cgroup == c || strings.HasPrefix(p.Cgroup, c+"/")) {
			return true
		}
	}
	return false
}
