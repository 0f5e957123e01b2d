package journal

import (
	"fmt"

	"github.com/nsscript/nsscript/builtins/kernel"
)

// What a lab changes besides devices: iptables rules and chains, routing
// policy rules, /etc/netns files.

// ruleRec is the record of an iptables rule.
func (k *Kernel) ruleRec(ns *kernel.NS, c kernel.Chain, spec []string) Record {
	return Record{Op: "rule", NS: k.ref(ns), Table: c.Table, Chain: c.Name, V6: c.V6, Spec: spec, Within: k.within(ns, 0)}
}

// AddRule journals the rule (its position does not matter to undo: -D
// deletes it wherever it is).
func (k *Kernel) AddRule(ns *kernel.NS, c kernel.Chain, pos int, spec []string) error {
	if err := k.write(k.ruleRec(ns, c, spec)); err != nil {
		return err
	}
	return k.in.AddRule(ns, c, pos, spec)
}

// DeleteRule deletes a rule that carries the lab's comment (rule.delete
// refuses any other). One an earlier run added is no longer declared (so
// its record is pruned, with the rule gone already), and is journaled as
// deleted (rule_del), for this run's rollback to add back; a run that
// succeeds drops that record (Commit).
func (k *Kernel) DeleteRule(ns *kernel.NS, c kernel.Chain, spec []string) error {
	rule := k.ruleRec(ns, c, spec)
	if key := recKey(rule); k.earlierKeys[key] {
		delete(k.declared, key)
		rule.Op, rule.Rollback = "rule_del", true
		if err := k.write(rule); err != nil {
			return err
		}
	}
	return k.in.DeleteRule(ns, c, spec)
}

// RuleExists declares a rule the lab added in an earlier run, when it
// finds it there.
func (k *Kernel) RuleExists(ns *kernel.NS, c kernel.Chain, spec []string) (bool, error) {
	ok, err := k.Reader.RuleExists(ns, c, spec)
	if ok && err == nil {
		k.declare(recKey(k.ruleRec(ns, c, spec)))
	}
	return ok, err
}

func (k *Kernel) chainRec(ns *kernel.NS, c kernel.Chain) Record {
	return Record{Op: "chain", NS: k.ref(ns), Table: c.Table, Chain: c.Name, V6: c.V6, Within: k.within(ns, 0)}
}

// ChainExists declares a chain the lab made in an earlier run, when it
// finds it there: a rule into it, or one that jumps to it, needs it.
func (k *Kernel) ChainExists(ns *kernel.NS, c kernel.Chain) (bool, error) {
	ok, err := k.Reader.ChainExists(ns, c)
	if ok && err == nil {
		k.declare(recKey(k.chainRec(ns, c)))
	}
	return ok, err
}

// NewChain journals a chain of the user's that the lab makes: undo
// removes it when it holds no rule that is not the lab's.
func (k *Kernel) NewChain(ns *kernel.NS, c kernel.Chain) error {
	if err := k.write(k.chainRec(ns, c)); err != nil {
		return err
	}
	return k.in.NewChain(ns, c)
}

// DeleteChain is undo's (of a chain record).
func (k *Kernel) DeleteChain(ns *kernel.NS, c kernel.Chain) error { return k.in.DeleteChain(ns, c) }

func (k *Kernel) pruleRec(ns *kernel.NS, r kernel.PolicyRule) Record {
	return Record{Op: "ip_rule", NS: k.ref(ns), PRule: pruleOf(r), Within: k.within(ns, 0)}
}

// FindPolicyRule declares a rule the lab added in an earlier run, when
// it finds it there.
func (k *Kernel) FindPolicyRule(ns *kernel.NS, r kernel.PolicyRule) (kernel.PolicyRule, bool, error) {
	found, ok, err := k.Reader.FindPolicyRule(ns, r)
	if ok && err == nil {
		k.declare(recKey(k.pruleRec(ns, found)))
	}
	return found, ok, err
}

// AddPolicyRule journals the rule, at its priority (which the builtin
// gives it: undo deletes only the rule at that priority, with all of it
// the same).
func (k *Kernel) AddPolicyRule(ns *kernel.NS, r kernel.PolicyRule) error {
	if r.Priority <= 0 {
		return fmt.Errorf("ip rule add %s: nsscript journals a rule at its priority: give it one", r.Selector())
	}
	if err := k.write(k.pruleRec(ns, r)); err != nil {
		return err
	}
	return k.in.AddPolicyRule(ns, r)
}

// DeletePolicyRule is undo's (of an ip_rule record): a script does not
// delete policy rules (a run is an apply: a rule the script no longer
// declares is undone when it succeeds).
func (k *Kernel) DeletePolicyRule(ns *kernel.NS, r kernel.PolicyRule) error {
	return k.in.DeletePolicyRule(ns, r)
}

// WriteEtc journals the file's old contents (if any) and the checksum of
// the new, by which undo knows the file is still what nsscript wrote.
func (k *Kernel) WriteEtc(name, file string, content []byte) (string, error) {
	st, err := k.Reader.EtcState(name, file)
	if err != nil {
		return "", err
	}
	// Directories that do not exist yet are removed again when empty.
	if !st.TopExists {
		if err := k.write(Record{Op: "etc_dir"}); err != nil {
			return "", err
		}
	}
	if !st.DirExists {
		if err := k.write(Record{Op: "etc_dir", Name: name}); err != nil {
			return "", err
		}
	}
	if len(content) > kernel.MaxEtc {
		return "", fmt.Errorf("%d bytes for %s/%s/%s: nsscript writes at most %d bytes to an /etc/netns file", len(content), kernel.EtcNetnsDir, name, file, kernel.MaxEtc)
	}
	if err := k.write(Record{Op: "etc", Name: name, File: file, Has: st.Had, Data: st.Old, Sum: kernel.EtcSum(content), New: content}); err != nil {
		return "", err
	}
	return k.in.WriteEtc(name, file, content)
}
