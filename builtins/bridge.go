package builtins

import (
	"errors"

	"go.starlark.net/starlark"

	"github.com/nsscript/nsscript/builtins/kernel"
)

// bridge is the bridge builtin: it makes a virtual switch.
func (e *Env) bridge(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	fn := b.Name()
	var name IfName
	var ns NamespaceArg
	var addr CIDR
	stp, up := false, true
	if err := unpack(b, args, kwargs, &name, &ns, &addr, &stp, &up); err != nil {
		return nil, err
	}
	n := ns.or(e.host)
	if err := n.checkIPv6Addr(fn, "addr", addr.IPNet, false); err != nil {
		return nil, err
	}
	l, created, err := e.device(fn, "bridge", n, string(name), func() error {
		return e.K.AddBridge(n.ns, string(name), kernel.LinkOpts{Want: wantOf(0, nil, addr.IPNet, up)})
	})
	if err != nil {
		return nil, err
	}
	if stp {
		if err = e.K.SetBridgeSTP(n.ns, l.index, true); err != nil {
			err = errorf(fn, "turn on STP on %q: %w", name, err)
		}
	}
	if err == nil {
		err = l.configure(fn, n, string(name), nil, created, 0, nil, addr.IPNet, up)
	}
	return e.finishDevice(fn, l, created, err)
}

// dummy is the dummy builtin: it makes a stand-in for a physical NIC. On
// kernels built without the dummy driver it is an ifb device (also NOARP,
// always carrier, drops what it is sent), reported with kind "dummy".
func (e *Env) dummy(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	fn := b.Name()
	var name IfName
	var ns NamespaceArg
	var addr CIDR
	up := true
	if err := unpack(b, args, kwargs, &name, &ns, &addr, &up); err != nil {
		return nil, err
	}
	n := ns.or(e.host)
	if err := n.checkIPv6Addr(fn, "addr", addr.IPNet, false); err != nil {
		return nil, err
	}
	l, created, err := e.device(fn, "dummy", n, string(name), func() error {
		return e.K.AddDummy(n.ns, string(name), kernel.LinkOpts{Want: wantOf(0, nil, addr.IPNet, up)})
	})
	if err != nil {
		return nil, err
	}
	return e.finishDevice(fn, l, created, l.configure(fn, n, string(name), nil, created, 0, nil, addr.IPNet, up))
}

// device creates the device NAME of the given kind in n, or adopts it:
// the device there, or the lab's own device of that name wherever it is
// now (moved into a namespace, say). It asks the kernel to create it
// first: on a first run the name is free, and only when it is taken does
// it look.
func (e *Env) device(fn, kind string, n *Namespace, name string, create func() error) (*Link, bool, error) {
	err := create()
	if err == nil {
		l, err := n.lookupLinkQuiet(name)
		if err != nil {
			return nil, false, errorf(fn, "%w", err)
		}
		return l, true, nil
	}
	if !errors.Is(err, kernel.ErrExist) {
		return nil, false, errorf(fn, "%w", err)
	}
	at, atName := e.located(n, name)
	li, lerr := e.K.LinkByName(at.ns, atName)
	if lerr == nil && li.Kind != kind && e.Own.Replaceable(at.ns, atName) {
		// The lab's own device, of another kind now: made again.
		e.portsChanged()
		if err := e.K.DeleteLink(at.ns, li.Index); err != nil {
			return nil, false, errorf(fn, "replace %q: %w", atName, err)
		}
		return e.device(fn, kind, n, name, create)
	}
	switch {
	case lerr == nil && li.Kind != kind:
		return nil, false, errorf(fn, "namespace %s already has a device %q of kind %s, not a %s: choose another name or delete it", at.Name(), atName, li.Kind, kind)
	case lerr != nil:
		return nil, false, errorf(fn, "%w", err)
	}
	return e.wrapLink(at, li.Index, li.Name), false, nil
}

// located is where the device that the lab made (or moved) as name in n
// is now; anything else is where it is asked for.
func (e *Env) located(n *Namespace, name string) (*Namespace, string) {
	ns, now := e.Own.Locate(n.ns, name)
	if ns == n.ns {
		return n, now
	}
	return e.wrapNS(ns), now
}

// finishDevice deletes a device this call created when configuring it
// failed, so that nothing is left half-built.
func (e *Env) finishDevice(fn string, l *Link, created bool, err error) (starlark.Value, error) {
	if err == nil {
		e.K.Sync(l.ns.ns, l.index) // (see kernel.Sync)
		return l, nil
	}
	if created {
		_ = e.K.DeleteLink(l.ns.ns, l.index)
		e.forgetLink(l)
	}
	return nil, err
}
