package runtime

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/nsscript/nsscript/builtins/graph"
	"github.com/nsscript/nsscript/builtins/journal"
	"github.com/nsscript/nsscript/builtins/kernel"
)

// GraphCommand is `nsscript graph FILE.star|LAB [key=value ...] [--format F]`:
// the topology a script builds (from the recording backend: nothing is
// made), or the one a lab holds now (read from the live kernel).
func GraphCommand(words []string, format, lab string, asJSON bool, stdout, stderr io.Writer) int {
	if len(words) == 0 {
		fmt.Fprintf(stderr, "nsscript graph: what to draw? nsscript graph FILE.star|LAB [--format %s]\n", strings.Join(graph.Formats, "|"))
		return ExitUsage
	}
	if format != "" && !slices.Contains(graph.Formats, format) {
		fmt.Fprintf(stderr, "nsscript graph: unknown format %q: use one of %s\n", format, strings.Join(graph.Formats, ", "))
		return ExitUsage
	}
	target := words[0]
	var g *graph.Graph
	code := ExitOK
	if st, err := os.Stat(target); err == nil && !st.IsDir() {
		file, args, ok := scriptArgs("graph", words, stderr)
		if !ok {
			return ExitUsage
		}
		if lab == "" {
			lab = LabName(file)
		}
		rec, err := PlanRun(file, args, lab)
		if rec == nil {
			fmt.Fprintf(stderr, "nsscript graph: %v\n", err)
			return ExitUsage
		}
		if err != nil {
			fmt.Fprintln(stderr, FormatError(err))
			fmt.Fprintf(stderr, "nsscript graph: the script stopped there; the graph shows what it built until then\n")
			code = ExitError
		}
		if g, err = graph.Build(rec, rec.Namespaces(), rec.Label); err != nil {
			fmt.Fprintf(stderr, "nsscript graph: %v\n", err)
			return ExitError
		}
		g.Title = file
	} else {
		if len(words) > 1 {
			fmt.Fprintf(stderr, "nsscript graph: a lab takes no arguments: nsscript graph LAB\n")
			return ExitUsage
		}
		lab, err := labArg(target)
		if err != nil {
			fmt.Fprintf(stderr, "nsscript graph: %v\n", err)
			return ExitUsage
		}
		if g, err = labGraph(lab); err != nil {
			fmt.Fprintf(stderr, "nsscript graph: %v\n", err)
			if errors.Is(err, errNoLab) {
				return ExitUsage
			}
			return ExitError
		}
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(g); err != nil {
			return ExitError
		}
		return code
	}
	out, err := g.Draw(format)
	if err != nil {
		fmt.Fprintf(stderr, "nsscript graph: %v\n", err)
		return ExitUsage
	}
	io.WriteString(stdout, out)
	return code
}

var errNoLab = errors.New("no such lab")

// labGraph reads a lab's namespaces (from its journal) and the host from
// the live kernel.
func labGraph(lab string) (*graph.Graph, error) {
	labs, err := journal.Labs()
	if err != nil {
		return nil, err
	}
	if !slices.Contains(labs, lab) {
		have := "there are none"
		if len(labs) > 0 {
			have = "there are: " + strings.Join(labs, ", ")
		}
		return nil, fmt.Errorf("%w %q, and no script file by that name (%s; see nsscript ls)", errNoLab, lab, have)
	}
	k, err := hostReader()
	if err != nil {
		return nil, err
	}
	s, err := journal.Summarize(k, lab)
	if err != nil {
		return nil, rootsJournal(err, "graph "+lab, lab)
	}
	nss := []*kernel.NS{k.Host()}
	for _, name := range s.Namespaces {
		ns, err := k.OpenNamed(name)
		if err != nil || slices.Contains(nss, ns) {
			continue // deleted since, or named twice
		}
		nss = append(nss, ns)
	}
	g, err := graph.Build(k, nss, nil)
	if err != nil {
		return nil, err
	}
	g.Title = "lab " + lab
	return g, nil
}
