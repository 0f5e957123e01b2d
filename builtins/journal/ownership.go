package journal

import (
	"strconv"

	"github.com/nsscript/nsscript/builtins/kernel"
)

// What the lab made, as the journal knows it: namespaces by cookie,
// devices by name and MAC (and by index, as lookups meet them). The
// journaling Kernel asks this before each change, to know whether it
// needs a record; the builtins ask it (Mine, Replaceable) before they
// delete or make again.

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
		if mac, ok := k.createdLinks[linkKey{refKey(r.NS), r.OldName}]; ok {
			delete(k.createdLinks, linkKey{refKey(r.NS), r.OldName})
			k.createdLinks[linkKey{refKey(r.NS), r.Name}] = mac
		}
	case "move":
		if mac, ok := k.createdLinks[linkKey{refKey(r.NS), r.Name}]; ok {
			delete(k.createdLinks, linkKey{refKey(r.NS), r.Name})
			k.createdLinks[linkKey{refKey(r.To), r.Name}] = mac
		}
	}
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
		k.ownedIdx[idxKey{key, li.Index}] = ownedDev{name: li.Name, key: k.linkRecKey(mac), mac: li.MAC}
	case k.createdNS[key]:
		k.ownedIdx[idxKey{key, li.Index}] = ownedDev{name: li.Name, mac: li.MAC}
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

// Mine reports whether the lab made the device name in ns (or, with name
// "", the namespace).
func (k *Kernel) Mine(ns *kernel.NS, name string) bool {
	if name == "" {
		return k.owned(ns)
	}
	return k.linkOwned(ns, name)
}

// Replaceable reports whether the device name in ns is the lab's, made by
// an earlier run, and not yet met by this run but for the call now being
// made: the run may delete it and make it as the script asks now. What
// this run made or met before is the script's own conflict: an error.
func (k *Kernel) Replaceable(ns *kernel.NS, name string) bool {
	if k.Accumulate {
		return false
	}
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
