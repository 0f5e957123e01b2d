package builtins

import (
	"errors"
	"net"

	"go.starlark.net/starlark"
	"golang.org/x/sys/unix"

	"github.com/nsscript/nsscript/builtins/kernel"
)

// Static neighbours: what Mininet's --arp fills every host's ARP cache
// with, so that no ARP request is ever sent.

// neighTarget unpacks (ip, [mac,] dev) of namespace.neigh and
// namespace.del_neigh, and finds the device.
func neighTarget(b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple, mac *LLAddr) (*Namespace, net.IP, *Link, error) {
	n := b.Receiver().(*Namespace)
	fn := b.Name()
	var ip IP
	var dev OptIfName
	dst := []any{&ip, &dev}
	if mac != nil {
		dst = []any{&ip, mac, &dev}
	}
	if err := unpack(b, args, kwargs, dst...); err != nil {
		return nil, nil, nil, err
	}
	switch {
	case ip.IP == nil:
		return nil, nil, nil, errorf(fn, "for parameter ip: want the neighbour's address, like \"10.0.0.2\", got None")
	case ip.IsMulticast() || ip.IsUnspecified() || ip.IsLoopback() || ip.Equal(net.IPv4bcast):
		return nil, nil, nil, errorf(fn, "for parameter ip: %s is not a unicast address of another host: a neighbour entry maps one such address to its MAC", ip.IP)
	case dev.IfName == "":
		return nil, nil, nil, errorf(fn, "for parameter dev: want the device the neighbour is on (a name or a Link), got None")
	}
	if err := dev.in(fn, "dev", n); err != nil {
		return nil, nil, nil, err
	}
	if err := n.alive(fn); err != nil {
		return nil, nil, nil, err
	}
	l, li, err := n.lookupLink(fn, string(dev.IfName))
	if err != nil {
		return nil, nil, nil, err
	}
	if li.Kind == "loopback" || li.MAC == "" {
		return nil, nil, nil, errorf(fn, "for parameter dev: %q has no link-layer address, so it has no neighbours: give an Ethernet device (a veth, a bridge, a tap)", li.Name)
	}
	return n, ip.IP, l, nil
}

// nsNeigh is the namespace.neigh method: a static (permanent) entry.
func nsNeigh(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var mac LLAddr
	n, ip, l, err := neighTarget(b, args, kwargs, &mac)
	if err != nil {
		return nil, err
	}
	if err := n.env.K.ReplaceNeigh(n.ns, kernel.NeighInfo{IP: ip, MAC: mac.String(), DevIndex: l.index}); err != nil {
		return nil, errorf(b.Name(), "%s lladdr %s on %q in %s: %w", ip, mac, l.name, n.Name(), err)
	}
	return starlark.None, nil
}

// nsDelNeigh is the namespace.del_neigh method: it removes the entry for
// an address on a device, if there is one.
func nsDelNeigh(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	n, ip, l, err := neighTarget(b, args, kwargs, nil)
	if err != nil {
		return nil, err
	}
	err = n.env.K.DeleteNeigh(n.ns, kernel.NeighInfo{IP: ip, DevIndex: l.index})
	if err != nil && !errors.Is(err, unix.ENOENT) {
		return nil, errorf(b.Name(), "%s on %q in %s: %w", ip, l.name, n.Name(), err)
	}
	return starlark.None, nil
}
