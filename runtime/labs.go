package runtime

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/nsscript/nsscript/builtins"
	"github.com/nsscript/nsscript/builtins/journal"
	"github.com/nsscript/nsscript/builtins/plan"
)

// LabName is the lab a script file runs as: its name without .star.
func LabName(file string) string {
	return strings.TrimSuffix(filepath.Base(file), ".star")
}

// Down undoes what the named labs (or script files) made; with none named,
// every lab. It exits 0 when there was nothing to do.
func Down(names []string, trace bool, stdout, stderr io.Writer) int {
	env, err := builtins.NewEnv("down")
	if err != nil {
		fmt.Fprintf(stderr, "nsscript down: %v\n", err)
		return ExitError
	}
	labs := make([]string, 0, len(names))
	for _, n := range names {
		labs = append(labs, LabName(n))
	}
	if len(labs) == 0 {
		if labs, err = journal.Labs(); err != nil {
			fmt.Fprintf(stderr, "nsscript down: %v\n", err)
			return ExitError
		}
	}
	k := env.K
	var log func(string)
	if trace {
		// The tracer prints each kernel change, with the same commands as
		// --trace and nsscript plan; the undoer adds what is not one (the
		// processes it stops).
		k = plan.NewTracer(k, stderr)
		log = func(s string) { fmt.Fprintln(stderr, s) }
	}
	code := ExitOK
	for _, lab := range labs {
		n, errs := journal.Down(k, lab, log)
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
func Ls(asJSON bool, stdout, stderr io.Writer) int {
	labs, err := journal.Labs()
	if err != nil {
		fmt.Fprintf(stderr, "nsscript ls: %v\n", err)
		return ExitError
	}
	sums := []*journal.Summary{}
	for _, lab := range labs {
		s, err := journal.Summarize(lab)
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
			fmt.Fprintf(stdout, "  link %s\n", l)
		}
		for _, r := range s.Rules {
			fmt.Fprintf(stdout, "  rule %s\n", r)
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
