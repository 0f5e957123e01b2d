package runtime

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/nsscript/nsscript/builtins/journal"
	"github.com/nsscript/nsscript/builtins/kernel"
	"github.com/nsscript/nsscript/builtins/names"
)

// LabName is the lab a script file runs as: its name without .star. It
// may not be a valid lab name (a file called "my topo.star"): CheckLab.
func LabName(file string) string {
	return strings.TrimSuffix(filepath.Base(file), ".star")
}

// TestLab is the lab of a test file's tests (each runs in a sandbox of
// its own): its LabName, with what a lab name may not hold replaced.
func TestLab(file string) string {
	lab := []byte(LabName(file))
	for i, c := range lab {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || i > 0 && (c == '-' || c == '.')) {
			lab[i] = '_'
		}
	}
	if len(lab) > names.MaxLab {
		lab = lab[:names.MaxLab]
	}
	if len(lab) == 0 {
		return "test"
	}
	return string(lab)
}

// CheckLab refuses a lab name that is not one safe path component, with
// what to do; from says where the name came from ("" for --lab).
func CheckLab(lab, from string) error {
	if err := names.Lab(lab); err != nil {
		if from != "" {
			return fmt.Errorf("%w (it comes from %s): rename the file or give the lab a name with --lab NAME", err, from)
		}
		return err
	}
	return nil
}

// labArg is the lab a word of `down`, `ls` or `graph` names: a script
// file (a name ending in .star, or an existing file) runs as its LabName;
// anything else must be a lab name itself.
func labArg(word string) (string, error) {
	isFile := strings.HasSuffix(word, ".star")
	if st, err := os.Stat(word); err == nil && st.Mode().IsRegular() {
		isFile = true
	}
	if isFile {
		return LabName(word), CheckLab(LabName(word), "the script file "+word)
	}
	return word, names.Lab(word)
}

// labArgs checks every word before anything is done: one bad name (an
// unset variable, "..") and nothing is touched. A word is a lab, a script
// file (see labArg), or LAB@PID or LAB@host (see parseLabSel).
func labArgs(cmd string, words []string, stderr io.Writer) ([]labSel, bool) {
	labs := make([]labSel, 0, len(words))
	ok := true
	for _, w := range words {
		var sel labSel
		var err error
		if st, serr := os.Stat(w); strings.Contains(w, "@") && (serr != nil || !st.Mode().IsRegular()) {
			sel, err = parseLabSel(w)
		} else {
			sel.lab, err = labArg(w)
		}
		if err != nil {
			fmt.Fprintf(stderr, "nsscript %s: %v\n", cmd, err)
			ok = false
		}
		labs = append(labs, sel)
	}
	return labs, ok
}

// Down undoes what the named labs (or script files) made, and ends the
// running sandboxes of those labs (a held one too); with none named,
// every lab. It exits 0 when there was nothing to do, 2 when a name is not
// a lab's or names several (LAB@host, LAB@PID pick one), and then it does
// nothing at all.
func Down(names []string, trace bool, stdout, stderr io.Writer) int {
	sels, ok := labArgs("down", names, stderr)
	if !ok {
		return ExitUsage
	}
	var w io.Writer
	if trace {
		// Each change undo makes, with the same commands as --trace and
		// nsscript plan (the processes it stops as kill).
		w = stderr
	}
	k, err := hostKernel(w)
	if err != nil {
		fmt.Fprintf(stderr, "nsscript down: %v\n", err)
		return ExitError
	}
	ps, err := chosenPlaces(k, sels)
	if err != nil {
		fmt.Fprintf(stderr, "nsscript down: %v\n", err)
		if errors.Is(err, errAmbiguous) {
			return ExitUsage
		}
		return ExitError
	}
	code := ExitOK
	var rootsLabs []string // this host's, left alone without root
	for _, p := range ps {
		lab := p.lab
		switch {
		case p.sandbox == nil && p.missing == "" && !kernel.Privileged():
			if _, err := os.Lstat(filepath.Join(journal.Dir, lab)); errors.Is(err, fs.ErrNotExist) {
				fmt.Fprintf(stdout, "%s: nothing to undo\n", lab)
				continue
			}
			if len(sels) == 0 {
				rootsLabs = append(rootsLabs, lab)
				continue
			}
			fmt.Fprintf(stderr, "nsscript down %s: a lab on this host: undoing it changes the host's network, which needs root: sudo nsscript down %s\n", lab, lab)
			code = ExitError
		case p.sandbox != nil:
			if err := k.EndSandbox(*p.sandbox); err != nil {
				fmt.Fprintf(stderr, "nsscript down %s: %v\n", p, err)
				code = ExitError
				continue
			}
			fmt.Fprintf(stdout, "%s: ended its sandbox (pid %d)\n", lab, p.sandbox.Pid)
		case p.missing != "":
			fmt.Fprintf(stdout, "%s: no sandbox %s runs it: nothing to end\n", lab, p.missing)
		default:
			warn := func(s string) { fmt.Fprintf(stderr, "nsscript down %s: warning: %s\n", lab, s) }
			n, errs := journal.Down(k, lab, warn)
			for _, e := range errs {
				fmt.Fprintf(stderr, "nsscript down %s: %v\n", lab, e)
				code = ExitError
			}
			switch {
			case len(errs) > 0:
			case n == 0:
				fmt.Fprintf(stdout, "%s: nothing to undo\n", lab)
			default:
				fmt.Fprintf(stdout, "%s: undid %d changes\n", lab, n)
			}
		}
	}
	if len(rootsLabs) > 0 {
		fmt.Fprintf(stderr, "nsscript down: left the labs on this host alone (%s): undoing them needs root: sudo nsscript down\n", strings.Join(rootsLabs, ", "))
	}
	return code
}

// Ls lists the labs and what each holds.
// With names, only those labs.
func Ls(words []string, asJSON bool, stdout, stderr io.Writer) int {
	sels, ok := labArgs("ls", words, stderr)
	if !ok {
		return ExitUsage
	}
	k, err := hostReader()
	if err != nil {
		fmt.Fprintf(stderr, "nsscript ls: %v\n", err)
		return ExitError
	}
	ps, err := places(k, nil)
	if err != nil {
		fmt.Fprintf(stderr, "nsscript ls: %v\n", err)
		return ExitError
	}
	if len(sels) > 0 {
		// Each named lab: every place of that name (one not there is
		// this host's, shown empty).
		var named []place
		for _, sel := range sels {
			n := len(named)
			for _, p := range ps {
				if sel.matches(p) {
					named = append(named, p)
				}
			}
			if len(named) == n && sel.host() {
				named = append(named, place{lab: sel.lab})
			}
		}
		ps = named
	}
	sums := []*journal.Summary{}
	rootsLabs := 0 // this host's, that only root reads
	for _, p := range ps {
		if p.sandbox != nil {
			sums = append(sums, sandboxSummary(k, *p.sandbox))
			continue
		}
		s, err := journal.Summarize(k, p.lab)
		if err = rootsJournal(err, "ls "+p.lab, p.lab); errors.Is(err, errRootsLab) {
			fmt.Fprintf(stderr, "nsscript ls: %v\n", err)
			rootsLabs++
			continue
		}
		if err != nil {
			fmt.Fprintf(stderr, "nsscript ls: %s: %v\n", p.lab, err)
			continue
		}
		sums = append(sums, s)
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(sums); err != nil {
			return ExitError
		}
		return ExitOK
	}
	if len(sums) == 0 && rootsLabs == 0 {
		fmt.Fprintln(stdout, "no labs")
	}
	named := map[string]int{} // how many of each name: LAB@PID tells those apart
	for _, s := range sums {
		named[s.Lab]++
	}
	for _, s := range sums {
		if s.Sandbox != 0 {
			fmt.Fprintf(stdout, "%s (running in sandbox %d)", s.Lab, s.Sandbox)
		} else {
			fmt.Fprintf(stdout, "%s (%d changes)", s.Lab, s.Changes)
		}
		if s.Owner != "" {
			fmt.Fprintf(stdout, " %s", s.Owner)
		}
		fmt.Fprintln(stdout)
		if len(s.Namespaces) > 0 {
			fmt.Fprintf(stdout, "  namespaces: %s\n", strings.Join(s.Namespaces, " "))
		}
		if s.Sandbox != 0 {
			lab := s.Lab
			if named[lab] > 1 {
				lab = fmt.Sprintf("%s@%d", lab, s.Sandbox)
			}
			ns := "host"
			if len(s.Namespaces) > 0 {
				ns = s.Namespaces[0]
			}
			fmt.Fprintf(stdout, "  go in: nsscript shell %s %s; what it holds: nsscript exec %s host -- nsscript ls; end it: nsscript down %s\n", lab, ns, lab, lab)
		}
		for _, l := range s.Links {
			fmt.Fprintf(stdout, "  link %s\n", l.String())
		}
		for _, r := range s.Rules {
			fmt.Fprintf(stdout, "  rule %s\n", r)
		}
		for _, n := range s.Neighbors {
			fmt.Fprintf(stdout, "  neigh %s\n", n)
		}
		for _, p := range s.Problems {
			fmt.Fprintf(stdout, "  journal line skipped: %s\n", p)
		}
		for _, c := range s.Captures {
			fmt.Fprintf(stdout, "  capture %s\n", c)
		}
		for _, p := range s.Processes {
			state := "exited"
			if p.Running {
				state = "running"
			}
			fmt.Fprintf(stdout, "  process %d in %s (%s): %s\n", p.Pid, p.NS, state, strings.Join(p.Argv, " "))
		}
	}
	return ExitOK
}

// errRootsLab: a lab of this host's, whose journal only root reads.
var errRootsLab = errors.New("root's lab")

type rootsLabError struct{ msg string }

func (e *rootsLabError) Error() string   { return e.msg }
func (e *rootsLabError) Is(t error) bool { return t == errRootsLab }

// rootsJournal is err, or, when it is a journal that this user may not
// read (without root), says so and what to run instead (nsscript CMD).
func rootsJournal(err error, cmd, lab string) error {
	if errors.Is(err, fs.ErrPermission) && !kernel.Privileged() {
		return &rootsLabError{fmt.Sprintf("%s: a lab on this host, whose journal only root reads: sudo nsscript %s", lab, cmd)}
	}
	return err
}

// sandboxSummary is what ls shows of a lab running in a sandbox: the
// sandbox's pid and its namespaces (what the lab holds in them, nsscript
// ls shows inside: nsscript exec LAB host -- nsscript ls).
func sandboxSummary(k kernel.Reader, info kernel.SandboxInfo) *journal.Summary {
	s := &journal.Summary{Lab: info.Lab, Sandbox: info.Pid, Namespaces: []string{}, Links: []journal.LinkSummary{}, Rules: []string{}, Processes: []journal.Proc{}}
	if info.Rootless {
		who := strconv.Itoa(info.Uid)
		if u, err := user.LookupId(who); err == nil {
			who = u.Username
		}
		s.Owner = "made without root by " + who
	}
	if sb, err := k.OpenSandbox(info); err == nil {
		if nss, err := sb.ListNamed(); err == nil {
			s.Namespaces = append(s.Namespaces, nss...)
		}
		sb.Close()
	}
	return s
}
