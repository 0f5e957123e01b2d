package journal

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/nsscript/nsscript/builtins/kernel"
)

// A run is an apply: afterwards the lab holds exactly what the script
// declared. Every record has a key, the object it is about (namespace
// "red", address 10.0.0.1/24 on device 5 of a namespace, route to
// default in table main...). A run declares the keys of what it makes or
// finds already made by the lab: its own records, and the earlier runs'
// records it meets again (a veth() that finds the lab's veth, an addr()
// of an address the lab added before). When the run succeeds (Commit),
// what earlier runs made and this one did not declare is undone, newest
// first, and the journal is rewritten with one record per key: the
// oldest (which knows what was there before the lab), carrying the
// newest's content.
//
// Changes inside what the lab made (an address in one of its namespaces,
// a route through one of its devices) are journaled too, so that they
// can be pruned on their own; Within names the record of the namespace
// or device that holds them, and an undo that removes that holder skips
// them (they go with it, and down stays as fast as one namespace
// deletion).

// recKey is the object a record is about.
func recKey(r Record) string {
	ns := func(n *NSRef) string {
		if n == nil {
			return "?"
		}
		return strconv.FormatUint(refKey(n), 10)
	}
	switch r.Op {
	case "netns", "netns_inode":
		return "netns " + r.NS.Name
	case "adopt":
		return "adopt " + r.NS.Name
	case "netns_dir":
		return "netns_dir"
	case "link":
		if r.MAC == "" {
			return "link " + ns(r.NS) + " " + r.Name
		}
		return "link " + r.MAC
	case "ident":
		return "ident " + r.MAC
	case "up", "mtu", "mac", "master":
		return r.Op + " " + ns(r.NS) + " " + r.Name
	case "rename":
		return "rename " + ns(r.NS) + " " + r.OldName + " " + r.Name
	case "move":
		return "move " + r.MAC + " " + ns(r.To)
	case "addr", "addr_del":
		return r.Op + " " + ns(r.NS) + " " + strconv.Itoa(r.Index) + " " + r.Addr
	case "shape":
		return "shape " + ns(r.NS) + " " + strconv.Itoa(r.Index)
	case "neigh", "neigh_del":
		ip := "?"
		if r.Neigh != nil {
			ip = r.Neigh.IP
		}
		return r.Op + " " + ns(r.NS) + " " + strconv.Itoa(r.Index) + " " + ip
	case "route":
		if r.Route == nil {
			return "route ?"
		}
		return fmt.Sprintf("route %s %d %s %d", ns(r.NS), r.Route.Table, r.Route.Dst, r.Route.Metric)
	case "sysctl", "shared_sysctl":
		return "sysctl " + ns(r.NS) + " " + r.Name
	case "rule", "rule_del":
		fam := ""
		if r.V6 {
			fam = "6 "
		}
		return r.Op + " " + ns(r.NS) + " " + fam + r.Table + " " + r.Chain + " " + strings.Join(r.Spec, "\x00")
	case "chain":
		return fmt.Sprintf("chain %s %t %s %s", ns(r.NS), r.V6, r.Table, r.Chain)
	case "ip_rule":
		if r.PRule == nil {
			return r.Op + " ?"
		}
		return fmt.Sprintf("%s %s %+v", r.Op, ns(r.NS), *r.PRule)
	case "etc":
		n, file, _ := r.etcName()
		return "etc " + n + "/" + file
	case "etc_dir":
		n, _ := r.etcDir()
		return "etc_dir " + n
	case "proc":
		if r.Bg {
			seq := max(r.Seq, 1)
			env := slices.Sorted(slices.Values(r.Env)) // the order of env= is no difference
			return "proc " + ns(r.NS) + " " + strings.Join(r.Argv, "\x00") + "\x01" + strings.Join(env, "\x00") + "\x01" + r.Cwd + "\x01" + strconv.Itoa(seq)
		}
		return fmt.Sprintf("proc %d %d", r.Pid, r.Start)
	case "spawn":
		return "spawn " + r.Token
	case "cgroup":
		return "cgroup " + r.Name
	}
	return r.Op
}

// declare notes that this run declares key; it reports whether an
// earlier run's record holds that key (so the object is the lab's already).
func (k *Kernel) declare(key string) bool {
	k.declared[key] = true
	return k.earlierKeys[key]
}

// place is where a device is now.
type place struct {
	ns   *NSRef
	name string
}

// origin is a device the lab made (or moved) as it was first named: its
// MAC now and the key of its record.
type origin struct {
	mac string
	key string
}

// track follows the lab's devices through its records: where each is now
// (moves, renames) and by which MAC it is known.
func (k *Kernel) track(r Record) {
	switch r.Op {
	case "link":
		k.origins[linkKey{refKey(r.NS), r.Name}] = origin{r.MAC, recKey(r)}
		k.where[r.MAC] = place{r.NS, r.Name}
		if r.Peer != "" {
			k.origins[linkKey{refKey(r.PeerNS), r.Peer}] = origin{r.PeerMAC, recKey(r)}
			k.where[r.PeerMAC] = place{r.PeerNS, r.Peer}
		}
	case "move":
		if r.MAC == "" {
			return
		}
		if _, ok := k.where[r.MAC]; !ok {
			k.origins[linkKey{refKey(r.NS), r.Name}] = origin{r.MAC, recKey(r)}
		}
		k.where[r.MAC] = place{r.To, r.Name}
	case "rename":
		if p, ok := k.where[r.MAC]; ok && r.MAC != "" {
			k.where[r.MAC] = place{p.ns, r.Name}
		}
	case "ident":
		if p, ok := k.where[r.OldMAC]; ok && r.OldMAC != "" {
			delete(k.where, r.OldMAC)
			k.where[r.MAC] = p
			for key, o := range k.origins {
				if o.mac == r.OldMAC {
					k.origins[key] = origin{r.MAC, o.key}
				}
			}
		}
	}
}

// openRef opens the namespace a record names, if it is still that one.
func (k *Kernel) openRef(r *NSRef) (*kernel.NS, bool) {
	ns, err := openNS(k.Reader, r)
	return ns, err == nil
}

// Locate says where the device that the lab made (or moved) as name in
// ns is now: moved into another namespace, renamed. Anything else is
// where it is asked for.
func (k *Kernel) Locate(ns *kernel.NS, name string) (*kernel.NS, string) {
	o, ok := k.origins[linkKey{k.nsKey(ns), name}]
	if !ok {
		return ns, name
	}
	p, ok := k.where[o.mac]
	if !ok {
		return ns, name
	}
	if now, ok := k.openRef(p.ns); ok {
		return now, p.name
	}
	return ns, name
}

// ownDevice reports whether the lab made (or moved) a device first named
// name in ns that still exists, with the MAC the lab knows it by,
// wherever it is now; if so the run declares its record.
func (k *Kernel) ownDevice(ns *kernel.NS, name string) bool {
	o, ok := k.origins[linkKey{k.nsKey(ns), name}]
	if !ok {
		return false
	}
	where, wname := k.Locate(ns, name)
	li, err := k.Reader.LinkByName(where, wname)
	if err != nil || li.MAC != o.mac {
		return false
	}
	if _, met := k.claimedAt[o.key]; !met {
		k.claimedAt[o.key] = k.claimSeq
	}
	k.declare(o.key)
	return true
}

// kept is what Commit keeps of the earlier runs' records: what this run
// declared, and what that needs (the directories its namespaces and
// /etc/netns files are in, the cgroup and mark of the processes it
// adopted).
func (k *Kernel) kept(recs []Record) map[int]bool {
	keep := map[int]bool{}
	dirs := map[string]bool{} // etc_dir names needed; "" for /etc/netns
	netns, tokens := false, map[string]bool{}
	for i, r := range recs {
		if !k.declared[recKey(r)] {
			continue
		}
		keep[i] = true
		switch r.Op {
		case "netns":
			netns = true
		case "etc":
			n, _, _ := r.etcName()
			dirs[n], dirs[""] = true, true
		case "proc":
			tokens[r.Token] = true
		}
	}
	for _, r := range k.thisRun {
		switch r.Op {
		case "netns":
			netns = true
		case "etc":
			n, _, _ := r.etcName()
			dirs[n], dirs[""] = true, true
		}
	}
	for i, r := range recs {
		switch r.Op {
		case "netns_dir":
			keep[i] = keep[i] || netns
		case "etc_dir":
			n, _ := r.etcDir()
			keep[i] = keep[i] || dirs[n]
		case "spawn", "cgroup":
			keep[i] = keep[i] || tokens[r.Token]
		case "netns_inode":
			keep[i] = k.declared["netns "+r.NS.Name]
		}
	}
	return keep
}

// Commit ends a successful run as an apply: what the lab's earlier runs
// made and this one did not declare is undone (newest first), and the
// journal keeps one record per object. It returns what it could not
// undo; then the journal is left whole, for down to retry.
func (k *Kernel) Commit(u *Undoer) []error {
	if k.file == nil {
		return nil
	}
	u.Lab = k.Lab
	keep := k.kept(k.earlier)
	var prune []Record
	for i, r := range k.earlier {
		switch {
		case k.superseded[recKey(r)]:
			keep[i] = false // what this run did replaced it (see switchIPv6)
		case !keep[i]:
			prune = append(prune, r)
		case r.Op == "proc":
			u.Spare = append(u.Spare, r.Pid)
		}
	}
	if errs := u.Undo(prune); len(errs) > 0 {
		return errs
	}
	if errs := k.endWants(); len(errs) > 0 {
		return errs
	}
	var recs []Record
	for i, r := range k.earlier {
		if keep[i] {
			recs = append(recs, r)
		}
	}
	// Whether the journal needs rewriting shows in what this run wrote,
	// which it keeps (a thousand hosts' records take a while to read
	// back): the file is read only when it does.
	if len(prune) == 0 && len(k.superseded) == 0 && !k.dups && !slices.ContainsFunc(k.thisRun, func(r Record) bool { return r.Rollback }) &&
		!k.withWants(append(slices.Clone(recs), k.thisRun...)) {
		return nil
	}
	mine, _, err := readRecordsFrom(k.file.Name(), k.start)
	if err != nil {
		return []error{err}
	}
	// What is only for a rollback of this run goes, and what it made
	// and deleted again.
	n := len(mine)
	mine = slices.DeleteFunc(mine, func(r Record) bool { return r.Rollback || k.forgotten(r) })
	recs = merge(append(recs, mine...))
	if wants := k.withWants(recs); len(prune) == 0 && len(k.superseded) == 0 && !k.dups && !wants && n == len(mine) {
		return nil
	}
	return errList(k.rewrite(recs))
}

func errList(err error) []error {
	if err == nil {
		return nil
	}
	return []error{err}
}

// merge keeps one record per key, at the place of the first: the last
// one (what the object is now: a namespace made again has another inode,
// a daemon started again another pid), with the first one's "before"
// (what was there before the lab, which undo puts back).
func merge(recs []Record) []Record {
	first := map[string]int{}
	var out []Record
	for _, r := range recs {
		key := recKey(r)
		i, ok := first[key]
		if !ok {
			first[key] = len(out)
			out = append(out, r)
			continue
		}
		out[i] = withBefore(r, out[i])
	}
	return out
}

// withBefore is r with what old says was there before the lab.
func withBefore(r, old Record) Record {
	r.OldValue, r.OldMTU, r.OldMAC, r.OldName, r.WasUp, r.OldMaster = old.OldValue, old.OldMTU, old.OldMAC, old.OldName, old.WasUp, old.OldMaster
	r.Addrs, r.Routes, r.Prev, r.PrevShape, r.PrevNeigh, r.Neighs = old.Addrs, old.Routes, old.Prev, old.PrevShape, old.PrevNeigh, old.Neighs
	if r.Op == "etc" {
		r.Has, r.Data = old.Has, old.Data
	}
	if r.Op == "up" && old.Kind == "loopback" {
		r.Kind = old.Kind
	}
	return r
}

// rewrite replaces the journal with recs, atomically.
func (k *Kernel) rewrite(recs []Record) error {
	var b bytes.Buffer
	for _, r := range recs {
		line, err := json.Marshal(r)
		if err != nil {
			return err
		}
		b.Write(append(line, '\n'))
	}
	tmp := filepath.Join(k.dir, "journal.tmp")
	if err := os.WriteFile(tmp, b.Bytes(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(k.dir, "journal"))
}
