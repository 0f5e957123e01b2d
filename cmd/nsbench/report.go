package main

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// row is one host count, measured each way.
type row struct {
	Hosts   int                `json:"hosts"`
	Bridges int                `json:"bridges"`
	Ways    map[string]*result `json:"ways"`
}

type report struct {
	Rows      []row         `json:"rows"`
	Empty     time.Duration `json:"empty_script"`
	Ping      time.Duration `json:"ping"`
	Reachable time.Duration `json:"assert_reachable"`
	Exec      time.Duration `json:"exec"`
	Errors    []string      `json:"errors,omitempty"`
}

func measure(o options) *report {
	rep := &report{}
	fail := func(what string, r result) bool {
		if r.Err == "" {
			return false
		}
		rep.Errors = append(rep.Errors, what+": "+r.Err)
		return true
	}
	// The small figures first, on a quiet machine: the kernel is busy a
	// while after a thousand namespaces are gone.
	if slices.Contains(o.ways, "nsscript") {
		fmt.Fprintf(os.Stderr, "nsbench: empty script, ping, assert.reachable ...\n")
		if r := sandboxed("empty", o.nsscript); !fail("empty script", r) {
			rep.Empty = r.Build
		}
		if o.calls > 0 {
			if r := sandboxed("calls", o.nsscript, o.scripts, "ping", strconv.Itoa(o.calls)); !fail("ping", r) {
				rep.Ping = r.Build
			}
			if r := sandboxed("calls", o.nsscript, o.scripts, "reachable", strconv.Itoa(o.calls)); !fail("assert.reachable", r) {
				rep.Reachable = r.Build
			}
			// A process start costs thousands of pings: fewer calls.
			if r := sandboxed("calls", o.nsscript, o.scripts, "exec", strconv.Itoa(max(1, o.calls/20))); !fail("exec", r) {
				rep.Exec = r.Build
			}
		}
	}
	for _, n := range o.ns {
		rw := row{Hosts: n, Bridges: (n + o.perBridge - 1) / o.perBridge, Ways: map[string]*result{}}
		for _, w := range o.ways {
			// Each way o.runs times, each run in a fresh sandbox; the
			// medians are kept.
			var runs []result
			for i := range o.runs {
				fmt.Fprintf(os.Stderr, "nsbench: %d hosts, %s, run %d of %d\n", n, w, i+1, o.runs)
				r := sandboxed("build", w, strconv.Itoa(n), strconv.Itoa(o.perBridge), o.nsscript, o.scripts, o.profile, strconv.FormatBool(o.hostIPv6))
				if fail(fmt.Sprintf("%d hosts, %s", n, w), r) {
					break
				}
				runs = append(runs, r)
			}
			if len(runs) == o.runs {
				rw.Ways[w] = median(runs)
			}
		}
		// The same topology, whichever way it was built.
		var first string
		for _, w := range o.ways {
			r := rw.Ways[w]
			if r == nil {
				continue
			}
			if first == "" {
				first = w
			} else if r.State != rw.Ways[first].State {
				rep.Errors = append(rep.Errors, fmt.Sprintf("%d hosts: %s built a different state than %s:\n%s", n, w, first, diff(rw.Ways[first].State, r.State)))
			}
		}
		for _, r := range rw.Ways {
			r.State = ""
		}
		rep.Rows = append(rep.Rows, rw)
	}
	return rep
}

// median keeps the median of each time over runs (the state of the first).
func median(runs []result) *result {
	pick := func(f func(*result) *time.Duration) time.Duration {
		var ds []time.Duration
		for i := range runs {
			ds = append(ds, *f(&runs[i]))
		}
		slices.Sort(ds)
		return ds[len(ds)/2]
	}
	return &result{
		Build: pick(func(r *result) *time.Duration { return &r.Build }),
		Ping:  pick(func(r *result) *time.Duration { return &r.Ping }),
		Down:  pick(func(r *result) *time.Duration { return &r.Down }),
		State: runs[0].State,
	}
}

// diff shows the lines only one of two states has.
func diff(a, b string) string {
	in := func(s string) map[string]bool {
		m := map[string]bool{}
		for _, l := range strings.Split(s, "\n") {
			m[l] = true
		}
		return m
	}
	ma, mb := in(a), in(b)
	var out []string
	for _, l := range strings.Split(a, "\n") {
		if !mb[l] {
			out = append(out, "- "+l)
		}
	}
	for _, l := range strings.Split(b, "\n") {
		if !ma[l] {
			out = append(out, "+ "+l)
		}
	}
	if len(out) > 20 {
		out = append(out[:20], fmt.Sprintf("... %d more", len(out)-20))
	}
	return strings.Join(out, "\n")
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d)/1e6) }

func ratio(a, b *result, f func(*result) time.Duration) string {
	if a == nil || b == nil || f(b) == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2fx", float64(f(a))/float64(f(b)))
}

func (rep *report) print(w io.Writer) {
	build := func(r *result) time.Duration { return r.Build }
	ping := func(r *result) time.Duration { return r.Ping }
	down := func(r *result) time.Duration { return r.Down }
	cell := func(r *result, f func(*result) time.Duration) string {
		if r == nil {
			return "-"
		}
		return ms(f(r))
	}
	perHost := func(r *result, n int) string {
		if r == nil {
			return "-"
		}
		return fmt.Sprintf("%.2f", float64(r.Build)/1e6/float64(n))
	}
	fmt.Fprintln(w, "ms; ns = nsscript (a .star script, process start included), nl = direct netlink calls (Go), ip = an ip command script")
	fmt.Fprintln(w, "ping: the first ping end to end after the build; down: until the kernel has removed the veths")
	fmt.Fprintf(w, "%5s %3s | %8s %8s %8s | %6s %6s | %7s %7s | %6s %6s %6s | %7s %7s %7s | %6s\n",
		"hosts", "br", "build ns", "nl", "ip", "ns/nl", "ip/nl", "ns/host", "nl/host", "ping ns", "nl", "ip", "down ns", "nl", "ip", "ns/nl")
	for _, rw := range rep.Rows {
		ns, nl, ip := rw.Ways["nsscript"], rw.Ways["netlink"], rw.Ways["ip"]
		fmt.Fprintf(w, "%5d %3d | %8s %8s %8s | %6s %6s | %7s %7s | %6s %6s %6s | %7s %7s %7s | %6s\n",
			rw.Hosts, rw.Bridges, cell(ns, build), cell(nl, build), cell(ip, build),
			ratio(ns, nl, build), ratio(ip, nl, build), perHost(ns, rw.Hosts), perHost(nl, rw.Hosts),
			cell(ns, ping), cell(nl, ping), cell(ip, ping),
			cell(ns, down), cell(nl, down), cell(ip, down), ratio(ns, nl, down))
	}
	if rep.Empty > 0 {
		fmt.Fprintf(w, "empty script: %s ms wall (median of 21 runs)\n", ms(rep.Empty))
	}
	if rep.Ping > 0 || rep.Reachable > 0 {
		fmt.Fprintf(w, "on a ready link: ping() %.3f ms, assert.reachable %.3f ms per call\n", float64(rep.Ping)/1e6, float64(rep.Reachable)/1e6)
	}
	if rep.Exec > 0 {
		fmt.Fprintf(w, "exec(ns, [\"true\"]): %.1f ms per call\n", float64(rep.Exec)/1e6)
	}
	for _, e := range rep.Errors {
		fmt.Fprintf(w, "error: %s\n", e)
	}
}
