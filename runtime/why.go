package runtime

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/nsscript/nsscript/builtins"
	"github.com/nsscript/nsscript/builtins/kernel"
	"github.com/nsscript/nsscript/builtins/names"
	"github.com/nsscript/nsscript/builtins/why"
)

// WhyCommand is `nsscript why [LAB] SRC DST[:PORT] [--proto udp]`: the
// walk of why() from the command line, on the live kernel. Without LAB,
// between any namespaces of the machine (SRC is host or a name in
// /run/netns, one nsscript made or not); with LAB (LAB@PID, LAB@host, as
// for nsscript exec), in that lab: one of this host's, or one running in
// a sandbox, whose namespaces (its host included) are the sandbox's. It
// exits 0 when the way there and back is open, 1 when something stops
// the packet.
func WhyCommand(words []string, proto string, asJSON bool, stdout, stderr io.Writer) int {
	fail := func(code int, format string, args ...any) int {
		fmt.Fprintf(stderr, "nsscript why: "+format+"\n", args...)
		return code
	}
	if len(words) < 2 || len(words) > 3 {
		return fail(ExitUsage, "why what? nsscript why [LAB] SRC DST[:PORT] [--proto tcp|udp|icmp] (SRC: host or a namespace's name)")
	}
	var sel *labSel
	if len(words) == 3 {
		s, err := parseLabSel(words[0])
		if err != nil {
			return fail(ExitUsage, "%v", err)
		}
		sel, words = &s, words[1:]
	}
	src, dst := words[0], words[1]
	if src != "host" {
		if err := names.Netns(src); err != nil {
			return fail(ExitUsage, "%v", err)
		}
	}
	if proto == "" {
		proto = "icmp"
	}
	a, err := builtins.ParseWhy(dst, 0, proto)
	if err != nil {
		return fail(ExitUsage, "%s", strings.TrimPrefix(err.Error(), "for parameter dst: "))
	}
	k, err := hostKernel(nil)
	if err != nil {
		return fail(ExitError, "%v", err)
	}
	q := why.Query{Dst: a.Dst, Proto: a.Proto, Port: a.Port}
	var nss []*kernel.NS
	var have []string
	if sel == nil {
		nss = []*kernel.NS{k.Host()}
		names, err := k.ListNamed()
		if err != nil {
			return fail(ExitError, "%v", err)
		}
		for _, name := range names {
			if ns, err := k.OpenNamed(name); err == nil && !slices.Contains(nss, ns) {
				nss = append(nss, ns)
			}
		}
	} else {
		cands, err := places(k, sel)
		switch {
		case err != nil:
			return fail(ExitError, "%v", err)
		case len(cands) == 0:
			return fail(ExitUsage, "there is no lab %q on this host, nor in a running sandbox: nsscript ls lists the labs", words0(sel))
		case len(cands) > 1:
			return fail(ExitUsage, "%v", ambiguous(cands))
		}
		p := cands[0]
		byName, closeFn, err := p.namespaces(k)
		if err != nil {
			return fail(ExitError, "lab %s: %v", p, err)
		}
		defer closeFn()
		q.Lab = p.lab
		nss = []*kernel.NS{byName["host"]}
		if p.sandbox != nil {
			q.Host = byName["host"]
		}
		for name, ns := range byName {
			if name != "host" {
				nss = append(nss, ns)
			}
		}
	}
	for _, ns := range nss {
		label := "host"
		if ns != nss[0] {
			label = ns.Name
		}
		have = append(have, label)
		if label == src {
			q.Src = ns
		}
	}
	if q.Src == nil {
		slices.Sort(have[1:])
		where := "there is no namespace"
		if sel != nil {
			where = "lab " + words0(sel) + " has no namespace"
		}
		return fail(ExitUsage, "%s %q: there are %s", where, src, strings.Join(have, ", "))
	}
	d := why.Walk(k, nss, q)
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(d); err != nil {
			return ExitError
		}
	} else {
		fmt.Fprintln(stdout, d)
	}
	if !d.OK {
		return ExitError
	}
	return ExitOK
}

// words0 is the lab word as the user wrote it.
func words0(s *labSel) string {
	if s.sel == "" {
		return s.lab
	}
	return s.lab + "@" + s.sel
}
