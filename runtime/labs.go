package runtime

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/nsscript/nsscript/builtins/journal"
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
// unset variable, "..") and nothing is touched.
func labArgs(cmd string, words []string, stderr io.Writer) ([]string, bool) {
	labs := make([]string, 0, len(words))
	ok := true
	for _, w := range words {
		lab, err := labArg(w)
		if err != nil {
			fmt.Fprintf(stderr, "nsscript %s: %v\n", cmd, err)
			ok = false
		}
		labs = append(labs, lab)
	}
	return labs, ok
}

// Down undoes what the named labs (or script files) made; with none named,
// every lab. It exits 0 when there was nothing to do, 2 when a name is not
// a lab's (and then it does nothing at all).
func Down(names []string, trace bool, stdout, stderr io.Writer) int {
	labs, ok := labArgs("down", names, stderr)
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
	if len(labs) == 0 {
		if labs, err = journal.Labs(); err != nil {
			fmt.Fprintf(stderr, "nsscript down: %v\n", err)
			return ExitError
		}
	}
	code := ExitOK
	for _, lab := range labs {
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
	return code
}

// Ls lists the labs and what each holds.
// With names, only those labs.
func Ls(words []string, asJSON bool, stdout, stderr io.Writer) int {
	labs, ok := labArgs("ls", words, stderr)
	if !ok {
		return ExitUsage
	}
	var err error
	if len(labs) == 0 {
		if labs, err = journal.Labs(); err != nil {
			fmt.Fprintf(stderr, "nsscript ls: %v\n", err)
			return ExitError
		}
	}
	k, err := hostReader()
	if err != nil {
		fmt.Fprintf(stderr, "nsscript ls: %v\n", err)
		return ExitError
	}
	sums := []*journal.Summary{}
	for _, lab := range labs {
		s, err := journal.Summarize(k, lab)
		if err != nil {
			fmt.Fprintf(stderr, "nsscript ls: %s: %v\n", lab, err)
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
	if len(sums) == 0 {
		fmt.Fprintln(stdout, "no labs")
	}
	for _, s := range sums {
		fmt.Fprintf(stdout, "%s (%d changes)", s.Lab, s.Changes)
		if s.Owner != "" {
			fmt.Fprintf(stdout, " %s", s.Owner)
		}
		fmt.Fprintln(stdout)
		if len(s.Namespaces) > 0 {
			fmt.Fprintf(stdout, "  namespaces: %s\n", strings.Join(s.Namespaces, " "))
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
