package builtins

import (
	"fmt"
	"math"
	"net"
	"strconv"
	"strings"

	"go.starlark.net/starlark"
	"golang.org/x/sys/unix"

	"github.com/nsscript/nsscript/builtins/kernel"
)

// Policy routing: rule() is `ip rule add`. A rule picks the routing
// table that packets matching it look up (from a source, to a
// destination, in by a device, out by a device, with a firewall mark),
// in the order of its priority; the kernel's own rules look up local (0),
// main (32766) and default (32767).

// policyRuleValue is the PolicyRule value of a kernel rule.
func (n *Namespace) policyRuleValue(r kernel.PolicyRule) starlark.Value {
	str := func(s string) starlark.Value {
		if s == "" {
			return starlark.None
		}
		return starlark.String(s)
	}
	netStr := func(p interface{ String() string }, isNil bool) starlark.Value {
		if isNil {
			return starlark.None
		}
		return starlark.String(p.String())
	}
	var mark starlark.Value = starlark.None
	if r.Mask != 0 {
		mark = starlark.String(kernel.FwmarkString(r.Mark, r.Mask))
	}
	family := "ipv4"
	if r.V6 {
		family = "ipv6"
	}
	return newRecord("PolicyRule", "ns", n, "priority", starlark.MakeInt(r.Priority),
		"from_", netStr(r.Src, r.Src == nil), "to", netStr(r.Dst, r.Dst == nil), "iif", str(r.IIF), "oif", str(r.OIF),
		"fwmark", mark, "table", starlark.MakeInt(r.Table), "family", starlark.String(family))
}

// rule is the rule builtin: it adds a routing policy rule unless the
// namespace has it (at any priority, when none is given).
func (e *Env) rule(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	fn := b.Name()
	var ns NamespaceArg
	var from, to Prefix
	var iif, oif OptIfName
	var fwmark, table, priority starlark.Value = starlark.None, starlark.None, starlark.None
	if err := unpack(b, args, kwargs, &ns, &from, &to, &iif, &oif, &fwmark, &table, &priority); err != nil {
		return nil, err
	}
	n, err := ns.need(fn, "ns")
	if err != nil {
		return nil, err
	}
	var r kernel.PolicyRule
	if from.IPNet != nil && to.IPNet != nil && from.v6() != to.v6() {
		return nil, errorf(fn, "from_ %s and to %s are of different address families: a rule is IPv4 or IPv6", from, to)
	}
	r.V6 = from.v6() || to.v6()
	for _, p := range []struct {
		pre *Prefix
		dst **net.IPNet
	}{{&from, &r.Src}, {&to, &r.Dst}} {
		if p.pre.IPNet == nil {
			continue
		}
		if ones, _ := p.pre.Mask.Size(); ones > 0 { // (0.0.0.0/0 and ::/0 are any)
			*p.dst = p.pre.IPNet
		}
	}
	if r.Table, err = ruleTable(table); err != nil {
		return nil, errorf(fn, "%w", err)
	}
	if priority != starlark.None {
		p, err := asInt(priority, "a priority")
		if err != nil || p < 1 || p > math.MaxUint32 {
			return nil, errorf(fn, "for parameter priority: want a priority from 1 to 4294967295 (lower goes first; 0 is the kernel's rule for the local table, 32766 main's), got %s", priority)
		}
		r.Priority = p
	}
	if fwmark != starlark.None {
		if r.Mark, r.Mask, err = fwmarkArg(fwmark); err != nil {
			return nil, errorf(fn, "for parameter fwmark: %w", err)
		}
	}
	for _, d := range []struct {
		a     OptIfName
		param string
		dst   *string
	}{{iif, "iif", &r.IIF}, {oif, "oif", &r.OIF}} {
		if d.a.IfName == "" {
			continue
		}
		if err := d.a.in(fn, d.param, n); err != nil {
			return nil, err
		}
		if _, _, err := n.lookupLink(fn, string(d.a.IfName)); err != nil {
			return nil, err
		}
		*d.dst = string(d.a.IfName)
	}
	if err := n.alive(fn); err != nil {
		return nil, err
	}
	if err := n.checkRuleTable(fn, r); err != nil {
		return nil, err
	}
	found, ok, err := e.K.FindPolicyRule(n.ns, r)
	if err != nil {
		return nil, errorf(fn, "%w", err)
	}
	if ok {
		return n.policyRuleValue(found), nil
	}
	if r.Priority == 0 {
		// The kernel's pick, made here, so that what is journaled and
		// shown is the rule as it will be.
		have, err := e.K.PolicyRules(n.ns, r.V6)
		if err != nil {
			return nil, errorf(fn, "%w", err)
		}
		if r.Priority = kernel.NextRulePriority(have); r.Priority == 0 {
			return nil, errorf(fn, "namespace %s has no rule with a priority above 0 to put this one before: give priority=", n.Name())
		}
	}
	if err := e.K.AddPolicyRule(n.ns, r); err != nil {
		return nil, errorf(fn, "ip rule add %s in namespace %s: %w", r.Selector(), n.Name(), err)
	}
	return n.policyRuleValue(r), nil
}

// ruleTable reads table=: a number, or main, local or default.
func ruleTable(v starlark.Value) (int, error) {
	const want = "a table number from 1 to 2147483647, or \"main\", \"local\" or \"default\""
	switch x := v.(type) {
	case starlark.NoneType:
		return 0, fmt.Errorf("give table=, the routing table the rule's packets look up (%s), e.g. table=100 with its routes added by route(ns, ..., table=100)", want)
	case starlark.String:
		switch x {
		case "main":
			return unix.RT_TABLE_MAIN, nil
		case "local":
			return unix.RT_TABLE_LOCAL, nil
		case "default":
			return unix.RT_TABLE_DEFAULT, nil
		}
		if t, err := strconv.Atoi(string(x)); err == nil && t > 0 && t <= math.MaxInt32 {
			return t, nil
		}
		return 0, fmt.Errorf("for parameter table: %q is not a table nsscript knows by name (it knows main, local and default, not the names of /etc/iproute2/rt_tables): give %s", string(x), want)
	}
	t, err := asInt(v, "a table number")
	if err != nil || t <= 0 || t > math.MaxInt32 {
		return 0, fmt.Errorf("for parameter table: want %s, got %s", want, v)
	}
	return t, nil
}

// checkRuleTable refuses a rule that looks up a table with no routes of
// its family: the lookup finds nothing and the packets go on to the next
// rule, as if there were none (a table number mistyped, or its routes
// not added yet). main, local and default are always there.
func (n *Namespace) checkRuleTable(fn string, r kernel.PolicyRule) error {
	switch r.Table {
	case unix.RT_TABLE_MAIN, unix.RT_TABLE_LOCAL, unix.RT_TABLE_DEFAULT:
		return nil
	}
	rs, err := n.env.K.Routes(n.ns, r.Table)
	if err != nil {
		return errorf(fn, "%w", err)
	}
	for _, rt := range rs {
		// (A default route through a device only is of either family.)
		switch {
		case rt.Dst != nil && (rt.Dst.IP.To4() == nil) == r.V6,
			rt.Dst == nil && (rt.Via == nil || (rt.Via.To4() == nil) == r.V6):
			return nil
		}
	}
	family := "IPv4"
	if r.V6 {
		family = "IPv6"
	}
	return errorf(fn, "for parameter table: table %d of namespace %s has no %s routes, so the rule would send packets nowhere (they would go on to the next rule): add its routes first, e.g. route(%s, \"default\", via = ..., table = %d), then the rule", r.Table, n.Name(), family, nsVar(n), r.Table)
}

// fwmarkArg reads fwmark=: a number, or "MARK" or "MARK/MASK" (decimal
// or 0x hex), as ip rule takes it.
func fwmarkArg(v starlark.Value) (mark, mask uint32, err error) {
	const want = "want a mark like 1, \"0x1\" or \"0x1/0xff\" (MARK/MASK)"
	parse := func(s string) (uint32, error) {
		u, err := strconv.ParseUint(s, 0, 32)
		return uint32(u), err
	}
	mask = math.MaxUint32
	switch x := v.(type) {
	case starlark.String:
		m, k, hasMask := strings.Cut(string(x), "/")
		if mark, err = parse(m); err != nil {
			return 0, 0, fmt.Errorf("%s, got %q", want, string(x))
		}
		if hasMask {
			if mask, err = parse(k); err != nil {
				return 0, 0, fmt.Errorf("%s, got %q: the mask is not a number from 0x1 to 0xffffffff (32 bits)", want, string(x))
			}
			if mask == 0 {
				return 0, 0, fmt.Errorf("%s, got %q: a mask of 0 keeps no bit of the mark, so the rule would match every packet; leave the mask out to compare the whole mark", want, string(x))
			}
		}
	default:
		i, err := asInt(v, "a mark")
		if err != nil || i < 0 || i > math.MaxUint32 {
			return 0, 0, fmt.Errorf("%s, got %s", want, v)
		}
		mark = uint32(i)
	}
	if mark == 0 && mask == math.MaxUint32 {
		return 0, 0, fmt.Errorf("fwmark 0 is no mark to ip rule (it matches every packet): give a mark other than 0, or 0 with a mask (\"0x0/0xff\": packets whose low byte is 0)")
	}
	if mark&^mask != 0 {
		return 0, 0, fmt.Errorf("mark 0x%x has bits outside its mask 0x%x, which no packet can match: drop them", mark, mask)
	}
	return mark, mask, nil
}
