package plan

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nsscript/nsscript/builtins/kernel"
)

// The model stands in for the kernel in plans and in the journal's
// tests: these pin the kernel's behaviour it copies.

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// cidr is an address with its prefix ("10.0.0.1/24"), or a network.
func cidr(s string) *net.IPNet {
	ip, n, _ := net.ParseCIDR(s)
	return &net.IPNet{IP: ip, Mask: n.Mask}
}

func link(t *testing.T, m *Model, ns *kernel.NS, name string) *kernel.LinkInfo {
	t.Helper()
	li, err := m.LinkByName(ns, name)
	if err != nil {
		t.Fatalf("%s in %s: %v", name, ns, err)
	}
	return li
}

func namespace(t *testing.T, m *Model, name string) *kernel.NS {
	t.Helper()
	ns, created, err := m.CreateNamed(name, kernel.NetnsSetup{Lo: true}, nil)
	must(t, err)
	if !created {
		t.Fatalf("namespace %s was there", name)
	}
	return ns
}

// routes lists the routes of the main table as "DST via GW dev DEV".
func routes(t *testing.T, m *Model, ns *kernel.NS) []string {
	t.Helper()
	rs, err := m.Routes(ns, 0)
	must(t, err)
	var out []string
	for _, r := range rs {
		dev := ""
		if li, err := m.LinkByIndex(ns, r.DevIndex); err == nil {
			dev = li.Name
		}
		out = append(out, fmt.Sprintf("%v via %v dev %s", r.Dst, r.Via, dev))
	}
	return out
}

// TestModelVeth: a veth's ends know each other, across namespaces (by
// the id under which one namespace knows the other) and within one;
// both start down; a name taken is refused on either end.
func TestModelVeth(t *testing.T) {
	m := NewModel()
	host, red := m.Host(), namespace(t, m, "red")
	if _, _, err := m.AddVeth(host, "a", red, "b", kernel.LinkOpts{}); err != nil {
		t.Fatal(err)
	}
	a, b := link(t, m, host, "a"), link(t, m, red, "b")
	id, err := m.NetnsID(host, red)
	must(t, err)
	if a.Kind != "veth" || a.PeerIndex != b.Index || a.PeerNetnsID != id || b.PeerIndex != a.Index || b.PeerNetnsID < 0 || a.Up || b.Up {
		t.Errorf("ends across namespaces: %+v %+v (host knows red as %d)", a, b, id)
	}
	if _, _, err := m.AddVeth(host, "c", host, "d", kernel.LinkOpts{}); err != nil {
		t.Fatal(err)
	}
	if c := link(t, m, host, "c"); c.PeerNetnsID != -1 || c.PeerIndex != link(t, m, host, "d").Index {
		t.Errorf("ends in one namespace: %+v", c)
	}
	for _, names := range [][2]string{{"a", "x"}, {"x", "b"}, {"e", "e"}} {
		peerNS := red
		if names[0] == names[1] {
			peerNS = host
		}
		if _, _, err := m.AddVeth(host, names[0], peerNS, names[1], kernel.LinkOpts{}); !errors.Is(err, unix.EEXIST) {
			t.Errorf("veth %s/%s: %v, want EEXIST", names[0], names[1], err)
		}
	}
}

// TestModelMove: a device that moves arrives down, without its
// addresses and out of its bridge, and the routes through it are gone
// from where it was; a bridge, lo, or a name taken there cannot move.
func TestModelMove(t *testing.T) {
	m := NewModel()
	host, red := m.Host(), namespace(t, m, "red")
	must(t, m.AddBridge(host, "br0", kernel.LinkOpts{}))
	must(t, m.AddDummy(host, "d0", kernel.LinkOpts{}))
	br, d := link(t, m, host, "br0"), link(t, m, host, "d0")
	must(t, m.SetMaster(host, d.Index, br.Index))
	must(t, m.SetUp(host, d.Index, true))
	must(t, m.AddAddr(host, d.Index, cidr("10.0.0.1/24")))
	must(t, m.ReplaceRoute(host, kernel.RouteInfo{Dst: cidr("10.5.0.0/16"), Via: net.ParseIP("10.0.0.254").To4()}))
	if rs := routes(t, m, host); len(rs) != 2 {
		t.Fatalf("routes before the move: %v", rs)
	}
	must(t, m.Move(host, d.Index, red))
	moved := link(t, m, red, "d0")
	if as, _ := m.Addrs(red, moved.Index); moved.Up || moved.MasterIndex != 0 || len(as) > 0 || moved.MAC != d.MAC {
		t.Errorf("moved: %+v with %v", moved, as)
	}
	if _, err := m.LinkByName(host, "d0"); err == nil {
		t.Error("d0 is still in the host")
	}
	if rs := routes(t, m, host); len(rs) > 0 {
		t.Errorf("routes through d0 are left: %v", rs)
	}
	if _, err := m.LinkByName(host, "br0"); err != nil {
		t.Error("the bridge went with its port")
	}
	must(t, m.AddDummy(host, "d0", kernel.LinkOpts{}))
	for _, name := range []string{"br0", "lo", "d0"} {
		if err := m.Move(host, link(t, m, host, name).Index, red); err == nil {
			t.Errorf("%s moved", name)
		}
	}
}

// TestModelDeleteNamespace: deleting a namespace deletes its veths'
// peers elsewhere at once; one that a process keeps alive loses only its
// name, and its devices (and their peers) go when the process ends, the
// peers told to Gone.
func TestModelDeleteNamespace(t *testing.T) {
	m := NewModel()
	var gone []string
	m.Gone = func(ns *kernel.NS, dev string) { gone = append(gone, ns.Label()+"/"+dev) }
	host, red, blue := m.Host(), namespace(t, m, "red"), namespace(t, m, "blue")
	for _, ns := range []*kernel.NS{red, blue} {
		if _, _, err := m.AddVeth(host, "to-"+ns.Name, ns, "eth0", kernel.LinkOpts{}); err != nil {
			t.Fatal(err)
		}
	}
	must(t, m.DeleteNamed(red))
	if _, err := m.LinkByName(host, "to-red"); err == nil {
		t.Error("the peer of red's veth outlived red")
	}
	if names, _ := m.ListNamed(); !slices.Equal(names, []string{"blue"}) {
		t.Errorf("named after the delete: %v", names)
	}

	pid, _, err := m.Spawn(blue, []string{"sleep", "infinity"}, true, false)
	must(t, err)
	must(t, m.DeleteNamed(blue))
	if _, err := m.LinkByName(host, "to-blue"); err != nil {
		t.Error("a namespace a process keeps alive lost its devices")
	}
	if _, err := m.OpenNamed("blue"); err == nil {
		t.Error("blue kept its name")
	}
	if !m.End(pid) {
		t.Fatal("the process did not run")
	}
	if _, err := m.LinkByName(host, "to-blue"); err == nil || !slices.Equal(gone, []string{"host/to-blue"}) {
		t.Errorf("after the last process: to-blue %v, gone %v", err, gone)
	}
	if err := m.Knows(blue); err == nil {
		t.Error("blue lives on without a process or a name")
	}
}

// TestModelRoutes: a gateway must be on a connected route, which an
// address gives a device only while it is up; a replace keeps one route
// per destination and metric; a device going down, or losing its last
// IPv4 address, takes the routes through it along.
func TestModelRoutes(t *testing.T) {
	m := NewModel()
	host := m.Host()
	def := func(gw string) error {
		return m.ReplaceRoute(host, kernel.RouteInfo{Via: net.ParseIP(gw).To4()})
	}
	if err := def("10.0.0.254"); !errors.Is(err, unix.ENETUNREACH) {
		t.Errorf("a gateway on no network: %v, want ENETUNREACH", err)
	}
	must(t, m.AddDummy(host, "d0", kernel.LinkOpts{}))
	d := link(t, m, host, "d0").Index
	must(t, m.AddAddr(host, d, cidr("10.0.0.1/24")))
	if err := def("10.0.0.254"); !errors.Is(err, unix.ENETUNREACH) {
		t.Errorf("a gateway on a device down: %v, want ENETUNREACH", err)
	}
	if err := m.ReplaceRoute(host, kernel.RouteInfo{Dst: cidr("10.7.0.0/16"), DevIndex: d}); !errors.Is(err, unix.ENETDOWN) {
		t.Errorf("a route through a device down: %v, want ENETDOWN", err)
	}
	must(t, m.SetUp(host, d, true))
	must(t, def("10.0.0.254"))
	must(t, def("10.0.0.253"))
	want := []string{"<nil> via 10.0.0.253 dev d0", "10.0.0.0/24 via <nil> dev d0"}
	if rs := routes(t, m, host); !slices.Equal(rs, want) {
		t.Errorf("routes %v, want %v", rs, want)
	}
	must(t, m.SetUp(host, d, false))
	if rs := routes(t, m, host); len(rs) > 0 {
		t.Errorf("a device down keeps routes %v", rs)
	}
	must(t, m.SetUp(host, d, true))
	must(t, def("10.0.0.254"))
	must(t, m.DelAddr(host, d, cidr("10.0.0.1/24")))
	if rs := routes(t, m, host); len(rs) > 0 {
		t.Errorf("a device without an address keeps routes %v", rs)
	}
}

// TestModelCheckpoint: what Checkpoint returns puts the model back as it
// was: namespaces, devices, addresses, routes, rules, sysctls and
// /etc/netns files; the model goes on from there.
func TestModelCheckpoint(t *testing.T) {
	m := NewModel()
	host := m.Host()
	must(t, m.AddBridge(host, "br0", kernel.LinkOpts{}))
	must(t, m.SetUp(host, link(t, m, host, "br0").Index, true))
	state := func() []string {
		links, err := m.Links(host)
		must(t, err)
		out := m.Inventory()
		for _, l := range links {
			out = append(out, fmt.Sprintf("%+v", *l))
		}
		return append(out, routes(t, m, host)...)
	}
	before := state()
	restore := m.Checkpoint()

	red := namespace(t, m, "red")
	if _, _, err := m.AddVeth(host, "to-red", red, "eth0", kernel.LinkOpts{}); err != nil {
		t.Fatal(err)
	}
	br := link(t, m, host, "br0").Index
	must(t, m.SetMaster(host, link(t, m, host, "to-red").Index, br))
	must(t, m.AddAddr(host, br, cidr("10.0.0.1/24")))
	must(t, m.SetMTU(host, br, 9000))
	must(t, m.AddRule(host, kernel.Chain{Table: "nat", Name: "POSTROUTING"}, 0, []string{"-j", "MASQUERADE"}))
	_, err := m.WriteSysctl(host, "net.ipv4.ip_forward", "1")
	must(t, err)
	_, err = m.WriteEtc("red", "hosts", []byte("10.0.0.1 gw\n"))
	must(t, err)
	if slices.Equal(state(), before) {
		t.Fatal("nothing changed")
	}

	restore()
	if after := state(); !slices.Equal(after, before) {
		t.Errorf("restored:\n%v\nwant\n%v", after, before)
	}
	if v, _ := m.ReadSysctl(host, "net.ipv4.ip_forward"); v != "0" || len(m.Etc()) > 0 {
		t.Errorf("restored: ip_forward %s, /etc/netns %v", v, m.Etc())
	}
	if _, err := m.OpenNamed("red"); err == nil {
		t.Error("red is still there")
	}
	namespace(t, m, "red")
	if _, _, err := m.AddVeth(host, "to-red", m.Host(), "peer", kernel.LinkOpts{}); err != nil {
		t.Errorf("after the restore: %v", err)
	}
}

// TestModelRename: like Linux, the model renames only a device that is
// down, and not to a name taken.
func TestModelRename(t *testing.T) {
	m := NewModel()
	host := m.Host()
	must(t, m.AddDummy(host, "d0", kernel.LinkOpts{}))
	must(t, m.AddDummy(host, "d1", kernel.LinkOpts{}))
	d := link(t, m, host, "d0").Index
	if err := m.SetName(host, d, "d1"); !errors.Is(err, unix.EEXIST) {
		t.Errorf("rename to a name taken: %v", err)
	}
	must(t, m.SetUp(host, d, true))
	if err := m.SetName(host, d, "d2"); !errors.Is(err, kernel.ErrBusy) {
		t.Errorf("rename of a device up: %v", err)
	}
	must(t, m.SetUp(host, d, false))
	must(t, m.SetName(host, d, "d2"))
	if link(t, m, host, "d2").Index != d {
		t.Error("the renamed device has another index")
	}
}
