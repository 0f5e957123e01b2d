package builtins

import (
	"errors"

	"go.starlark.net/starlark"

	"github.com/nsscript/nsscript/builtins/kernel"
)

// veth is the veth builtin: it creates a veth pair with each end directly
// in its namespace (one netlink call, no move), then attaches, addresses
// and brings up each end.
func (e *Env) veth(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	fn := b.Name()
	var name, peer IfName
	var ns, peerNS NamespaceArg
	var addr, peerAddr CIDR
	var master, peerMaster BridgeArg
	var mtu MTU
	up := true
	var mac, peerMAC MAC
	var sa shapeArgs
	if err := unpack(b, args, kwargs, &name, &peer, &ns, &peerNS, &addr, &peerAddr, &master, &peerMaster, &mtu, &up,
		&sa.rate, &sa.delay, &sa.jitter, &sa.loss, &mac, &peerMAC); err != nil {
		return nil, err
	}
	shaping, err := sa.shaping(fn)
	if err != nil {
		return nil, err
	}
	n, pn := ns.or(e.host), peerNS.or(e.host)
	// Where the call asks for its ends (n, pn and the names become where
	// a re-run finds them).
	asked, askedPeer, askedName, askedPeerName := n, pn, string(name), string(peer)
	if n == pn && name == peer {
		return nil, errorf(fn, "name and peer are both %q in namespace %s: give the peer another name", name, n.Name())
	}
	if err := master.checkSameNS(fn, "master", string(name), n); err != nil {
		return nil, err
	}
	if err := peerMaster.checkSameNS(fn, "peer_master", string(peer), pn); err != nil {
		return nil, err
	}
	if err := e.checkShaping(fn, shaping); err != nil {
		return nil, err
	}
	if err := n.checkIPv6Addr(fn, "addr", addr.IPNet, master.Link != nil); err != nil {
		return nil, err
	}
	if err := pn.checkIPv6Addr(fn, "peer_addr", peerAddr.IPNet, peerMaster.Link != nil); err != nil {
		return nil, err
	}

	// Create first: on a first run the names are free, and asking first
	// would cost two round trips per veth. Only when the kernel says a
	// name is taken does veth look: a re-run finds its own veth (and
	// converges it), anything else is an error that says what is there.
	created := false
	if mac.HardwareAddr != nil && mac.String() == peerMAC.String() {
		return nil, errorf(fn, "mac and peer_mac are both %s: the two ends of a cable need MACs of their own", mac)
	}
	// An end made to be a bridge port gets no IPv6 of its own: see
	// kernel.LinkOpts.PortOnly.
	opts := kernel.LinkOpts{MTU: int(mtu), Want: wantOf(mtu, master.Link, addr.IPNet, up), PeerWant: wantOf(mtu, peerMaster.Link, peerAddr.IPNet, up),
		MAC: mac.HardwareAddr, PeerMAC: peerMAC.HardwareAddr, MACChosen: mac.HardwareAddr != nil, PeerMACChosen: peerMAC.HardwareAddr != nil,
		PortOnly: master.Link != nil, PeerPortOnly: peerMaster.Link != nil}
	index, peerIndex, aerr := e.K.AddVeth(n.ns, string(name), pn.ns, string(peer), opts)
	if errors.Is(aerr, kernel.ErrExist) && e.replaceable(n, string(name), pn, string(peer)) {
		// The lab's own veth, which the script now wants elsewhere: made
		// again, as the script says.
		index, peerIndex, aerr = e.K.AddVeth(n.ns, string(name), pn.ns, string(peer), opts)
	}
	switch {
	case aerr == nil:
		created = true
	case !errors.Is(aerr, kernel.ErrExist):
		return nil, errorf(fn, "%w", aerr)
	default:
		// The lab's own pair may have moved since (the documents make a
		// veth in the host and move its ends): find both where they are.
		an, aname := e.located(n, string(name))
		pn2, pname := e.located(pn, string(peer))
		li, err := e.K.LinkByName(an.ns, aname)
		switch {
		case err == nil:
			if li.Kind != "veth" {
				return nil, errorf(fn, "namespace %s already has a device %q of kind %s, not a veth: choose another name or delete it", an.Name(), aname, li.Kind)
			}
			a := e.wrapLink(an, li.Index, li.Name)
			p, err := a.peer(li)
			if err != nil {
				return nil, errorf(fn, "%w", err)
			}
			if p == nil || p.name != pname || p.ns != pn2 {
				have := "in a namespace nsscript cannot see"
				if p != nil {
					have = "is " + quote(p.name) + " in namespace " + p.ns.Name()
				}
				return nil, errorf(fn, "veth %q already exists in namespace %s but its peer %s, not %q in namespace %s: delete it or use other names", aname, an.Name(), have, pname, pn2.Name())
			}
		case errors.Is(err, kernel.ErrNoLink):
			if pli, err := e.K.LinkByName(pn2.ns, pname); err == nil {
				return nil, errorf(fn, "peer name %q is already taken in namespace %s by a %s: choose another peer name", pname, pn2.Name(), pli.Kind)
			}
			return nil, errorf(fn, "%w", aerr)
		default:
			return nil, errorf(fn, "%w", err)
		}
		n, pn, name, peer = an, pn2, IfName(aname), IfName(pname)
	}

	// What a new veth end is needs no read, once its index is known.
	end := func(ns *Namespace, name string, index int) (*Link, *kernel.LinkInfo, error) {
		if !created || index == 0 {
			return ns.lookupLinkInfo(name)
		}
		l := e.wrapLink(ns, index, name)
		l.kind = "veth"
		return l, &kernel.LinkInfo{Name: name, Index: index, Kind: "veth", MTU: int(mtu)}, nil
	}
	a, ali, err := end(n, string(name), index)
	if err != nil {
		return nil, errorf(fn, "%w", err)
	}
	p, pli, err := end(pn, string(peer), peerIndex)
	if err != nil {
		return nil, errorf(fn, "%w", err)
	}
	err = a.configure(fn, asked, askedName, ali, created, mtu, master.Link, addr.IPNet, up)
	if err == nil {
		err = p.configure(fn, askedPeer, askedPeerName, pli, created, mtu, peerMaster.Link, peerAddr.IPNet, up)
	}
	if err == nil && !created {
		// A pair that was there: with the MACs the script asks for now.
		err = a.ensureMAC(fn, mac.HardwareAddr)
		if err == nil {
			err = p.ensureMAC(fn, peerMAC.HardwareAddr)
		}
	}
	if err != nil {
		if created {
			// Leave nothing half-built: the pair goes as it came.
			_ = e.K.DeleteLink(n.ns, a.index)
			e.forgetLink(a)
			e.forgetLink(p)
		}
		return nil, err
	}
	// Shaped as the call says (on a re-run, as it is already: nothing
	// changes). What an earlier run set and this call no longer asks for
	// goes when the run ends, as everything the run does not declare.
	if !shaping.Empty() {
		for _, end := range []*Link{a, p} {
			if err := end.setShape(fn, shaping); err != nil {
				if created {
					_ = e.K.DeleteLink(n.ns, a.index)
					e.forgetLink(a)
					e.forgetLink(p)
				}
				return nil, err
			}
		}
	}
	if up {
		// Both ends got their carrier when the second came up: make the
		// kernel apply that now, so the first packets are not dropped.
		// (Measured: without it a first ping with a 300ms timeout failed
		// 10-40% of the time, through a bridge or not.)
		e.K.Sync(n.ns, a.index)
		e.K.Sync(pn.ns, p.index)
		// A bridge that got its first working port from them gains its
		// own carrier in that read, and needs one of its own: under load
		// its transmit queue, which its ARP replies take, was attached
		// only after a second, when the first ping had given up.
		for _, br := range []*Link{master.Link, peerMaster.Link} {
			if br != nil && e.firstCarrier(br) {
				e.K.Sync(br.ns.ns, br.index)
			}
		}
	}
	return starlark.Tuple{a, p}, nil
}

// replaceable deletes the lab's own veth name (or peer) when it is not the
// pair the script asks for now (its peer is another, or elsewhere), and
// reports whether it did: a re-run of an edited script converges.
// Anything that is not the lab's is never touched.
func (e *Env) replaceable(n *Namespace, name string, pn *Namespace, peer string) bool {
	an, aname := e.located(n, name)
	pn2, pname := e.located(pn, peer)
	deleted := false
	for _, end := range []struct {
		ns   *Namespace
		name string
	}{{an, aname}, {pn2, pname}} {
		li, err := e.K.LinkByName(end.ns.ns, end.name)
		if err != nil || !e.Own.Replaceable(end.ns.ns, end.name) {
			continue
		}
		if li.Kind == "veth" {
			a := e.wrapLink(end.ns, li.Index, li.Name)
			if p, _ := a.peer(li); p != nil && (end.name == aname && p.name == pname && p.ns == pn2 || end.name == pname && p.name == aname && p.ns == an) {
				continue // the pair the script asks for
			}
		}
		if e.K.DeleteLink(end.ns.ns, li.Index) == nil {
			e.forgetLink(e.wrapLink(end.ns, li.Index, li.Name))
			deleted = true
		}
	}
	return deleted
}
