package builtins

import (
	"errors"
	"net"

	"go.starlark.net/starlark"

	"github.com/nsscript/nsscript/builtins/kernel"
	"golang.org/x/sys/unix"
)

// routeValue makes the Route value for a kernel route.
func (n *Namespace) routeValue(r kernel.RouteInfo) starlark.Value {
	return n.routeValueDev(r, "")
}

// routeValueDev is routeValue when the device's name is known ("": look
// it up).
func (n *Namespace) routeValueDev(r kernel.RouteInfo, devName string) starlark.Value {
	dst := "default"
	if r.Dst != nil {
		dst = r.Dst.String()
	}
	var via starlark.Value = starlark.None
	if r.Via != nil {
		via = starlark.String(r.Via.String())
	}
	var dev starlark.Value = starlark.None
	if devName != "" {
		dev = starlark.String(devName)
	} else if li, err := n.env.K.LinkByIndex(n.ns, r.DevIndex); err == nil {
		dev = starlark.String(li.Name)
	}
	return newRecord("Route", "ns", n, "dst", starlark.String(dst), "via", via, "dev", dev,
		"metric", starlark.MakeInt(r.Metric), "table", starlark.MakeInt(r.Table))
}

// routes lists a table's routes (0: main) as Route values.
func (n *Namespace) routes(table int) ([]starlark.Value, error) {
	rs, err := n.env.K.Routes(n.ns, table)
	if err != nil {
		return nil, err
	}
	out := make([]starlark.Value, len(rs))
	for i, r := range rs {
		out[i] = n.routeValue(r)
	}
	return out, nil
}

// route is the route builtin: it adds or replaces a route.
func (e *Env) route(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	fn := b.Name()
	var ns NamespaceArg
	var dst Dest
	var via IP
	var dev starlark.Value = starlark.None
	var metric, table starlark.Value = starlark.None, starlark.None
	if err := unpack(b, args, kwargs, &ns, &dst, &via, &dev, &metric, &table); err != nil {
		return nil, err
	}
	n, err := ns.need(fn, "ns")
	if err != nil {
		return nil, err
	}
	r := kernel.RouteInfo{Dst: dst.IPNet, Via: via.IP}
	if metric != starlark.None {
		m, err := asInt(metric, "a metric")
		if err != nil || m < 0 {
			return nil, errorf(fn, "for parameter metric: want a metric from 0 to 4294967295, got %s", metric)
		}
		r.Metric = m
	}
	if table != starlark.None {
		t, err := asInt(table, "a table number")
		if err != nil || t <= 0 || t == unix.RT_TABLE_UNSPEC || t > 0x7fffffff {
			return nil, errorf(fn, "for parameter table: want a table number from 1 to 2147483647 (main is 254), got %s", table)
		}
		r.Table = t
	}
	if via.IP == nil && dev == starlark.None {
		return nil, errorf(fn, "give via= (a gateway) or dev= (a device) for %s", dst)
	}
	if via.IP != nil && dst.IPNet != nil && (via.IP.To4() == nil) != (dst.IP.To4() == nil) {
		return nil, errorf(fn, "gateway %s and destination %s are of different address families", via.IP, dst)
	}
	var devLink *Link
	if dev != starlark.None {
		var name string
		switch d := dev.(type) {
		case *Link:
			if d.ns != n {
				return nil, errorf(fn, "for parameter dev: %q is in namespace %s, not %s: give a device of %s (see %s.links), or route in %s", d.name, d.ns.Name(), n.Name(), n.Name(), nsVar(n), d.ns.Name())
			}
			devLink = d
			name = d.name
		case starlark.String:
			var ifn IfName
			if err := ifn.Unpack(d); err != nil {
				return nil, errorf(fn, "for parameter dev: %w", err)
			}
			name = string(ifn)
		default:
			return nil, errorf(fn, "for parameter dev: want a Link or a device name, got %s", dev.Type())
		}
		l, _, err := n.lookupLink(fn, name)
		if err != nil {
			return nil, err
		}
		devLink = l
		r.DevIndex = l.index
	}
	gwDev := 0
	if via.IP != nil {
		if gwDev, err = n.checkGateway(fn, via.IP, r); err != nil {
			return nil, err
		}
	}
	if err := e.K.ReplaceRoute(n.ns, r); err != nil {
		if errors.Is(err, unix.ENETUNREACH) {
			return nil, errorf(fn, "gateway %s is not reachable from namespace %s: %w", via.IP, n.Name(), err)
		}
		if errors.Is(err, unix.ENETDOWN) && devLink != nil {
			return nil, errorf(fn, "device %q is down: set it up first (%s.set_up())", devLink.name, devLink.name)
		}
		if errors.Is(err, unix.EACCES) && devLink != nil {
			if why := devLink.noIPv6(); why != "" {
				return nil, errorf(fn, "%s", why)
			}
		}
		return nil, errorf(fn, "%w", err)
	}
	if r.Table == 0 {
		r.Table = kernel.MainTable
	}
	devName := ""
	if devLink != nil {
		devName = devLink.name
	}
	if r.DevIndex == 0 {
		// The kernel chose the device from the gateway: report it, so the
		// value equals the one ns.routes lists.
		if r.DevIndex = gwDev; gwDev == 0 {
			r.DevIndex = n.resolvedDev(r)
		} else if l := e.knownLink(n, gwDev); l != nil {
			devName = l.name
		}
	}
	return n.routeValueDev(r, devName), nil
}

// resolvedDev is the device of the kernel's route matching r, or 0.
func (n *Namespace) resolvedDev(r kernel.RouteInfo) int {
	rs, err := n.env.K.Routes(n.ns, r.Table)
	if err != nil {
		return 0
	}
	for _, kr := range rs {
		if kr.Dst.String() == r.Dst.String() && kr.Via.Equal(r.Via) && kr.Metric == r.Metric {
			return kr.DevIndex
		}
	}
	return 0
}

// checkGateway refuses a gateway that no connected route reaches, which is
// what the kernel checks, with advice instead of "Nexthop has invalid
// gateway". It returns the device the kernel will take for the gateway
// when one connected route is the most specific that holds it (else 0).
func (n *Namespace) checkGateway(fn string, gw net.IP, r kernel.RouteInfo) (int, error) {
	tables := []int{kernel.MainTable}
	if r.Table != 0 && r.Table != kernel.MainTable {
		tables = append(tables, r.Table)
	}
	for _, t := range tables {
		rs, err := n.env.K.Routes(n.ns, t)
		if err != nil {
			return 0, errorf(fn, "%w", err)
		}
		dev, best, ties := 0, -1, 0
		for _, cr := range rs {
			if cr.Via != nil || cr.Dst == nil || !cr.Dst.Contains(gw) {
				continue
			}
			if r.DevIndex != 0 && cr.DevIndex != r.DevIndex {
				continue
			}
			switch ones, _ := cr.Dst.Mask.Size(); {
			case ones > best:
				dev, best, ties = cr.DevIndex, ones, 1
			case ones == best:
				ties++
			}
		}
		if best >= 0 {
			if ties > 1 || len(tables) > 1 {
				dev = 0
			}
			return dev, nil
		}
	}
	where := "any interface"
	if r.DevIndex != 0 {
		if li, err := n.env.K.LinkByIndex(n.ns, r.DevIndex); err == nil {
			where = quote(li.Name)
		}
	}
	// A device that is down has no connected routes: say so, rather than
	// that no address fits (a moved device comes down in its new place).
	if down := n.downDeviceFor(gw, r.DevIndex); down != "" {
		return 0, errorf(fn, "gateway %s is not reachable from namespace %s: device %q, whose address is in its subnet, is down (move() brings a device down; ip link set %s up): set it up first with %s.link(%q).set_up(), or up=True", gw, n.Name(), down, down, nsVar(n), down)
	}
	return 0, errorf(fn, "gateway %s is not reachable from %s in namespace %s: no address there is in its subnet; add one first (e.g. addr= on the veth or bridge), or check that the device is up", gw, where, n.Name())
}

// downDeviceFor is the name of a device of n that is down and has an
// address in a subnet holding gw (only dev, if given), or "".
func (n *Namespace) downDeviceFor(gw net.IP, dev int) string {
	links, err := n.env.K.Links(n.ns)
	if err != nil {
		return ""
	}
	for _, l := range links {
		if l.Up || dev != 0 && l.Index != dev {
			continue
		}
		addrs, _ := n.env.K.Addrs(n.ns, l.Index)
		for _, a := range addrs {
			if _, sub, err := net.ParseCIDR(a); err == nil && sub.Contains(gw) {
				return l.Name
			}
		}
	}
	return ""
}
