package graph

import (
	"encoding/xml"
	"errors"
	"io"
	"net"
	"os/exec"
	"reflect"
	"strings"
	"testing"

	"github.com/nsscript/nsscript/builtins/kernel"
	"github.com/nsscript/nsscript/builtins/plan"
)

// fakeNS is a namespace of fakeKernel: its links (lo among them), their
// addresses, its routes, ip_forward, iptables rules ("TABLE CHAIN" ->
// the lines of iptables -S) and the ids it knows other namespaces by.
type fakeNS struct {
	links   []*kernel.LinkInfo
	addrs   map[int][]string
	routes  []kernel.RouteInfo
	forward string
	rules   map[string][]string
	ids     map[*kernel.NS]int
}

// fakeKernel is a Source that holds a topology in memory.
type fakeKernel map[*kernel.NS]*fakeNS

func (f fakeKernel) Links(ns *kernel.NS) ([]*kernel.LinkInfo, error) { return f[ns].links, nil }

func (f fakeKernel) LinkByIndex(ns *kernel.NS, index int) (*kernel.LinkInfo, error) {
	for _, l := range f[ns].links {
		if l.Index == index {
			return l, nil
		}
	}
	return nil, errors.New("no such device")
}

func (f fakeKernel) Addrs(ns *kernel.NS, index int) ([]string, error) { return f[ns].addrs[index], nil }

func (f fakeKernel) Routes(ns *kernel.NS, table int) ([]kernel.RouteInfo, error) {
	return f[ns].routes, nil
}

func (f fakeKernel) NetnsID(ns, other *kernel.NS) (int, error) {
	if id, ok := f[ns].ids[other]; ok {
		return id, nil
	}
	return -1, errors.New("no id")
}

func (f fakeKernel) ReadSysctl(ns *kernel.NS, key string) (string, error) {
	if key != "net.ipv4.ip_forward" {
		return "", errors.New("no such sysctl")
	}
	return f[ns].forward, nil
}

func (f fakeKernel) ListRules(ns *kernel.NS, c kernel.Chain) ([]string, error) {
	if c.V6 {
		return nil, nil
	}
	return f[ns].rules[c.Table+" "+c.Name], nil
}

func (f fakeKernel) PolicyRules(ns *kernel.NS, v6 bool) ([]kernel.PolicyRule, error) { return nil, nil }

func lo(up bool) *kernel.LinkInfo {
	return &kernel.LinkInfo{Name: "lo", Index: 1, Kind: "loopback", Up: up}
}

// testTopology is a host with a bridge and its port (a veth to red), a
// veth pair of its own, a veth whose peer is in a namespace not drawn,
// NAT and filter rules; red, with lo down and a default route; idle, a
// namespace with nothing but lo; and two namespaces known by processes,
// one of them labelled. The namespaces are given out of order.
func testTopology() (fakeKernel, []*kernel.NS, func(*kernel.NS) string) {
	host := kernel.FakeNS("", "/proc/self/ns/net", 1, true)
	red := kernel.FakeNS("red", "/run/netns/red", 2, false)
	idle := kernel.FakeNS("idle", "/run/netns/idle", 3, false)
	pid42 := kernel.FakeNS("", "/proc/42/ns/net", 4, false)
	pid43 := kernel.FakeNS("", "/proc/43/task/44/ns/net", 5, false)
	_, lan, _ := net.ParseCIDR("192.168.0.0/16")
	_, connected, _ := net.ParseCIDR("10.0.0.0/24")
	k := fakeKernel{
		host: {
			links: []*kernel.LinkInfo{
				lo(true),
				{Name: "br0", Index: 2, Kind: "bridge", Up: true},
				{Name: "p1", Index: 3, Kind: "veth", Up: true, MasterIndex: 2, PeerIndex: 2, PeerNetnsID: 5},
				{Name: "loop-a", Index: 5, Kind: "veth", Up: true, PeerIndex: 6, PeerNetnsID: -1},
				{Name: "loop-b", Index: 6, Kind: "veth", PeerIndex: 5, PeerNetnsID: -1},
				{Name: "wan", Index: 4, Kind: "veth", Up: true, PeerIndex: 9, PeerNetnsID: 7},
			},
			addrs: map[int][]string{2: {"10.0.0.1/24"}},
			routes: []kernel.RouteInfo{
				{Dst: connected, DevIndex: 2, Kernel: true},
				{Dst: lan, Via: net.ParseIP("10.0.0.2"), DevIndex: 2, Metric: 10, Table: 100},
			},
			forward: "1",
			rules: map[string][]string{
				"nat POSTROUTING": {"-P POSTROUTING ACCEPT", `-A POSTROUTING -s 10.0.0.0/24 -m comment --comment "nsscript:lab" -j MASQUERADE`},
				"filter FORWARD":  {"-A FORWARD -i br0 -j ACCEPT"},
				"filter INPUT":    {"-P INPUT ACCEPT"},
			},
			ids: map[*kernel.NS]int{red: 5},
		},
		red: {
			links:   []*kernel.LinkInfo{lo(false), {Name: "eth0", Index: 2, Kind: "veth", Up: true, PeerIndex: 3, PeerNetnsID: 3}},
			addrs:   map[int][]string{2: {"10.0.0.2/24"}},
			routes:  []kernel.RouteInfo{{Via: net.ParseIP("10.0.0.1"), DevIndex: 2}},
			forward: "0",
			ids:     map[*kernel.NS]int{host: 3},
		},
		idle:  {links: []*kernel.LinkInfo{lo(true)}, forward: "0"},
		pid42: {links: []*kernel.LinkInfo{lo(true)}, forward: "0"},
		pid43: {links: []*kernel.LinkInfo{lo(true)}, forward: "0"},
	}
	label := func(ns *kernel.NS) string {
		if ns == pid43 {
			return "netns of $pid1"
		}
		return ""
	}
	return k, []*kernel.NS{pid43, idle, pid42, red, host}, label
}

// testGraph is what Build makes of testTopology.
func testGraph() *Graph {
	return &Graph{
		Namespaces: []*Box{
			{ID: "host", Host: true, LoUp: true, Forwarding: true,
				NAT:      []string{"POSTROUTING -s 10.0.0.0/24 -j MASQUERADE"},
				Firewall: []string{"FORWARD -i br0 -j ACCEPT"},
				Routes:   []string{"192.168.0.0/16 via 10.0.0.2 dev br0 metric 10"},
				Devices: []*Dev{
					{Name: "br0", Kind: "bridge", Up: true, Addrs: []string{"10.0.0.1/24"}},
					{Name: "p1", Kind: "veth", Up: true, Master: "br0", Peer: &End{"red", "eth0"}},
					{Name: "loop-a", Kind: "veth", Up: true, Peer: &End{"host", "loop-b"}},
					{Name: "loop-b", Kind: "veth", Peer: &End{"host", "loop-a"}},
					{Name: "wan", Kind: "veth", Up: true, Peer: &End{Unknown, Unknown}},
				}},
			{ID: "idle", LoUp: true, Devices: []*Dev{}},
			{ID: "red", Routes: []string{"default via 10.0.0.1 dev eth0"},
				Devices: []*Dev{{Name: "eth0", Kind: "veth", Up: true, Addrs: []string{"10.0.0.2/24"}, Peer: &End{"host", "p1"}}}},
			{ID: "pid 42", LoUp: true, Devices: []*Dev{}},
			{ID: "netns of $pid1", LoUp: true, Devices: []*Dev{}},
		},
		Links: []Pair{
			{End{"host", "p1"}, End{"red", "eth0"}},
			{End{"host", "loop-a"}, End{"host", "loop-b"}},
			{End{"host", "wan"}, End{Unknown, Unknown}},
		},
	}
}

// TestBuild: the boxes come host first, then named namespaces, then the
// others by path, labelled as label says or by default; a bridge's ports
// follow it; veth peers are found in the same namespace, in another, or
// not at all; connected routes are left out and nsscript's comment is
// cut from rules; each pair is one link.
func TestBuild(t *testing.T) {
	k, nss, label := testTopology()
	g, err := Build(k, nss, label)
	if err != nil {
		t.Fatal(err)
	}
	if want := testGraph(); !reflect.DeepEqual(g, want) {
		t.Errorf("Build:\n%s\nwant:\n%s", g.Text(), want.Text())
	}
	g, err = Build(k, nss, nil)
	if err != nil {
		t.Fatal(err)
	}
	if id := g.Namespaces[4].ID; id != "pid 43" {
		t.Errorf("without a label, /proc/43/task/44/ns/net is %q, want \"pid 43\"", id)
	}
}

// wantAll fails the test for each of wants that out, a drawing in
// format what, does not contain.
func wantAll(t *testing.T, what, out string, wants ...string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(out, want) {
			t.Errorf("the %s lacks %q:\n%s", what, want, out)
		}
	}
}

// TestText: a box per namespace, the host's with double lines, an empty
// one saying so, the routes and rules under the devices, then the pairs.
func TestText(t *testing.T) {
	text := testGraph().Text()
	wantAll(t, "text", text,
		"╔═ host (forwarding, NAT, firewall) ═",
		"║ br0     bridge  up    10.0.0.1/24  ",
		"║ └─ p1   veth    up                 ═══ red/eth0",
		"║ loop-b  veth    DOWN               ═══ host/loop-a",
		"║ route 192.168.0.0/16 via 10.0.0.2 dev br0 metric 10",
		"║ nat   POSTROUTING -s 10.0.0.0/24 -j MASQUERADE",
		"║ filter FORWARD -i br0 -j ACCEPT",
		"┌─ idle ─",
		"│ (no devices but lo) ",
		"┌─ red (lo down) ─",
		"┌─ netns of $pid1 ─",
		"veth pairs:\n  host/p1     ═══ red/eth0\n  host/loop-a ═══ host/loop-b\n  host/wan    ═══ ?/?\n",
	)
	if s, err := testGraph().Draw(""); err != nil || s != text {
		t.Errorf("Draw(\"\") is not the text: %v", err)
	}
}

// TestDot: an invisible node in each namespace that has nothing else to
// show, so that Graphviz draws it, and none elsewhere.
func TestDot(t *testing.T) {
	dot := testGraph().Dot()
	wantAll(t, "dot", dot,
		"\t\t\"host/br0\" [label=\"br0\\nbridge\\n10.0.0.1/24\", shape=box3d, fillcolor=\"#fff5d6\"];\n",
		"\t\t\"host/loop-b\" [label=\"loop-b\\nveth (down)\"];\n",
		"\t\t\"host/br0\" -- \"host/p1\" [style=dashed, label=\"port\"];\n",
		"\t\t\"red/.info\" [label=\"route default via 10.0.0.1 dev eth0\\l\", shape=note, fillcolor=\"#fffbe6\", fontsize=9];\n",
		"\t\"host/wan/peer\" [label=\"?\", shape=circle];\n",
		"\t\"host/p1\" -- \"red/eth0\" [penwidth=2, color=\"#d35400\", label=\"veth\"];\n",
	)
	var invisible []string
	for _, l := range strings.Split(dot, "\n") {
		if strings.Contains(l, "style=invis") {
			invisible = append(invisible, strings.TrimSpace(l))
		}
	}
	want := []string{
		`"idle/.empty" [label="", shape=point, style=invis];`,
		`"pid 42/.empty" [label="", shape=point, style=invis];`,
		`"netns of $pid1/.empty" [label="", shape=point, style=invis];`,
	}
	if !reflect.DeepEqual(invisible, want) {
		t.Errorf("the invisible nodes are %q, want %q", invisible, want)
	}
}

// TestMermaid: a subgraph per namespace, empty ones too, bridges drawn
// apart, the unknown peer as a circle.
func TestMermaid(t *testing.T) {
	m := testGraph().Mermaid()
	wantAll(t, "mermaid", m,
		"flowchart LR\n  subgraph ns0[\"host (forwarding, NAT, firewall)\"]\n    ns0_0[[\"br0<br/>bridge<br/>10.0.0.1/24\"]]\n",
		"  subgraph ns1[\"idle\"]\n  end\n",
		"  subgraph ns4[\"netns of $pid1\"]\n  end\n",
		"    ns2_info>\"route default via 10.0.0.1 dev eth0\"]\n",
		"  style ns0 stroke-width:3px\n",
		"  ns0_1 -. port .- ns0_0\n",
		"  ns0_1 ===|veth| ns2_0\n",
		"  ns0_4 ===|veth| unknown2((\"?\"))\n",
	)
}

// TestDrawUnknown: an unknown format is ErrFormat.
func TestDrawUnknown(t *testing.T) {
	if _, err := testGraph().Draw("png"); !errors.Is(err, ErrFormat) {
		t.Errorf("Draw(png): %v, want ErrFormat", err)
	}
}

// svgTexts is the character data of an SVG picture's <text> elements,
// unescaped (Graphviz writes '-' as &#45;).
func svgTexts(t *testing.T, svg string) []string {
	t.Helper()
	var texts []string
	dec := xml.NewDecoder(strings.NewReader(svg))
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return texts
		}
		if err != nil {
			t.Fatalf("the svg is not well-formed XML: %v\n%s", err, svg)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "text" {
			var s string
			if err := dec.DecodeElement(&s, &se); err != nil {
				t.Fatal(err)
			}
			texts = append(texts, s)
		}
	}
}

// TestSVG: drawn natively (no dot on PATH) and by Graphviz (when it is
// installed), the picture has every namespace's title, the empty ones'
// too, and every device's name and address among its texts.
func TestSVG(t *testing.T) {
	g := testGraph()
	for _, drawer := range []string{"native", "graphviz"} {
		t.Run(drawer, func(t *testing.T) {
			if drawer == "native" {
				t.Setenv("PATH", t.TempDir())
			} else if _, err := exec.LookPath("dot"); err != nil {
				t.Skip("dot is not installed (apt-get install graphviz): only the native drawing is tested")
			}
			svg := g.SVG()
			if graphviz := strings.Contains(svg, "Generated by graphviz"); graphviz != (drawer == "graphviz") {
				t.Fatalf("drawn by Graphviz: %v, want %v", graphviz, drawer == "graphviz")
			}
			texts := svgTexts(t, svg)
			has := map[string]bool{}
			words := map[string]bool{}
			for _, s := range texts {
				has[s] = true
				for _, w := range strings.Fields(s) {
					words[w] = true
				}
			}
			for _, b := range g.Namespaces {
				if !has[b.Title()] {
					t.Errorf("the svg lacks the title %q; its texts: %q", b.Title(), texts)
				}
				for _, d := range b.Devices {
					for _, w := range append([]string{d.Name}, d.Addrs...) {
						if !words[w] {
							t.Errorf("the svg lacks %q of %s/%s; its texts: %q", w, b.ID, d.Name, texts)
						}
					}
				}
			}
		})
	}
}

// TestTunnels: VXLAN devices that face each other (each the other's
// remote end, one VNI and port) or share a multicast group are drawn as
// tunnels; one whose far end faces elsewhere, or of another VNI, is not.
// A VXLAN's settings and underlay device show with it.
func TestTunnels(t *testing.T) {
	m := plan.NewModel()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	ns := map[string]*kernel.NS{}
	for _, n := range []string{"m1", "m2", "m3", "g1", "g2"} {
		var err error
		ns[n], _, err = m.CreateNamed(n, kernel.NetnsSetup{Lo: true}, nil)
		must(err)
	}
	underlay := func(a, b, aIP, bIP string) {
		_, _, err := m.AddVeth(ns[a], "eth0", ns[b], "eth0", kernel.LinkOpts{})
		must(err)
		for _, e := range []struct{ n, ip string }{{a, aIP}, {b, bIP}} {
			li, err := m.LinkByName(ns[e.n], "eth0")
			must(err)
			ip, n, _ := net.ParseCIDR(e.ip)
			n.IP = ip
			must(m.AddAddr(ns[e.n], li.Index, n))
		}
	}
	underlay("m1", "m2", "192.0.2.1/24", "192.0.2.2/24")
	underlay("m3", "g1", "192.0.2.3/24", "192.0.2.4/24")
	li, err := m.LinkByName(ns["g2"], "lo")
	must(err)
	vx := func(n, remote, group string, vni, dev int) {
		d := kernel.Device{Kind: "vxlan", VNI: vni, Port: 4789, Remote: net.ParseIP(remote), Group: net.ParseIP(group), Link: dev}
		must(m.AddDevice(ns[n], "vx0", d, kernel.LinkOpts{}))
	}
	dev := func(n string) int {
		li, err := m.LinkByName(ns[n], "eth0")
		must(err)
		return li.Index
	}
	vx("m1", "192.0.2.2", "", 42, dev("m1"))
	vx("m2", "192.0.2.1", "", 42, 0)
	vx("m3", "192.0.2.1", "", 42, 0) // faces m1, which faces m2
	vx("g1", "", "239.1.1.1", 7, dev("g1"))
	vx("g2", "", "239.1.1.1", 7, li.Index)
	g, err := Build(m, m.Namespaces(), nil)
	must(err)
	want := []Tunnel{{End{"g1", "vx0"}, End{"g2", "vx0"}, 7}, {End{"m1", "vx0"}, End{"m2", "vx0"}, 42}}
	if !reflect.DeepEqual(g.Tunnels, want) {
		t.Fatalf("tunnels %+v, want %+v", g.Tunnels, want)
	}
	text := g.Text()
	for _, s := range []string{"vxlan tunnels:\n  g1/vx0 ~~~ g2/vx0  (vni 7)\n  m1/vx0 ~~~ m2/vx0  (vni 42)\n",
		"vx0   vxlan  DOWN                vni 42 remote 192.0.2.2 dev eth0 dstport 4789"} {
		if !strings.Contains(text, s) {
			t.Errorf("text lacks %q:\n%s", s, text)
		}
	}
	dot := g.Dot()
	for _, s := range []string{`"m1/vx0" -- "m2/vx0" [penwidth=2, style=dashed, color="#1a73e8", label="vxlan 42"]`, `"m1/vx0" -- "m1/eth0" [style=dotted, label="on"]`} {
		if !strings.Contains(dot, s) {
			t.Errorf("dot lacks %q:\n%s", s, dot)
		}
	}
	if mm := g.Mermaid(); !strings.Contains(mm, "-. vxlan 42 .-") {
		t.Errorf("mermaid has no tunnel:\n%s", mm)
	}
	if svg := g.NativeSVG(); strings.Count(svg, `class="vxlan"`) != 2 {
		t.Errorf("native svg has not 2 tunnels:\n%s", svg)
	}
}
