package plan

import (
	"strconv"
	"strings"

	"github.com/nsscript/nsscript/builtins/kernel"
)

// tc is a tc command inside ns: `tc -n NAME ...` for a named one.
func (r *Renderer) tc(ns *kernel.NS, args ...string) string { return r.nsTool("tc", ns, args...) }

// handle writes a tc handle: "4e53:", "4e53:1".
func handle(h uint32) string { return kernel.TCHandle(h) }

// shapeLayout is what holds a shaping: the kinds of nsscript's root qdisc
// and of the one under it, and whether its egress filter hands packets
// to a forwarder (as kernel.SetShaping lays it out).
func shapeLayout(s *kernel.Shaping) (root, child string, filter bool) {
	if s.Empty() {
		return "", "", false
	}
	netem := s.Netem() && s.Tap == ""
	switch {
	case s.Rate > 0 && netem:
		root, child = "tbf", "netem"
	case s.Rate > 0:
		root = "tbf"
	case netem:
		root = "netem"
	}
	return root, child, s.Tap != "" || s.Stale
}

// NetemNote says, in a plan, what a kernel without sch_netem does.
const NetemNote = "delay, jitter, loss, duplicate, reorder and limit are netem's: where the kernel has no sch_netem, nsscript runs them in a forwarder process of the lab instead (link.shape says which), and this script only says so"

// Shape is the tc commands that take a device's shaping from cur to
// next, as kernel.SetShaping does. In a plan (plan), a netem command
// that fails (a kernel without sch_netem) says so and the script goes on.
func (r *Renderer) Shape(ns *kernel.NS, dev string, mtu int, cur, next *kernel.Shaping, plan bool) string {
	var lines []string
	add := func(args ...string) { lines = append(lines, r.tc(ns, args...)) }
	curRoot, curChild, curFilter := shapeLayout(cur)
	root, child, filter := shapeLayout(next)
	// In a plan, a netem that a kernel without sch_netem did not make is
	// not there to delete either.
	del := func(netem bool, args ...string) {
		line := r.tc(ns, args...)
		if plan && netem {
			line += " 2>/dev/null || true"
		}
		lines = append(lines, line)
	}
	switch {
	case curRoot != "" && curRoot != root:
		del(curRoot == "netem", "qdisc", "del", "dev", dev, "root")
		curRoot, curChild = "", ""
	case curChild != "" && curChild != child:
		del(true, "qdisc", "del", "dev", dev, "parent", handle(kernel.RootHandle|1), "handle", handle(kernel.ChildHandle))
		curChild = ""
	}
	verb := func(had string) string {
		if had == "" {
			return "add"
		}
		return "change"
	}
	netem := func(had, where string, h uint32) {
		if had != "" && strings.Join(cur.Args(), " ") == strings.Join(next.Args(), " ") {
			return
		}
		args := append(append([]string{"qdisc", verb(had), "dev", dev}, strings.Fields(where)...), "handle", handle(h), "netem")
		line := r.tc(ns, append(args, next.NetemWords()...)...)
		if plan {
			line += " || echo " + q("no sch_netem here: "+dev+" is not shaped (nsscript would run its forwarder)") + " >&2"
		}
		lines = append(lines, line)
	}
	switch root {
	case "tbf":
		if curRoot == "" || cur.Rate != next.Rate {
			burst, limit := kernel.TbfParams(next.Rate, mtu)
			add("qdisc", verb(curRoot), "dev", dev, "root", "handle", handle(kernel.RootHandle), "tbf",
				"rate", kernel.FormatRate(next.Rate), "burst", strconv.FormatUint(uint64(burst), 10), "limit", strconv.FormatUint(uint64(limit), 10))
		}
		if child == "netem" {
			netem(curChild, "parent "+handle(kernel.RootHandle|1), kernel.ChildHandle)
		}
	case "netem":
		netem(curRoot, "root", kernel.RootHandle)
	}
	switch {
	case filter && next.Tap != "" && (!curFilter || cur.Tap != next.Tap):
		if !curFilter {
			add("qdisc", "add", "dev", dev, "clsact")
		}
		add("filter", "replace", "dev", dev, "egress", "protocol", "all", "pref", strconv.Itoa(int(kernel.FilterPref)), "handle", "1",
			"bpf", "bytecode", kernel.FilterBytecode(), "action", "mirred", "egress", "redirect", "dev", next.Tap)
	case !filter && curFilter:
		add("filter", "del", "dev", dev, "egress", "pref", strconv.Itoa(int(kernel.FilterPref)))
		add("qdisc", "del", "dev", dev, "clsact")
	}
	return strings.Join(lines, "\n")
}
