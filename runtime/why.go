package runtime

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/nsscript/nsscript/builtins"
	"github.com/nsscript/nsscript/builtins/journal"
	"github.com/nsscript/nsscript/builtins/kernel"
	"github.com/nsscript/nsscript/builtins/names"
	"github.com/nsscript/nsscript/builtins/why"
)

// WhyCommand is `nsscript why [LAB] SRC DST[:PORT] [--proto udp]`: the
// walk of why() from the command line, on the live kernel, between any
// namespaces (SRC is host or a name in /run/netns, one nsscript made or
// not). With LAB, SRC is one of that lab's namespaces. It exits 0 when
// the way there and back is open, 1 when something stops the packet.
//
// A lab that runs in a --sandbox has its namespaces in the sandbox's own
// network and mount namespaces, which this command does not enter yet:
// it says so (call why() in that lab's script or REPL instead).
func WhyCommand(words []string, proto string, asJSON bool, stdout, stderr io.Writer) int {
	fail := func(code int, format string, args ...any) int {
		fmt.Fprintf(stderr, "nsscript why: "+format+"\n", args...)
		return code
	}
	if len(words) < 2 || len(words) > 3 {
		return fail(ExitUsage, "why what? nsscript why [LAB] SRC DST[:PORT] [--proto tcp|udp|icmp] (SRC: host or a namespace's name)")
	}
	lab := ""
	if len(words) == 3 {
		lab = words[0]
		if err := names.Lab(lab); err != nil {
			return fail(ExitUsage, "%v", err)
		}
		words = words[1:]
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
	k, err := hostReader()
	if err != nil {
		return fail(ExitError, "%v", err)
	}
	nss, labNS, err := whyNamespaces(k, lab)
	if err != nil {
		if errors.Is(err, errNoLab) {
			return fail(ExitUsage, "%v", err)
		}
		return fail(ExitError, "%v", err)
	}
	from := k.Host()
	if src != "host" {
		from = nil
		var have []string
		for _, ns := range nss {
			if ns.Host || lab != "" && !slices.Contains(labNS, ns.Name) {
				continue
			}
			have = append(have, ns.Label())
			if ns.Name == src {
				from = ns
			}
		}
		if from == nil {
			where := "there is no namespace"
			if lab != "" {
				where = "lab " + lab + " has no namespace"
			}
			return fail(ExitUsage, "%s %q: there are %s", where, src, strings.Join(append([]string{"host"}, have...), ", "))
		}
	}
	d := why.Walk(k, nss, why.Query{Src: from, Dst: a.Dst, Proto: a.Proto, Port: a.Port, Lab: lab})
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

// whyNamespaces are the namespaces a walk starts from: the host and every
// named one; with a lab (of this host's: the hook for a running
// sandbox's lab is here), also the names of the lab's namespaces, where
// SRC must be.
func whyNamespaces(k kernel.Reader, lab string) (nss []*kernel.NS, labs []string, err error) {
	nss = []*kernel.NS{k.Host()}
	if lab != "" {
		all, err := journal.Labs()
		if err != nil {
			return nil, nil, err
		}
		if !slices.Contains(all, lab) {
			return nil, nil, fmt.Errorf("%w %q on this host (see nsscript ls); a lab running in a --sandbox is not reached from outside yet: call why() in its script or REPL", errNoLab, lab)
		}
		s, err := journal.Summarize(k, lab)
		if err != nil {
			return nil, nil, err
		}
		labs = s.Namespaces
	}
	names, err := k.ListNamed()
	if err != nil {
		return nil, nil, err
	}
	for _, name := range names {
		if ns, err := k.OpenNamed(name); err == nil && !slices.Contains(nss, ns) {
			nss = append(nss, ns)
		}
	}
	return nss, labs, nil
}
