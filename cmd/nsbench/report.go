package main

import (
	"encoding/json"
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
	// HostsNoIPv6: the hosts' namespaces were made without IPv6
	// (-hosts-ipv6=false).
	HostsNoIPv6 bool          `json:"hosts_without_ipv6,omitempty"`
	Rows        []row         `json:"rows"`
	Empty       time.Duration `json:"empty_script"`
	Ping        time.Duration `json:"ping"`
	Reachable   time.Duration `json:"assert_reachable"`
	// Exec is one exec(ns, ["true"]) in a named namespace ("nsscript")
	// and each of what it is compared to, by name (see execs).
	Exec map[string]time.Duration `json:"exec,omitempty"`
	// Tests is nsscript test's time per test, by "empty P" and "small P"
	// for -parallel P, and "sandbox": an empty script under --sandbox.
	Tests map[string]time.Duration `json:"test_startup,omitempty"`
	// Cycles is nsscript's resident size in kB after "rss N" cycles (see
	// cycles.star), CyclesTime the whole run.
	Cycles     map[string]int64 `json:"cycles_rss_kb,omitempty"`
	CyclesTime time.Duration    `json:"cycles_time,omitempty"`
	Errors     []string         `json:"errors,omitempty"`
}

func measure(o options) *report {
	rep := &report{HostsNoIPv6: !o.hostsIPv6}
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
			fmt.Fprintf(os.Stderr, "nsbench: exec, nsenter, ip netns exec, fork+exec ...\n")
			if r := sandboxed("execs", o.nsscript, o.scripts, strconv.Itoa(max(1, o.calls/10)), strconv.Itoa(o.rounds)); !fail("exec", r) {
				rep.Exec = r.Times
			}
		}
		if o.tests > 0 {
			fmt.Fprintf(os.Stderr, "nsbench: nsscript test, -parallel 1, 2, 4 ...\n")
			if r := sandboxed("tests", o.nsscript, strconv.Itoa(o.tests), strconv.Itoa(o.rounds)); !fail("nsscript test", r) {
				rep.Tests = r.Times
			}
		}
		if o.cycles > 0 {
			fmt.Fprintf(os.Stderr, "nsbench: %d namespaces made and deleted in one run ...\n", o.cycles)
			if r := sandboxed("cycles", o.nsscript, o.scripts, strconv.Itoa(o.cycles)); !fail("cycles", r) {
				rep.Cycles, rep.CyclesTime = r.Values, r.Build
			}
		}
	}
	for _, n := range o.ns {
		rw := row{Hosts: n, Bridges: (n + o.perBridge - 1) / o.perBridge, Ways: map[string]*result{}}
		// Each way o.runs times, each run in a fresh sandbox, the ways
		// taking turns (a machine that gets busier slows them alike);
		// the medians are kept.
		runs := map[string][]result{}
		failed := map[string]bool{}
		for i := range o.runs {
			for _, w := range o.ways {
				if failed[w] {
					continue
				}
				fmt.Fprintf(os.Stderr, "nsbench: %d hosts, %s, run %d of %d\n", n, w, i+1, o.runs)
				r := sandboxed("build", w, strconv.Itoa(n), strconv.Itoa(o.perBridge), o.nsscript, o.scripts, o.profile, strconv.FormatBool(o.hostIPv6), strconv.FormatBool(o.hostsIPv6))
				if fail(fmt.Sprintf("%d hosts, %s", n, w), r) {
					failed[w] = true
					continue
				}
				runs[w] = append(runs[w], r)
			}
		}
		for _, w := range o.ways {
			if !failed[w] {
				rw.Ways[w] = median(runs[w])
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

// combine reads reports that earlier runs printed with -json and returns
// one of the medians of each figure (a busy machine's runs vary).
func combine(files []string) (*report, error) {
	var reps []report
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var r report
		if err := json.Unmarshal(b, &r); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		if len(reps) > 0 && r.HostsNoIPv6 != reps[0].HostsNoIPv6 {
			return nil, fmt.Errorf("%s: measured with -hosts-ipv6=%v, %s with %v: combine runs of one kind", f, !r.HostsNoIPv6, files[0], !reps[0].HostsNoIPv6)
		}
		reps = append(reps, r)
	}
	out := &report{Exec: map[string]time.Duration{}, Tests: map[string]time.Duration{}, Cycles: map[string]int64{}}
	if len(reps) > 0 {
		out.HostsNoIPv6 = reps[0].HostsNoIPv6
	}
	durations := func(f func(r *report) time.Duration) time.Duration {
		var ds []time.Duration
		for i := range reps {
			if d := f(&reps[i]); d > 0 {
				ds = append(ds, d)
			}
		}
		if len(ds) == 0 {
			return 0
		}
		return medianOf(ds)
	}
	out.Empty = durations(func(r *report) time.Duration { return r.Empty })
	out.Ping = durations(func(r *report) time.Duration { return r.Ping })
	out.Reachable = durations(func(r *report) time.Duration { return r.Reachable })
	out.CyclesTime = durations(func(r *report) time.Duration { return r.CyclesTime })
	for _, r := range reps {
		for k := range r.Exec {
			out.Exec[k] = durations(func(r *report) time.Duration { return r.Exec[k] })
		}
		for k := range r.Tests {
			out.Tests[k] = durations(func(r *report) time.Duration { return r.Tests[k] })
		}
		for k := range r.Cycles {
			var vs []int64
			for _, r := range reps {
				if v, ok := r.Cycles[k]; ok {
					vs = append(vs, v)
				}
			}
			slices.Sort(vs)
			out.Cycles[k] = vs[len(vs)/2]
		}
		out.Errors = append(out.Errors, r.Errors...)
	}
	byHosts := map[int][]row{}
	var order []int
	for _, r := range reps {
		for _, rw := range r.Rows {
			if byHosts[rw.Hosts] == nil {
				order = append(order, rw.Hosts)
			}
			byHosts[rw.Hosts] = append(byHosts[rw.Hosts], rw)
		}
	}
	for _, n := range order {
		rws := byHosts[n]
		rw := row{Hosts: n, Bridges: rws[0].Bridges, Ways: map[string]*result{}}
		for _, r := range rws {
			for w := range r.Ways {
				var runs []result
				for _, r := range rws {
					if x := r.Ways[w]; x != nil {
						runs = append(runs, *x)
					}
				}
				rw.Ways[w] = median(runs)
			}
		}
		out.Rows = append(out.Rows, rw)
	}
	return out, nil
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
	rss := make([]int64, 0, len(runs))
	for _, r := range runs {
		rss = append(rss, r.RSS)
	}
	slices.Sort(rss)
	return &result{
		Build: pick(func(r *result) *time.Duration { return &r.Build }),
		Ping:  pick(func(r *result) *time.Duration { return &r.Ping }),
		Down:  pick(func(r *result) *time.Duration { return &r.Down }),
		CPU:   pick(func(r *result) *time.Duration { return &r.CPU }),
		RSS:   rss[len(rss)/2],
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
	perHost := func(r *result, n int, f func(*result) time.Duration) string {
		if r == nil {
			return "-"
		}
		return fmt.Sprintf("%.2f", float64(f(r))/1e6/float64(n))
	}
	mb := func(r *result) string {
		if r == nil || r.RSS == 0 {
			return "-"
		}
		return fmt.Sprintf("%.0f", float64(r.RSS)/1024)
	}
	cpu := func(r *result) time.Duration { return r.CPU }
	fmt.Fprintln(w, "ms; ns = nsscript (a .star script, process start included), nl = direct netlink calls (Go), nl+ = the same")
	fmt.Fprintln(w, "program tuned as nsscript is (bridge ports without IPv6, namespaces made ahead), ip = an ip command script;")
	fmt.Fprintln(w, "cpu: the build's processor time per host; rss: its largest resident size, MB")
	if rep.HostsNoIPv6 {
		fmt.Fprintln(w, "hosts without IPv6 (-hosts-ipv6=false): each host's namespace made as namespace(name, ipv6=False) makes it, each way alike")
	}
	fmt.Fprintf(w, "%5s %3s | %8s %8s %8s %8s | %6s %6s %6s | %7s %7s %7s | %7s %7s %7s | %4s %4s\n",
		"hosts", "br", "build ns", "nl", "nl+", "ip", "ns/nl", "ns/nl+", "ip/nl", "ns/host", "nl/host", "nl+/host", "cpu ns", "nl", "nl+", "rss ns", "nl")
	for _, rw := range rep.Rows {
		ns, nl, nlt, ip := rw.Ways["nsscript"], rw.Ways["netlink"], rw.Ways["tuned"], rw.Ways["ip"]
		fmt.Fprintf(w, "%5d %3d | %8s %8s %8s %8s | %6s %6s %6s | %7s %7s %7s | %7s %7s %7s | %4s %4s\n",
			rw.Hosts, rw.Bridges, cell(ns, build), cell(nl, build), cell(nlt, build), cell(ip, build),
			ratio(ns, nl, build), ratio(ns, nlt, build), ratio(ip, nl, build),
			perHost(ns, rw.Hosts, build), perHost(nl, rw.Hosts, build), perHost(nlt, rw.Hosts, build),
			perHost(ns, rw.Hosts, cpu), perHost(nl, rw.Hosts, cpu), perHost(nlt, rw.Hosts, cpu), mb(ns), mb(nl))
	}
	fmt.Fprintln(w, "ping: the first ping end to end after the build; down: until the kernel has removed the veths")
	fmt.Fprintf(w, "%5s %3s | %7s %6s %6s %6s | %7s %7s %7s %7s | %6s %6s\n",
		"hosts", "br", "ping ns", "nl", "nl+", "ip", "down ns", "nl", "nl+", "ip", "ns/nl", "ns/nl+")
	for _, rw := range rep.Rows {
		ns, nl, nlt, ip := rw.Ways["nsscript"], rw.Ways["netlink"], rw.Ways["tuned"], rw.Ways["ip"]
		fmt.Fprintf(w, "%5d %3d | %7s %6s %6s %6s | %7s %7s %7s %7s | %6s %6s\n",
			rw.Hosts, rw.Bridges, cell(ns, ping), cell(nl, ping), cell(nlt, ping), cell(ip, ping),
			cell(ns, down), cell(nl, down), cell(nlt, down), cell(ip, down), ratio(ns, nl, down), ratio(ns, nlt, down))
	}
	if rep.Empty > 0 {
		fmt.Fprintf(w, "empty script: %s ms wall (median of 21 runs)\n", ms(rep.Empty))
	}
	if rep.Ping > 0 || rep.Reachable > 0 {
		fmt.Fprintf(w, "on a ready link: ping() %.3f ms, assert.reachable %.3f ms per call\n", float64(rep.Ping)/1e6, float64(rep.Reachable)/1e6)
	}
	times := func(m map[string]time.Duration, key, base string) string {
		s := fmt.Sprintf("%.2f ms", float64(m[key])/1e6)
		if base != "" && m[base] > 0 {
			s += fmt.Sprintf(" (%.2fx)", float64(m[key])/float64(m[base]))
		}
		return s
	}
	if x := rep.Exec; len(x) > 0 {
		fmt.Fprintf(w, "exec(ns, [\"true\"]) in a named namespace: %s per call; nsenter --net %s, ip netns exec %s, fork+exec %s\n",
			times(x, "nsscript", ""), times(x, "nsenter", "nsscript"), times(x, "ip netns exec", "nsscript"), times(x, "fork+exec", "nsscript"))
		fmt.Fprintf(w, "  exec / nsenter: %.2fx, exec / ip netns exec: %.2fx\n",
			float64(x["nsscript"])/float64(max(1, x["nsenter"])), float64(x["nsscript"])/float64(max(1, x["ip netns exec"])))
	}
	if t := rep.Tests; t["empty 1"] > 0 {
		fmt.Fprintf(w, "nsscript test, per test: empty test: -parallel 1 %s, 2 %s, 4 %s; an empty script under --sandbox %s\n",
			times(t, "empty 1", "sandbox"), times(t, "empty 2", "empty 1"), times(t, "empty 4", "empty 1"), times(t, "sandbox", ""))
		fmt.Fprintf(w, "  two namespaces, a veth and assert.reachable: -parallel 1 %s, 2 %s, 4 %s\n",
			times(t, "small 1", ""), times(t, "small 2", "small 1"), times(t, "small 4", "small 1"))
	}
	if c := rep.Cycles; len(c) > 0 {
		var keys []int
		for k := range c {
			if n, err := strconv.Atoi(strings.TrimPrefix(k, "rss ")); err == nil {
				keys = append(keys, n)
			}
		}
		slices.Sort(keys)
		var parts []string
		for _, k := range keys {
			parts = append(parts, fmt.Sprintf("%.1f MB after %d", float64(c["rss "+strconv.Itoa(k)])/1024, k))
		}
		growth := float64(c["rss "+strconv.Itoa(keys[len(keys)-1])]) / float64(max(1, c["rss "+strconv.Itoa(keys[0])]))
		fmt.Fprintf(w, "namespaces made and deleted in one run (%.1f s): nsscript's RSS %s (%.2fx)\n",
			rep.CyclesTime.Seconds(), strings.Join(parts, ", "), growth)
	}
	for _, e := range rep.Errors {
		fmt.Fprintf(w, "error: %s\n", e)
	}
}
