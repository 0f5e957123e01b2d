package builtins

import (
	"fmt"
	"strings"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
)

// Every builtin, module function and method of a value has one entry in
// the table (table.go): its name, its parameters, what it means, the
// command it stands for, and its implementation. All the rest is made from
// the entry: the registration (Predeclared, the modules, the values'
// methods), the usage that Starlark's argument errors end with, help(), the
// REPL's keyword completion and the README's reference. An implementation
// unpacks its arguments with unpack, which takes the parameters' names
// from its entry, so that each name is written once.

// param is one parameter of a builtin.
type param struct {
	Name string
	// Default is what the usage shows after "=": the default as a script
	// would write it ("host", "None", `"30s"`), or, for a keyword that one
	// form of the call requires, what to give there (namespace(pid=N)).
	// It is "" for a parameter that the call must give.
	Default string
	// Form is the form of the call that the parameter belongs to, for a
	// builtin called in several ways (namespace(name, lo=True),
	// namespace(pid=N, timeout="5s"), namespace(path=P)): 0 for the others.
	// Such a builtin's parameters are all optional to unpack, and its
	// implementation checks that the call is one of the forms.
	Form int
}

// params are a builtin's parameters in the order the call takes them by
// position (and unpacks them).
type params []param

// spec is a table entry without its implementation.
type spec struct {
	// Name is how scripts and errors name it: "veth"; "nat.dnat" for a
	// module's function; TYPE.METHOD for a method ("link.move").
	Name   string
	Params params
	// Note is said after the usage, in parentheses: what the usage alone
	// does not tell ("a bridge Link, or None").
	Note    string
	Meaning string
	// Equivalent is the iproute2 (or iptables, sysctl) command that it
	// stands for, which is what nsscript's users think in; "" when none.
	Equivalent string
}

// envFunc implements a builtin or module function, given the run's Env:
// most are methods of Env, written as method expressions ((*Env).veth)
// in the table.
type envFunc = func(*Env, *starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error)

// function is a builtin or a module's function: its entry and its
// implementation.
type function struct {
	spec
	impl envFunc
}

// method is a method of a value: its entry and its implementation, which
// finds the value as b.Receiver().
type method struct {
	spec
	impl builtinFunc
}

// methods are the methods of one kind of value, all named TYPE.METHOD
// with the same TYPE.
type methods []method

// module is a module that every script sees (nat, assert). wrap, when
// set, wraps each of its functions (assert's are lenient in a plan).
type module struct {
	name string
	fns  []function
	wrap func(*Env, builtinFunc) builtinFunc
}

// entries are the table's entries by name, for unpack, help() and the
// reference. init fills it: the implementations in the table call unpack,
// which reads it, so a variable's initializer could not.
var entries = map[string]*spec{}

func init() {
	add := func(s *spec) {
		if entries[s.Name] != nil {
			panic("builtins: two table entries for " + s.Name)
		}
		entries[s.Name] = s
	}
	for i := range builtinTable {
		add(&builtinTable[i].spec)
	}
	for _, m := range modules {
		for i := range m.fns {
			add(&m.fns[i].spec)
		}
	}
	for _, ms := range valueMethods {
		for i := range ms {
			add(&ms[i].spec)
		}
	}
}

// unpack reads the arguments of a call to b into dst, one pointer for
// each parameter of b's entry, in their order: the entry names the
// parameters, and each variable's type says how its argument is read
// (its Unpack method, or UnpackArgs' own kinds).
func unpack(b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple, dst ...any) error {
	s := entries[b.Name()]
	if s == nil {
		panic("builtins: no table entry for " + b.Name())
	}
	return s.Params.unpack(b.Name(), args, kwargs, dst...)
}

// unpack is starlark.UnpackArgs for the builtin fn with these parameters:
// a parameter with a default, or of a builtin called in several forms, is
// optional ("name?").
func (ps params) unpack(fn string, args starlark.Tuple, kwargs []starlark.Tuple, dst ...any) error {
	if len(dst) != len(ps) {
		panic(fmt.Sprintf("builtins: %s unpacks %d arguments, but its table entry has %d parameters", fn, len(dst), len(ps)))
	}
	forms := len(ps.forms())
	pairs := make([]any, 0, 2*len(ps))
	for i, p := range ps {
		name := p.Name
		if p.Default != "" || forms > 1 {
			name += "?"
		}
		pairs = append(pairs, name, dst[i])
	}
	return starlark.UnpackArgs(fn, args, kwargs, pairs...)
}

// forms groups the parameters by the form of the call they belong to.
func (ps params) forms() []params {
	n := 1
	for _, p := range ps {
		n = max(n, p.Form+1)
	}
	fs := make([]params, n)
	for _, p := range ps {
		fs[p.Form] = append(fs[p.Form], p)
	}
	return fs
}

// usage is how it is called, as help() and argument errors say it:
// "veth(name, peer, ns=host, ...)", each form of a builtin called in
// several ways ("f(a), f(b) or f(c)"), then the note.
func (s *spec) usage() string {
	var b strings.Builder
	forms := s.Params.forms()
	for i, f := range forms {
		switch {
		case i == 0:
		case i == len(forms)-1:
			b.WriteString(" or ")
		default:
			b.WriteString(", ")
		}
		b.WriteString(s.Name + "(")
		for j, p := range f {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString(p.Name)
			if p.Default != "" {
				b.WriteString("=" + p.Default)
			}
		}
		b.WriteString(")")
	}
	if s.Note != "" {
		b.WriteString(" (" + s.Note + ")")
	}
	return b.String()
}

// builtin is the function as the run's Env has it.
func (f *function) builtin(e *Env, wrap func(*Env, builtinFunc) builtinFunc) *starlark.Builtin {
	impl := func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		return f.impl(e, thread, b, args, kwargs)
	}
	if wrap != nil {
		impl = wrap(e, impl)
	}
	return starlark.NewBuiltin(f.Name, withUsage(impl))
}

// member is the name of a module's function or a value's method without
// its module or type: "dnat", "move".
func (s *spec) member() string {
	_, m, _ := strings.Cut(s.Name, ".")
	return m
}

// bind is the module as the run's Env has it.
func (m module) bind(e *Env) *starlarkstruct.Module {
	mod := &starlarkstruct.Module{Name: m.name, Members: starlark.StringDict{}}
	for i := range m.fns {
		f := &m.fns[i]
		mod.Members[f.member()] = f.builtin(e, m.wrap)
	}
	return mod
}

// get is the method called name, bound to recv, or nil when there is none.
func (ms methods) get(recv starlark.Value, name string) starlark.Value {
	for i := range ms {
		if ms[i].member() == name {
			return starlark.NewBuiltin(ms[i].Name, withUsage(ms[i].impl)).BindReceiver(recv)
		}
	}
	return nil
}

// names are the methods' names, for AttrNames.
func (ms methods) names() []string {
	out := make([]string, len(ms))
	for i := range ms {
		out[i] = ms[i].member()
	}
	return out
}
