package journal

// A run that makes a namespace and deletes it again, over and over (a
// test loop, a long REPL session), would otherwise keep in memory what it
// wrote about each one until it ends. Once a namespace this run made is
// deleted, and with it everything in it, what the run knows of those is
// forgotten: their records, by key, and what it learnt from them. The
// journal file keeps the records until the run ends (a kill -9 leaves
// them to down, which finds them gone); Commit then drops them too.

// forget drops what this run knows of the namespace nk, one it made that is
// now deleted: the records about it and its devices (a veth with an end
// in it went with it, and so did what was set on the other end), unless
// this run started a process there (it may keep the namespace alive, with
// its devices) or moved a device in or out (that one lives on).
func (k *Kernel) forget(nk uint64) {
	if !k.madeNS[nk] {
		return
	}
	in := func(r *NSRef) bool { return r != nil && refKey(r) == nk }
	for _, r := range k.thisRun {
		if (r.Op == "proc" || r.Op == "spawn") && in(r.NS) || r.Op == "move" && (in(r.NS) || in(r.To)) {
			return
		}
	}
	gone := map[string]bool{} // keys
	macs := map[string]bool{}
	for _, r := range k.thisRun {
		switch {
		case r.Op == "cgroup" || r.Op == "etc" || r.Op == "etc_dir" || r.Op == "netns_dir" || r.Op == "adopt":
			continue // not in the namespace
		case in(r.NS), r.Op == "link" && r.Kind == "veth" && in(r.PeerNS):
			gone[recKey(r)] = true
			if r.Op == "link" {
				macs[r.MAC], macs[r.PeerMAC] = true, true
			}
		}
	}
	for _, r := range k.thisRun {
		if gone[r.Within] {
			gone[recKey(r)] = true // set on a veth's other end
		}
	}
	kept := k.thisRun[:0]
	for _, r := range k.thisRun {
		if !gone[recKey(r)] {
			kept = append(kept, r)
		}
	}
	clear(k.thisRun[len(kept):])
	k.thisRun = kept
	for key := range gone {
		delete(k.thisKeys, key)
		if !k.earlierKeys[key] {
			delete(k.declared, key)
		}
	}
	delete(macs, "")
	delete(k.createdNS, nk)
	delete(k.madeNS, nk)
	for key, mac := range k.createdLinks {
		if key.ns == nk || macs[mac] {
			delete(k.createdLinks, key)
		}
	}
	for key, o := range k.origins {
		if key.ns == nk || macs[o.mac] {
			delete(k.origins, key)
		}
	}
	for key, d := range k.ownedIdx {
		if key.ns == nk || gone[d.key] {
			delete(k.ownedIdx, key)
		}
	}
	for key, mac := range k.wantIdx {
		if key.ns == nk || macs[mac] {
			delete(k.wantIdx, key)
		}
	}
	for mac := range macs {
		delete(k.where, mac)
		delete(k.wants, mac)
		delete(k.thisMACs, mac)
	}
	// The file still has the records: Commit rewrites it without them.
	k.dups = true
}

// forgotten reports whether a record this run wrote is about what it
// made and deleted since (see forget): its key is not this run's any more.
func (k *Kernel) forgotten(r Record) bool { return !k.thisKeys[recKey(r)] }
