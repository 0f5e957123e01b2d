package builtins

import (
	"fmt"
	"maps"
	"math"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.starlark.net/starlark"

	"github.com/nsscript/nsscript/builtins/kernel"
	"github.com/nsscript/nsscript/builtins/names"
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

func checkIfName(s string) error { return names.IfName(s) }

// OptIfName is a device name, given as a str or as a Link (its name
// now), or None (left empty). A Link's namespace is kept, for the
// builtin to check that it is the one it acts in (see in).
type OptIfName struct {
	IfName
	link *Link
}

func (n *OptIfName) Unpack(v starlark.Value) error {
	if v == starlark.None {
		return nil
	}
	if l, ok := v.(*Link); ok {
		n.link, n.IfName = l, IfName(l.name)
		return nil
	}
	if _, ok := v.(starlark.String); !ok {
		return fmt.Errorf("want a device name (str) or a Link, got %s", v.Type())
	}
	return n.IfName.Unpack(v)
}

// in checks that a device given as a Link is in the namespace the
// builtin acts in (a name is looked up there by the kernel).
func (n OptIfName) in(fn, param string, ns *Namespace) error {
	if n.link != nil && n.link.ns != ns {
		return errorf(fn, "for parameter %s: %q is in namespace %s, not %s: give a device of %s", param, n.link.name, n.link.ns.Name(), ns.Name(), ns.Name())
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
	if err := names.Netns(s); err != nil {
		return err
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
		if net.ParseIP(s) == nil {
			return nil, fmt.Errorf("%q is not an address with a prefix length like \"10.0.0.1/24\"", s)
		}
		return nil, fmt.Errorf("address %q has no prefix length: write it as %s/24 (or /32 for a single host)", s, s)
	}
	ip, n, err := net.ParseCIDR(s)
	if err != nil {
		return nil, prefixError(s, "10.0.0.1/24")
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
		return prefixError(s, "10.0.0.0/24")
	}
	if ones, _ := n.Mask.Size(); ones == 0 {
		return nil
	}
	d.IPNet = n
	return nil
}

// prefixError says what is wrong with s, an "address/len" that
// net.ParseCIDR refused: the address, or the prefix length.
func prefixError(s, example string) error {
	addr, bits, _ := strings.Cut(s, "/")
	ip := net.ParseIP(addr)
	if ip == nil {
		return fmt.Errorf("%q: %q is not an IPv4 or IPv6 address; write it like %q", s, addr, example)
	}
	family, max := "IPv4", 32
	if ip.To4() == nil {
		family, max = "IPv6", 128
	}
	n, err := strconv.Atoi(bits)
	switch {
	case err != nil || n < 0:
		return fmt.Errorf("%q: prefix length %q is not a number from 0 to %d: write it like %q", s, bits, max, example)
	case n > max:
		return fmt.Errorf("%q: prefix length %d is out of range: an %s prefix length is 0 to %d", s, n, family, max)
	}
	return fmt.Errorf("%q is not a valid address/prefix: write it like %q", s, example)
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
	if _, ok := v.(starlark.Int); !ok {
		return fmt.Errorf("want an MTU (an int from 68 to 65535, e.g. 1500), got %s", v.Type())
	}
	i, err := asInt(v, "an MTU")
	if err != nil || i < 68 || i > 65535 {
		return fmt.Errorf("MTU %s is out of range: Linux accepts 68 to 65535 for a device carrying IPv4", v)
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
		return fmt.Errorf("duration %v is negative: give 0 or more, e.g. \"250ms\" or 2", v)
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

// builtinFunc is the Go signature of every builtin and method.
type builtinFunc = func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error)

// withUsage wraps a builtin so that Starlark's own argument errors say how
// to call it: they tell what is wrong ("unexpected keyword argument
// \"bogus\"") but not what the builtin takes.
func withUsage(f builtinFunc) builtinFunc {
	return func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		v, err := f(thread, b, args, kwargs)
		if err != nil {
			err = explainArgs(b.Name(), err)
		}
		return v, err
	}
}

var (
	// Starlark quotes a parameter named by keyword, not one given by
	// position: `for parameter "mtu":`; nsscript never quotes it.
	quotedParam = LazyRegexp(`^([\w.]+: for parameter )"(\w+)":`)
	shapeError  = LazyRegexp(`^[\w.]+: (unexpected keyword argument|missing argument for|got \d+ arguments, want|got multiple values for)`)
	wantBool    = LazyRegexp(`: got \w+, want bool$`)
)

// argError is a Starlark argument error, reworded.
type argError struct {
	msg string
	err error
}

func (e *argError) Error() string { return e.msg }
func (e *argError) Unwrap() error { return e.err }

// explainArgs rewords the argument errors starlark.UnpackArgs makes for
// the builtin name; other errors are returned unchanged.
func explainArgs(name string, err error) error {
	if _, nested := err.(*starlark.EvalError); nested {
		return err // from a script function the builtin called
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, name+": ") {
		return err
	}
	out := quotedParam().ReplaceAllString(msg, "$1$2:")
	if wantBool().MatchString(out) {
		out += " (True or False)"
	}
	if s, ok := entries[name]; ok && shapeError().MatchString(out) {
		out += "; usage: " + s.usage()
	}
	if out == msg {
		return err
	}
	return &argError{out, err}
}

// VNI is a VXLAN network identifier: 24 bits, 0 to 16777215.
type VNI int

func (v *VNI) Unpack(x starlark.Value) error {
	i, err := rangedInt(x, "a VXLAN network identifier", "VNI", 0, 1<<24-1, "a VXLAN network identifier has 24 bits, 0 to 16777215 (2^24-1)")
	*v = VNI(i)
	return err
}

// rangedInt reads an int from lo to hi: "want WHAT (an int from LO to
// HI)" when it is no int, "NAME X is out of range: WHY" when it is out.
func rangedInt(x starlark.Value, what, name string, lo, hi int, why string) (int, error) {
	if _, ok := x.(starlark.Int); !ok {
		return 0, fmt.Errorf("want %s (an int from %d to %d), got %s", what, lo, hi, x.Type())
	}
	i, err := starlark.AsInt32(x)
	if err != nil || i < lo || i > hi {
		return 0, fmt.Errorf("%s %s is out of range: %s", name, x, why)
	}
	return i, nil
}

// Port is a TCP or UDP port, 1 to 65535.
type Port int

func (p *Port) Unpack(x starlark.Value) error {
	i, err := portArg(x)
	*p = Port(i)
	return err
}

// VlanID is an 802.1Q VLAN id, 1 to 4094 (0 and 4095 are reserved).
type VlanID int

func (v *VlanID) Unpack(x starlark.Value) error {
	i, err := rangedInt(x, "a VLAN id", "VLAN id", 1, 4094, "802.1Q ids are 1 to 4094 (0 and 4095 are reserved)")
	*v = VlanID(i)
	return err
}

// MacvlanMode is how a macvlan passes frames between its siblings:
// "bridge" (the default), "private", "vepa", "passthru" or "source".
type MacvlanMode string

func (m *MacvlanMode) Unpack(x starlark.Value) error {
	s, ok := starlark.AsString(x)
	if !ok {
		return fmt.Errorf("want a macvlan mode (str), got %s", x.Type())
	}
	if _, ok := kernel.MacvlanModes[s]; !ok {
		return fmt.Errorf("%q is not a macvlan mode: give one of %s", s, strings.Join(slices.Sorted(maps.Keys(kernel.MacvlanModes)), ", "))
	}
	*m = MacvlanMode(s)
	return nil
}

// LLAddr is a neighbour's link-layer (MAC) address.
type LLAddr struct{ net.HardwareAddr }

func (m *LLAddr) Unpack(v starlark.Value) error {
	s, ok := starlark.AsString(v)
	if !ok {
		return fmt.Errorf("want a MAC address like \"02:00:00:00:00:01\" (str), got %s", v.Type())
	}
	hw, err := net.ParseMAC(s)
	if err != nil || len(hw) != 6 {
		return fmt.Errorf("%q is not a MAC address like \"02:00:00:00:00:01\"", s)
	}
	m.HardwareAddr = hw
	return nil
}

// LinkArg is a Link value (a device the call acts on).
type LinkArg struct{ *Link }

func (a *LinkArg) Unpack(v starlark.Value) error {
	l, ok := v.(*Link)
	if !ok {
		if s, isStr := v.(starlark.String); isStr {
			return fmt.Errorf("want a Link, got the string %s: pass link(%s) or a variable holding a Link", s, s)
		}
		return fmt.Errorf("want a Link, got %s", v.Type())
	}
	a.Link = l
	return nil
}

// noNUL refuses a word that holds a NUL byte: no program argument can
// (the kernel's exec would refuse it, with a bare "invalid argument").
func noNUL(words []string, what string) error {
	for _, w := range words {
		if strings.IndexByte(w, 0) >= 0 {
			return fmt.Errorf("%s %q contains a NUL byte, which no program argument can hold: remove it", what, w)
		}
	}
	return nil
}
