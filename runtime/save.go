package runtime

import (
	"fmt"
	"os"
	"strings"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// save(path) writes the session's successful statements as a script that
// rebuilds what the session built: definitions, assignments and calls in
// the order they ran, without the statements that failed and without
// expressions that only looked at something.
func (r *repl) save(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var path string
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "path", &path); err != nil {
		return nil, err
	}
	if path == "" {
		return nil, fmt.Errorf("save: give the file to write, e.g. save(\"topo.star\")")
	}
	script, n := r.script()
	if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
		return nil, fmt.Errorf("save: %w", err)
	}
	fmt.Fprintf(r.stdout, "saved %d statements to %s: run it with nsscript %s\n", n, path, path)
	return starlark.None, nil
}

// script is what save() writes, and how many statements it holds.
func (r *repl) script() (string, int) {
	var b strings.Builder
	b.WriteString("# Written by save() in the nsscript REPL: the statements of the session\n")
	b.WriteString("# that succeeded, in order (what only looked at something is left out).\n")
	if r.opts.File != "" {
		fmt.Fprintf(&b, "\n# %s (nsscript -i)\n", r.opts.File)
		b.WriteString(r.fileSrc)
		if !strings.HasSuffix(r.fileSrc, "\n") {
			b.WriteString("\n")
		}
		b.WriteString("\n# the session\n")
	}
	// A statement that reads _ needs the expression that set it, even one
	// that only looked: it is written as an assignment to _.
	needed := make([]bool, len(r.done))
	last := -1
	for i, c := range r.done {
		if !c.inspect && readsUnderscore(c.file) && last >= 0 {
			needed[last] = true
		}
		if c.setsUnder {
			last = i
		}
	}
	n := 0
	for i, c := range r.done {
		switch {
		case needed[i]:
			b.WriteString("_ = " + c.src + "\n")
		case c.inspect:
			continue
		default:
			b.WriteString(c.src + "\n")
		}
		n++
	}
	return b.String(), n
}

func readsUnderscore(f *syntax.File) bool {
	found := false
	for _, s := range f.Stmts {
		syntax.Walk(s, func(n syntax.Node) bool {
			if id, ok := n.(*syntax.Ident); ok && id.Name == "_" {
				found = true
			}
			return !found
		})
	}
	return found
}

// lookingNames are the functions that change nothing, so that an
// expression calling only them (or nothing) just looks at something.
var lookingNames = map[string]bool{
	"help": true, "save": true, "shell": true, "print": true, "dir": true, "type": true, "len": true,
	"str": true, "repr": true, "bool": true, "int": true, "float": true, "list": true,
	"tuple": true, "dict": true, "set": true, "sorted": true, "reversed": true, "range": true,
	"enumerate": true, "zip": true, "min": true, "max": true, "any": true, "all": true,
	"hasattr": true, "getattr": true, "hash": true, "abs": true,
	"namespaces": true, "identify": true, "link": true, "ping": true, "why": true,
}

// lookingMethods are methods that change nothing (of str, dict, list and
// the live values).
var lookingMethods = map[string]bool{
	"link": true, "get": true, "keys": true, "values": true, "items": true, "index": true,
	"count": true, "find": true, "format": true, "join": true, "split": true, "splitlines": true,
	"strip": true, "lstrip": true, "rstrip": true, "startswith": true, "endswith": true,
	"lower": true, "upper": true, "replace": true, "elems": true,
}

// inspects reports a statement that only looks: expressions whose calls
// are all to functions that change nothing (the assert module included).
// Anything else (a definition, an assignment, a call that may change
// something, such as exec) is kept by save().
func (r *repl) inspects(f *syntax.File) bool {
	for _, s := range f.Stmts {
		e, ok := s.(*syntax.ExprStmt)
		if !ok {
			return false
		}
		looks := true
		syntax.Walk(e.X, func(n syntax.Node) bool {
			call, ok := n.(*syntax.CallExpr)
			if ok && !r.looking(call) {
				looks = false
			}
			return looks
		})
		if !looks {
			return false
		}
	}
	return true
}

func (r *repl) looking(call *syntax.CallExpr) bool {
	switch fn := call.Fn.(type) {
	case *syntax.Ident:
		// Only the builtin itself, not a function the user named so.
		v, ok := r.globals[fn.Name]
		if !ok {
			v = starlark.Universe[fn.Name]
		}
		orig, ok := r.own[fn.Name]
		if !ok {
			orig, ok = r.in.Predeclared[fn.Name]
		}
		if !ok {
			orig = starlark.Universe[fn.Name]
		}
		return lookingNames[fn.Name] && v != nil && v == orig
	case *syntax.DotExpr:
		if x, ok := fn.X.(*syntax.Ident); ok && x.Name == "assert" && r.globals["assert"] == r.in.Predeclared["assert"] {
			return true
		}
		if fn.Name.Name == "sysctl" {
			return len(call.Args) == 1 // a read; with a value it writes
		}
		return lookingMethods[fn.Name.Name]
	}
	return false
}
