package builtins

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"go.starlark.net/starlark"

	"github.com/nsscript/nsscript/builtins/kernel"
	"github.com/nsscript/nsscript/builtins/why"
)

// Diagnosis is what why() found: the hops there and back, the first
// fault and its fix; true when the way there and back is open.
type Diagnosis struct{ d *why.Diagnosis }

var _ starlark.HasAttrs = (*Diagnosis)(nil)

func (d *Diagnosis) Type() string          { return "Diagnosis" }
func (d *Diagnosis) Freeze()               {}
func (d *Diagnosis) Truth() starlark.Bool  { return starlark.Bool(d.d.OK) }
func (d *Diagnosis) Hash() (uint32, error) { return 0, errors.New("unhashable: Diagnosis") }
func (d *Diagnosis) String() string        { return d.d.String() }
func (d *Diagnosis) AttrNames() []string {
	return []string{"back", "checked", "command", "fault", "fix", "hops", "ok", "path", "unseen"}
}

func (d *Diagnosis) Attr(name string) (starlark.Value, error) {
	strs := func(l []string) starlark.Value {
		v := make([]starlark.Value, len(l))
		for i, s := range l {
			v[i] = starlark.String(s)
		}
		return starlark.NewList(v)
	}
	opt := func(s string) starlark.Value {
		if s == "" {
			return starlark.None
		}
		return starlark.String(s)
	}
	switch name {
	case "ok":
		return starlark.Bool(d.d.OK), nil
	case "hops":
		return strs(d.d.Path), nil
	case "back":
		return strs(d.d.Back), nil
	case "path":
		return starlark.String(strings.Join(d.d.Path, " → ")), nil
	case "fault":
		if d.d.Fault == "" && d.d.Stop != "" {
			return starlark.None, nil
		}
		return opt(d.d.Fault), nil
	case "fix":
		return opt(d.d.Fix), nil
	case "command":
		return opt(d.d.Command), nil
	case "checked":
		return strs(d.d.Checked), nil
	case "unseen":
		unseen := d.d.Unseen
		if d.d.Stop != "" {
			unseen = append([]string{d.d.Stop}, unseen...)
		}
		return strs(unseen), nil
	}
	return nil, nil
}

// WhyArgs are why's destination, port and protocol, checked.
type WhyArgs struct {
	Dst   net.IP
	Port  int
	Proto string
}

// ParseWhy checks why's dst ("ip" or "ip:port"), port (0: none) and
// proto: a port means TCP unless proto says udp; tcp and udp need one.
func ParseWhy(dst string, port int, proto string) (WhyArgs, error) {
	a := WhyArgs{Dst: net.ParseIP(dst), Port: port, Proto: proto}
	if a.Dst == nil {
		host, p, err := net.SplitHostPort(dst)
		if err != nil || net.ParseIP(host) == nil {
			return a, fmt.Errorf("for parameter dst: %q is not an address (\"10.0.0.2\") or address:port (\"10.0.0.2:80\", \"[fd00::2]:80\")", dst)
		}
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return a, fmt.Errorf("for parameter dst: %q: port %q is not 1 to 65535", dst, p)
		}
		if port != 0 && port != n {
			return a, fmt.Errorf("dst %q has port %d and port= says %d: give it once", dst, n, port)
		}
		a.Dst, a.Port = net.ParseIP(host), n
	}
	if a.Port < 0 || a.Port > 65535 {
		return a, fmt.Errorf("for parameter port: %d is not 1 to 65535", a.Port)
	}
	switch a.Proto {
	case "icmp":
		if a.Port != 0 {
			a.Proto = "tcp"
		}
	case "tcp", "udp":
		if a.Port == 0 {
			return a, fmt.Errorf("proto=%q needs a port: port = 80, or dst \"%s:80\"", a.Proto, a.Dst)
		}
	default:
		return a, fmt.Errorf("for parameter proto: %q is not \"icmp\" (a ping), \"tcp\" or \"udp\"", a.Proto)
	}
	if a.Dst.IsUnspecified() || a.Dst.IsMulticast() {
		what := "the unspecified address, which no packet is sent to"
		if a.Dst.IsMulticast() {
			what = "a multicast group, which every member takes and no one route leads to"
		}
		return a, fmt.Errorf("for parameter dst: %s is %s: why follows a packet to one host, so give that host's address", a.Dst, what)
	}
	if a.Dst.Equal(net.IPv4bcast) {
		return a, fmt.Errorf("for parameter dst: %s is the limited broadcast, which every host on a link takes and no router passes on: why follows a packet to one host, so give that host's address", a.Dst)
	}
	return a, nil
}

// why is the why builtin: it follows a packet from ns to dst and back,
// hop by hop, reading the kernel, and names the first thing that stops it.
func (e *Env) why(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var ns NamespaceArg
	var dst string
	var port starlark.Value = starlark.None
	proto := "icmp"
	if err := unpack(b, args, kwargs, &ns, &dst, &port, &proto); err != nil {
		return nil, err
	}
	n, err := ns.need(b.Name(), "ns")
	if err != nil {
		return nil, err
	}
	p := 0
	if port != starlark.None {
		i, ok := port.(starlark.Int)
		if !ok {
			return nil, errorf(b.Name(), "for parameter port: want a number 1 to 65535 or None, got %s", port.Type())
		}
		v, exact := i.Int64()
		if !exact {
			v = -1
		}
		if v < 1 || v > 65535 {
			return nil, errorf(b.Name(), "for parameter port: %d is not 1 to 65535", v)
		}
		p = int(v)
	}
	a, err := ParseWhy(dst, p, proto)
	if err != nil {
		return nil, errorf(b.Name(), "%w", err)
	}
	if pl := e.Planner; pl != nil {
		pl.Note(fmt.Sprintf("not diagnosed in a plan (why reads the live kernel): why(%s, %q)", nsVar(n), dst))
		return &Diagnosis{&why.Diagnosis{Src: n.ns.Label(), Dst: a.Dst.String(), Proto: a.Proto, Port: a.Port, OK: true,
			Stop: "not diagnosed in a plan: why reads the live kernel"}}, nil
	}
	return &Diagnosis{e.Diagnose(n, a)}, nil
}

// Diagnose walks a packet from n to a.Dst over every namespace this run
// knows (and every named one, which the walk opens for itself).
func (e *Env) Diagnose(n *Namespace, a WhyArgs) *why.Diagnosis {
	nss := []*kernel.NS{e.host.ns}
	for _, k := range e.known() {
		if !k.deleted && !k.ns.Host {
			nss = append(nss, k.ns)
		}
	}
	return why.Walk(e.K, nss, why.Query{Src: n.ns, Dst: a.Dst, Proto: a.Proto, Port: a.Port, Lab: e.Lab})
}

// whyFor is what an assertion that failed says the walk found.
func (e *Env) whyFor(n *Namespace, dst string, reached bool) string {
	a, err := ParseWhy(dst, 0, "icmp")
	if err != nil {
		return ""
	}
	d := e.Diagnose(n, a)
	switch {
	case reached && d.Fault != "":
		return fmt.Sprintf("; why() finds a fault that the packets did not meet: %s", d.Fault)
	case reached:
		return "; why: the way is open: " + strings.Join(d.Path, " → ")
	case d.Fault != "":
		s := "; why: " + d.Fault
		if d.Fix != "" {
			s += "; fix: " + strings.ReplaceAll(d.Fix, "\n", "; ")
		} else if d.Alt != "" {
			s += "; " + d.Alt
		}
		return s
	case d.Stop != "":
		return "; why: " + d.Stop
	}
	return "; why: " + d.Unexplained()
}
