package journal

import (
	"errors"
	"fmt"
	"slices"

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
