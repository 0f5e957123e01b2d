package doctor

import (
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"path"
	"slices"
	"sort"
	"strings"
)

// facts reads the System once per question and keeps the answers: the
// checks share them (the br_netfilter and the iptables checks both read
// the iptables rules).
type facts struct {
	sys      System
	features map[string]string

	mods     *modules
	variant  *string // "nft", "legacy", "" (no iptables)
	version  string
	nft      *nftRuleset
	nftErr   error
	nftDone  bool
	saves    map[string]*saved
	saveErrs map[string]error
	labs     *[]Lab
	labsErr  error
	// unreadable: rules that could not be read, in the words of the
	// command that failed.
	unreadable []string
}

func newFacts(sys System) *facts {
	return &facts{sys: sys, features: map[string]string{}, saves: map[string]*saved{}, saveErrs: map[string]error{}}
}

// sysctl reads /proc/sys/KEY; ok is false when the kernel has no such key.
func (f *facts) sysctl(key string) (string, bool) {
	b, err := f.sys.ReadFile("/proc/sys/" + strings.ReplaceAll(key, ".", "/"))
	if err != nil {
		return "", false
	}
	return strings.TrimSpace(string(b)), true
}

func notInstalled(err error) bool { return errors.Is(err, exec.ErrNotFound) }

// labList reads the labs once (the netns and the labs checks use them).
func (f *facts) labList() ([]Lab, error) {
	if f.labs == nil {
		l, err := f.sys.Labs()
		f.labs, f.labsErr = &l, err
	}
	return *f.labs, f.labsErr
}

// Modules.

// modState is what the kernel says of a module, without loading it.
type modState int

const (
	modNoModules modState = iota // the kernel loads no modules: it has what it has (probe it)
	modLoaded                    // in /proc/modules
	modBuiltin                   // in modules.builtin
	modAvailable                 // a module file the kernel loads on first use
	modAbsent                    // neither built in nor a module
	modUnknown                   // no /lib/modules for this kernel: cannot tell
)

type modules struct {
	modular   bool // /proc/modules exists
	release   string
	loaded    map[string]bool
	builtin   map[string]bool // nil: unknown
	available map[string]bool // nil: unknown
}

// modName is a module's name as the kernel lists it (- and _ alike).
func modName(s string) string {
	s = path.Base(s)
	for _, ext := range []string{".zst", ".xz", ".gz"} {
		s = strings.TrimSuffix(s, ext)
	}
	return strings.ReplaceAll(strings.TrimSuffix(s, ".ko"), "-", "_")
}

func (f *facts) modules() *modules {
	if f.mods != nil {
		return f.mods
	}
	m := &modules{loaded: map[string]bool{}}
	f.mods = m
	b, err := f.sys.ReadFile("/proc/modules")
	if err != nil {
		return m // a kernel without module support
	}
	m.modular = true
	for _, l := range strings.Split(string(b), "\n") {
		if fs := strings.Fields(l); len(fs) > 0 {
			m.loaded[modName(fs[0])] = true
		}
	}
	m.release, _ = f.sysctl("kernel.osrelease")
	dir := "/lib/modules/" + m.release + "/"
	if b, err := f.sys.ReadFile(dir + "modules.builtin"); err == nil {
		m.builtin = map[string]bool{}
		for _, l := range strings.Fields(string(b)) {
			m.builtin[modName(l)] = true
		}
	}
	if b, err := f.sys.ReadFile(dir + "modules.dep"); err == nil {
		m.available = map[string]bool{}
		for _, l := range strings.Split(string(b), "\n") {
			if file, _, ok := strings.Cut(l, ":"); ok {
				m.available[modName(file)] = true
			}
		}
	}
	return m
}

// module says what the kernel has of a module, reading only.
func (f *facts) module(name string) modState {
	m := f.modules()
	name = modName(name)
	switch {
	case !m.modular:
		return modNoModules
	case m.loaded[name]:
		return modLoaded
	case m.builtin[name]:
		return modBuiltin
	case m.available[name]:
		return modAvailable
	case m.builtin == nil && m.available == nil:
		return modUnknown
	}
	return modAbsent
}

// usable reports whether what a module provides can be used without a
// module being loaded for it (loaded, built in, or no modules at all).
func (f *facts) usable(name string) bool {
	s := f.module(name)
	return s == modNoModules || s == modLoaded || s == modBuiltin
}

// iptables.

// iptablesVariant is "nft" or "legacy" (what `iptables --version` says),
// or "" when iptables is not installed.
func (f *facts) iptablesVariant() string {
	if f.variant != nil {
		return *f.variant
	}
	v := ""
	out, err := f.sys.Run("iptables", "--version")
	if err == nil {
		f.version = strings.TrimSpace(out)
		v = "legacy" // iptables before 1.8 says no variant: legacy
		if strings.Contains(out, "nf_tables") {
			v = "nft"
		}
	} else if !notInstalled(err) {
		f.version = "iptables --version: " + err.Error()
		v = "legacy"
	}
	f.variant = &v
	return v
}

// saved is what an iptables-save prints: tables, each with its chains'
// policies (built-in chains) and rules, in order.
type saved struct {
	tables []*savedTable
}

type savedTable struct {
	name     string
	policies map[string]string   // built-in chain -> ACCEPT, DROP
	rules    map[string][]string // chain -> its rules, "-A CHAIN" cut off
	count    int
}

func parseSave(out string) *saved {
	s := &saved{}
	var t *savedTable
	for _, l := range strings.Split(out, "\n") {
		l = strings.TrimSpace(l)
		switch {
		case strings.HasPrefix(l, "*"):
			t = &savedTable{name: l[1:], policies: map[string]string{}, rules: map[string][]string{}}
			s.tables = append(s.tables, t)
		case t == nil:
		case strings.HasPrefix(l, ":"):
			if fs := strings.Fields(l[1:]); len(fs) >= 2 && fs[1] != "-" {
				t.policies[fs[0]] = fs[1]
			}
		case strings.HasPrefix(l, "-A "):
			fs := strings.SplitN(l[3:], " ", 2)
			rule := ""
			if len(fs) == 2 {
				rule = fs[1]
			}
			t.rules[fs[0]] = append(t.rules[fs[0]], rule)
			t.count++
		}
	}
	return s
}

func (s *saved) table(name string) *savedTable {
	for _, t := range s.tables {
		if t.name == name {
			return t
		}
	}
	return nil
}

// held is how many rules, and built-in chains with a policy other than
// ACCEPT, the tables hold: "" when none.
func (s *saved) held() string {
	var parts []string
	for _, t := range s.tables {
		n := t.count
		for _, p := range t.policies {
			if p != "ACCEPT" {
				n++
			}
		}
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%s: %s", t.name, plural(t.count, "rule")))
		}
	}
	return strings.Join(parts, ", ")
}

// save runs one iptables-save (argv[0]: iptables-save,
// iptables-legacy-save, ip6tables-nft-save, ...) once.
func (f *facts) save(cmd string) (*saved, error) {
	if s, ok := f.saves[cmd]; ok {
		return s, f.saveErrs[cmd]
	}
	out, err := f.sys.Run(cmd)
	var s *saved
	if err == nil {
		s = parseSave(out)
	}
	f.saves[cmd], f.saveErrs[cmd] = s, err
	return s, err
}

// legacyTables lists the legacy tables the kernel holds for a family
// ("ip" or "ip6"): /proc/net/ip_tables_names, which only lists what is
// there. (Asking iptables-legacy for a table that is not there makes it.)
func (f *facts) legacyTables(family string) []string {
	b, err := f.sys.ReadFile("/proc/net/" + family + "_tables_names")
	if err != nil {
		return nil
	}
	names := strings.Fields(string(b))
	sort.Strings(names)
	return names
}

// variantSave is the rules of one variant ("nft", "legacy") for a family
// ("ip", "ip6"), read without making a table: nil when it holds none or
// cannot be read here.
func (f *facts) variantSave(variant, family string) *saved {
	prog := "iptables"
	if family == "ip6" {
		prog = "ip6tables"
	}
	switch variant {
	case "legacy":
		if len(f.legacyTables(family)) == 0 {
			return nil
		}
	case "nft":
		if !f.usable("nf_tables") {
			return nil // not loaded: it holds nothing, and asking would load it
		}
	}
	cmd := prog + "-" + variant + "-save"
	s, err := f.save(cmd)
	if notInstalled(err) && f.iptablesVariant() == variant {
		cmd = prog + "-save"
		s, err = f.save(cmd)
	}
	if err != nil {
		if !notInstalled(err) {
			f.unread(err)
		}
		return nil
	}
	return s
}

// unread notes what could not be read (as an ordinary user, iptables-save
// and nft are refused), so that no check says "nothing drops" of it.
func (f *facts) unread(err error) {
	msg, _, _ := strings.Cut(err.Error(), "\n")
	if !slices.Contains(f.unreadable, msg) {
		f.unreadable = append(f.unreadable, msg)
	}
}

// nftables.

type nftTable struct {
	Family, Name string
	Chains       []*nftChain
	Rules        int
	Drops        int // rules whose verdict is drop or reject
}

type nftChain struct {
	Name, Type, Hook, Policy string
	Prio                     int
	base                     bool
	// dropsAll: a rule of it drops or rejects every packet (no match).
	dropsAll bool
}

type nftRuleset struct {
	Tables []*nftTable
}

// nftables reads `nft -j list ruleset` once; nil (and no error) when
// nf_tables is a module that is not loaded: then it holds nothing, and
// asking would load it.
func (f *facts) nftables() (*nftRuleset, error) {
	if f.nftDone {
		return f.nft, f.nftErr
	}
	f.nftDone = true
	if !f.usable("nf_tables") {
		return nil, nil
	}
	out, err := f.sys.Run("nft", "-j", "list", "ruleset")
	if err != nil {
		if !notInstalled(err) {
			f.unread(err)
		}
		f.nftErr = err
		return nil, err
	}
	f.nft, f.nftErr = parseNft(out)
	return f.nft, f.nftErr
}

func parseNft(out string) (*nftRuleset, error) {
	var doc struct {
		Nftables []map[string]json.RawMessage `json:"nftables"`
	}
	if strings.TrimSpace(out) == "" {
		return &nftRuleset{}, nil
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		return nil, fmt.Errorf("nft -j list ruleset: %w", err)
	}
	rs := &nftRuleset{}
	tables := map[string]*nftTable{}
	key := func(fam, name string) string { return fam + " " + name }
	for _, obj := range doc.Nftables {
		if raw, ok := obj["table"]; ok {
			var t struct{ Family, Name string }
			if json.Unmarshal(raw, &t) == nil {
				nt := &nftTable{Family: t.Family, Name: t.Name}
				tables[key(t.Family, t.Name)] = nt
				rs.Tables = append(rs.Tables, nt)
			}
		}
		if raw, ok := obj["chain"]; ok {
			var c struct {
				Family, Table, Name, Type, Hook, Policy string
				Prio                                    int
			}
			if json.Unmarshal(raw, &c) == nil && tables[key(c.Family, c.Table)] != nil {
				t := tables[key(c.Family, c.Table)]
				t.Chains = append(t.Chains, &nftChain{Name: c.Name, Type: c.Type, Hook: c.Hook, Policy: c.Policy, Prio: c.Prio, base: c.Hook != ""})
			}
		}
		if raw, ok := obj["rule"]; ok {
			var r struct {
				Family, Table, Chain string
				Expr                 []map[string]json.RawMessage
			}
			if json.Unmarshal(raw, &r) != nil || tables[key(r.Family, r.Table)] == nil {
				continue
			}
			t := tables[key(r.Family, r.Table)]
			t.Rules++
			drop, matches := false, false
			for _, e := range r.Expr {
				for k, v := range e {
					switch k {
					case "drop", "reject":
						drop = true
					case "xt":
						var x struct{ Type, Name string }
						if json.Unmarshal(v, &x) == nil && x.Type == "target" && (x.Name == "REJECT" || x.Name == "DROP") {
							drop = true
						} else {
							matches = true
						}
					case "counter", "log", "comment":
					default:
						matches = true
					}
				}
			}
			if drop {
				t.Drops++
				if !matches {
					for _, c := range t.Chains {
						if c.Name == r.Chain {
							c.dropsAll = true
						}
					}
				}
			}
		}
	}
	return rs, nil
}

// iptablesBuiltins are the chains iptables makes, by the hook they sit on.
var iptablesBuiltins = map[string]string{"INPUT": "input", "FORWARD": "forward", "OUTPUT": "output",
	"PREROUTING": "prerouting", "POSTROUTING": "postrouting"}

// madeByIptables reports whether a table is one iptables-nft made: an
// iptables table name in family ip or ip6 whose base chains all have the
// names iptables gives them.
func (t *nftTable) madeByIptables() bool {
	if t.Family != "ip" && t.Family != "ip6" {
		return false
	}
	switch t.Name {
	case "filter", "nat", "mangle", "raw", "security":
	default:
		return false
	}
	for _, c := range t.Chains {
		if c.base && iptablesBuiltins[c.Name] != c.Hook {
			return false
		}
	}
	return true
}

// others are the tables iptables did not make.
func (rs *nftRuleset) others() []*nftTable {
	var out []*nftTable
	for _, t := range rs.Tables {
		if !t.madeByIptables() {
			out = append(out, t)
		}
	}
	return out
}

// tool guesses which program made a table, from its name.
func (t *nftTable) tool() string {
	n := strings.ToLower(t.Name)
	for _, k := range []struct{ sub, tool string }{
		{"firewalld", "firewalld"}, {"docker", "Docker"}, {"libvirt", "libvirt"}, {"netavark", "Podman (netavark)"},
		{"podman", "Podman"}, {"incus", "Incus"}, {"lxd", "LXD"}, {"kube", "Kubernetes"}, {"cilium", "Cilium"},
		{"calico", "Calico"}, {"tailscale", "Tailscale"}, {"ts-", "Tailscale"}, {"nm-shared", "NetworkManager"},
		{"nixos", "NixOS's firewall"}, {"ufw", "ufw"}, {"fail2ban", "fail2ban"}, {"f2b", "fail2ban"}, {"crowdsec", "CrowdSec"},
	} {
		if strings.Contains(n, k.sub) {
			return k.tool
		}
	}
	if t.Family == "inet" && (n == "filter" || n == "nat") {
		return "the nftables service (/etc/nftables.conf)"
	}
	return ""
}

func (t *nftTable) String() string { return t.Family + " " + t.Name }

// bases describes a table's base chains: "forward (forward, policy drop)".
func (t *nftTable) bases() string {
	var parts []string
	for _, c := range t.Chains {
		if c.base {
			parts = append(parts, fmt.Sprintf("%s (hook %s, priority %d, policy %s)", c.Name, c.Hook, c.Prio, c.Policy))
		}
	}
	if len(parts) == 0 {
		return "no base chains"
	}
	return strings.Join(parts, ", ")
}

// filters reports whether a table can drop: a base chain whose policy
// drops, or a rule that drops or rejects.
func (t *nftTable) filters() bool {
	if t.Drops > 0 {
		return true
	}
	for _, c := range t.Chains {
		if c.base && c.Policy == "drop" {
			return true
		}
	}
	return false
}
