package journal

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/nsscript/nsscript/builtins/kernel"
)

// Namespaces and their sysctls: ip netns add/del, sysctl -w.

// CreateNamed journals the namespace, with what identifies it, before it
// gets its name; if another process took the name meanwhile, the record
// is taken back and the namespace is adopted (the lab did not make it).
func (k *Kernel) CreateNamed(name string, setup kernel.NetnsSetup, claim func(kernel.NetnsClaim) error) (*kernel.NS, bool, error) {
	for {
		ns, created, err := k.createNamed(name, setup, claim)
		if err == nil && !created && k.owned(ns) {
			k.declare("netns " + name) // the lab's, from an earlier run
			if nk := k.nsKey(ns); k.ipv6Switched[nk] {
				k.supersedeIPv6(nk) // by a run killed before it ended
			}
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

func (k *Kernel) createNamed(name string, setup kernel.NetnsSetup, claim func(kernel.NetnsClaim) error) (*kernel.NS, bool, error) {
	if ns, err := k.Reader.OpenNamed(name); err == nil {
		return ns, false, nil
	}
	if !k.Reader.HasNetnsDir() {
		if err := k.write(Record{Op: "netns_dir"}); err != nil {
			return nil, false, err
		}
	}
	var mark int64 = -1
	var key uint64
	ns, created, err := k.in.CreateNamed(name, setup, func(c kernel.NetnsClaim) error {
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

// DeleteNamed deletes a namespace of the lab's (Mine); the devices of
// others that the lab moved into it are moved back first, with what they
// had, so that the namespace does not take them along.
func (k *Kernel) DeleteNamed(ns *kernel.NS) error {
	var back []Record
	key := k.nsKey(ns)
	for _, r := range append(slices.Clone(k.earlier), k.thisRun...) {
		if r.givesBack() && refKey(r.To) == key {
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
	nk := k.nsKey(ns)
	if err := k.in.DeleteNamed(ns); err != nil {
		return err
	}
	k.forget(nk)
	return nil
}

// WriteSysctl journals a write: in a namespace the lab made, with the
// value before (read first), so that a later run that no longer sets it
// puts it back; in any other, as shared among the labs (see shared.go).
func (k *Kernel) WriteSysctl(ns *kernel.NS, key, value string) (string, error) {
	if !k.owned(ns) {
		return k.sharedSysctl(ns, key, value)
	}
	if sysctlFile(key) == sysctlFile(kernel.DisableIPv6Key) {
		return k.switchIPv6(ns, key, value)
	}
	// Journaled whenever the value changes, also when an earlier run set
	// it (then the run declares it too): a rollback of this run puts back
	// the earlier run's value; the journal keeps the oldest's (Commit).
	rec := Record{Op: "sysctl", NS: k.ref(ns), Name: key, Within: k.within(ns, 0)}
	old, err := k.Reader.ReadSysctl(ns, key)
	if err != nil {
		return "", err
	}
	rec.OldValue = old
	if known := k.declare(recKey(rec)) || k.thisKeys[recKey(rec)]; !known || old != value {
		if err := k.write(rec); err != nil {
			return "", err
		}
	}
	return k.in.WriteSysctl(ns, key, value)
}

// switchIPv6 is net.ipv6.conf.all.disable_ipv6 in a namespace the lab
// made: IPv6 off or on for all of it, as namespace(ipv6=) makes it. Its
// record is for a rollback of this run only: every run's namespace()
// says again whether the namespace has IPv6, so a later run must not
// undo the switch (a run that no longer asks for ipv6=False has turned
// IPv6 back on, and one that asks for it has turned it off). The kernel
// sets .default's and every device's disable_ipv6 with it, so what
// earlier runs set on those is superseded: their records go, undone
// neither now nor later (which would give a device of a namespace
// without IPv6 its IPv6 back). Turned on, the lab's bridge ports stay
// without, as the lab makes them (kernel.LinkOpts.PortOnly): all of them,
// though one put on a bridge after it was made had IPv6 before.
func (k *Kernel) switchIPv6(ns *kernel.NS, key, value string) (string, error) {
	old, err := k.Reader.ReadSysctl(ns, key)
	if err != nil {
		return "", err
	}
	if old != value && value == "0" && k.othersSet(ns, key) {
		return old, nil // another lab that uses the namespace turned IPv6 off: its down turns it on
	}
	if old != value {
		if old == "0" {
			// A rollback turns IPv6 on again, then the ports off.
			if err := k.portsOff(ns, func(port string) error {
				return k.write(Record{Op: "sysctl", NS: k.ref(ns), Name: port, OldValue: "1", Within: k.within(ns, 0), Rollback: true})
			}); err != nil {
				return "", err
			}
		}
		if err := k.write(Record{Op: "sysctl", NS: k.ref(ns), Name: key, OldValue: old, Within: k.within(ns, 0), Rollback: true}); err != nil {
			return "", err
		}
		k.supersedeIPv6(k.nsKey(ns))
	}
	if _, err := k.in.WriteSysctl(ns, key, value); err != nil || value != "0" || old == value {
		return old, err
	}
	return old, k.portsOff(ns, func(port string) error {
		_, err := k.in.WriteSysctl(ns, port, "1")
		return err
	})
}

// supersedeIPv6 drops the records earlier runs left of disable_ipv6 in
// the namespace nk of the lab's, when this run switched it (see
// switchIPv6) or finds it switched by a run that was killed before it
// ended: that run's record of the switch, which was for its rollback
// only, and what was set on the devices before the switch.
func (k *Kernel) supersedeIPv6(nk uint64) {
	delete(k.ipv6Switched, nk)
	for _, r := range k.earlier {
		if f := sysctlFile(r.Name); r.Op == "sysctl" && refKey(r.NS) == nk &&
			strings.HasPrefix(f, "net%ipv6%conf%") && strings.HasSuffix(f, "%disable_ipv6") {
			k.superseded[recKey(r)] = true
		}
	}
}

// othersSet reports whether other labs changed key in ns, a namespace
// they adopted from this lab (see sharedSysctl).
func (k *Kernel) othersSet(ns *kernel.NS, key string) bool {
	others := false
	_ = withEntry(sharedDir, k.nsKey(ns), sysctlFile(key), func(e *shared) (*shared, error) {
		others = e != nil && len(e.liveUsers(k.Lab)) > 0
		return e, nil
	})
	return others
}

// portsOff calls f with the disable_ipv6 key of each bridge port in ns
// (see switchIPv6).
func (k *Kernel) portsOff(ns *kernel.NS, f func(key string) error) error {
	links, err := k.Reader.Links(ns)
	if err != nil {
		return err
	}
	for _, li := range links {
		if li.MasterIndex != 0 {
			if err := f(kernel.PortSysctl(li.Name)); err != nil {
				return err
			}
		}
	}
	return nil
}
