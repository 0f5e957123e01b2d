package runtime

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"

	"github.com/nsscript/nsscript/builtins"
)

// replDocs document the REPL's own builtins.
var replDocs = map[string]builtins.Doc{
	"help": {Name: "help", Signature: "help(x=None)",
		Meaning: "list the builtins; help(x) says how to call x, what it does and the iproute2 command it stands for"},
	"save": {Name: "save", Signature: `save(path)`,
		Meaning: "write the session's successful statements as a script that rebuilds what it built (inspections and failed statements left out)"},
	"shell": {Name: "shell", Signature: `shell(ns=host)`,
		Meaning: "an interactive shell ($SHELL, else /bin/sh) in ns on the REPL's terminal, as ip netns exec runs one; the session goes on when it exits"},
	"show": {Name: "show", Signature: `show(x, ...)`,
		Meaning: "print values as the REPL shows them: a namespace as `ip -br addr` and its routes, a link as one line of it, a Result as its output"},
}

// help(x=None) is the REPL's help.
func (r *repl) help(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var x starlark.Value
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "x?", &x); err != nil {
		return nil, err
	}
	w := r.stdout
	if x == nil {
		helpIndex(w)
		return starlark.None, nil
	}
	switch v := x.(type) {
	case *starlark.Builtin:
		if !helpName(w, v.Name()) {
			fmt.Fprintf(w, "%s is a Starlark builtin: see https://github.com/google/starlark-go/blob/master/doc/spec.md#built-in-functions\n", v.Name())
		}
	case starlark.String:
		if !helpName(w, string(v)) {
			if d, ok := builtins.TypeDoc[string(v)]; ok {
				fmt.Fprintf(w, "%s: %s\n", v, d)
			} else {
				fmt.Fprintf(w, "no help for %q: help() lists what there is\n", string(v))
			}
		}
	case *starlarkstruct.Module:
		names := make([]string, 0, len(v.Members))
		for n := range v.Members {
			names = append(names, n)
		}
		sort.Strings(names)
		fmt.Fprintf(w, "module %s:\n", v.Name)
		for _, n := range names {
			if d, ok := builtins.Help(v.Name + "." + n); ok {
				fmt.Fprintf(w, "  %s\n      %s\n", d.Signature, d.Meaning)
			}
		}
	case *starlark.Function:
		params := make([]string, v.NumParams())
		for i := range params {
			params[i], _ = v.Param(i)
		}
		fmt.Fprintf(w, "def %s(%s)  (%s)\n", v.Name(), strings.Join(params, ", "), v.Position())
		if doc := v.Doc(); doc != "" {
			fmt.Fprintf(w, "  %s\n", strings.ReplaceAll(doc, "\n", "\n  "))
		}
	default:
		helpValue(w, x)
	}
	return starlark.None, nil
}

// helpName prints a builtin's or method's signature, meaning and
// equivalent command.
func helpName(w io.Writer, name string) bool {
	d, ok := builtins.Help(name)
	if !ok {
		d, ok = replDocs[name]
	}
	if !ok {
		return false
	}
	fmt.Fprintf(w, "%s\n  %s\n", d.Signature, d.Meaning)
	if d.Equivalent != "" {
		fmt.Fprintf(w, "  equivalent: %s\n", d.Equivalent)
	}
	return true
}

// helpValue describes a live value: its type, attributes and methods.
func helpValue(w io.Writer, x starlark.Value) {
	typ := x.Type()
	if d, ok := builtins.TypeDoc[typ]; ok {
		fmt.Fprintf(w, "%s: %s\n", typ, d)
	} else {
		fmt.Fprintf(w, "%s (a %s)\n", x.String(), typ)
	}
	ha, ok := x.(starlark.HasAttrs)
	if !ok {
		return
	}
	prefix := strings.ToLower(typ) + "."
	var attrs, methods []string
	for _, n := range ha.AttrNames() {
		if d, ok := builtins.Help(prefix + n); ok {
			methods = append(methods, fmt.Sprintf("  %-40s %s", strings.TrimPrefix(d.Signature, strings.ToLower(typ)), d.Meaning))
		} else {
			attrs = append(attrs, n)
		}
	}
	if len(attrs) > 0 {
		fmt.Fprintf(w, "attributes: %s\n", strings.Join(attrs, ", "))
	}
	if len(methods) > 0 {
		fmt.Fprintf(w, "methods:\n%s\n", strings.Join(methods, "\n"))
	}
}

// helpIndex lists the builtins with a line each.
func helpIndex(w io.Writer) {
	fmt.Fprintln(w, "nsscript builtins (help(NAME) for how to call one, what it does, and its iproute2 command):")
	members := map[string][]string{}
	for _, name := range builtins.HelpNames() {
		d, _ := builtins.Help(name)
		mod, member, dotted := strings.Cut(name, ".")
		switch {
		case !dotted:
			fmt.Fprintf(w, "  %-12s %s\n", name, short(d.Meaning))
		case mod == "nat" || mod == "assert":
			members[mod] = append(members[mod], member)
		}
	}
	fmt.Fprintf(w, "  %-12s %s\n", "host", "the namespace nsscript runs in")
	for _, mod := range []string{"nat", "assert"} {
		fmt.Fprintf(w, "  %-12s module: %s\n", mod, strings.Join(members[mod], ", "))
	}
	fmt.Fprintln(w, "values: Namespace, Link, Route, Result, Process, Rule (help(host) or help(a_link) for their attributes and methods)")
	fmt.Fprintln(w, "REPL: help(x); save(\"FILE.star\") writes the session as a script; shell(ns) opens a shell in ns (exit comes back); _ is the last value; Tab completes; Ctrl-C interrupts; Ctrl-D leaves")
}

// short is a meaning's first clause.
func short(s string) string {
	if i := strings.IndexAny(s, ";("); i > 0 {
		s = s[:i]
	}
	return strings.TrimRight(s, " ,")
}
