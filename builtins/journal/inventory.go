package journal

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sort"

	"github.com/nsscript/nsscript/builtins/kernel"
	"github.com/nsscript/nsscript/builtins/names"
	"github.com/nsscript/nsscript/builtins/plan"
)

// Inventory lists what a lab holds now, read from the live kernel for the
// objects its journal names, in the lines of plan's inventory: what
// `nsscript plan --diff` compares with what a script would build.
func Inventory(k kernel.Reader, lab string) ([]string, error) {
	if err := names.Lab(lab); err != nil {
		return nil, err
	}
	recs, _, err := readRecords(filepath.Join(Dir, lab, "journal"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	var out []string
	var labNS []*kernel.NS
	inLab := map[uint64]bool{}
	for _, r := range recs {
		if (r.Op == "netns" || r.Op == "adopt") && r.NS.Inode != 0 {
			if ns, err := openNS(k, r.NS); err == nil {
				if r.Op == "netns" {
					labNS = append(labNS, ns)
					inLab[ns.Inode] = true
					// Without IPv6 (namespace(ipv6=False)), as the model
					// lists one made so.
					for _, key := range []string{kernel.DisableIPv6Key, kernel.DefaultDisableIPv6Key} {
						if v, err := k.ReadSysctl(ns, key); err == nil && v == "1" {
							out = append(out, plan.ItemSysctl(ns.Label(), key, v))
						}
					}
				}
				out = append(out, plan.ItemNetns(r.NS.Name))
			}
		}
	}
	for _, l := range summarizeLinks(k, recs, labNS) {
		if l.Gone {
			continue
		}
		out = append(out, plan.ItemLink(l.Namespace, l.Name, l.Kind, l.Detail, l.Peer, l.Master))
		for _, a := range l.Addrs {
			out = append(out, plan.ItemAddr(l.Namespace, l.Name, a))
		}
	}
	for _, n := range liveNeighs(k, recs, labNS) {
		out = append(out, plan.ItemNeigh(n[0], n[1], n[2], n[3]))
	}
	label := (*kernel.NS).Label
	// Routes: all in the lab's namespaces (but the kernel's own), the
	// lab's elsewhere; of the main table, and of the tables the lab's
	// routes and policy rules name.
	tables := map[uint64][]int{}
	for _, r := range recs {
		t := 0
		switch {
		case r.Op == "route" && r.Route != nil:
			t = r.Route.Table
		case r.Op == "ip_rule" && r.PRule != nil:
			t = r.PRule.Table
		}
		if t != 0 && t != kernel.MainTable && r.NS != nil && !slices.Contains(tables[r.NS.Inode], t) {
			tables[r.NS.Inode] = append(tables[r.NS.Inode], t)
		}
	}
	routes := func(ns *kernel.NS, keep func(kernel.RouteInfo) bool) {
		var rs []kernel.RouteInfo
		for _, t := range append([]int{kernel.MainTable}, tables[ns.Inode]...) {
			trs, err := k.Routes(ns, t)
			if err != nil {
				return
			}
			rs = append(rs, trs...)
		}
		for _, rt := range rs {
			if rt.Kernel || !keep(rt) {
				continue
			}
			dev := ""
			if rt.DevIndex != 0 {
				if li, err := k.LinkByIndex(ns, rt.DevIndex); err == nil {
					dev = li.Name
				}
			}
			out = append(out, plan.ItemRoute(label(ns), rt.Dst, rt.Via, dev, rt.Metric, rt.Table))
		}
	}
	for _, ns := range labNS {
		routes(ns, func(kernel.RouteInfo) bool { return true })
	}
	seen := map[string]bool{}
	for _, r := range recs {
		var ns *kernel.NS
		if r.NS != nil && r.Op != "netns" && r.Op != "adopt" {
			var err error
			if ns, err = openNS(k, r.NS); err != nil {
				continue
			}
		}
		switch r.Op {
		case "route":
			if inLab[ns.Inode] || r.Route == nil {
				continue
			}
			want := r.Route
			routes(ns, func(rt kernel.RouteInfo) bool {
				d := ""
				if rt.Dst != nil {
					d = rt.Dst.String()
				}
				return d == want.Dst && rt.Metric == want.Metric && (want.Table == 0 || rt.Table == want.Table)
			})
		case "addr":
			if r.Within != "" {
				continue // listed with its device
			}
			if has, err := k.Addrs(ns, r.Index); err == nil {
				for _, a := range has {
					if a == r.Addr {
						out = append(out, plan.ItemAddr(label(ns), r.Name, a))
					}
				}
			}
		case "rule":
			if ok, err := k.RuleExists(ns, r.chain(), r.Spec); err == nil && ok {
				out = append(out, plan.ItemRule(label(ns), r.chain(), r.Spec))
			}
		case "chain":
			if ok, err := k.ChainExists(ns, r.chain()); err == nil && ok {
				out = append(out, plan.ItemChain(label(ns), r.chain()))
			}
		case "ip_rule":
			if pr, ok, err := k.FindPolicyRule(ns, r.PRule.kernel()); err == nil && ok {
				out = append(out, plan.ItemPolicyRule(label(ns), pr))
			}
		case "sysctl", "shared_sysctl":
			if v, err := k.ReadSysctl(ns, r.Name); err == nil {
				out = append(out, plan.ItemSysctl(label(ns), r.Name, v))
			}
		case "etc":
			n, file, _ := r.etcName()
			if st, err := k.EtcState(n, file); err == nil && st.Had {
				out = append(out, plan.ItemEtc(n, file, st.Old))
			}
		case "shape":
			if sh, err := k.Shaping(ns, r.Index); err == nil && !sh.Empty() {
				out = append(out, plan.ItemShape(label(ns), r.Name, sh))
			}
		case "proc":
			// (A forwarder is the lab's shaping, listed as such.)
			if r.Bg && r.Start != 0 && liveStart(k, r.Pid) == r.Start && !kernel.IsForwarder(r.Argv) {
				out = append(out, plan.ItemProc(label(ns), r.Argv))
			}
		}
	}
	sort.Strings(out)
	uniq := out[:0]
	for _, l := range out {
		if !seen[l] {
			seen[l] = true
			uniq = append(uniq, l)
		}
	}
	return uniq, nil
}
