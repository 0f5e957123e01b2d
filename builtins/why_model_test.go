package builtins

import (
	"net"
	"strings"
	"testing"

	"github.com/nsscript/nsscript/builtins/kernel"
	"github.com/nsscript/nsscript/builtins/plan"
	"github.com/nsscript/nsscript/builtins/why"
)

// TestWhyOnModel walks a packet through the plan's model of the kernel
// (no root): the walk's logic on what the model answers, fault by fault.
// The real kernel's answers are tested by testdata/why.
func TestWhyOnModel(t *testing.T) {
	p, err := run(t, `
red, r, blue = namespace("red"), namespace("r"), namespace("blue")
veth("a", "ra", ns = red, peer_ns = r, addr = "10.1.0.2/24", peer_addr = "10.1.0.1/24")
veth("b", "rb", ns = blue, peer_ns = r, addr = "10.2.0.2/24", peer_addr = "10.2.0.1/24")
route(red, "default", via = "10.1.0.1")
d = why(red, "10.2.0.2")
assert.true("not diagnosed in a plan" in str(d))
`)
	if err != nil {
		t.Fatal(err)
	}
	m := p.Model
	open := func(name string) *kernel.NS {
		ns, err := m.OpenNamed(name)
		if err != nil {
			t.Fatal(err)
		}
		return ns
	}
	red, r, blue := open("red"), open("r"), open("blue")
	walk := func() *why.Diagnosis {
		return why.Walk(m, m.Namespaces(), why.Query{Src: red, Dst: []byte{10, 2, 0, 2}, Proto: "icmp"})
	}
	expect := func(fault, fix string) *why.Diagnosis {
		t.Helper()
		d := walk()
		if d.OK || !strings.Contains(d.Fault, fault) || d.Fix != fix {
			t.Fatalf("want fault %q, fix %q; got:\n%s", fault, fix, d)
		}
		return d
	}
	expect("r has ip_forward=0: packets from red are not routed", "forwarding(r)")
	if _, err := m.WriteSysctl(r, "net.ipv4.ip_forward", "1"); err != nil {
		t.Fatal(err)
	}
	d := expect("no route back: blue has no route to 10.1.0.0/24 and nothing masquerades it", `nat.masquerade("10.1.0.0/24", ns = r, out = "rb")`)
	if got := strings.Join(d.Path, " → "); got != "red a → ra (r, forwarding on) → rb → b (blue)" {
		t.Errorf("path %q", got)
	}
	if err := m.AddRule(r, kernel.Chain{Table: "nat", Name: "POSTROUTING"}, 0, []string{"-s", "10.1.0.0/24", "-o", "rb", "-j", "MASQUERADE"}); err != nil {
		t.Fatal(err)
	}
	if d := walk(); !d.OK || strings.Join(d.Back, " → ") != "blue b → rb (r, forwarding on) → ra → a (red)" {
		t.Fatalf("want the way open; got:\n%s", d)
	}
	if err := m.AddRule(r, kernel.Chain{Table: "filter", Name: "FORWARD"}, 0, []string{"-p", "icmp", "-j", "DROP"}); err != nil {
		t.Fatal(err)
	}
	expect("r's FORWARD chain drops icmp (rule 1: -p icmp -j DROP, 0 packets)", `exec(r, "iptables -D FORWARD -p icmp -j DROP")`)
	if err := m.DeleteRule(r, kernel.Chain{Table: "filter", Name: "FORWARD"}, []string{"-p", "icmp", "-j", "DROP"}); err != nil {
		t.Fatal(err)
	}
	b, err := m.LinkByName(blue, "b")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.SetUp(blue, b.Index, false); err != nil {
		t.Fatal(err)
	}
	expect("b (blue) is down: rb has no carrier", `blue.link("b").set_up()`)
}

// TestWhyVLANOnModel: frames of a VLAN go out of its parent, tagged, and
// are taken by the VLAN of the same id at the other end (the machine
// here has no 8021q module: the model stands in for it).
func TestWhyVLANOnModel(t *testing.T) {
	walk := func(tag string) (*plan.Plan, *why.Diagnosis) {
		p, err := run(t, `
x, y = namespace("x"), namespace("y")
a, b = veth("a", "b", ns = x, peer_ns = y)
vlan(a, 10, addr = "10.10.0.1/24")
vlan(b, `+tag+`, addr = "10.10.0.2/24")
`)
		if err != nil {
			t.Fatal(err)
		}
		x, err := p.Model.OpenNamed("x")
		if err != nil {
			t.Fatal(err)
		}
		return p, why.Walk(p.Model, p.Model.Namespaces(), why.Query{Src: x, Dst: net.ParseIP("10.10.0.2"), Proto: "icmp"})
	}
	if _, d := walk("20"); d.OK || d.Fault != "nothing on a.10's link has 10.10.0.2: x's ARP for it gets no answer" {
		t.Errorf("to a VLAN of another tag:\n%s", d)
	}
	p, d := walk("10")
	if !d.OK || strings.Join(d.Path, " → ") != "x a.10 → b.10 (y)" || strings.Join(d.Back, " → ") != "y b.10 → a.10 (x)" {
		t.Errorf("to the VLAN of the same tag:\n%s", d)
	}
	m := p.Model
	x, _ := m.OpenNamed("x")
	y, _ := m.OpenNamed("y")
	b, err := m.LinkByName(y, "b")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.SetUp(y, b.Index, false); err != nil {
		t.Fatal(err)
	}
	d = why.Walk(m, m.Namespaces(), why.Query{Src: x, Dst: net.ParseIP("10.10.0.2"), Proto: "icmp"})
	if d.Fault != "b (y) is down: a has no carrier" || d.Fix != `y.link("b").set_up()` {
		t.Errorf("the parent at the other end down:\n%s", d)
	}
}
