package builtins

import (
	"fmt"
	"math"
	"net"
	"strings"
	"time"
	"unicode"

	"go.starlark.net/starlark"
)

// Argument kinds. Each implements starlark.Unpacker so that a builtin
// checks all of its input in its one UnpackArgs call, before any kernel
// call. UnpackArgs prefixes the builtin and parameter name to the errors.

// IfName is a Linux interface name: 1 to 15 bytes (IFNAMSIZ-1), no '/',
// ':' or whitespace, not "." or "..".
type IfName string

func (n *IfName) Unpack(v starlark.Value) error {
	s, ok := starlark.AsString(v)
	if !ok {
		return fmt.Errorf("want an interface name (str), got %s", v.Type())
	}
	if err := checkIfName(s); err != nil {
		return err
	}
	*n = IfName(s)
	return nil
}

func checkIfName(s string) error {
	switch {
	case s == "":
		return fmt.Errorf("interface name is empty: give 1 to 15 bytes")
	case len(s) > 15:
		return fmt.Errorf("interface name %q is %d bytes, %d too many: Linux allows at most 15 (IFNAMSIZ); shorten it", s, len(s), len(s)-15)
	case s == "." || s == "..":
		return fmt.Errorf("interface name %q is not allowed: choose another name", s)
	}
	for _, r := range s {
		if r == '/' || r == ':' || unicode.IsSpace(r) {
			return fmt.Errorf("interface name %q contains %q: Linux forbids '/', ':' and whitespace in interface names", s, r)
		}
	}
	return nil
}

// NSName is a namespace name: one path component under /run/netns.
type NSName string

func (n *NSName) Unpack(v starlark.Value) error {
	s, ok := starlark.AsString(v)
	if !ok {
		return fmt.Errorf("want a namespace name (str), got %s", v.Type())
	}
	switch {
	case s == "":
		return fmt.Errorf("namespace name is empty")
	case s == "." || s == "..":
		return fmt.Errorf("namespace name %q is not allowed: it must be a single path component", s)
	case strings.ContainsRune(s, '/'):
		return fmt.Errorf("namespace name %q contains '/': it must be a single path component (a file name in /run/netns)", s)
	case strings.ContainsRune(s, 0):
		return fmt.Errorf("namespace name %q contains a NUL byte", s)
	case len(s) > 255:
		return fmt.Errorf("namespace name is %d bytes: at most 255", len(s))
	}
	*n = NSName(s)
	return nil
}

// CIDR is an interface address with its prefix length ("10.0.0.1/24").
type CIDR struct{ *net.IPNet }

func (c *CIDR) Unpack(v starlark.Value) error {
	if v == starlark.None {
		return nil
	}
	s, ok := starlark.AsString(v)
	if !ok {
		return fmt.Errorf("want an address like \"10.0.0.1/24\" (str), got %s", v.Type())
	}
	ipn, err := parseCIDR(s)
	if err != nil {
		return err
	}
	c.IPNet = ipn
	return nil
}

func parseCIDR(s string) (*net.IPNet, error) {
	if !strings.Contains(s, "/") {
		return nil, fmt.Errorf("address %q has no prefix length: write it as %s/24 (or /32 for a single host)", s, s)
	}
	ip, n, err := net.ParseCIDR(s)
	if err != nil {
		return nil, fmt.Errorf("%q is not a valid address/prefix like \"10.0.0.1/24\"", s)
	}
	if ip4 := ip.To4(); ip4 != nil {
		ip = ip4
	}
	return &net.IPNet{IP: ip, Mask: n.Mask}, nil
}

// Dest is a route destination: "default", a CIDR, or a single address.
type Dest struct{ *net.IPNet } // nil IPNet: default

func (d *Dest) Unpack(v starlark.Value) error {
	s, ok := starlark.AsString(v)
	if !ok {
		return fmt.Errorf("want \"default\" or a prefix like \"10.0.0.0/24\" (str), got %s", v.Type())
	}
	if s == "default" {
		return nil
	}
	if !strings.Contains(s, "/") {
		ip := net.ParseIP(s)
		if ip == nil {
			return fmt.Errorf("%q is not \"default\", a prefix like \"10.0.0.0/24\" or an address", s)
		}
		bits := 128
		if ip4 := ip.To4(); ip4 != nil {
			ip, bits = ip4, 32
		}
		d.IPNet = &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)}
		return nil
	}
	_, n, err := net.ParseCIDR(s)
	if err != nil {
		return fmt.Errorf("%q is not \"default\" or a prefix like \"10.0.0.0/24\"", s)
	}
	if ones, _ := n.Mask.Size(); ones == 0 {
		return nil
	}
	d.IPNet = n
	return nil
}

func (d Dest) String() string {
	if d.IPNet == nil {
		return "default"
	}
	return d.IPNet.String()
}

// IP is a single address.
type IP struct{ net.IP }

func (a *IP) Unpack(v starlark.Value) error {
	if v == starlark.None {
		return nil
	}
	s, ok := starlark.AsString(v)
	if !ok {
		return fmt.Errorf("want an address like \"10.0.0.1\" (str), got %s", v.Type())
	}
	ip := net.ParseIP(s)
	if ip == nil {
		if strings.Contains(s, "/") {
			return fmt.Errorf("%q is a prefix: give a single address, without /len", s)
		}
		return fmt.Errorf("%q is not an IP address", s)
	}
	if ip4 := ip.To4(); ip4 != nil {
		ip = ip4
	}
	a.IP = ip
	return nil
}

// MAC is an Ethernet address.
type MAC struct{ net.HardwareAddr }

func (m *MAC) Unpack(v starlark.Value) error {
	if v == starlark.None {
		return nil
	}
	s, ok := starlark.AsString(v)
	if !ok {
		return fmt.Errorf("want a MAC address like \"02:00:00:00:00:01\" (str), got %s", v.Type())
	}
	hw, err := net.ParseMAC(s)
	if err != nil || len(hw) != 6 {
		return fmt.Errorf("%q is not a MAC address like \"02:00:00:00:00:01\"", s)
	}
	if hw[0]&1 == 1 {
		return fmt.Errorf("%q is a multicast MAC address (lowest bit of the first byte set): the kernel refuses it for a device; use e.g. \"02:...\"", s)
	}
	if hw.String() == "00:00:00:00:00:00" {
		return fmt.Errorf("%q is the all-zero MAC address, which the kernel refuses", s)
	}
	m.HardwareAddr = hw
	return nil
}

// MTU is a device MTU the kernel accepts for IPv4 (68 to 65535).
type MTU int

func (m *MTU) Unpack(v starlark.Value) error {
	if v == starlark.None {
		return nil
	}
	i, err := asInt(v, "an MTU")
	if err != nil {
		return err
	}
	if i < 68 || i > 65535 {
		return fmt.Errorf("MTU %d is out of range: Linux accepts 68 to 65535", i)
	}
	*m = MTU(i)
	return nil
}

// Duration is "250ms", "2s", "1m" or a number of seconds.
type Duration time.Duration

func (d *Duration) Unpack(v starlark.Value) error {
	var dur time.Duration
	switch x := v.(type) {
	case starlark.String:
		var err error
		dur, err = time.ParseDuration(string(x))
		if err != nil {
			return fmt.Errorf("%q is not a duration like \"250ms\", \"2s\" or \"1m\"", string(x))
		}
	case starlark.Int, starlark.Float:
		f, _ := starlark.AsFloat(x)
		if math.IsNaN(f) || f > 1e9 {
			return fmt.Errorf("%v is not a usable number of seconds", x)
		}
		dur = time.Duration(f * float64(time.Second))
	default:
		return fmt.Errorf("want a duration (\"2s\" or seconds as a number), got %s", v.Type())
	}
	if dur < 0 {
		return fmt.Errorf("duration %v is negative", v)
	}
	*d = Duration(dur)
	return nil
}

// asInt gives every int argument the same message.
func asInt(v starlark.Value, what string) (int, error) {
	if _, ok := v.(starlark.Int); !ok {
		return 0, fmt.Errorf("want %s (int), got %s", what, v.Type())
	}
	i, err := starlark.AsInt32(v)
	if err != nil {
		return 0, fmt.Errorf("%s %s is out of range", what, v)
	}
	return i, nil
}
