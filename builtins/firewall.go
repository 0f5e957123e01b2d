package builtins

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"

	"go.starlark.net/starlark"

	"github.com/nsscript/nsscript/builtins/kernel"
	"github.com/nsscript/nsscript/builtins/names"
	"github.com/nsscript/nsscript/builtins/shell"
)

// commandFlags are iptables commands; a rulespec must not carry one,
// since nsscript adds -t TABLE -A CHAIN itself.
var commandFlags = []string{"-t", "--table", "-A", "--append", "-I", "--insert", "-D", "--delete",
	"-C", "--check", "-R", "--replace", "-F", "--flush", "-X", "--delete-chain", "-N", "--new-chain",
	"-P", "--policy", "-L", "--list", "-S", "--list-rules", "-Z", "--zero", "-E", "--rename-chain"}

// Rule is an iptables (or ip6tables) rule nsscript added (or found) in a
// namespace.
type Rule struct {
	env   *Env
	ns    *Namespace
	chain kernel.Chain
	pos   int      // where it was inserted (iptables -I CHAIN POS); 0: appended
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

// Command is the iptables (ip6tables) command that adds the rule.
func (r *Rule) Command() string {
	flag := "-A " + r.chain.Name
	if r.pos > 0 {
		flag = fmt.Sprintf("-I %s %d", r.chain.Name, r.pos)
	}
	return fmt.Sprintf("%s -t %s %s %s", r.chain.Program(), r.chain.Table, flag, shell.Join(r.spec))
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
		return starlark.String(r.chain.Table), nil
	case "chain":
		return starlark.String(r.chain.Name), nil
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
	if err := r.env.K.DeleteRule(r.ns.ns, r.chain, r.full()); err != nil {
		return nil, errorf(b.Name(), "%w", iptablesAdvice(err, r.spec))
	}
	return starlark.None, nil
}

// ensure adds the rule unless it is there (iptables -C, then -A or -I),
// so a re-run never duplicates it (nor moves it: a rule found anywhere in
// its chain stays where it is). A rule iptables cannot parse fails at the
// check, before anything is added, with iptables' own message. A chain
// of the user's is made when its first rule is added (iptables -N), and
// taken away again if that rule is refused.
func (r *Rule) ensure(fn string) (starlark.Value, error) {
	if err := r.ns.alive(fn); err != nil {
		return nil, err
	}
	k, ns := r.env.K, r.ns.ns
	fail := func(err error) (starlark.Value, error) {
		return nil, errorf(fn, "%s in namespace %s: %w", r.Command(), r.ns.Name(), iptablesAdvice(err, r.spec))
	}
	if target := kernel.Jumps(r.spec); jumpsToChain(target) {
		// A chain of the lab's that the rule jumps to is declared: the
		// lab keeps it while a rule needs it.
		if _, err := k.ChainExists(ns, kernel.Chain{V6: r.chain.V6, Table: r.chain.Table, Name: target}); err != nil {
			return fail(err)
		}
	}
	made := false
	if !r.chain.Builtin() {
		there, err := k.ChainExists(ns, r.chain)
		if err == nil && !there {
			if r.pos > 1 {
				return nil, errorf(fn, "for parameter position: chain %s is new (nsscript makes it now) and empty: the rule can only be its first (position=1, or none)", r.chain.Name)
			}
			err, made = k.NewChain(ns, r.chain), true
		}
		if err != nil {
			return fail(err)
		}
	}
	var err error
	if !made {
		var ok bool
		ok, err = k.RuleExists(ns, r.chain, r.full())
		if err == nil && !ok {
			// The same rule made by hand (no comment) is adopted, not doubled.
			r.adopted, err = k.RuleExists(ns, r.chain, r.spec)
			if err == nil && !r.adopted {
				err = r.checkPosition(fn)
				if err != nil {
					return nil, err
				}
				err = k.AddRule(ns, r.chain, r.pos, r.full())
			}
		}
	} else if err = k.AddRule(ns, r.chain, r.pos, r.full()); err != nil {
		// Nothing half-built: the chain goes again (its record finds
		// nothing to undo).
		_ = k.DeleteChain(ns, r.chain)
	}
	if err != nil {
		return fail(err)
	}
	return r, nil
}

// checkPosition refuses a position past the end of the chain (one after
// its last rule is the end), before iptables does ("Index of insertion
// too big").
func (r *Rule) checkPosition(fn string) error {
	if r.pos <= 1 {
		return nil
	}
	rules, err := r.env.K.ListRules(r.ns.ns, r.chain)
	if err != nil {
		return errorf(fn, "%w", err)
	}
	n := 0
	for _, l := range rules {
		if strings.HasPrefix(l, "-A ") {
			n++
		}
	}
	if r.pos > n+1 {
		rules := "rules"
		if n == 1 {
			rules = "rule"
		}
		return errorf(fn, "for parameter position: %s has %d %s in namespace %s, so position %d is past its end: give 1 to %d (1 is the head of the chain, as iptables -I numbers it), or none to append", r.chain.Name, n, rules, r.ns.Name(), r.pos, n+1)
	}
	return nil
}

// extensionTargets are targets of iptables' extensions (not chains): a
// rule jumping to one needs no chain of the user's.
var extensionTargets = []string{"AUDIT", "CHECKSUM", "CLASSIFY", "CONNMARK", "CONNSECMARK", "CT", "DNAT", "DSCP",
	"HL", "HMARK", "IDLETIMER", "LED", "LOG", "MARK", "MASQUERADE", "NETMAP", "NFLOG", "NFQUEUE", "NOTRACK",
	"REDIRECT", "REJECT", "SECMARK", "SET", "SNAT", "SYNPROXY", "TCPMSS", "TCPOPTSTRIP", "TEE", "TOS", "TPROXY",
	"TRACE", "TTL"}

// jumpsToChain reports whether a rule's target may be a chain of the
// user's: a valid chain name that is no verdict nor extension target.
func jumpsToChain(target string) bool {
	return target != "" && names.Chain(target) == nil && !slices.Contains(extensionTargets, target)
}

func iptablesAdvice(err error, spec []string) error {
	var ie *kernel.IptablesError
	if !errors.As(err, &ie) {
		return err
	}
	msg := "iptables refused the rule: " + ie.Msg
	if t := kernel.Jumps(spec); jumpsToChain(t) && (strings.Contains(ie.Msg, "load target") || strings.Contains(ie.Msg, "does not exist")) {
		msg += fmt.Sprintf("; if %s is a chain of your own, make it first: add its rules (firewall(ns, %q, ...)) before the rule that jumps to it", t, t)
	}
	return &advised{msg, err}
}

// checkChain refuses a table iptables does not have, and a chain it does
// not have built in unless it can be one of the user's: a valid chain
// name that is neither a built-in chain of another table (PREROUTING in
// filter) nor looks like one misspelt (FORWARDING, input).
func checkChain(c kernel.Chain) error {
	chains, ok := kernel.BuiltinChains[c.Table]
	if !ok {
		return fmt.Errorf("for parameter table: unknown table %q: use one of filter, nat, mangle, raw, security", c.Table)
	}
	if c.Builtin() {
		return nil
	}
	notBuiltin := fmt.Errorf("for parameter chain: table %s has no built-in chain %q: use one of %s", c.Table, c.Name, strings.Join(chains, ", "))
	up := strings.ToUpper(c.Name)
	for _, cs := range kernel.BuiltinChains {
		for _, b := range cs {
			if up == b {
				return notBuiltin
			}
		}
	}
	for _, b := range chains {
		if rest, ok := strings.CutPrefix(up, b); ok && strings.Trim(rest, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") == "" || editDistance(up, b) <= 2 {
			return notBuiltin
		}
	}
	if err := names.Chain(c.Name); err != nil {
		return fmt.Errorf("for parameter chain: %w", err)
	}
	return nil
}

// editDistance is the Levenshtein distance of a and b (ASCII).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
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
	if err := noNUL(words, "rule word"); err != nil {
		return err
	}
	for _, w := range words {
		if slices.Contains(commandFlags, w) {
			return fmt.Errorf("rule contains the iptables command %s: give only matches and a target (e.g. \"-p tcp --dport 80 -j ACCEPT\"); nsscript adds -t TABLE -A CHAIN", w)
		}
	}
	*a = words
	return nil
}

// firewall is the firewall builtin: it appends (or inserts) a rule to a
// chain of the namespace's own iptables or ip6tables (each namespace has
// its own), unless it is there already.
func (e *Env) firewall(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var ns NamespaceArg
	var chain string
	var rule ruleArg
	table, family := "filter", "ipv4"
	var position starlark.Value = starlark.None
	if err := unpack(b, args, kwargs, &ns, &chain, &rule, &table, &family, &position); err != nil {
		return nil, err
	}
	n, err := ns.need(b.Name(), "ns")
	if err != nil {
		return nil, err
	}
	v6, err := familyArg(family)
	if err != nil {
		return nil, errorf(b.Name(), "%w", err)
	}
	c := kernel.Chain{V6: v6, Table: table, Name: chain}
	if err := checkChain(c); err != nil {
		return nil, errorf(b.Name(), "%w", err)
	}
	if err := checkFamily(rule, v6); err != nil {
		return nil, errorf(b.Name(), "for parameter rule: %w", err)
	}
	pos := 0
	if position != starlark.None {
		if pos, err = asInt(position, "a position"); err != nil || pos < 1 {
			return nil, errorf(b.Name(), "for parameter position: want 1 or more (1 is the head of the chain, as iptables -I numbers it), got %s", position)
		}
	}
	return (&Rule{env: e, ns: n, chain: c, pos: pos, spec: rule}).ensure(b.Name())
}

// familyArg reads family=: "ipv4" (iptables) or "ipv6" (ip6tables).
func familyArg(family string) (v6 bool, err error) {
	switch family {
	case "ipv4":
		return false, nil
	case "ipv6":
		return true, nil
	}
	return false, fmt.Errorf("for parameter family: want \"ipv4\" or \"ipv6\", got %q", family)
}

// checkFamily refuses a rule that can only match packets of the other
// family: iptables never sees an IPv6 packet, ip6tables an IPv4 one, so
// such a rule would be added and match nothing. (The family is not
// guessed from the rule: it is family=, "ipv4" unless given.)
func checkFamily(spec []string, v6 bool) error {
	for i, w := range spec {
		next := ""
		if i+1 < len(spec) {
			next = spec[i+1]
		}
		var six, four bool // what w (with next) can only match
		switch w {
		case "-p", "--protocol":
			six = next == "icmpv6" || next == "ipv6-icmp" || next == "icmp6"
			four = next == "icmp"
		case "--icmpv6-type":
			six = true
		case "--icmp-type":
			four = true
		case "-s", "--source", "--src", "-d", "--destination", "--dst":
			for _, a := range strings.Split(next, ",") {
				if strings.Contains(a, ":") {
					six = true
				} else if ip, _, _ := strings.Cut(a, "/"); net.ParseIP(ip) != nil {
					four = true
				}
			}
		}
		what := w + " " + next
		if w == "--icmpv6-type" || w == "--icmp-type" {
			what = w
		}
		if six && !v6 {
			return fmt.Errorf("%s matches only IPv6 packets, which iptables never sees: pass family=\"ipv6\" to add the rule to ip6tables", what)
		}
		if four && v6 {
			alt := ""
			if w == "-p" || w == "--protocol" || w == "--icmp-type" {
				alt = "-p icmpv6 (--icmpv6-type) for ICMPv6, or "
			}
			return fmt.Errorf("%s matches only IPv4 packets, which ip6tables never sees: use %sfamily=\"ipv4\" (iptables)", what, alt)
		}
	}
	return nil
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
