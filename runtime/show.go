package runtime

import (
	"fmt"
	"io"
	"strings"

	"go.starlark.net/starlark"

	"github.com/nsscript/nsscript/builtins"
)

// show prints a value the way the REPL shows an expression's result:
// live values as their kernel state (a Namespace like `ip -br addr`, a
// Link with its kind, state, master and addresses), everything else as
// Starlark prints it. The values' own String() stays short: scripts and
// tests rely on it.
func show(w io.Writer, v starlark.Value) {
	switch x := v.(type) {
	case *builtins.Namespace:
		showNamespace(w, x)
	case *builtins.Link:
		fmt.Fprintln(w, linkLine(x))
	case *builtins.Result:
		fmt.Fprint(w, x.Stdout)
		if x.Stdout != "" && !strings.HasSuffix(x.Stdout, "\n") {
			fmt.Fprintln(w)
		}
		if x.Code != 0 {
			fmt.Fprint(w, x.Stderr)
			if x.Stderr != "" && !strings.HasSuffix(x.Stderr, "\n") {
				fmt.Fprintln(w)
			}
			fmt.Fprintf(w, "(exit code %d)\n", x.Code)
		}
	case *builtins.Record:
		if line, ok := routeLine(x); ok {
			fmt.Fprintln(w, line)
			return
		}
		fmt.Fprintln(w, v.String())
	case *starlark.List, starlark.Tuple:
		if !showAll(w, v.(starlark.Indexable)) {
			fmt.Fprintln(w, v.String())
		}
	default:
		fmt.Fprintln(w, v.String())
	}
}

// showAll shows a list or tuple of live values one per line (the links
// of veth(), namespaces(), ns.routes); it reports false for any other.
func showAll(w io.Writer, xs starlark.Indexable) bool {
	if xs.Len() == 0 {
		return false
	}
	for i := 0; i < xs.Len(); i++ {
		switch x := xs.Index(i).(type) {
		case *builtins.Namespace, *builtins.Link:
		case *builtins.Record:
			if _, ok := routeLine(x); !ok {
				return false
			}
		default:
			return false
		}
	}
	for i := 0; i < xs.Len(); i++ {
		show(w, xs.Index(i))
	}
	return true
}

// linkFacts is what a row of a Namespace table and a Link line show.
type linkFacts struct {
	name, kind, state, addrs, extra string
}

func facts(l *builtins.Link) (linkFacts, error) {
	f := linkFacts{name: l.Name()}
	get := func(attr string) (starlark.Value, error) { return l.Attr(attr) }
	v, err := get("kind")
	if err != nil {
		return f, err
	}
	f.kind, _ = starlark.AsString(v)
	f.name = l.Name() // Attr refreshed it: the device may have been renamed
	f.state = "DOWN"
	if v, err := get("up"); err == nil && v.Truth() {
		f.state = "UP"
	}
	if v, err := get("addrs"); err == nil {
		var as []string
		it := starlark.Iterate(v)
		var a starlark.Value
		for it.Next(&a) {
			s, _ := starlark.AsString(a)
			as = append(as, s)
		}
		it.Done()
		f.addrs = strings.Join(as, " ")
	}
	var extra []string
	if v, err := get("master"); err == nil {
		if m, ok := v.(*builtins.Link); ok {
			extra = append(extra, "master "+m.Name())
		}
	}
	if v, err := get("peer"); err == nil {
		if p, ok := v.(*builtins.Link); ok {
			where := ""
			if p.NS() != l.NS() {
				where = " in " + p.NS().Name()
			}
			extra = append(extra, "peer "+p.Name()+where)
		}
	}
	f.extra = strings.Join(extra, ", ")
	return f, nil
}

// linkLine is a Link on one line:
//
//	veth-red  veth  UP  192.168.15.1/24  (master br0, peer veth-red-br in host)  in "red"
func linkLine(l *builtins.Link) string {
	f, err := facts(l)
	if err != nil {
		return fmt.Sprintf("%s: %v", l.String(), err)
	}
	parts := []string{f.name, f.kind, f.state}
	if f.addrs != "" {
		parts = append(parts, f.addrs)
	}
	if f.extra != "" {
		parts = append(parts, "("+f.extra+")")
	}
	return strings.Join(parts, "  ") + "  in " + l.NS().Name()
}

// showNamespace prints a Namespace as a header and a table of its links,
// like `ip -br addr`, with each link's kind, master and peer.
func showNamespace(w io.Writer, n *builtins.Namespace) {
	fmt.Fprintf(w, "namespace %s\n", n.Name())
	links, err := n.Links()
	if err != nil {
		fmt.Fprintf(w, "  (cannot list its links: %v)\n", err)
		return
	}
	var rows []linkFacts
	for _, l := range links {
		f, err := facts(l)
		if err != nil {
			continue // gone since the listing
		}
		rows = append(rows, f)
	}
	wName, wKind := 8, 8
	for _, r := range rows {
		wName = max(wName, len(r.name))
		wKind = max(wKind, len(r.kind))
	}
	for _, r := range rows {
		line := fmt.Sprintf("  %-*s  %-*s  %-4s  %s", wName, r.name, wKind, r.kind, r.state, r.addrs)
		if r.extra != "" {
			line += "  (" + r.extra + ")"
		}
		fmt.Fprintln(w, strings.TrimRight(line, " "))
	}
}

// routeLine shows a Route like `ip route`.
func routeLine(r *builtins.Record) (string, bool) {
	if r.Type() != "Route" {
		return "", false
	}
	field := func(name string) string {
		v, _ := r.Attr(name)
		if v == nil || v == starlark.None {
			return ""
		}
		if s, ok := starlark.AsString(v); ok {
			return s
		}
		return v.String()
	}
	parts := []string{field("dst")}
	if via := field("via"); via != "" {
		parts = append(parts, "via", via)
	}
	if dev := field("dev"); dev != "" {
		parts = append(parts, "dev", dev)
	}
	if m := field("metric"); m != "" && m != "0" {
		parts = append(parts, "metric", m)
	}
	if t := field("table"); t != "" && t != "0" && t != "254" {
		parts = append(parts, "table", t)
	}
	if ns, _ := r.Attr("ns"); ns != nil {
		if n, ok := ns.(*builtins.Namespace); ok && !n.NS().Host {
			parts = append(parts, "in", n.Name())
		}
	}
	return strings.Join(parts, " "), true
}
