package main

import (
	"encoding/json"
	"encoding/xml"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files of TestGraphGolden")

// graphModel is what `nsscript graph --json` prints.
type graphModel struct {
	Title      string `json:"title"`
	Namespaces []struct {
		ID         string   `json:"id"`
		Host       bool     `json:"host"`
		Forwarding bool     `json:"forwarding"`
		NAT        []string `json:"nat"`
		Devices    []struct {
			Name   string   `json:"name"`
			Kind   string   `json:"kind"`
			Up     bool     `json:"up"`
			Addrs  []string `json:"addrs"`
			Master string   `json:"master"`
			Peer   *struct {
				NS  string `json:"ns"`
				Dev string `json:"dev"`
			} `json:"peer"`
		} `json:"devices"`
	} `json:"namespaces"`
	Links []struct {
		A struct{ NS, Dev string } `json:"a"`
		B struct{ NS, Dev string } `json:"b"`
	} `json:"links"`
}

// graphOf runs nsscript graph on file, in the file's directory as a user
// would, and returns what it printed.
func graphOf(t *testing.T, file string, args ...string) string {
	t.Helper()
	return graphWithPath(t, "", file, args...)
}

// graphWithPath is graphOf with PATH set to path ("": the test's own).
func graphWithPath(t *testing.T, path, file string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"graph", filepath.Base(file)}, args...)...)
	cmd.Dir = filepath.Dir(file)
	if path != "" {
		cmd.Env = append(os.Environ(), "PATH="+path)
	}
	r := runBin(t, cmd)
	if r.code != 0 {
		t.Fatalf("nsscript graph %s %v: exit %d\n%s", filepath.Base(file), args, r.code, r.stderr)
	}
	return r.stdout
}

// TestGraphGolden: text, dot and mermaid drawings of a few tutorials, as
// kept in testdata/golden (go test -run GraphGolden -update rewrites them).
func TestGraphGolden(t *testing.T) {
	dir := "../../testdata/golden"
	for _, name := range []string{"03_red_blue_bridge", "04_red_blue_gateway", "10_docker_model", "17_ns1_eth1"} {
		file, _ := filepath.Abs("../../scripts/tutorial/" + name + ".star")
		if _, err := os.Stat(file); err != nil {
			t.Errorf("tutorial %s: %v", name, err)
			continue
		}
		for _, format := range []string{"text", "dot", "mermaid"} {
			t.Run(name+"."+format, func(t *testing.T) {
				got := graphOf(t, file, "--format", format)
				golden := filepath.Join(dir, name+"."+format)
				if *update {
					os.MkdirAll(dir, 0o755)
					if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (go test ./cmd/nsscript -run GraphGolden -update writes it)", err)
				}
				if got != string(want) {
					t.Errorf("graph --format %s of %s differs from %s (rewrite it with -update if the change is meant):\n--- got\n%s\n--- want\n%s", format, name, golden, got, want)
				}
			})
		}
	}
}

// TestGraphTutorials: graph works on every tutorial, in every format;
// the text draws every namespace, device, address and veth pair of the
// graph's model. (TestGraphSVG looks at the svg.)
func TestGraphTutorials(t *testing.T) {
	for _, file := range tutorials(t) {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".star"), func(t *testing.T) {
			t.Parallel()
			var g graphModel
			if err := json.Unmarshal([]byte(graphOf(t, file, "--json")), &g); err != nil {
				t.Fatalf("graph --json: %v", err)
			}
			if len(g.Namespaces) == 0 || !g.Namespaces[0].Host || g.Namespaces[0].ID != "host" {
				t.Fatalf("the graph does not start with the host: %+v", g)
			}
			text := graphOf(t, file)
			for _, format := range []string{"dot", "mermaid"} {
				if out := graphOf(t, file, "--format", format); !strings.Contains(out, "host") {
					t.Errorf("graph --format %s names no host:\n%s", format, out)
				}
			}
			for _, ns := range g.Namespaces {
				if !strings.Contains(text, "─ "+ns.ID+" ") && !strings.Contains(text, "═ "+ns.ID+" ") {
					t.Errorf("the text lacks the box of namespace %q:\n%s", ns.ID, text)
				}
				for _, d := range ns.Devices {
					if !strings.Contains(text, d.Name) {
						t.Errorf("the text lacks device %s/%s", ns.ID, d.Name)
					}
					for _, a := range d.Addrs {
						if !strings.Contains(text, a) {
							t.Errorf("the text lacks address %s of %s/%s", a, ns.ID, d.Name)
						}
					}
				}
			}
			for _, l := range g.Links {
				pair := fmt.Sprintf("%s/%s ═══ %s/%s", l.A.NS, l.A.Dev, l.B.NS, l.B.Dev)
				if !strings.Contains(strings.Join(strings.Fields(text), " "), pair) {
					t.Errorf("the text lacks the pair %s:\n%s", pair, text)
				}
			}
		})
	}
}

// svgPicture is what the tests read of an SVG drawing.
type svgPicture struct {
	root     string   // the root element's name
	texts    []string // the character data of each <text>, unescaped
	veths    []string // the titles of the native drawer's veth curves
	graphviz bool     // Graphviz says it drew it
}

// readSVG decodes an SVG drawing with encoding/xml, failing the test when
// it is not well-formed: Graphviz and the native drawer lay a graph out
// differently, and Graphviz writes '-' as &#45;, so the tests compare
// what the picture says, never its text.
func readSVG(t *testing.T, svg string) svgPicture {
	t.Helper()
	var p svgPicture
	var stack []xml.StartElement
	var chars strings.Builder
	dec := xml.NewDecoder(strings.NewReader(svg))
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("the svg is not well-formed XML: %v\n%s", err, svg)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if p.root == "" {
				p.root = tok.Name.Local
			}
			stack = append(stack, tok)
			chars.Reset()
		case xml.CharData:
			chars.Write(tok)
		case xml.Comment:
			p.graphviz = p.graphviz || strings.Contains(string(tok), "Generated by graphviz")
		case xml.EndElement:
			switch {
			case tok.Name.Local == "text":
				p.texts = append(p.texts, chars.String())
			case tok.Name.Local == "title" && len(stack) > 1 && isVeth(stack[len(stack)-2]):
				p.veths = append(p.veths, chars.String())
			}
			stack = stack[:len(stack)-1]
			chars.Reset()
		}
	}
	return p
}

func isVeth(e xml.StartElement) bool {
	for _, a := range e.Attr {
		if a.Name.Local == "class" && a.Value == "veth" {
			return e.Name.Local == "path"
		}
	}
	return false
}

// checkSVG fails the test unless the picture shows every namespace of the
// model (a text that is its title: its name, maybe followed by marks in
// parentheses), and every device name and address (as a word of a text).
func checkSVG(t *testing.T, p svgPicture, g graphModel) {
	t.Helper()
	if p.root != "svg" {
		t.Errorf("the root element is %q, want svg", p.root)
	}
	words := map[string]bool{}
	for _, s := range p.texts {
		for _, w := range strings.Fields(s) {
			words[w] = true
		}
	}
	for _, ns := range g.Namespaces {
		if !slices.ContainsFunc(p.texts, func(s string) bool { return s == ns.ID || strings.HasPrefix(s, ns.ID+" (") }) {
			t.Errorf("the svg lacks namespace %q; its texts: %q", ns.ID, p.texts)
		}
		for _, d := range ns.Devices {
			if !words[d.Name] {
				t.Errorf("the svg lacks device %s/%s; its texts: %q", ns.ID, d.Name, p.texts)
			}
			for _, a := range d.Addrs {
				if !words[a] {
					t.Errorf("the svg lacks address %s of %s/%s", a, ns.ID, d.Name)
				}
			}
		}
	}
}

// TestGraphSVG: graph --format svg of every tutorial and of
// testdata/graph/topology.star (which has a namespace with no devices),
// drawn by Graphviz with dot on PATH and natively with a PATH that has no
// dot (graph needs no other program), shows every namespace, device and
// address of the graph's model. The native drawing also has a curve for
// each veth pair.
func TestGraphSVG(t *testing.T) {
	topology, _ := filepath.Abs("../../testdata/graph/topology.star")
	var g graphModel
	if err := json.Unmarshal([]byte(graphOf(t, topology, "--json")), &g); err != nil {
		t.Fatalf("graph --json: %v", err)
	}
	empty := false
	for _, ns := range g.Namespaces {
		empty = empty || len(ns.Devices) == 0
	}
	if !empty {
		t.Fatalf("every namespace of %s has devices: the test would not see an empty one drawn", topology)
	}
	files := append(tutorials(t), topology)
	for _, drawer := range []string{"graphviz", "native"} {
		t.Run(drawer, func(t *testing.T) {
			path := "" // the test's own, with dot on it
			if drawer == "native" {
				path = t.TempDir()
			} else if _, err := exec.LookPath("dot"); err != nil {
				t.Skip("dot is not installed (apt-get install graphviz): only the native drawing is tested")
			}
			for _, file := range files {
				t.Run(strings.TrimSuffix(filepath.Base(file), ".star"), func(t *testing.T) {
					t.Parallel()
					var g graphModel
					if err := json.Unmarshal([]byte(graphOf(t, file, "--json")), &g); err != nil {
						t.Fatalf("graph --json: %v", err)
					}
					p := readSVG(t, graphWithPath(t, path, file, "--format", "svg"))
					checkSVG(t, p, g)
					if p.graphviz != (drawer == "graphviz") {
						t.Fatalf("drawn by Graphviz: %v, want %v", p.graphviz, drawer == "graphviz")
					}
					if drawer == "graphviz" {
						return
					}
					var want []string
					for _, l := range g.Links {
						want = append(want, "veth "+l.A.NS+"/"+l.A.Dev+" - "+l.B.NS+"/"+l.B.Dev)
					}
					if !slices.Equal(p.veths, want) {
						t.Errorf("the svg's veth curves are %q, want %q", p.veths, want)
					}
				})
			}
		})
	}
}

// TestGraphLab: graph LAB reads the live kernel: after a run (inside one
// sandbox), the lab's graph is the graph the script's plan gives, and a
// lab that does not exist is a usage error.
func TestGraphLab(t *testing.T) {
	dir := t.TempDir()
	lab := `
red, blue = namespace("red"), namespace("blue")
sw = bridge("v-net-0", addr = "192.168.15.5/24")
for ns, ip in [(red, "192.168.15.1/24"), (blue, "192.168.15.2/24")]:
    veth("veth-" + ns.name, "veth-%s-br" % ns.name, ns = ns, addr = ip, peer_master = sw)
    route(ns, "default", via = "192.168.15.5")
up = namespace("upstream")
veth("wan0", "eth0", peer_ns = up, addr = "203.0.113.1/24", peer_addr = "203.0.113.8/24")
veth("x0", "x1", ns = red, peer_ns = blue, up = False)
forwarding()
nat.masquerade("192.168.15.0/24", not_out = "v-net-0")
nat.dnat(80, "192.168.15.2:80", in_ = "wan0")
`
	os.WriteFile(filepath.Join(dir, "lab.star"), []byte(lab), 0o644)
	wrapper := fmt.Sprintf(`
bin = %q
exec(host, [bin, "lab.star"])
live = exec(host, [bin, "graph", "lab", "--json"]).stdout
planned = exec(host, [bin, "graph", "lab.star", "--json"]).stdout
text = exec(host, [bin, "graph", "lab"]).stdout
missing = exec(host, [bin, "graph", "nosuchlab"], check = False)
print("=== live\n" + live + "=== planned\n" + planned + "=== text\n" + text + "=== missing %%d\n" %% missing.code + missing.stderr)
`, bin)
	os.WriteFile(filepath.Join(dir, "wrapper.star"), []byte(wrapper), 0o644)
	r := nsscript(t, dir, "--sandbox", "wrapper.star")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	part := func(name string) string {
		_, rest, _ := strings.Cut(r.stdout, "=== "+name)
		s, _, _ := strings.Cut(rest, "\n=== ")
		return strings.TrimPrefix(s, "\n")
	}
	var live, planned graphModel
	if err := json.Unmarshal([]byte(part("live")), &live); err != nil {
		t.Fatalf("graph lab --json: %v\n%s", err, r.stdout)
	}
	if err := json.Unmarshal([]byte(part("planned")), &planned); err != nil {
		t.Fatalf("graph lab.star --json: %v\n%s", err, r.stdout)
	}
	if live.Title != "lab lab" || planned.Title != "lab.star" {
		t.Errorf("titles %q and %q", live.Title, planned.Title)
	}
	live.Title, planned.Title = "", ""
	// iptables -S writes a rule its own way (-i before -p, -m tcp added):
	// the rules must be there, in the same number; their words may differ.
	for i := range live.Namespaces {
		if i < len(planned.Namespaces) && len(live.Namespaces[i].NAT) != len(planned.Namespaces[i].NAT) {
			t.Errorf("namespace %s: nat rules live %q, planned %q", live.Namespaces[i].ID, live.Namespaces[i].NAT, planned.Namespaces[i].NAT)
		}
		live.Namespaces[i].NAT = nil
	}
	for i := range planned.Namespaces {
		planned.Namespaces[i].NAT = nil
	}
	lj, _ := json.MarshalIndent(live, "", " ")
	pj, _ := json.MarshalIndent(planned, "", " ")
	if string(lj) != string(pj) {
		t.Errorf("the live graph of the lab differs from the planned one:\nlive:\n%s\nplanned:\n%s", lj, pj)
	}
	text := part("text")
	for _, want := range []string{
		"╔═ host (forwarding, NAT, DNAT) ",
		"║ v-net-0          bridge  up    192.168.15.5/24",
		"║ ├─ veth-blue-br  veth    up                     ═══ blue/veth-blue",
		"║ nat   PREROUTING -i wan0 -p tcp -m tcp --dport 80 -j DNAT --to-destination 192.168.15.2:80",
		"┌─ red ",
		"│ x0               veth    DOWN                   ═══ blue/x1",
		"│ route default via 192.168.15.5 dev veth-red",
		"  host/wan0         ═══ upstream/eth0",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("graph lab (text) lacks %q:\n%s", want, text)
		}
	}
	if !strings.HasPrefix(strings.TrimSpace(part("missing")), "2\n") || !strings.Contains(part("missing"), `no such lab "nosuchlab"`) {
		t.Errorf("graph of a missing lab:\n%s", part("missing"))
	}
}
