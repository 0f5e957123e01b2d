package kernel

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// PolicyRule is a routing policy rule (ip rule): which packets (from,
// to, the device they came in by or leave by, their firewall mark) look
// up which routing table, in the order of Priority.
type PolicyRule struct {
	V6 bool
	// Priority orders the rules, lowest first; 0 is "not given" (adding
	// it, the kernel picks one; finding it, any matches): the rule at 0
	// is the kernel's own, which looks up the local table.
	Priority int
	Src, Dst *net.IPNet // nil: any
	IIF, OIF string     // device names; "": any
	// Mark and Mask are fwmark MARK/MASK; Mask 0: no fwmark match.
	Mark, Mask uint32
	Table      int
	// Other: the kernel's rule has what nsscript never sets (another
	// action than a table lookup, not, tos, ports, uid ranges, ...): it is
	// never equal to one of nsscript's.
	Other bool
}

// The priorities of the kernel's own rules: local, main, default.
const (
	PrioLocal   = 0
	PrioMain    = 32766
	PrioDefault = 32767
)

// Builtin reports whether the rule is one of those every namespace
// starts with: 0 local, 32766 main, 32767 default.
func (r PolicyRule) Builtin() bool {
	if r.Other || r.Src != nil || r.Dst != nil || r.IIF != "" || r.OIF != "" || r.Mask != 0 {
		return false
	}
	switch {
	case r.Priority == PrioLocal && r.Table == unix.RT_TABLE_LOCAL,
		r.Priority == PrioMain && r.Table == unix.RT_TABLE_MAIN,
		r.Priority == PrioDefault && r.Table == unix.RT_TABLE_DEFAULT:
		return true
	}
	return false
}

// Matches reports whether the kernel's rule k is r: the same in all,
// and at r's priority if r has one.
func (r PolicyRule) Matches(k PolicyRule) bool {
	return !k.Other && r.V6 == k.V6 && (r.Priority == 0 || r.Priority == k.Priority) &&
		netString(r.Src) == netString(k.Src) && netString(r.Dst) == netString(k.Dst) &&
		r.IIF == k.IIF && r.OIF == k.OIF && r.Mark == k.Mark && r.Mask == k.Mask && r.Table == k.Table
}

func netString(n *net.IPNet) string {
	if n == nil {
		return ""
	}
	return n.String()
}

// Selector is the rule as ip rule writes it after "add": "from
// 10.0.0.11 iif eth1 fwmark 0x1 lookup 11 priority 100" (priority only
// when it has one).
func (r PolicyRule) Selector() string {
	var w []string
	from := "all"
	if r.Src != nil {
		from = r.Src.String()
	}
	w = append(w, "from", from)
	if r.Dst != nil {
		w = append(w, "to", r.Dst.String())
	}
	if r.IIF != "" {
		w = append(w, "iif", r.IIF)
	}
	if r.OIF != "" {
		w = append(w, "oif", r.OIF)
	}
	if r.Mask != 0 {
		w = append(w, "fwmark", FwmarkString(r.Mark, r.Mask))
	}
	w = append(w, "table", TableName(r.Table))
	if r.Priority != 0 {
		w = append(w, "priority", strconv.Itoa(r.Priority))
	}
	return strings.Join(w, " ")
}

// FwmarkString is a fwmark as ip rule writes it: "0x1", or "0x1/0xff"
// with a mask other than all ones.
func FwmarkString(mark, mask uint32) string {
	if mask == 0xffffffff {
		return fmt.Sprintf("0x%x", mark)
	}
	return fmt.Sprintf("0x%x/0x%x", mark, mask)
}

// TableName is a routing table's name: main, local or default for
// those, else its number.
func TableName(t int) string {
	switch t {
	case unix.RT_TABLE_MAIN:
		return "main"
	case unix.RT_TABLE_LOCAL:
		return "local"
	case unix.RT_TABLE_DEFAULT:
		return "default"
	}
	return strconv.Itoa(t)
}

// NextRulePriority is the priority the kernel gives a rule added without
// one, given the rules there (in order): one less than the second rule's
// (the lowest after local's), as fib_default_rule_pref does; 0 when that
// is 0 too.
func NextRulePriority(rules []PolicyRule) int {
	if len(rules) >= 2 && rules[1].Priority > 0 {
		return rules[1].Priority - 1
	}
	return 0
}

func family(v6 bool) int {
	if v6 {
		return netlink.FAMILY_V6
	}
	return netlink.FAMILY_V4
}

// PolicyRules lists the rules of one family, like `ip [-6] rule show`.
func (k *Linux) PolicyRules(ns *NS, v6 bool) ([]PolicyRule, error) {
	h, err := k.Handle(ns)
	if err != nil {
		return nil, err
	}
	rs, err := retry(func() ([]netlink.Rule, error) { return h.RuleList(family(v6)) })
	if err != nil {
		return nil, fmt.Errorf("list rules in namespace %s: %w", ns, err)
	}
	out := make([]PolicyRule, 0, len(rs))
	for _, r := range rs {
		p := PolicyRule{V6: v6, Priority: r.Priority, Src: r.Src, Dst: r.Dst, IIF: r.IifName, OIF: r.OifName, Mark: r.Mark, Table: r.Table}
		if r.Mask != nil {
			p.Mask = *r.Mask
		} else if r.Mark != 0 {
			p.Mask = 0xffffffff
		}
		p.Other = r.Invert || r.Tos != 0 || r.Goto >= 0 || r.Flow >= 0 || r.TunID != 0 || r.IPProto != 0 ||
			r.Dport != nil || r.Sport != nil || r.UIDRange != nil || r.SuppressPrefixlen >= 0 || r.SuppressIfgroup >= 0 ||
			r.Table == 0 || r.Type > unix.RTN_UNICAST
		out = append(out, p)
	}
	return out, nil
}

// FindPolicyRule finds the rule that r matches (Matches).
func (k *Linux) FindPolicyRule(ns *NS, r PolicyRule) (PolicyRule, bool, error) {
	rs, err := k.PolicyRules(ns, r.V6)
	if err != nil {
		return PolicyRule{}, false, err
	}
	return FindRule(rs, r)
}

// FindRule is the first of rules that r matches.
func FindRule(rules []PolicyRule, r PolicyRule) (PolicyRule, bool, error) {
	for _, k := range rules {
		if r.Matches(k) {
			return k, true, nil
		}
	}
	return PolicyRule{}, false, nil
}

func (r PolicyRule) netlink() *netlink.Rule {
	nr := netlink.NewRule()
	nr.Family = family(r.V6)
	nr.Table = r.Table
	nr.Src, nr.Dst = r.Src, r.Dst
	nr.IifName, nr.OifName = r.IIF, r.OIF
	if r.Priority != 0 {
		nr.Priority = r.Priority
	}
	if r.Mask != 0 {
		mark, mask := r.Mark, r.Mask
		nr.Mark, nr.Mask = mark, &mask
	}
	return nr
}

// AddPolicyRule is: ip [-6] -n NS rule add SELECTOR table T [priority P]
func (k *Linux) AddPolicyRule(ns *NS, r PolicyRule) error {
	h, err := k.Handle(ns)
	if err != nil {
		return err
	}
	return h.RuleAdd(r.netlink())
}

// DeletePolicyRule is: ip [-6] -n NS rule del SELECTOR table T priority P
func (k *Linux) DeletePolicyRule(ns *NS, r PolicyRule) error {
	h, err := k.Handle(ns)
	if err != nil {
		return err
	}
	return h.RuleDel(r.netlink())
}
