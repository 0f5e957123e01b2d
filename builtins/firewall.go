package builtins

import (
	"errors"
	"fmt"
	"github.com/nsscript/nsscript/builtins/shell"
	"slices"
	"strings"

	"go.starlark.net/starlark"

	"github.com/nsscript/nsscript/builtins/kernel"
)

// builtinChains are the chains iptables has in each table without being
// asked; rules go into these, as the documents do.
var builtinChains = map[string][]string{
	"filter":   {"INPUT", "FORWARD", "OUTPUT"},
	"nat":      {"PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"},
	"mangle":   {"PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"},
	"raw":      {"PREROUTING", "OUTPUT"},
	"security": {"INPUT", "FORWARD", "OUTPUT"},
}

// commandFlags are iptables commands; a rulespec must not carry one,
// since nsscript adds -t TABLE -A CHAIN itself.
var commandFlags = []string{"-t", "--table", "-A", "--append", "-I", "--insert", "-D", "--delete",
	"-C", "--check", "-R", "--replace", "-F", "--flush", "-X", "--delete-chain", "-N", "--new-chain",
	"-P", "--policy", "-L", "--list", "-S", "--list-rules", "-Z", "--zero", "-E", "--rename-chain"}

// Rule is an iptables rule nsscript added (or found) in a namespace.
type Rule struct {
	env   *Env
	ns    *Namespace
	table string
	chain string
	spec  []string // as given, without the ownership comment
	// adopted: the rule was there already, without nsscript's comment.
	adopted bool
}

var _ starlark.HasAttrs = (*Rule)(nil)

func (r *Rule) String() string {
	return fmt.Sprintf("<rule in %s: %s>", nsLabel(r.ns), r.Command())
}
func (r *Rule) Type() string          { return "Rule" }
func (r *Rule) Freeze()               {}
func (r *Rule) Truth() starlark.Bool  { return true }
func (r *Rule) Hash() (uint32, error) { return starlark.String(r.Command()).Hash() }

// Command is the iptables command that adds the rule.
func (r *Rule) Command() string {
	return fmt.Sprintf("iptables -t %s -A %s %s", r.table, r.chain, shell.Join(r.spec))
}

func (r *Rule) AttrNames() []string {
	return sortedNames([]string{"chain", "ns", "rule", "table"}, ruleMethods.names())
}

func (r *Rule) Attr(name string) (starlark.Value, error) {
	if m := ruleMethods.get(r, name); m != nil {
		return m, nil
	}
	switch name {
	case "ns":
		return r.ns, nil
	case "table":
		return starlark.String(r.table), nil
	case "chain":
		return starlark.String(r.chain), nil
	case "rule":
		return starlark.String(shell.Join(r.spec)), nil
	}
	return nil, nil
}

// full is the rulespec with nsscript's ownership comment.
func (r *Rule) full() []string {
	if r.adopted {
		return r.spec
	}
	return append(slices.Clone(r.spec), "-m", "comment", "--comment", "nsscript:"+r.env.Lab)
}

// ruleDelete is the rule.delete method.
func ruleDelete(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	r := b.Receiver().(*Rule)
	if err := unpack(b, args, kwargs); err != nil {
		return nil, err
	}
	if err := r.ns.alive(b.Name()); err != nil {
		return nil, err
	}
	if r.adopted {
		return nil, errorf(b.Name(), "the rule %s in namespace %s was there before this lab (it has no nsscript comment): nsscript deletes only what it made; delete it yourself if you mean to", r.Command(), r.ns.Name())
	}
	if err := r.env.K.DeleteRule(r.ns.ns, r.table, r.chain, r.full()); err != nil {
		return nil, errorf(b.Name(), "%w", iptablesAdvice(err))
	}
	return starlark.None, nil
}

// ensure adds the rule unless it is there (iptables -C, then -A), so a
// re-run never duplicates it. A rule iptables cannot parse fails at the
// check, before anything is added, with iptables' own message.
func (r *Rule) ensure(fn string) (starlark.Value, error) {
	if err := r.ns.alive(fn); err != nil {
		return nil, err
	}
	ok, err := r.env.K.RuleExists(r.ns.ns, r.table, r.chain, r.full())
	if err == nil && !ok {
		// The same rule made by hand (no comment) is adopted, not doubled.
		if r.adopted, err = r.env.K.RuleExists(r.ns.ns, r.table, r.chain, r.spec); err == nil && !r.adopted {
			err = r.env.K.AppendRule(r.ns.ns, r.table, r.chain, r.full())
		}
	}
	if err != nil {
		return nil, errorf(fn, "%s in namespace %s: %w", r.Command(), r.ns.Name(), iptablesAdvice(err))
	}
	return r, nil
}

func iptablesAdvice(err error) error {
	var ie *kernel.IptablesError
	if errors.As(err, &ie) {
		return &advised{"iptables refused the rule: " + ie.Msg, err}
	}
	return err
}

// checkChain refuses a table or chain iptables does not have built in.
func checkChain(table, chain string) error {
	chains, ok := builtinChains[table]
	if !ok {
		return fmt.Errorf("for parameter table: unknown table %q: use one of filter, nat, mangle, raw, security", table)
	}
	if !slices.Contains(chains, chain) {
		return fmt.Errorf("for parameter chain: table %s has no built-in chain %q: use one of %s", table, chain, strings.Join(chains, ", "))
	}
	return nil
}

// ruleArg unpacks a rulespec: a str split like a shell would, or a list.
type ruleArg []string

func (a *ruleArg) Unpack(v starlark.Value) error {
	var words []string
	switch x := v.(type) {
	case starlark.String:
		w, err := splitWords(string(x))
		if err != nil {
			return fmt.Errorf("rule %s: %w", x, err)
		}
		words = w
	case *starlark.List, starlark.Tuple:
		w, err := strs(x.(starlark.Iterable), "rule")
		if err != nil {
			return err
		}
		words = w
	default:
		return fmt.Errorf("want an iptables rulespec (str like \"-p tcp --dport 80 -j ACCEPT\", or a list of str), got %s", v.Type())
	}
	if len(words) == 0 {
		return fmt.Errorf("rule is empty: give matches and a target, e.g. \"-p tcp --dport 80 -j ACCEPT\"")
	}
	for _, w := range words {
		if slices.Contains(commandFlags, w) {
			return fmt.Errorf("rule contains the iptables command %s: give only matches and a target (e.g. \"-p tcp --dport 80 -j ACCEPT\"); nsscript adds -t TABLE -A CHAIN", w)
		}
	}
	*a = words
	return nil
}

// firewall is the firewall builtin: it appends a rule to a built-in chain
// of the namespace's own iptables (each namespace has its own), unless it
// is there already.
func (e *Env) firewall(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var ns NamespaceArg
	var chain string
	var rule ruleArg
	table := "filter"
	if err := unpack(b, args, kwargs, &ns, &chain, &rule, &table); err != nil {
		return nil, err
	}
	n, err := ns.need(b.Name(), "ns")
	if err != nil {
		return nil, err
	}
	if err := checkChain(table, chain); err != nil {
		return nil, errorf(b.Name(), "%w", err)
	}
	return (&Rule{env: e, ns: n, table: table, chain: chain, spec: rule}).ensure(b.Name())
}

func nsLabel(n *Namespace) string {
	return strings.TrimSuffix(strings.TrimPrefix(n.String(), "<namespace "), ">")
}

// splitWords splits a rule string into words the way sh splits a simple
// command: blanks separate words, '...' and "..." quote, a backslash
// escapes the next character. Nothing is dropped: where sh would end the
// command (; & |), redirect (< >), start a subshell, a substitution or a
// comment, or glob, the string is refused, so that "--comment web&api -j
// ACCEPT" never becomes "--comment web".
func splitWords(s string) ([]string, error) {
	var words []string
	var w strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			if inWord {
				words = append(words, w.String())
				w.Reset()
				inWord = false
			}
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, fmt.Errorf("the quote ' at byte %d is not closed: close it, or pass the rule as a list of words", i+1)
			}
			w.WriteString(s[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case c == '"':
			j := i + 1
			for ; j < len(s) && s[j] != '"'; j++ {
				if s[j] == '\\' && j+1 < len(s) && strings.IndexByte("\"\\$`", s[j+1]) >= 0 {
					j++
				} else if s[j] == '$' || s[j] == '`' {
					return nil, fmt.Errorf("%q inside \"...\" at byte %d would be a substitution in a shell: quote it with '...' or pass the rule as a list of words", s[j], j+1)
				}
				w.WriteByte(s[j])
			}
			if j == len(s) {
				return nil, fmt.Errorf("the quote \" at byte %d is not closed: close it, or pass the rule as a list of words", i+1)
			}
			i = j
			inWord = true
		case c == '\\':
			if i+1 < len(s) {
				i++
				w.WriteByte(s[i])
			}
			inWord = true
		case strings.IndexByte(";&|<>()`$", c) >= 0 || c == '#' && !inWord || strings.IndexByte("*?[", c) >= 0:
			return nil, fmt.Errorf("%q at byte %d is a shell operator or special character outside quotes (a shell would not pass it, or what follows, to iptables): quote it (\"--comment 'web&api'\") or pass the rule as a list of words", c, i+1)
		default:
			w.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, w.String())
	}
	return words, nil
}
