package builtins

import (
	"errors"
	"strings"
	"testing"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
)

// Usages render as they always did: they end argument errors and stand in
// help() and the README.
func TestUsage(t *testing.T) {
	for name, want := range map[string]string{
		"namespace":       `namespace(name, lo=True, ipv6=True), namespace(pid=N, timeout="5s") or namespace(path=P)`,
		"namespaces":      `namespaces()`,
		"veth":            `veth(name, peer, ns=host, peer_ns=host, addr=None, peer_addr=None, master=None, peer_master=None, mtu=None, up=True, rate=None, delay=None, jitter=None, loss=None, mac=None, peer_mac=None)`,
		"exec":            `exec(ns, cmd, check=True, timeout="30s", background=False, env=None, stdin=None, restart=False, ready=None)`,
		"namespace.exec":  `namespace.exec(cmd, check=True, timeout="30s", background=False, env=None, stdin=None, restart=False, ready=None)`,
		"link.set_master": `link.set_master(bridge) (a bridge Link, or None)`,
		"nat.dnat":        `nat.dnat(port, to, ns=host, proto="tcp", in_=None, dst=None)`,
		"process.kill":    `process.kill(signal="TERM")`,
		"assert.eq":       `assert.eq(a, b, msg=None)`,
	} {
		if d, ok := Help(name); !ok || d.Signature != want {
			t.Errorf("usage of %s = %q, want %q", name, d.Signature, want)
		}
	}
}

// Every entry makes sense: it says what it does; a call can give its
// required parameters by position (none follows an optional one); a
// module's function or a value's method is named MODULE.NAME or
// TYPE.NAME after its module or value.
func TestTableEntries(t *testing.T) {
	check := func(s *spec, prefix string) {
		if s.Meaning == "" {
			t.Errorf("%s: no meaning", s.Name)
		}
		if !strings.HasPrefix(s.Name, prefix) || strings.Contains(s.Name[len(prefix):], ".") {
			t.Errorf("%s: want a name %sNAME", s.Name, prefix)
		}
		optional := false
		for _, p := range s.Params {
			if p.Default == "" && optional && len(s.Params.forms()) == 1 {
				t.Errorf("%s: required parameter %s after an optional one", s.Name, p.Name)
			}
			optional = optional || p.Default != ""
		}
	}
	for i := range builtinTable {
		check(&builtinTable[i].spec, "")
	}
	for _, m := range modules {
		for i := range m.fns {
			check(&m.fns[i].spec, m.name+".")
		}
	}
	for typ, ms := range valueMethods {
		for i := range ms {
			check(&ms[i].spec, strings.ToLower(typ)+".")
		}
	}
}

// callables are every builtin, module function and method a script can
// call, by name, as registered: the methods bound to zero values.
func callables(t *testing.T) map[string]*starlark.Builtin {
	out := map[string]*starlark.Builtin{}
	for name, v := range (&Env{}).Predeclared() {
		switch x := v.(type) {
		case *starlark.Builtin:
			out[x.Name()] = x
		case *starlarkstruct.Module:
			for _, m := range x.Members {
				b := m.(*starlark.Builtin)
				if !strings.HasPrefix(b.Name(), name+".") {
					t.Errorf("module %s has %s", name, b.Name())
				}
				out[b.Name()] = b
			}
		}
	}
	for _, v := range []starlark.HasAttrs{&Namespace{}, &Link{}, &Process{}, &Rule{}, &Capture{}} {
		for _, m := range valueMethods[v.Type()].names() {
			b, err := v.Attr(m)
			if err != nil || b == nil {
				t.Errorf("%s.%s: %v, %v", v.Type(), m, b, err)
				continue
			}
			out[b.(*starlark.Builtin).Name()] = b.(*starlark.Builtin)
		}
	}
	return out
}

// The registration is the table's: every entry is registered under its
// name and unpacks its own parameters (a call with an unknown keyword is
// refused by unpack, with the entry's usage; an implementation that
// unpacked another number of arguments would panic). These calls reach
// no kernel: the Env has none.
func TestRegistration(t *testing.T) {
	reg := callables(t)
	if len(reg) != len(entries) {
		t.Errorf("%d builtins and methods are registered, the table has %d entries", len(reg), len(entries))
	}
	for name, b := range reg {
		d, ok := Help(name)
		if !ok {
			t.Errorf("%s is registered but has no entry", name)
			continue
		}
		var args starlark.Tuple
		if name == "exec" {
			args = starlark.Tuple{starlark.None} // its ns is positional
		}
		_, err := starlark.Call(&starlark.Thread{}, b, args, []starlark.Tuple{{starlark.String("bogus"), starlark.None}})
		want := name + `: unexpected keyword argument "bogus"; usage: ` + d.Signature
		if err == nil || err.Error() != want {
			t.Errorf("%s(bogus=None) = %v, want %s", name, err, want)
		}
	}
}

// A builtin called in several forms takes every parameter as optional,
// and checks the form itself.
func TestUnpackForms(t *testing.T) {
	var name NSName
	var pid starlark.Value = starlark.None
	var path string
	lo, ipv6 := true, true
	var timeout Duration
	b := starlark.NewBuiltin("namespace", nil)
	err := unpack(b, nil, []starlark.Tuple{{starlark.String("path"), starlark.String("/p")}}, &name, &lo, &ipv6, &pid, &path, &timeout)
	if err != nil || path != "/p" || name != "" || !lo {
		t.Errorf("namespace(path=\"/p\"): %v, path %q, name %q", err, path, name)
	}
	// The position of a parameter is its place in Params, not in its form.
	// namespace(name, lo=True, ipv6=True) is called with them in that order.
	err = unpack(b, starlark.Tuple{starlark.String("red"), starlark.False, starlark.False, starlark.None, starlark.String("/q")}, nil, &name, &lo, &ipv6, &pid, &path, &timeout)
	if err != nil || name != "red" || lo || ipv6 || path != "/q" {
		t.Errorf("namespace(\"red\", False, False, None, \"/q\"): %v, name %q, ipv6 %v, path %q", err, name, ipv6, path)
	}
	err = explainArgs("namespace", unpack(b, starlark.Tuple{starlark.None, starlark.None, starlark.None, starlark.None, starlark.None, starlark.None, starlark.None}, nil, &name, &lo, &ipv6, &pid, &path, &timeout))
	var ae *argError
	if !errors.As(err, &ae) || !strings.HasSuffix(err.Error(), `; usage: namespace(name, lo=True, ipv6=True), namespace(pid=N, timeout="5s") or namespace(path=P)`) {
		t.Errorf("namespace with 7 arguments: %v", err)
	}
}
