// Package doctor is `nsscript doctor`: what on this machine changes how
// labs behave (a firewall that drops bridged frames, a kernel without a
// driver, a resolv.conf that points at loopback, ...), each with what it
// means for a lab and what to do.
//
// It only reads. Every check asks a System, which the real machine
// implements (Machine) by reading files and running read-only commands,
// and tests implement with fixed answers; what cannot be read (can the
// kernel make a dummy device?) is tried in a throwaway network namespace,
// and only where trying cannot load a module.
package doctor

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Level is how much a finding matters for labs.
type Level string

const (
	// OK: nothing to do.
	OK Level = "ok"
	// Info: worth knowing; labs work as the README says.
	Info Level = "info"
	// Warning: a lab that uses what it names behaves differently or
	// fails; the rest work.
	Warning Level = "warning"
	// Blocker: labs as written do not work here (no root, no network
	// namespaces, no veth or bridge driver, bridged frames dropped).
	Blocker Level = "blocker"
)

var rank = map[Level]int{Blocker: 0, Warning: 1, Info: 2, OK: 3}

// Finding is one thing doctor found.
type Finding struct {
	Check   string `json:"check"`             // what was checked: "br_netfilter", "kernel.netem", ...
	Level   Level  `json:"level"`             // ok, info, warning, blocker
	Title   string `json:"title"`             // what is so, in one line
	Meaning string `json:"meaning,omitempty"` // what it means for a lab
	Fix     string `json:"fix,omitempty"`     // what to do: commands, nsscript code
}

// Report is everything doctor found.
type Report struct {
	Findings []Finding `json:"findings"`
	// Features: each kernel feature probed, "present", "module" (not
	// loaded, the kernel loads it on first use), "missing" or "unknown".
	Features map[string]string `json:"features"`
	Blockers int               `json:"blockers"`
	Warnings int               `json:"warnings"`
	Summary  string            `json:"summary"`
}

// System is what the checks read. Machine is the real one.
type System interface {
	// ReadFile reads a file: /proc/sys/..., /proc/modules,
	// /etc/resolv.conf (following links), ...
	ReadFile(path string) ([]byte, error)
	// Readlink is os.Readlink: the target of a symbolic link, an error
	// for anything else.
	Readlink(path string) (string, error)
	// Run runs a command that only reads (iptables --version, nft -j
	// list ruleset, iptables-save) and returns its standard output; an
	// error wrapping exec.ErrNotFound when it is not installed.
	Run(argv ...string) (string, error)
	// Euid is the effective user id.
	Euid() int
	// ProbeFeatures tries kernel features in a throwaway network
	// namespace (see kernel.ProbeFeatures); the error says the namespace
	// could not be made. Called with no features, it only makes one.
	ProbeFeatures(features []string) (map[string]error, error)
	// ProbeUserns says whether an ordinary user may make a user
	// namespace with network and mount namespaces inside.
	ProbeUserns() error
	// CgroupV2 is this process's cgroup v2 directory and whether it may
	// be written; ok false without cgroup v2.
	CgroupV2() (dir string, writable, ok bool)
	// Netns lists /run/netns.
	Netns() ([]NetnsEntry, error)
	// Labs lists nsscript's labs (/run/nsscript).
	Labs() ([]Lab, error)
}

// NetnsEntry is a name in /run/netns.
type NetnsEntry struct {
	Name      string
	Namespace bool // a namespace is mounted there (not a file left behind)
}

// Lab is what doctor needs of a lab's journal.
type Lab struct {
	Name       string
	Running    string   // who holds it now ("" when no run does)
	Changes    int      // records in its journal
	Namespaces []string // the namespaces it made
	Links      int      // devices it made or changed
	LinksGone  int      // of those, how many are gone
	Processes  int      // its live processes
	Problems   int      // journal lines that cannot be read
}

// check is one of doctor's checks.
type check struct {
	name string
	run  func(*facts) []Finding
}

// checks run in this order; the report lists blockers first.
var checks = []check{
	{"root", checkRoot},
	{"kernel", checkKernel},
	{"br_netfilter", checkBrNetfilter},
	{"nftables", checkNftables},
	{"iptables", checkIptables},
	{"resolv.conf", checkResolvConf},
	{"userns", checkUserns},
	{"ip_forward", checkIPForward},
	{"cgroup", checkCgroup},
	{"netns", checkNetns},
	{"labs", checkLabs},
}

// Diagnose runs every check on sys.
func Diagnose(sys System) *Report {
	f := newFacts(sys)
	r := &Report{Findings: []Finding{}, Features: map[string]string{}}
	for _, c := range checks {
		for _, fd := range c.run(f) {
			if fd.Check == "" {
				fd.Check = c.name
			}
			r.Findings = append(r.Findings, fd)
		}
	}
	for k, v := range f.features {
		r.Features[k] = v
	}
	sort.SliceStable(r.Findings, func(i, j int) bool { return rank[r.Findings[i].Level] < rank[r.Findings[j].Level] })
	for _, fd := range r.Findings {
		switch fd.Level {
		case Blocker:
			r.Blockers++
		case Warning:
			r.Warnings++
		}
	}
	switch {
	case r.Blockers > 0:
		r.Summary = fmt.Sprintf("%s, %s: labs as written do not work here until the blockers are fixed",
			plural(r.Blockers, "blocker"), plural(r.Warnings, "warning"))
	case r.Warnings > 0:
		r.Summary = fmt.Sprintf("no blockers, %s: labs work here; a lab that uses what a warning names behaves differently",
			plural(r.Warnings, "warning"))
	default:
		r.Summary = "no blockers, no warnings: labs work here as the README says"
	}
	return r
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// Write prints the report: as JSON, or as text, most important first.
func (r *Report) Write(w io.Writer, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	var b strings.Builder
	b.WriteString("nsscript doctor: what on this machine changes how labs behave\n")
	const indent = "         "
	for _, f := range r.Findings {
		tag := string(f.Level)
		if f.Level == Blocker {
			tag = "BLOCKER"
		}
		fmt.Fprintf(&b, "\n%-8s %s\n", tag, f.Title)
		if f.Meaning != "" {
			b.WriteString(indent + strings.ReplaceAll(f.Meaning, "\n", "\n"+indent) + "\n")
		}
		if f.Fix != "" {
			b.WriteString(indent + "do: " + strings.ReplaceAll(f.Fix, "\n", "\n"+indent+"    ") + "\n")
		}
	}
	b.WriteString("\n" + r.Summary + "\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// Command is `nsscript doctor [--json]`: 0 when nothing blocks labs, 1
// when something does, 2 for a usage error.
func Command(sys System, words []string, asJSON bool, stdout, stderr io.Writer) int {
	if len(words) > 0 {
		fmt.Fprintf(stderr, "nsscript doctor: takes no arguments (got %q): nsscript doctor [--json]\n", strings.Join(words, " "))
		return 2
	}
	r := Diagnose(sys)
	if err := r.Write(stdout, asJSON); err != nil {
		fmt.Fprintf(stderr, "nsscript doctor: %v\n", err)
		return 1
	}
	if r.Blockers > 0 {
		return 1
	}
	return 0
}
