package journal

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nsscript/nsscript/builtins/kernel"
	"github.com/nsscript/nsscript/builtins/plan"
)

// The journal's tests run against the plan's model of the kernel: no
// root, nothing real changed. Labs live in a directory of the test's.

// inTempDir points Dir at a directory of the test's for its duration.
func inTempDir(t *testing.T) {
	old := Dir
	Dir = t.TempDir()
	t.Cleanup(func() { Dir = old })
}

// must fails the test on an error.
func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func cidr(s string) *net.IPNet {
	ip, n, err := net.ParseCIDR(s)
	if err != nil {
		panic(err)
	}
	n.IP = ip
	return n
}

func mac(s string) net.HardwareAddr {
	m, err := net.ParseMAC(s)
	if err != nil {
		panic(err)
	}
	return m
}

// index is the index of device name in ns.
func index(t *testing.T, k kernel.Reader, ns *kernel.NS, name string) int {
	t.Helper()
	li, err := k.LinkByName(ns, name)
	if err != nil {
		t.Fatalf("%s in %s: %v", name, ns, err)
	}
	return li.Index
}

// userWorld is a model host holding what a user made, not the lab: a
// bridge and a stand-in NIC, up, with addresses (IPv4 and IPv6) and a
// route through the bridge, and a namespace with a veth into it (down).
type userWorld struct {
	k     *plan.Model
	devs  []*kernel.LinkInfo // the user's devices
	inode uint64             // of the user's namespace
}

func newUserWorld(t *testing.T) *userWorld {
	k := plan.NewModel()
	host := k.Host()
	w := &userWorld{k: k}
	mk := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	mk(k.AddBridge(host, "ubr", kernel.LinkOpts{}))
	mk(k.AddDummy(host, "nic0", kernel.LinkOpts{}))
	for _, dev := range []struct {
		name  string
		addrs []string
	}{{"ubr", []string{"192.168.5.1/24", "2001:db8:5::1/64"}}, {"nic0", []string{"192.168.6.1/24", "192.168.7.1/24", "2001:db8:6::1/64"}}} {
		li, err := k.LinkByName(host, dev.name)
		mk(err)
		mk(k.SetUp(host, li.Index, true))
		for _, a := range dev.addrs {
			mk(k.AddAddr(host, li.Index, cidr(a)))
		}
	}
	mk(k.ReplaceRoute(host, kernel.RouteInfo{Dst: cidr("10.60.0.0/16"), Via: net.ParseIP("192.168.5.254").To4()}))
	un, _, err := k.CreateNamed("user", kernel.NetnsSetup{Lo: true}, nil)
	mk(err)
	_, _, err = k.AddVeth(host, "uv0", un, "uv1", kernel.LinkOpts{})
	mk(err)
	w.inode = un.Inode
	for _, ns := range []*kernel.NS{host, un} {
		links, err := k.Links(ns)
		mk(err)
		for _, l := range links {
			if l.Kind != "loopback" {
				w.devs = append(w.devs, l)
			}
		}
	}
	return w
}

// gone lists the user's devices that are no longer in the model. A
// device is known by its MAC or its index: undo may change the one (a
// mac record) or the other (a move), never both, and the model gives no
// two devices one index (but lo).
func (w *userWorld) gone() []*kernel.LinkInfo {
	have := map[string]bool{}
	for _, ns := range w.k.Namespaces() {
		if links, err := w.k.Links(ns); err == nil {
			for _, l := range links {
				have["mac "+l.MAC], have[fmt.Sprint("index ", l.Index)] = true, true
			}
		}
	}
	var out []*kernel.LinkInfo
	for _, d := range w.devs {
		if !have["mac "+d.MAC] && !have[fmt.Sprint("index ", d.Index)] {
			out = append(out, d)
		}
	}
	return out
}

// observedSysctls, observedChains: what a lab's records change of them.
var (
	observedSysctls = []string{"net.ipv4.ip_forward", "net.ipv4.conf.all.forwarding", "net.ipv4.conf.default.forwarding", "net.ipv6.conf.all.forwarding"}
	observedChains  = []kernel.Chain{{Table: "filter", Name: "INPUT"}, {Table: "filter", Name: "FORWARD"}, {Table: "nat", Name: "POSTROUTING"},
		{Table: "nat", Name: "PREROUTING"}, {V6: true, Table: "filter", Name: "INPUT"}, {V6: true, Table: "filter", Name: "WEB"}, {V6: true, Table: "nat", Name: "POSTROUTING"}}
)

// observe describes what the model holds, one line an object, read
// through the kernel.Reader the journal reads: every live namespace, and
// which are named; each device by name with its kind, MAC, MTU, up state,
// bridge and addresses; the routes of the main table; the sysctls and
// iptables chains a lab changes; the /etc/netns files named ("NS/FILE").
// Device indexes are left out: a device moved out and back may come back
// with another, as on Linux.
func observe(t *testing.T, m *plan.Model, etc ...string) []string {
	t.Helper()
	var out []string
	named, err := m.ListNamed()
	must(t, err)
	out = append(out, "named "+strings.Join(named, " "))
	for _, ns := range m.Namespaces() {
		label := ns.Label()
		links, err := m.Links(ns)
		must(t, err)
		byIndex := map[int]string{}
		for _, l := range links {
			byIndex[l.Index] = l.Name
		}
		for _, l := range links {
			addrs, err := m.Addrs(ns, l.Index)
			must(t, err)
			slices.Sort(addrs)
			out = append(out, fmt.Sprintf("link %s/%s %s mac %s mtu %d up %v master %q addrs %v",
				label, l.Name, l.Kind, l.MAC, l.MTU, l.Up, byIndex[l.MasterIndex], addrs))
		}
		neighs, err := m.Neighbors(ns)
		must(t, err)
		for _, n := range neighs {
			out = append(out, fmt.Sprintf("neigh %s %s lladdr %s dev %s %s", label, n.IP, n.MAC, byIndex[n.DevIndex], n.State))
		}
		routes, err := m.Routes(ns, 0)
		must(t, err)
		for _, r := range routes {
			out = append(out, fmt.Sprintf("route %s %v via %v dev %s metric %d kernel %v", label, r.Dst, r.Via, byIndex[r.DevIndex], r.Metric, r.Kernel))
		}
		for _, key := range observedSysctls {
			v, err := m.ReadSysctl(ns, key)
			must(t, err)
			out = append(out, fmt.Sprintf("sysctl %s %s=%s", label, key, v))
		}
		for _, c := range observedChains {
			if ok, err := m.ChainExists(ns, c); err != nil || !ok {
				continue
			}
			rules, err := m.ListRules(ns, c)
			must(t, err)
			out = append(out, fmt.Sprintf("chain %s %s", label, c.Command("-N", 0, nil)))
			for _, r := range rules {
				out = append(out, fmt.Sprintf("rule %s %s -t %s %s", label, c.Program(), c.Table, r))
			}
		}
		for _, v6 := range []bool{false, true} {
			prs, err := m.PolicyRules(ns, v6)
			must(t, err)
			for _, pr := range prs {
				out = append(out, fmt.Sprintf("ip rule %s %v %s", label, v6, pr.Selector()))
			}
		}
	}
	for _, f := range etc {
		name, file, _ := strings.Cut(f, "/")
		st, err := m.EtcState(name, file)
		must(t, err)
		out = append(out, fmt.Sprintf("etc %s: top %v dir %v had %v %q", f, st.TopExists, st.DirExists, st.Had, st.Old))
	}
	slices.Sort(out)
	return out
}

// sameState fails the test where after differs from before, line by line.
func sameState(t *testing.T, what string, before, after []string) {
	t.Helper()
	for _, l := range before {
		if !slices.Contains(after, l) {
			t.Errorf("%s: lost %s", what, l)
		}
	}
	for _, l := range after {
		if !slices.Contains(before, l) {
			t.Errorf("%s: left %s", what, l)
		}
	}
}

// labLeft lists what is left in Dir: nothing, once every lab is down
// (the shared entries of sysctls and namespaces included).
func labLeft(t *testing.T) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(Dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && p != Dir {
			out = append(out, strings.TrimPrefix(p, Dir))
		}
		return err
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	return out
}

// warnings collects what an Undoer warns of.
type warnings []string

func (w *warnings) add(s string) { *w = append(*w, s) }

func (w *warnings) undoer(m kernel.Kernel) *Undoer { return &Undoer{K: m, Warn: w.add} }

// contains reports whether a warning holds every one of the words.
func (w warnings) contains(words ...string) bool {
	return slices.ContainsFunc(w, func(s string) bool {
		for _, word := range words {
			if !strings.Contains(s, word) {
				return false
			}
		}
		return true
	})
}
