package journal

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nsscript/nsscript/builtins"
	"github.com/nsscript/nsscript/builtins/kernel"
)

// Undoer undoes journal records against the real kernel.
type Undoer struct {
	K builtins.Kernel
	// Log, when set, is told of the processes undo stops; the kernel
	// changes themselves show through a tracing Kernel (plan.NewTracer).
	Log func(string)

	marked map[string][]procID // OwnerEnv token -> processes, read once
	// nsPids: the processes in each namespace, read once for all the
	// namespaces an undo deletes (by then it has stopped its own).
	nsPids map[uint64][]int
}

// pidLister is a kernel that lists every namespace's processes at once.
type pidLister interface {
	PidsByNetns() (map[uint64][]int, error)
}

// pids lists the processes in ns.
func (u *Undoer) pids(ns *kernel.NS) ([]int, error) {
	pl, ok := u.K.(pidLister)
	if !ok {
		return u.K.Pids(ns)
	}
	if u.nsPids == nil {
		all, err := pl.PidsByNetns()
		if err != nil {
			return nil, err
		}
		u.nsPids = all
	}
	return u.nsPids[ns.Inode], nil
}

// procID is a process, told from a later one with its pid by start time.
type procID struct {
	pid   int
	start uint64
}

func (u *Undoer) log(format string, args ...any) {
	if u.Log != nil {
		u.Log(fmt.Sprintf(format, args...))
	}
}

// errGone marks what no longer exists: nothing to undo.
var errGone = errors.New("gone")

func (u *Undoer) open(r *NSRef) (*kernel.NS, error) {
	var ns *kernel.NS
	var err error
	switch {
	case r == nil:
		return nil, errGone
	case r.Host:
		ns = u.K.Host()
	case r.Name != "":
		ns, err = u.K.OpenNamed(r.Name)
	default:
		ns, err = u.K.OpenPath(r.Path)
	}
	if err != nil {
		return nil, errGone
	}
	if r.Inode != 0 && ns.Inode != r.Inode {
		// Another namespace now has that name (or this is another host):
		// it is not ours to change.
		return nil, errGone
	}
	return ns, nil
}

func (u *Undoer) link(r *NSRef, name string) (*kernel.NS, *kernel.LinkInfo, error) {
	ns, err := u.open(r)
	if err != nil {
		return nil, nil, err
	}
	li, err := u.K.LinkByName(ns, name)
	if err != nil {
		return nil, nil, errGone
	}
	return ns, li, nil
}

// Undo undoes records newest first. What is already gone is skipped;
// other failures are collected and the rest still undone.
func (u *Undoer) Undo(recs []Record) []error {
	inodes := map[string]uint64{}
	for _, r := range recs {
		if r.Op == "netns_inode" {
			inodes[r.NS.Name] = r.NS.Inode
		}
	}
	// A veth with an end in a namespace this undo deletes goes with that
	// namespace: the kernel tears the namespaces down in one batch, far
	// faster than deleting each veth (each waits for an RCU grace period).
	// Its other end is then awaited, so nothing lingers once down returns.
	doomed := map[string]bool{}
	if _, ok := u.K.(releaser); ok {
		for _, r := range recs {
			if r.Op == "netns" {
				doomed[r.NS.Name] = true
			}
		}
	}
	inDoomed := func(ref *NSRef) bool { return ref != nil && ref.Name != "" && doomed[ref.Name] }
	var await []linkEnd
	var errs []error
	for i := len(recs) - 1; i >= 0; i-- {
		r := recs[i]
		if r.Op == "netns" {
			r.NS.Inode = inodes[r.NS.Name]
		}
		if r.Op == "link" && r.Kind == "veth" && (inDoomed(r.NS) || inDoomed(r.PeerNS)) {
			switch {
			case !inDoomed(r.NS):
				await = append(await, linkEnd{r.NS, r.Name})
			case !inDoomed(r.PeerNS):
				await = append(await, linkEnd{r.PeerNS, r.Peer})
			}
			continue
		}
		if err := u.undo(r); err != nil && !errors.Is(err, errGone) {
			errs = append(errs, fmt.Errorf("undo %s %s: %w", r.Op, r.Name, err))
		}
	}
	u.awaitGone(await)
	return errs
}

// releaser is a kernel that can let a namespace go without deleting its
// devices one by one (kernel.Linux.ReleaseNamed).
type releaser interface {
	ReleaseNamed(ns *kernel.NS) error
}

type linkEnd struct {
	ns   *NSRef
	name string
}

// awaitGone waits until the veth ends whose peers died with their
// namespaces are gone too, and deletes any that outlive the wait.
func (u *Undoer) awaitGone(ends []linkEnd) {
	deadline := time.Now().Add(5 * time.Second)
	for len(ends) > 0 {
		// One listing per namespace, not a lookup per device.
		have := map[string]map[string]bool{}
		var left []linkEnd
		for _, e := range ends {
			key := e.ns.String()
			names, ok := have[key]
			if !ok {
				names = map[string]bool{}
				if ns, err := u.open(e.ns); err == nil {
					if links, err := u.K.Links(ns); err == nil {
						for _, l := range links {
							names[l.Name] = true
						}
					}
				}
				have[key] = names
			}
			if names[e.name] {
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
		if ns, li, err := u.link(e.ns, e.name); err == nil {
			_ = u.K.DeleteLink(ns, li.Index)
		}
	}
}

func (u *Undoer) undo(r Record) error {
	switch r.Op {
	case "proc", "spawn":
		return u.stopProcess(r)
	case "netns":
		return u.deleteNamespace(r.NS)
	case "netns_inode":
		return nil // "netns" does it
	case "netns_dir":
		return removeNetnsDir()
	case "link":
		ns, li, err := u.link(r.NS, r.Name)
		if err != nil && r.Peer != "" {
			ns, li, err = u.link(r.PeerNS, r.Peer)
		}
		if err != nil {
			return err
		}
		return u.K.DeleteLink(ns, li.Index)
	case "up":
		ns, li, err := u.link(r.NS, r.Name)
		if err != nil {
			return err
		}
		want := r.Old == "1"
		if li.Up != want {
			if err := u.K.SetUp(ns, li.Index, want); err != nil {
				return err
			}
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
		ns, li, err := u.link(r.NS, r.Name)
		if err != nil {
			return err
		}
		mtu, _ := strconv.Atoi(r.Old)
		if li.MTU == mtu {
			return nil
		}
		return u.K.SetMTU(ns, li.Index, mtu)
	case "mac":
		ns, li, err := u.link(r.NS, r.Name)
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
		ns, li, err := u.link(r.NS, r.Name)
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
		ns, li, err := u.link(r.NS, r.Name)
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
		_, li, err := u.link(r.To, r.Name)
		if err != nil {
			return err
		}
		from, err := u.open(r.NS)
		if err != nil {
			return err
		}
		to, _ := u.open(r.To)
		if err := u.K.Move(to, li.Index, from); err != nil {
			return err
		}
		return u.restore(from, r)
	case "addr", "addr_del":
		ns, li, err := u.link(r.NS, r.Name)
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
		_, err = u.K.Sysctl(ns, r.Name, &r.Old)
		return err
	case "rule":
		ns, err := u.open(r.NS)
		if err != nil {
			return err
		}
		return u.K.DeleteRule(ns, r.Table, r.Chain, r.Spec)
	case "etc":
		if r.Has {
			return os.WriteFile(r.Name, r.Data, 0o644)
		}
		return ignoreNotExist(os.Remove(r.Name))
	case "etc_dir":
		if err := os.Remove(r.Name); err != nil && !errors.Is(err, os.ErrNotExist) && !errors.Is(err, unix.ENOTEMPTY) && !errors.Is(err, unix.EEXIST) {
			return err
		}
		return nil
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

// restoreRoutes puts back routes the kernel dropped with a device.
func (u *Undoer) restoreRoutes(ns *kernel.NS, routes []Route) error {
	var errs []error
	for _, rt := range routes {
		ri, err := u.routeInfo(ns, &rt)
		if err == nil {
			err = u.K.ReplaceRoute(ns, ri)
		}
		errs = append(errs, err)
	}
	return errors.Join(errs...)
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

// deleteNamespace empties a namespace the lab created (its processes, and
// their trees, are stopped) and deletes it, like
// `ip netns pids NAME | xargs kill; ip netns del NAME`.
func (u *Undoer) deleteNamespace(r *NSRef) error {
	p := filepath.Join(kernel.NetnsDir, r.Name)
	ns, err := u.open(r)
	if err != nil {
		if r.Inode == 0 {
			// Killed while creating it: a bind mount or an empty file.
			_ = unix.Unmount(p, unix.MNT_DETACH)
			return ignoreNotExist(os.Remove(p))
		}
		return err
	}
	if pids, err := u.pids(ns); err == nil && len(pids) > 0 {
		killAll(pids)
	}
	if rel, ok := u.K.(releaser); ok {
		return rel.ReleaseNamed(ns)
	}
	return u.K.DeleteNamed(ns)
}

// removeNetnsDir undoes the creation of /run/netns when nothing is left in it.
func removeNetnsDir() error {
	ents, err := os.ReadDir(kernel.NetnsDir)
	if err != nil || len(ents) > 0 {
		return nil
	}
	for unix.Unmount(kernel.NetnsDir, unix.MNT_DETACH) == nil {
	}
	return ignoreNotExist(os.Remove(kernel.NetnsDir))
}

// stopProcess stops a process nsscript started and everything it started:
// its process group and descendants, and every process that carries its
// token (OwnerEnv), such as a daemon that double-forked out of both. A pid
// that is now another process is left alone.
func (u *Undoer) stopProcess(r Record) error {
	var pids []int
	if r.Pid != 0 && r.Start != 0 && startTime(r.Pid) == r.Start {
		pids = append(pids, r.Pid)
		pids = append(pids, descendants(r.Pid)...)
		_ = syscall.Kill(-r.Pid, syscall.SIGTERM)
	}
	if r.Token != "" {
		if u.marked == nil {
			u.marked = markedProcesses()
		}
		for _, p := range u.marked[r.Token] {
			if !slices.Contains(pids, p.pid) && startTime(p.pid) == p.start && !zombie(p.pid) {
				pids = append(pids, p.pid)
			}
		}
	}
	if len(pids) == 0 {
		return errGone
	}
	u.log("kill %v", pids)
	killAll(pids)
	return nil
}

// markedProcesses reads the OwnerEnv token of every live process but this
// one (a down that a lab's own process runs does not stop itself).
func markedProcesses() map[string][]procID {
	out := map[string][]procID{}
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return out
	}
	prefix := []byte(OwnerEnv + "=")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		env, err := os.ReadFile("/proc/" + e.Name() + "/environ")
		if err != nil {
			continue
		}
		for _, kv := range bytes.Split(env, []byte{0}) {
			if bytes.HasPrefix(kv, prefix) {
				tok := string(kv[len(prefix):])
				out[tok] = append(out[tok], procID{pid, startTime(pid)})
			}
		}
	}
	return out
}

// killAll sends TERM, waits up to two seconds, then KILL.
func killAll(pids []int) {
	starts := map[int]uint64{}
	for _, p := range pids {
		starts[p] = startTime(p)
		_ = syscall.Kill(p, syscall.SIGTERM)
	}
	alive := func() []int {
		var out []int
		for _, p := range pids {
			if st := startTime(p); st != 0 && st == starts[p] && !zombie(p) {
				out = append(out, p)
			}
		}
		return out
	}
	deadline := time.Now().Add(2 * time.Second)
	for len(alive()) > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	for _, p := range alive() {
		_ = syscall.Kill(p, syscall.SIGKILL)
	}
	for i := 0; i < 100 && len(alive()) > 0; i++ {
		time.Sleep(10 * time.Millisecond)
	}
}

func zombie(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || len(s) < i+3 || s[i+2] == 'Z' || s[i+2] == 'X'
}

// descendants lists a process's children, grandchildren and so on.
func descendants(pid int) []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	children := map[int][]int{}
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) < 2 {
			continue
		}
		pp, _ := strconv.Atoi(f[1])
		children[pp] = append(children[pp], p)
	}
	var out []int
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range children[p] {
			out = append(out, c)
			queue = append(queue, c)
		}
	}
	sort.Ints(out)
	return out
}
