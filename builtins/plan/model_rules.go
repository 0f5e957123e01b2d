package plan

import (
	"fmt"
	"slices"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/nsscript/nsscript/builtins/kernel"
)

// The model's iptables (and ip6tables) and routing policy rules.

// chainOf is the chain's rules, and whether the chain exists: a built-in
// one always does, one of the user's once -N made it.
func (n *rns) chainOf(c kernel.Chain) ([][]string, bool) {
	specs, ok := n.rules[c]
	return specs, ok || c.Builtin()
}

func noChain(c kernel.Chain) error {
	return &kernel.IptablesError{Msg: fmt.Sprintf("%s: Chain '%s' does not exist", c.Program(), c.Name)}
}

// RuleExists is `iptables -C`.
func (r *Model) RuleExists(ns *kernel.NS, c kernel.Chain, spec []string) (bool, error) {
	if err := checkSpec(spec); err != nil {
		return false, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	n, err := r.nsOf(ns)
	if err != nil {
		return false, err
	}
	specs, ok := n.chainOf(c)
	if !ok {
		return false, noChain(c)
	}
	return slices.ContainsFunc(specs, func(s []string) bool { return slices.Equal(s, spec) }), nil
}

// AddRule is `iptables -t TABLE -A CHAIN RULE...` (-I CHAIN POS with pos).
func (r *Model) AddRule(ns *kernel.NS, c kernel.Chain, pos int, spec []string) error {
	if err := checkSpec(spec); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	n, err := r.nsOf(ns)
	if err != nil {
		return err
	}
	specs, ok := n.chainOf(c)
	switch {
	case !ok:
		return noChain(c)
	case pos > len(specs)+1:
		return &kernel.IptablesError{Msg: fmt.Sprintf("%s: Index of insertion too big.", c.Program())}
	case pos == 0:
		pos = len(specs) + 1
	}
	n.rules[c] = slices.Insert(specs, pos-1, slices.Clone(spec))
	return nil
}

// DeleteRule is `iptables -t TABLE -D CHAIN RULE...` (nothing when absent).
func (r *Model) DeleteRule(ns *kernel.NS, c kernel.Chain, spec []string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	n, err := r.nsOf(ns)
	if err != nil {
		return err
	}
	if i := slices.IndexFunc(n.rules[c], func(s []string) bool { return slices.Equal(s, spec) }); i >= 0 {
		n.rules[c] = slices.Delete(n.rules[c], i, i+1)
	}
	return nil
}

// ListRules is `iptables -t TABLE -S CHAIN` (the rules only).
func (r *Model) ListRules(ns *kernel.NS, c kernel.Chain) ([]string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n, err := r.nsOf(ns)
	if err != nil {
		return nil, err
	}
	specs, ok := n.chainOf(c)
	if !ok {
		return nil, noChain(c)
	}
	var out []string
	for _, s := range specs {
		out = append(out, "-A "+c.Name+" "+strings.Join(s, " "))
	}
	return out, nil
}

// ChainExists is whether `iptables -S CHAIN` finds it.
func (r *Model) ChainExists(ns *kernel.NS, c kernel.Chain) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n, err := r.nsOf(ns)
	if err != nil {
		return false, err
	}
	_, ok := n.chainOf(c)
	return ok, nil
}

// NewChain is `iptables -N CHAIN`.
func (r *Model) NewChain(ns *kernel.NS, c kernel.Chain) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	n, err := r.nsOf(ns)
	if err != nil {
		return err
	}
	if _, ok := n.chainOf(c); ok {
		return &kernel.IptablesError{Msg: fmt.Sprintf("%s: Chain already exists.", c.Program())}
	}
	n.rules[c] = [][]string{}
	return nil
}

// DeleteChain is `iptables -X CHAIN`: refused while the chain holds
// rules, or a rule jumps to it.
func (r *Model) DeleteChain(ns *kernel.NS, c kernel.Chain) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	n, err := r.nsOf(ns)
	if err != nil {
		return err
	}
	specs, ok := n.rules[c]
	switch {
	case !ok || c.Builtin():
		return noChain(c)
	case len(specs) > 0:
		return &kernel.IptablesError{Msg: fmt.Sprintf("%s: Directory not empty.", c.Program())}
	}
	for o, specs := range n.rules {
		if o.V6 == c.V6 && o.Table == c.Table && slices.ContainsFunc(specs, func(s []string) bool { return kernel.Jumps(s) == c.Name }) {
			return &kernel.IptablesError{Msg: fmt.Sprintf("%s: Too many links.", c.Program())}
		}
	}
	delete(n.rules, c)
	return nil
}

// PolicyRules is `ip rule show`: the kernel's own (local, main and, for
// IPv4, default) and those added, by priority.
func (r *Model) PolicyRules(ns *kernel.NS, v6 bool) ([]kernel.PolicyRule, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n, err := r.nsOf(ns)
	if err != nil {
		return nil, err
	}
	return n.policyRules(v6), nil
}

func (n *rns) policyRules(v6 bool) []kernel.PolicyRule {
	out := []kernel.PolicyRule{{V6: v6, Priority: kernel.PrioLocal, Table: unix.RT_TABLE_LOCAL}}
	for _, pr := range n.prules {
		if pr.V6 == v6 {
			out = append(out, pr)
		}
	}
	out = append(out, kernel.PolicyRule{V6: v6, Priority: kernel.PrioMain, Table: unix.RT_TABLE_MAIN})
	if !v6 {
		out = append(out, kernel.PolicyRule{Priority: kernel.PrioDefault, Table: unix.RT_TABLE_DEFAULT})
	}
	slices.SortStableFunc(out, func(a, b kernel.PolicyRule) int { return a.Priority - b.Priority })
	return out
}

// FindPolicyRule finds the rule pr matches.
func (r *Model) FindPolicyRule(ns *kernel.NS, pr kernel.PolicyRule) (kernel.PolicyRule, bool, error) {
	rs, err := r.PolicyRules(ns, pr.V6)
	if err != nil {
		return kernel.PolicyRule{}, false, err
	}
	return kernel.FindRule(rs, pr)
}

// AddPolicyRule is `ip rule add ...`: without a priority, the kernel's
// pick (kernel.NextRulePriority); the same rule twice is EEXIST.
func (r *Model) AddPolicyRule(ns *kernel.NS, pr kernel.PolicyRule) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	n, err := r.nsOf(ns)
	if err != nil {
		return err
	}
	have := n.policyRules(pr.V6)
	if pr.Priority == 0 {
		pr.Priority = kernel.NextRulePriority(have)
	}
	if _, ok, _ := kernel.FindRule(have, pr); ok {
		return fmt.Errorf("ip rule add %s: %w", pr.Selector(), kernel.ErrExist)
	}
	n.prules = append(n.prules, pr)
	return nil
}

// DeletePolicyRule is `ip rule del ...`.
func (r *Model) DeletePolicyRule(ns *kernel.NS, pr kernel.PolicyRule) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	n, err := r.nsOf(ns)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(n.prules, pr.Matches)
	if i < 0 {
		return fmt.Errorf("ip rule del %s: %w", pr.Selector(), unix.ENOENT)
	}
	n.prules = slices.Delete(n.prules, i, i+1)
	return nil
}

// checkSpec refuses what iptables' own parser refuses and the plan can
// see: a port match without a protocol.
func checkSpec(spec []string) error {
	proto := false
	for i, w := range spec {
		switch w {
		case "-p", "--protocol", "-m", "--match":
			if i+1 < len(spec) && spec[i+1] != "comment" {
				proto = true
			}
		case "--dport", "--sport", "--destination-port", "--source-port", "--syn", "--tcp-flags":
			if !proto {
				return &kernel.IptablesError{Args: spec, Msg: fmt.Sprintf("unknown option %q", w)}
			}
		}
	}
	return nil
}
