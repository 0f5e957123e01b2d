package builtins

import (
	"strings"

	"go.starlark.net/starlark"
)

// Predeclared is the registration table: every name a script sees besides
// Starlark's own (and args, print, load, which the runtime adds).
func (e *Env) Predeclared() starlark.StringDict {
	fns := []struct {
		name string
		fn   func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error)
	}{
		{"namespace", e.namespace},
		{"namespaces", e.namespaces},
		{"identify", e.identify},
		{"veth", e.veth},
		{"bridge", e.bridge},
		{"dummy", e.dummy},
		{"link", e.link},
		{"route", e.route},
		{"forwarding", e.forwarding},
		{"exec", e.exec},
		{"ping", e.ping},
		{"sleep", e.sleep},
		{"firewall", e.firewall},
		{"wait_port", e.waitPort},
	}
	d := starlark.StringDict{
		"host":   e.host,
		"assert": e.assertModule(),
		"nat":    e.natModule(),
	}
	for _, f := range fns {
		d[f.name] = starlark.NewBuiltin(f.name, withUsage(f.fn))
	}
	if e.Planner != nil {
		d["fail"] = starlark.NewBuiltin("fail", e.planFail)
	}
	return d
}

// planFail is fail(*args, sep=" ") in a plan: a script fails mostly on
// what it saw (a command's output, a reply), which a plan does not know,
// so the failure is recorded and the script goes on.
func (e *Env) planFail(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	sep := " "
	if err := starlark.UnpackArgs("fail", nil, kwargs, "sep?", &sep); err != nil {
		return nil, err
	}
	words := make([]string, len(args))
	for i, a := range args {
		if s, ok := starlark.AsString(a); ok {
			words[i] = s
		} else {
			words[i] = a.String()
		}
	}
	e.Planner.Note("not checked in a plan: fail: " + strings.Join(words, sep))
	return starlark.None, nil
}
