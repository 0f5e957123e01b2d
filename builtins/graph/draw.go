package graph

import (
	"bytes"
	"fmt"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// devLabel is a device's name, indented under its bridge when a port.
func (b *Box) devLabel(i int) string {
	d := b.Devices[i]
	if d.Master == "" {
		return d.Name
	}
	last := i+1 >= len(b.Devices) || b.Devices[i+1].Master != d.Master
	if last {
		return "└─ " + d.Name
	}
	return "├─ " + d.Name
}

// info are the lines under a box's devices: policy rules, routes, NAT,
// filter rules.
func (b *Box) info() []string {
	var out []string
	for _, r := range b.Policy {
		out = append(out, "rule  "+r)
	}
	for _, r := range b.Routes {
		out = append(out, "route "+r)
	}
	for _, r := range b.NAT {
		out = append(out, "nat   "+r)
	}
	for _, r := range b.Firewall {
		out = append(out, "filter "+r)
	}
	return out
}

func (d *Dev) peerText() string {
	if d.Peer == nil {
		return d.Detail
	}
	return "═══ " + d.Peer.String()
}

// shapeText is what shapes the device's egress, in brackets.
func (d *Dev) shapeText() string {
	if d.Shape == "" {
		return ""
	}
	return "[" + d.Shape + "]"
}

func width(s string) int { return utf8.RuneCountInString(s) }

func pad(s string, n int) string {
	if w := width(s); w < n {
		return s + strings.Repeat(" ", n-w)
	}
	return s
}

// Text draws the graph for a terminal: a box per namespace (the host's
// with double lines) listing its devices (a bridge's ports under it, a
// veth's peer after ═══), addresses, routes and NAT; then the veth pairs.
func (g *Graph) Text() string {
	var cols [6]int
	for _, b := range g.Namespaces {
		for i, d := range b.Devices {
			for c, s := range []string{b.devLabel(i), d.Kind, d.state(), strings.Join(d.Addrs, " "), d.peerText(), d.shapeText()} {
				cols[c] = max(cols[c], width(s))
			}
		}
	}
	rows := map[*Box][]string{}
	inner := 24
	for _, b := range g.Namespaces {
		var lines []string
		for i, d := range b.Devices {
			line := strings.TrimRight(strings.Join([]string{pad(b.devLabel(i), cols[0]), pad(d.Kind, cols[1]), pad(d.state(), cols[2]),
				pad(strings.Join(d.Addrs, " "), cols[3]), pad(d.peerText(), cols[4]), d.shapeText()}, "  "), " ")
			lines = append(lines, line)
		}
		if len(b.Devices) == 0 {
			lines = append(lines, "(no devices but lo)")
		}
		lines = append(lines, b.info()...)
		rows[b] = lines
		for _, l := range lines {
			inner = max(inner, width(l))
		}
		inner = max(inner, width(b.Title())+4)
	}
	var out strings.Builder
	if g.Title != "" {
		out.WriteString(g.Title + "\n\n")
	}
	for _, b := range g.Namespaces {
		h, v, tl, tr, bl, br := "─", "│", "┌", "┐", "└", "┘"
		if b.Host {
			h, v, tl, tr, bl, br = "═", "║", "╔", "╗", "╚", "╝"
		}
		title := h + " " + b.Title() + " "
		out.WriteString(tl + title + strings.Repeat(h, inner+2-width(title)) + tr + "\n")
		for _, l := range rows[b] {
			out.WriteString(v + " " + pad(l, inner) + " " + v + "\n")
		}
		out.WriteString(bl + strings.Repeat(h, inner+2) + br + "\n")
	}
	var pairs, tunnels [][3]string
	for _, p := range g.Links {
		pairs = append(pairs, [3]string{p.A.String(), p.B.String(), ""})
	}
	for _, t := range g.Tunnels {
		tunnels = append(tunnels, [3]string{t.A.String(), t.B.String(), "  (vni " + strconv.Itoa(t.VNI) + ")"})
	}
	pairList(&out, "veth pairs", "═══", pairs)
	pairList(&out, "vxlan tunnels", "~~~", tunnels)
	return out.String()
}

// pairList writes rows of two ends joined by join (and a note) under a
// heading, the first ends aligned; nothing when there are none.
func pairList(out *strings.Builder, heading, join string, rows [][3]string) {
	if len(rows) == 0 {
		return
	}
	out.WriteString("\n" + heading + ":\n")
	w := 0
	for _, r := range rows {
		w = max(w, width(r[0]))
	}
	for _, r := range rows {
		out.WriteString("  " + pad(r[0], w) + " " + join + " " + r[1] + r[2] + "\n")
	}
}

func dotEscape(s string) string {
	s = strings.ReplaceAll(s, `\`, `\\`)
	return strings.ReplaceAll(s, `"`, `\"`)
}

func dotQuote(s string) string { return `"` + dotEscape(s) + `"` }

// dotLines is a label of several lines, each ended by end (\n centres
// it, \l left-aligns it).
func dotLines(lines []string, end string) string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = dotEscape(l)
	}
	if end == `\n` {
		return `"` + strings.Join(out, end) + `"`
	}
	return `"` + strings.Join(out, end) + end + `"`
}

// devText is a device's label: name, kind and state, addresses.
func (d *Dev) devText() []string {
	lines := []string{d.Name, d.Kind}
	if !d.Up {
		lines[1] += " (down)"
	}
	if d.Detail != "" {
		lines = append(lines, d.Detail)
	}
	lines = append(lines, d.Addrs...)
	if d.Shape != "" {
		lines = append(lines, d.shapeText())
	}
	return lines
}

// Dot is the graph for Graphviz: a cluster per namespace, a node per
// device (an invisible one in a namespace with nothing else to show),
// dashed edges from ports to their bridge, bold ones for veths.
func (g *Graph) Dot() string {
	var b strings.Builder
	b.WriteString("graph nsscript {\n")
	b.WriteString("\tgraph [rankdir=LR, fontname=\"Helvetica\", fontsize=12, nodesep=0.3];\n")
	b.WriteString("\tnode [shape=box, style=\"rounded,filled\", fillcolor=\"white\", fontname=\"Helvetica\", fontsize=10];\n")
	b.WriteString("\tedge [fontname=\"Helvetica\", fontsize=9];\n")
	for i, box := range g.Namespaces {
		fmt.Fprintf(&b, "\tsubgraph %s {\n", dotQuote(fmt.Sprintf("cluster_%d", i)))
		fmt.Fprintf(&b, "\t\tlabel=%s;\n", dotQuote(box.Title()))
		if box.Host {
			b.WriteString("\t\tstyle=\"rounded,filled,bold\"; fillcolor=\"#e8f0fe\"; penwidth=2;\n")
		} else {
			b.WriteString("\t\tstyle=\"rounded,filled\"; fillcolor=\"#f4f4f4\";\n")
		}
		for _, d := range box.Devices {
			attrs := ""
			if d.Kind == "bridge" {
				attrs = ", shape=box3d, fillcolor=\"#fff5d6\""
			}
			fmt.Fprintf(&b, "\t\t%s [label=%s%s];\n", dotQuote(box.ID+"/"+d.Name), dotLines(d.devText(), `\n`), attrs)
		}
		info := box.info()
		if len(info) > 0 {
			fmt.Fprintf(&b, "\t\t%s [label=%s, shape=note, fillcolor=\"#fffbe6\", fontsize=9];\n", dotQuote(box.ID+"/.info"), dotLines(info, `\l`))
		}
		if len(box.Devices) == 0 && len(info) == 0 {
			// Graphviz leaves out a cluster without nodes: an invisible
			// one keeps an empty namespace in the picture.
			fmt.Fprintf(&b, "\t\t%s [label=\"\", shape=point, style=invis];\n", dotQuote(box.ID+"/.empty"))
		}
		for _, d := range box.Devices {
			if d.Master != "" {
				fmt.Fprintf(&b, "\t\t%s -- %s [style=dashed, label=\"port\"];\n", dotQuote(box.ID+"/"+d.Master), dotQuote(box.ID+"/"+d.Name))
			}
			if d.Lower != "" {
				fmt.Fprintf(&b, "\t\t%s -- %s [style=dotted, label=\"on\"];\n", dotQuote(box.ID+"/"+d.Name), dotQuote(box.ID+"/"+d.Lower))
			}
		}
		b.WriteString("\t}\n")
	}
	for _, p := range g.Links {
		if p.B.NS == Unknown {
			fmt.Fprintf(&b, "\t%s [label=\"?\", shape=circle];\n", dotQuote(p.A.String()+"/peer"))
			fmt.Fprintf(&b, "\t%s -- %s [penwidth=2, color=\"#d35400\", label=\"veth\"];\n", dotQuote(p.A.String()), dotQuote(p.A.String()+"/peer"))
			continue
		}
		fmt.Fprintf(&b, "\t%s -- %s [penwidth=2, color=\"#d35400\", label=%s];\n", dotQuote(p.A.String()), dotQuote(p.B.String()), dotLines(g.pairLabel(p), `\n`))
	}
	for _, t := range g.Tunnels {
		fmt.Fprintf(&b, "\t%s -- %s [penwidth=2, style=dashed, color=\"#1a73e8\", label=%s];\n", dotQuote(t.A.String()), dotQuote(t.B.String()), dotQuote(t.label()))
	}
	b.WriteString("}\n")
	return b.String()
}

// pairLabel is what the edge of a veth pair says: "veth", and the
// shaping of each end that has one, "a/x → delay 20ms".
func (g *Graph) pairLabel(p Pair) []string {
	lines := []string{"veth"}
	for _, e := range []End{p.A, p.B} {
		for _, b := range g.Namespaces {
			for _, d := range b.Devices {
				if b.ID == e.NS && d.Name == e.Dev && d.Shape != "" {
					lines = append(lines, e.String()+" → "+d.Shape)
				}
			}
		}
	}
	return lines
}

// mermaidText escapes a label for Mermaid.
func mermaidText(s string) string {
	r := strings.NewReplacer(`"`, "#quot;", "<", "#lt;", ">", "#gt;")
	return r.Replace(s)
}

// Mermaid is the graph as a Mermaid flowchart: a subgraph per namespace.
func (g *Graph) Mermaid() string {
	var b strings.Builder
	b.WriteString("flowchart LR\n")
	ids := map[string]string{}
	for i, box := range g.Namespaces {
		fmt.Fprintf(&b, "  subgraph ns%d[\"%s\"]\n", i, mermaidText(box.Title()))
		for j, d := range box.Devices {
			id := fmt.Sprintf("ns%d_%d", i, j)
			ids[box.ID+"/"+d.Name] = id
			open, close := "[\"", "\"]"
			if d.Kind == "bridge" {
				open, close = "[[\"", "\"]]"
			}
			lines := d.devText()
			for k := range lines {
				lines[k] = mermaidText(lines[k])
			}
			fmt.Fprintf(&b, "    %s%s%s%s\n", id, open, strings.Join(lines, "<br/>"), close)
		}
		if info := box.info(); len(info) > 0 {
			for k := range info {
				info[k] = mermaidText(info[k])
			}
			fmt.Fprintf(&b, "    ns%d_info>\"%s\"]\n", i, strings.Join(info, "<br/>"))
		}
		b.WriteString("  end\n")
		if box.Host {
			fmt.Fprintf(&b, "  style ns%d stroke-width:3px\n", i)
		}
	}
	for _, box := range g.Namespaces {
		for _, d := range box.Devices {
			if d.Master != "" {
				fmt.Fprintf(&b, "  %s -. port .- %s\n", ids[box.ID+"/"+d.Name], ids[box.ID+"/"+d.Master])
			}
			if d.Lower != "" {
				fmt.Fprintf(&b, "  %s -. on .- %s\n", ids[box.ID+"/"+d.Name], ids[box.ID+"/"+d.Lower])
			}
		}
	}
	for i, p := range g.Links {
		other, ok := ids[p.B.String()]
		if !ok {
			other = fmt.Sprintf("unknown%d((\"?\"))", i)
		}
		fmt.Fprintf(&b, "  %s ===|veth| %s\n", ids[p.A.String()], other)
	}
	for _, t := range g.Tunnels {
		fmt.Fprintf(&b, "  %s -. %s .- %s\n", ids[t.A.String()], t.label(), ids[t.B.String()])
	}
	return b.String()
}

// SVG draws the graph as an SVG picture: with Graphviz's dot when it is
// installed, else natively (NativeSVG).
func (g *Graph) SVG() string {
	if path, err := exec.LookPath("dot"); err == nil {
		cmd := exec.Command(path, "-Tsvg")
		cmd.Stdin = strings.NewReader(g.Dot())
		var out bytes.Buffer
		cmd.Stdout = &out
		if cmd.Run() == nil && out.Len() > 0 {
			return out.String()
		}
	}
	return g.NativeSVG()
}

func xmlText(s string) string {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&apos;")
	return r.Replace(s)
}

// NativeSVG draws the graph without Graphviz: namespaces as boxes in
// columns by their distance (in veth hops) from the host, which is the
// first column; one row per device; a curve for each veth pair from one
// end's row to the other's.
func (g *Graph) NativeSVG() string {
	const (
		charW  = 7.2
		lineH  = 18.0
		padX   = 10.0
		margin = 24.0
		gapX   = 150.0
		gapY   = 24.0
	)
	type anchor struct {
		left, right, y float64
		col            int
	}
	type placed struct {
		box        *Box
		x, y, w, h float64
		rows       []string
		col        int
		order      float64
	}
	var boxes []*placed
	byID := map[string]*placed{}
	for _, b := range g.Namespaces {
		p := &placed{box: b, col: -1}
		p.rows = append(p.rows, b.Title())
		var cols [3]int
		for i, d := range b.Devices {
			cols[0], cols[1], cols[2] = max(cols[0], width(b.devLabel(i))), max(cols[1], width(d.Kind)), max(cols[2], width(d.state()))
		}
		for i, d := range b.Devices {
			p.rows = append(p.rows, strings.TrimRight(pad(b.devLabel(i), cols[0])+"  "+pad(d.Kind, cols[1])+"  "+pad(d.state(), cols[2])+"  "+strings.TrimSpace(strings.Join(d.Addrs, " ")+"  "+d.Detail), " "))
		}
		if len(b.Devices) == 0 {
			p.rows = append(p.rows, "(no devices but lo)")
		}
		p.rows = append(p.rows, b.info()...)
		w := 160.0
		for _, r := range p.rows {
			w = max(w, float64(width(r))*charW+2*padX)
		}
		p.w, p.h = w, float64(len(p.rows))*lineH+lineH*0.8
		boxes = append(boxes, p)
		byID[b.ID] = p
	}
	// Columns: breadth first from the host, then from each namespace
	// nothing has reached yet (starting in column 1).
	adj := map[*placed][]*placed{}
	for _, l := range append(append([]Pair(nil), g.Links...), tunnelPairs(g.Tunnels)...) {
		a, b := byID[l.A.NS], byID[l.B.NS]
		if a != nil && b != nil && a != b {
			adj[a] = append(adj[a], b)
			adj[b] = append(adj[b], a)
		}
	}
	bfs := func(start *placed, col int) {
		start.col = col
		queue := []*placed{start}
		for len(queue) > 0 {
			p := queue[0]
			queue = queue[1:]
			for _, o := range adj[p] {
				if o.col < 0 {
					o.col = p.col + 1
					queue = append(queue, o)
				}
			}
		}
	}
	for _, p := range boxes {
		if p.box.Host && p.col < 0 {
			bfs(p, 0)
		}
	}
	for _, p := range boxes {
		if p.col < 0 {
			bfs(p, 1)
		}
	}
	ncols := 0
	for _, p := range boxes {
		ncols = max(ncols, p.col+1)
	}
	columns := make([][]*placed, ncols)
	for _, p := range boxes {
		columns[p.col] = append(columns[p.col], p)
	}
	// Within a column, boxes follow the rows of the boxes they are joined
	// to in the column before, so that the curves cross as little as
	// they can.
	rowOf := map[string]float64{}
	for c, col := range columns {
		for _, p := range col {
			p.order = 1e9
			if c == 0 {
				continue
			}
			for _, l := range g.Links {
				for _, e := range [][2]End{{l.A, l.B}, {l.B, l.A}} {
					if e[0].NS == p.box.ID {
						if o := byID[e[1].NS]; o != nil && o.col == c-1 {
							p.order = min(p.order, rowOf[e[1].String()])
						}
					}
				}
			}
		}
		sort.SliceStable(col, func(i, j int) bool { return col[i].order < col[j].order })
		n := 0.0
		for _, p := range col {
			for _, d := range p.box.Devices {
				rowOf[p.box.ID+"/"+d.Name] = n
				n++
			}
			n++
		}
	}
	// Positions: columns left to right, each stacked and centred.
	colH := make([]float64, ncols)
	maxH := 0.0
	for c, col := range columns {
		for i, p := range col {
			if i > 0 {
				colH[c] += gapY
			}
			colH[c] += p.h
		}
		maxH = max(maxH, colH[c])
	}
	x := margin
	for c, col := range columns {
		y := margin + (maxH-colH[c])/2
		w := 0.0
		for _, p := range col {
			p.x, p.y = x, y
			y += p.h + gapY
			w = max(w, p.w)
		}
		x += w + gapX
	}
	totalW, totalH := x-gapX+margin+100, maxH+2*margin
	anchors := map[string]anchor{}
	for _, p := range boxes {
		for i, d := range p.box.Devices {
			anchors[p.box.ID+"/"+d.Name] = anchor{p.x, p.x + p.w, p.y + lineH*(float64(i)+1.5) + 4, p.col}
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" font-family="DejaVu Sans Mono, Menlo, Consolas, monospace" font-size="12">
<title>%s</title>
<rect x="0" y="0" width="%.0f" height="%.0f" fill="white"/>
`, totalW, totalH, totalW, totalH, xmlText(strings.TrimSpace(g.Title+" nsscript topology")), totalW, totalH)
	for _, p := range boxes {
		fill, stroke, sw := "#f4f4f4", "#555555", 1.0
		if p.box.Host {
			fill, stroke, sw = "#e8f0fe", "#1a4fa3", 2.5
		}
		fmt.Fprintf(&b, "<g class=\"namespace\" id=\"%s\">\n", xmlText("ns-"+p.box.ID))
		fmt.Fprintf(&b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" rx=\"8\" fill=\"%s\" stroke=\"%s\" stroke-width=\"%.1f\"/>\n", p.x, p.y, p.w, p.h, fill, stroke, sw)
		for i, r := range p.rows {
			ty := p.y + lineH*(float64(i)+1)
			weight := ""
			if i == 0 {
				weight = ` font-weight="bold"`
			} else if i-1 < len(p.box.Devices) && p.box.Devices[i-1].Kind == "bridge" {
				weight = ` font-weight="bold" fill="#7a5b00"`
			} else if i-1 >= len(p.box.Devices) {
				weight = ` fill="#666666"`
			}
			fmt.Fprintf(&b, "<text x=\"%.1f\" y=\"%.1f\" xml:space=\"preserve\"%s>%s</text>\n", p.x+padX, ty+4, weight, xmlText(r))
		}
		b.WriteString("</g>\n")
	}
	// A curve from one end's row to the other's: a veth's (solid), a
	// tunnel's (dashed).
	curve := func(i int, from, to End, class, color, dash, title string) {
		a, okA := anchors[from.String()]
		z, okZ := anchors[to.String()]
		if !okA {
			return
		}
		if okZ && z.col < a.col {
			a, z = z, a
		}
		var path string
		ends := [][2]float64{{a.right, a.y}}
		switch {
		case !okZ:
			path = fmt.Sprintf("M %.1f %.1f L %.1f %.1f", a.right, a.y, a.right+40, a.y)
			fmt.Fprintf(&b, "<text x=\"%.1f\" y=\"%.1f\" fill=\"%s\">?</text>\n", a.right+44, a.y+4, color)
		case z.col > a.col: // left to right
			path = fmt.Sprintf("M %.1f %.1f C %.1f %.1f, %.1f %.1f, %.1f %.1f", a.right, a.y, a.right+gapX/2, a.y, z.left-gapX/2, z.y, z.left, z.y)
			ends = append(ends, [2]float64{z.left, z.y})
		default: // the same column: out to the right and back
			out := max(a.right, z.right) + 30 + float64(i%4)*12 + (max(a.y, z.y)-min(a.y, z.y))*0.15
			path = fmt.Sprintf("M %.1f %.1f C %.1f %.1f, %.1f %.1f, %.1f %.1f", a.right, a.y, out, a.y, out, z.y, z.right, z.y)
			ends = append(ends, [2]float64{z.right, z.y})
		}
		fmt.Fprintf(&b, "<path class=\"%s\" d=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s><title>%s</title></path>\n", class, path, color, dash, xmlText(title))
		for _, e := range ends {
			fmt.Fprintf(&b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>\n", e[0], e[1], color)
		}
	}
	for i, l := range g.Links {
		curve(i, l.A, l.B, "veth", "#d35400", "", "veth "+l.A.String()+" - "+l.B.String())
	}
	for i, t := range g.Tunnels {
		curve(len(g.Links)+i, t.A, t.B, "vxlan", "#1a73e8", ` stroke-dasharray="6 4"`, t.label()+" "+t.A.String()+" - "+t.B.String())
	}
	b.WriteString("</svg>\n")
	return b.String()
}

// tunnelPairs are the tunnels' ends, as pairs.
func tunnelPairs(ts []Tunnel) []Pair {
	out := make([]Pair, len(ts))
	for i, t := range ts {
		out[i] = Pair{t.A, t.B}
	}
	return out
}
