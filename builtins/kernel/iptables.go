package kernel

import (
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/coreos/go-iptables/iptables"
)

// ErrNoIptables is returned when no iptables binary is installed.
var ErrNoIptables = errors.New("iptables is not installed: install it (Debian/Ubuntu: apt-get install iptables; Fedora: dnf install iptables-nft)")

// ErrNoIp6tables is returned when no ip6tables binary is installed.
var ErrNoIp6tables = errors.New("ip6tables is not installed: install it (it comes with iptables: Debian/Ubuntu: apt-get install iptables; Fedora: dnf install iptables-nft)")

// IptablesError is iptables refusing a command, with its own message.
type IptablesError struct {
	Args []string
	Msg  string
}

func (e *IptablesError) Error() string { return "iptables: " + e.Msg }

// Chain is an iptables chain: of iptables, or of ip6tables (V6), in a
// table ("filter", "nat", ...). Name is a built-in chain (INPUT) or one
// of the user's (-N NAME).
type Chain struct {
	V6    bool
	Table string
	Name  string
}

// BuiltinChains are the chains iptables (and ip6tables) has in each table
// without being asked.
var BuiltinChains = map[string][]string{
	"filter":   {"INPUT", "FORWARD", "OUTPUT"},
	"nat":      {"PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"},
	"mangle":   {"PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"},
	"raw":      {"PREROUTING", "OUTPUT"},
	"security": {"INPUT", "FORWARD", "OUTPUT"},
}

// Builtin reports whether the chain is one its table has built in.
func (c Chain) Builtin() bool { return slices.Contains(BuiltinChains[c.Table], c.Name) }

// Jumps is the target of a rule's -j (or -g), or "".
func Jumps(spec []string) string {
	for i := 0; i+1 < len(spec); i++ {
		switch spec[i] {
		case "-j", "--jump", "-g", "--goto":
			return spec[i+1]
		}
	}
	return ""
}

// Program is the command that edits the chain: iptables or ip6tables.
func (c Chain) Program() string {
	if c.V6 {
		return "ip6tables"
	}
	return "iptables"
}

// Family is "ipv6" or "ipv4", as firewall(family=) says it.
func (c Chain) Family() string {
	if c.V6 {
		return "ipv6"
	}
	return "ipv4"
}

// Command is the command that does flag (-A, -I, -D, -C, -N, -X) to
// the chain, with pos for -I and the rule: "iptables -t nat -A
// POSTROUTING -s 10.0.0.0/24 -j MASQUERADE". Words are not quoted.
func (c Chain) Command(flag string, pos int, spec []string) string {
	s := c.Program() + " -t " + c.Table + " " + flag + " " + c.Name
	if pos > 0 {
		s += " " + strconv.Itoa(pos)
	}
	if len(spec) > 0 {
		s += " " + strings.Join(spec, " ")
	}
	return s
}

type ipt struct {
	once sync.Once
	ipt  *iptables.IPTables
	err  error
}

// tables runs `iptables` (`ip6tables` for v6) through go-iptables, which
// detects the nft or legacy variant and its --wait support once.
func (k *Linux) tables(v6 bool) (*iptables.IPTables, error) {
	i, prog, proto, missing := 0, "iptables", iptables.ProtocolIPv4, ErrNoIptables
	if v6 {
		i, prog, proto, missing = 1, "ip6tables", iptables.ProtocolIPv6, ErrNoIp6tables
	}
	t := &k.ipt[i]
	t.once.Do(func() {
		if _, err := exec.LookPath(prog); err != nil {
			t.err = missing
			return
		}
		t.ipt, t.err = iptables.New(iptables.IPFamily(proto), iptables.Timeout(10))
	})
	return t.ipt, t.err
}

// iptablesIn runs f with go-iptables (of c's family) on a thread inside
// ns, so that the iptables process it starts is born in ns and edits ns's
// own tables.
func (k *Linux) iptablesIn(ns *NS, c Chain, f func(*iptables.IPTables) error) error {
	t, err := k.tables(c.V6)
	if err != nil {
		return err
	}
	err = k.Do(ns, func() error { return f(t) })
	var ie *iptables.Error
	if errors.As(err, &ie) {
		msg := ie.Error()
		// "running [iptables ...]: exit status 2: <iptables' own words>"
		if i := strings.Index(msg, ": exit status "); i >= 0 {
			if j := strings.Index(msg[i+2:], ": "); j >= 0 {
				msg = msg[i+2+j+2:]
			}
		}
		msg = strings.TrimSpace(strings.ReplaceAll(msg, "\nTry `"+c.Program()+" -h' or '"+c.Program()+" --help' for more information.", ""))
		if InUserNamespace() && iptablesLegacy(c.Program()) {
			msg += " (" + legacyInUserns + ")"
		}
		return &IptablesError{Msg: msg}
	}
	return err
}

// RuleExists is: ip netns exec NS iptables -t TABLE -C CHAIN RULE...
// A rule iptables cannot parse is an *IptablesError.
func (k *Linux) RuleExists(ns *NS, c Chain, spec []string) (bool, error) {
	var ok bool
	err := k.iptablesIn(ns, c, func(t *iptables.IPTables) error {
		var err error
		ok, err = t.Exists(c.Table, c.Name, spec...)
		return err
	})
	return ok, err
}

// AddRule is: ip netns exec NS iptables -t TABLE -A CHAIN RULE... (with
// pos > 0: -I CHAIN POS RULE..., the rule becomes the chain's pos-th).
func (k *Linux) AddRule(ns *NS, c Chain, pos int, spec []string) error {
	return k.iptablesIn(ns, c, func(t *iptables.IPTables) error {
		if pos > 0 {
			return t.Insert(c.Table, c.Name, pos, spec...)
		}
		return t.Append(c.Table, c.Name, spec...)
	})
}

// DeleteRule is: ip netns exec NS iptables -t TABLE -D CHAIN RULE...
func (k *Linux) DeleteRule(ns *NS, c Chain, spec []string) error {
	return k.iptablesIn(ns, c, func(t *iptables.IPTables) error { return t.DeleteIfExists(c.Table, c.Name, spec...) })
}

// ListRules is: ip netns exec NS iptables -t TABLE -S CHAIN
func (k *Linux) ListRules(ns *NS, c Chain) ([]string, error) {
	var rules []string
	err := k.iptablesIn(ns, c, func(t *iptables.IPTables) error {
		var err error
		rules, err = t.List(c.Table, c.Name)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list %s %s %s: %w", c.Program(), c.Table, c.Name, err)
	}
	return rules, nil
}

// ChainExists is whether `iptables -t TABLE -S CHAIN` finds the chain.
func (k *Linux) ChainExists(ns *NS, c Chain) (bool, error) {
	var ok bool
	err := k.iptablesIn(ns, c, func(t *iptables.IPTables) error {
		var err error
		ok, err = t.ChainExists(c.Table, c.Name)
		return err
	})
	return ok, err
}

// NewChain is: ip netns exec NS iptables -t TABLE -N CHAIN
func (k *Linux) NewChain(ns *NS, c Chain) error {
	return k.iptablesIn(ns, c, func(t *iptables.IPTables) error { return t.NewChain(c.Table, c.Name) })
}

// DeleteChain is: ip netns exec NS iptables -t TABLE -X CHAIN, which
// iptables refuses while the chain holds rules or a rule jumps to it.
func (k *Linux) DeleteChain(ns *NS, c Chain) error {
	return k.iptablesIn(ns, c, func(t *iptables.IPTables) error { return t.DeleteChain(c.Table, c.Name) })
}

// legacyInUserns is what a refusal of iptables-legacy in a sandbox made
// without root says besides iptables' own words.
const legacyInUserns = "this is the legacy variant of iptables, which in a sandbox made without root works only with the host's iptables modules loaded already " +
	"(as root: modprobe ip_tables iptable_filter iptable_nat, ip6_tables ip6table_filter ip6table_nat); " +
	"or use the nft variant (as root: update-alternatives --set iptables /usr/sbin/iptables-nft; update-alternatives --set ip6tables /usr/sbin/ip6tables-nft)"

// iptablesLegacy reports whether prog (iptables, ip6tables) on PATH is
// the legacy (x_tables) variant, as its version line says.
func iptablesLegacy(prog string) bool {
	out, err := exec.Command(prog, "--version").Output()
	return err == nil && strings.Contains(string(out), "(legacy)")
}
