package builtins

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	"go.starlark.net/starlark"

	"github.com/nsscript/nsscript/builtins/kernel"
)

// Prefix is a source or destination network ("192.168.15.0/24",
// "fd00::/64") or a single address; "default" is 0.0.0.0/0.
type Prefix struct{ *net.IPNet }

func (p *Prefix) Unpack(v starlark.Value) error {
	if v == starlark.None {
		return nil
	}
	var d Dest
	if err := d.Unpack(v); err != nil {
		return err
	}
	if d.IPNet == nil { // "default", 0.0.0.0/0 or ::/0
		d.IPNet = &net.IPNet{IP: net.IPv4zero.To4(), Mask: net.CIDRMask(0, 32)}
		if s, _ := starlark.AsString(v); strings.Contains(s, ":") {
			d.IPNet = &net.IPNet{IP: net.IPv6zero, Mask: net.CIDRMask(0, 128)}
		}
	}
	p.IPNet = d.IPNet
	return nil
}

// v6 reports whether the prefix is IPv6.
func (p Prefix) v6() bool { return p.IPNet != nil && p.IP.To4() == nil }

// masquerade is nat.masquerade: it rewrites the source of packets leaving
// a namespace to the address of the outgoing device; an IPv6 src is
// ip6tables' nat table.
func (e *Env) masquerade(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var src, notDst Prefix
	var ns NamespaceArg
	var out, notOut OptIfName
	if err := unpack(b, args, kwargs, &src, &ns, &out, &notOut, &notDst); err != nil {
		return nil, err
	}
	if src.IPNet == nil {
		return nil, errorf(b.Name(), "for parameter src: want the source network, e.g. \"192.168.15.0/24\" (or \"fd00::/64\" for IPv6)")
	}
	if notDst.IPNet != nil && notDst.v6() != src.v6() {
		return nil, errorf(b.Name(), "for parameter not_dst: %s and src %s are of different address families: give a prefix of src's family (Mininet's rule is not_dst=src: masquerade what leaves the network)", notDst, src)
	}
	n := ns.or(e.host)
	for _, c := range []struct {
		a     OptIfName
		param string
	}{{out, "out"}, {notOut, "not_out"}} {
		if err := c.a.in(b.Name(), c.param, n); err != nil {
			return nil, err
		}
	}
	if out.IfName != "" && notOut.IfName != "" {
		return nil, errorf(b.Name(), "give out= or not_out=, not both: out=\"eth0\" masquerades what leaves through eth0, not_out=\"br0\" what leaves through anything but br0")
	}
	spec := []string{"-s", src.String()}
	if notDst.IPNet != nil {
		spec = append(spec, "!", "-d", notDst.String())
	}
	if out.IfName != "" {
		spec = append(spec, "-o", string(out.IfName))
	}
	if notOut.IfName != "" {
		spec = append(spec, "!", "-o", string(notOut.IfName))
	}
	spec = append(spec, "-j", "MASQUERADE")
	c := kernel.Chain{V6: src.v6(), Table: "nat", Name: "POSTROUTING"}
	return (&Rule{env: e, ns: n, chain: c, spec: spec}).ensure(b.Name())
}

// dnat is nat.dnat: it sends connections arriving for a port to another
// address.
func (e *Env) dnat(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var port starlark.Value
	var to string
	var ns NamespaceArg
	proto := "tcp"
	var in OptIfName
	var dst Prefix
	if err := unpack(b, args, kwargs, &port, &to, &ns, &proto, &in, &dst); err != nil {
		return nil, err
	}
	if dst.v6() {
		return nil, errorf(b.Name(), "for parameter dst: %s is IPv6: nat.dnat's rules are IPv4 (iptables); give an IPv4 prefix or address like \"192.168.15.1\"", dst)
	}
	p, err := portArg(port)
	if err != nil {
		return nil, errorf(b.Name(), "for parameter port: %w", err)
	}
	if err := checkDNATTarget(to); err != nil {
		return nil, errorf(b.Name(), "for parameter to: %w", err)
	}
	switch proto {
	case "tcp", "udp", "sctp", "dccp", "udplite":
	default:
		return nil, errorf(b.Name(), "for parameter proto: %q has no ports: use \"tcp\" or \"udp\" (or sctp, dccp, udplite)", proto)
	}
	if err := in.in(b.Name(), "in_", ns.or(e.host)); err != nil {
		return nil, err
	}
	spec := []string{"-p", proto, "--dport", strconv.Itoa(p)}
	if in.IfName != "" {
		spec = append(spec, "-i", string(in.IfName))
	}
	if dst.IPNet != nil {
		spec = append(spec, "-d", dst.String())
	}
	spec = append(spec, "-j", "DNAT", "--to-destination", to)
	c := kernel.Chain{Table: "nat", Name: "PREROUTING"}
	return (&Rule{env: e, ns: ns.or(e.host), chain: c, spec: spec}).ensure(b.Name())
}

// portArg is a TCP/UDP port, 1 to 65535.
func portArg(v starlark.Value) (int, error) {
	p, err := asInt(v, "a port number")
	if err != nil {
		return 0, err
	}
	if p < 1 || p > 65535 {
		return 0, fmt.Errorf("port %s is out of range: give 1 to 65535", v)
	}
	return p, nil
}

// checkDNATTarget accepts "IP", "IP:PORT" and "IP:PORT-PORT" (IPv4).
func checkDNATTarget(to string) error {
	host, ports, hasPort := strings.Cut(to, ":")
	ip := net.ParseIP(host)
	if ip == nil || ip.To4() == nil || strings.Count(to, ":") > 1 {
		return fmt.Errorf("%q is not an IPv4 destination like \"192.168.15.2\" or \"192.168.15.2:80\"", to)
	}
	if !hasPort {
		return nil
	}
	if ports == "" {
		return fmt.Errorf("%q has no port after the colon: give one, e.g. \"%s:80\", or no colon to keep the port", to, host)
	}
	lo, hi, isRange := strings.Cut(ports, "-")
	var n [2]int
	for i, s := range []string{lo, hi} {
		if s == "" && !isRange {
			continue
		}
		var err error
		n[i], err = strconv.Atoi(s)
		if err != nil || strings.Trim(s, "0123456789") != "" || n[i] < 1 || n[i] > 65535 {
			return fmt.Errorf("%q has a bad port %q: give 1 to 65535, e.g. \"%s:80\"", to, s, host)
		}
	}
	if isRange && n[0] > n[1] {
		return fmt.Errorf("%q has a port range that ends before it starts: write it low-high, e.g. \"%s:%d-%d\"", to, host, n[1], n[0])
	}
	return nil
}
