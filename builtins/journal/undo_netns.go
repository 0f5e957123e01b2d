package journal

import (
	"errors"
	"time"

	"github.com/nsscript/nsscript/builtins/kernel"
)

// Undo of namespaces: deleting one the lab made (with what runs in it),
// and waiting for the veth ends that go with it.

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

type linkEnd struct {
	ns   *NSRef
	name string
	mac  string
	with string // the namespace its peer went with
}

// awaitGone waits until the veth ends whose peers died with their
// namespaces are gone too, and deletes any that outlive the wait (if
// they are still the lab's).
func (u *Undoer) awaitGone(ends []linkEnd) {
	deadline := time.Now().Add(5 * time.Second)
	// An end whose peer's namespace was not released (another's now)
	// is not waited for: nothing takes it away.
	var wait, now []linkEnd
	for _, e := range ends {
		if u.released[e.with] {
			wait = append(wait, e)
		} else {
			now = append(now, e)
		}
	}
	ends = wait
	defer func() { u.deleteEnds(now) }()
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
	u.deleteEnds(ends)
}

// deleteEnds deletes veth ends that are still there, if still the lab's.
func (u *Undoer) deleteEnds(ends []linkEnd) {
	for _, e := range ends {
		ns, li, err := u.device(e.ns, e.name, devID{kind: "veth", mac: e.mac})
		if err == nil {
			_ = u.K.DeleteLink(ns, li.Index)
		} else if errors.Is(err, kernel.ErrNotOurs) {
			u.warn("left alone: %v", err)
		}
	}
}
