package journal

import (
	"fmt"

	"github.com/nsscript/nsscript/builtins/kernel"
)

// What a lab changes besides devices: iptables rules and /etc/netns
// files.

func (k *Kernel) AppendRule(ns *kernel.NS, table, chain string, spec []string) error {
	if err := k.write(Record{Op: "rule", NS: k.ref(ns), Table: table, Chain: chain, Spec: spec, Within: k.within(ns, 0)}); err != nil {
		return err
	}
	return k.in.AppendRule(ns, table, chain, spec)
}

// DeleteRule deletes a rule that carries the lab's comment (rule.delete
// refuses any other). One an earlier run added is no longer declared (so
// its record is pruned, with the rule gone already), and is journaled as
// deleted (rule_del), for this run's rollback to add back; a run that
// succeeds drops that record (Commit).
func (k *Kernel) DeleteRule(ns *kernel.NS, table, chain string, spec []string) error {
	rule := Record{Op: "rule", NS: k.ref(ns), Table: table, Chain: chain, Spec: spec, Within: k.within(ns, 0)}
	if key := recKey(rule); k.earlierKeys[key] {
		delete(k.declared, key)
		rule.Op, rule.Rollback = "rule_del", true
		if err := k.write(rule); err != nil {
			return err
		}
	}
	return k.in.DeleteRule(ns, table, chain, spec)
}

// RuleExists declares a rule the lab added in an earlier run, when it
// finds it there.
func (k *Kernel) RuleExists(ns *kernel.NS, table, chain string, spec []string) (bool, error) {
	ok, err := k.Reader.RuleExists(ns, table, chain, spec)
	if ok && err == nil {
		k.declare(recKey(Record{Op: "rule", NS: k.ref(ns), Table: table, Chain: chain, Spec: spec}))
	}
	return ok, err
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
