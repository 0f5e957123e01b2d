package builtins

import (
	"fmt"
	"regexp"
	"sort"
	"sync"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

func sortedNames(groups ...[]string) []string {
	var out []string
	for _, g := range groups {
		out = append(out, g...)
	}
	sort.Strings(out)
	return out
}

// Record is an immutable value with named fields (Route, neighbor entries).
type Record struct {
	typ    string
	keys   []string
	fields map[string]starlark.Value
}

var _ starlark.HasAttrs = (*Record)(nil)

func newRecord(typ string, kv ...any) *Record {
	r := &Record{typ: typ, fields: map[string]starlark.Value{}}
	for i := 0; i < len(kv); i += 2 {
		k := kv[i].(string)
		r.keys = append(r.keys, k)
		r.fields[k] = kv[i+1].(starlark.Value)
	}
	return r
}

func (r *Record) String() string {
	s := r.typ + "("
	for i, k := range r.keys {
		if i > 0 {
			s += ", "
		}
		s += k + " = " + r.fields[k].String()
	}
	return s + ")"
}
func (r *Record) Type() string         { return r.typ }
func (r *Record) Freeze()              {}
func (r *Record) Truth() starlark.Bool { return true }
func (r *Record) Hash() (uint32, error) {
	return 0, fmt.Errorf("unhashable: %s", r.typ)
}
func (r *Record) Attr(name string) (starlark.Value, error) { return r.fields[name], nil }
func (r *Record) AttrNames() []string                      { return sortedNames(r.keys) }

// CompareSameType makes records equal when their fields are.
func (r *Record) CompareSameType(op syntax.Token, y starlark.Value, depth int) (bool, error) {
	o := y.(*Record)
	eq := r.typ == o.typ && len(r.keys) == len(o.keys)
	for _, k := range r.keys {
		if !eq {
			break
		}
		ov, ok := o.fields[k]
		if !ok {
			eq = false
			break
		}
		e, err := starlark.EqualDepth(r.fields[k], ov, depth-1)
		if err != nil {
			return false, err
		}
		eq = e
	}
	switch op {
	case syntax.EQL:
		return eq, nil
	case syntax.NEQ:
		return !eq, nil
	}
	return false, fmt.Errorf("%s %s %s not supported", r.typ, op, o.typ)
}

func noneOr(s string) starlark.Value {
	if s == "" {
		return starlark.None
	}
	return starlark.String(s)
}

func strList(ss []string) *starlark.List {
	vs := make([]starlark.Value, len(ss))
	for i, s := range ss {
		vs[i] = starlark.String(s)
	}
	return starlark.NewList(vs)
}

// strs reads a list or tuple of str; what names it in errors.
func strs(x starlark.Iterable, what string) ([]string, error) {
	it := x.Iterate()
	defer it.Done()
	var out []string
	var e starlark.Value
	for it.Next(&e) {
		s, ok := starlark.AsString(e)
		if !ok {
			return nil, fmt.Errorf("%s element %d is %s, want str", what, len(out), e.Type())
		}
		out = append(out, s)
	}
	return out, nil
}

// LazyRegexp compiles expr on first use instead of at program start:
// every run, even of an empty script, pays for what package init does.
func LazyRegexp(expr string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })
}
