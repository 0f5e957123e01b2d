package builtins

import "go.starlark.net/starlark"

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
	}
	d := starlark.StringDict{
		"host":   e.host,
		"assert": e.assertModule(),
		"nat":    e.natModule(),
	}
	for _, f := range fns {
		d[f.name] = starlark.NewBuiltin(f.name, withUsage(f.fn))
	}
	return d
}
