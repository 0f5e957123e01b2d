package builtins

import (
	"errors"

	"go.starlark.net/starlark"

	"github.com/nsscript/nsscript/builtins/kernel"
)

// bridge(name, ns=host, addr=None, stp=False, up=True) -> Link
//
// A virtual switch. Equivalent to:
//
//	ip -n NS link add NAME type bridge [stp_state 1]
//	ip -n NS addr add ADDR dev NAME; ip -n NS link set NAME up
func (e *Env) bridge(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	fn := b.Name()
	var name IfName
	var ns NamespaceArg
	var addr CIDR
	stp, up := false, true
	if err := starlark.UnpackArgs(fn, args, kwargs, "name", &name, "ns?", &ns, "addr?", &addr, "stp?", &stp, "up?", &up); err != nil {
		return nil, err
	}
	n := ns.or(e.host)
	l, created, err := e.device(fn, "bridge", n, string(name), func() error { return e.K.AddBridge(n.ns, string(name), kernel.LinkOpts{}) })
	if err != nil {
		return nil, err
	}
	if stp {
		if err = e.K.SetBridgeSTP(n.ns, l.index, true); err != nil {
			err = errorf(fn, "turn on STP on %q: %v", name, err)
		}
	}
	if err == nil {
		err = l.converge(fn, nil, created, 0, nil, addr.IPNet, up)
	}
	return e.finishDevice(fn, l, created, err)
}

// dummy(name, ns=host, addr=None, up=True) -> Link
//
// A stand-in for a physical NIC. On kernels built without the dummy driver
// it is an ifb device (also NOARP, always carrier, drops what it is sent),
// reported with kind "dummy". Equivalent to:
//
//	ip -n NS link add NAME type dummy
//	ip -n NS addr add ADDR dev NAME; ip -n NS link set NAME up
func (e *Env) dummy(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	fn := b.Name()
	var name IfName
	var ns NamespaceArg
	var addr CIDR
	up := true
	if err := starlark.UnpackArgs(fn, args, kwargs, "name", &name, "ns?", &ns, "addr?", &addr, "up?", &up); err != nil {
		return nil, err
	}
	n := ns.or(e.host)
	l, created, err := e.device(fn, "dummy", n, string(name), func() error { return e.K.AddDummy(n.ns, string(name), kernel.LinkOpts{}) })
	if err != nil {
		return nil, err
	}
	return e.finishDevice(fn, l, created, l.converge(fn, nil, created, 0, nil, addr.IPNet, up))
}

// device adopts the device NAME of the given kind in n, or creates it.
func (e *Env) device(fn, kind string, n *Namespace, name string, create func() error) (*Link, bool, error) {
	li, err := e.K.LinkByName(n.ns, name)
	switch {
	case err == nil:
		if li.Kind != kind {
			return nil, false, errorf(fn, "namespace %s already has a device %q of kind %s, not a %s: choose another name or delete it", n.Name(), name, li.Kind, kind)
		}
		return e.wrapLink(n, li.Index, li.Name), false, nil
	case !errors.Is(err, kernel.ErrNoLink):
		return nil, false, errorf(fn, "%v", err)
	}
	if err := create(); err != nil {
		return nil, false, errorf(fn, "%v", err)
	}
	l, err := n.lookupLinkQuiet(name)
	if err != nil {
		return nil, false, errorf(fn, "%v", err)
	}
	return l, true, nil
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
