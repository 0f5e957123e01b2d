package kernel

import (
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"sync"

	"github.com/coreos/go-iptables/iptables"
)

// ErrNoIptables is returned when no iptables binary is installed.
var ErrNoIptables = errors.New("iptables is not installed: install it (Debian/Ubuntu: apt-get install iptables; Fedora: dnf install iptables-nft)")

// IptablesError is iptables refusing a command, with its own message.
type IptablesError struct {
	Args []string
	Msg  string
}

func (e *IptablesError) Error() string { return "iptables: " + e.Msg }

type ipt struct {
	once sync.Once
	ipt  *iptables.IPTables
	err  error
}

// tables runs `iptables` through go-iptables, which detects the nft or
// legacy variant and its --wait support once.
func (k *Linux) tables() (*iptables.IPTables, error) {
	k.ipt.once.Do(func() {
		if _, err := exec.LookPath("iptables"); err != nil {
			k.ipt.err = ErrNoIptables
			return
		}
		k.ipt.ipt, k.ipt.err = iptables.New(iptables.IPFamily(iptables.ProtocolIPv4), iptables.Timeout(10))
	})
	return k.ipt.ipt, k.ipt.err
}

// iptablesIn runs f with go-iptables on a thread inside ns, so that the
// iptables process it starts is born in ns and edits ns's own tables.
func (k *Linux) iptablesIn(ns *NS, f func(*iptables.IPTables) error) error {
	t, err := k.tables()
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
		msg = strings.TrimSpace(strings.ReplaceAll(msg, "\nTry `iptables -h' or 'iptables --help' for more information.", ""))
		return &IptablesError{Msg: msg}
	}
	return err
}

// RuleExists is: ip netns exec NS iptables -t TABLE -C CHAIN RULE...
// A rule iptables cannot parse is an *IptablesError.
func (k *Linux) RuleExists(ns *NS, table, chain string, spec []string) (bool, error) {
	var ok bool
	err := k.iptablesIn(ns, func(t *iptables.IPTables) error {
		var err error
		ok, err = t.Exists(table, chain, spec...)
		return err
	})
	return ok, err
}

// AppendRule is: ip netns exec NS iptables -t TABLE -A CHAIN RULE...
func (k *Linux) AppendRule(ns *NS, table, chain string, spec []string) error {
	return k.iptablesIn(ns, func(t *iptables.IPTables) error { return t.Append(table, chain, spec...) })
}

// DeleteRule is: ip netns exec NS iptables -t TABLE -D CHAIN RULE...
func (k *Linux) DeleteRule(ns *NS, table, chain string, spec []string) error {
	return k.iptablesIn(ns, func(t *iptables.IPTables) error { return t.DeleteIfExists(table, chain, spec...) })
}

// ListRules is: ip netns exec NS iptables -t TABLE -S CHAIN
func (k *Linux) ListRules(ns *NS, table, chain string) ([]string, error) {
	var rules []string
	err := k.iptablesIn(ns, func(t *iptables.IPTables) error {
		var err error
		rules, err = t.List(table, chain)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list %s %s: %w", table, chain, err)
	}
	return rules, nil
}
