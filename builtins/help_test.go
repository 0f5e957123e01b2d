package builtins

import (
	"slices"
	"strings"
	"testing"
)

// Every builtin and method has help: a meaning, and the usage and help
// tables name the same things.
func TestHelpCoversUsage(t *testing.T) {
	for name := range usage {
		d, ok := Help(name)
		if !ok || d.Meaning == "" {
			t.Errorf("help(%s): no meaning in the docs table", name)
		}
		if d.Signature != usage[name] {
			t.Errorf("help(%s): signature %q, usage says %q", name, d.Signature, usage[name])
		}
	}
	for name := range docs {
		if _, ok := usage[name]; !ok {
			t.Errorf("docs has %q, which the usage table does not", name)
		}
	}
	// Every kernel-changing builtin says what iproute2 command it is.
	for _, name := range []string{"namespace", "veth", "bridge", "dummy", "route", "forwarding", "exec", "link.move", "link.addr", "nat.dnat", "firewall"} {
		if d, _ := Help(name); d.Equivalent == "" {
			t.Errorf("help(%s): no equivalent command", name)
		}
	}
	if d, _ := Help("veth"); !strings.Contains(d.Equivalent, "link add NAME type veth peer name PEER") {
		t.Errorf("help(veth) equivalent = %q", d.Equivalent)
	}
}

// Every top-level builtin the table registers is documented.
func TestHelpCoversTable(t *testing.T) {
	e := &Env{}
	for name, v := range e.Predeclared() {
		if v.Type() != "builtin_function_or_method" {
			continue
		}
		if _, ok := Help(name); !ok {
			t.Errorf("builtin %s has no help", name)
		}
	}
}

func TestParams(t *testing.T) {
	for name, want := range map[string][]string{
		"veth":            {"name", "peer", "ns", "peer_ns", "addr", "peer_addr", "master", "peer_master", "mtu", "up"},
		"namespace":       {"name", "lo", "pid", "timeout", "path"},
		"link.set_master": {"bridge"},
		"link.set":        {"mtu", "mac", "name"},
		"nat.dnat":        {"port", "to", "ns", "proto", "in_", "dst"},
		"namespaces":      nil,
		"no.such":         nil,
	} {
		if got := Params(name); !slices.Equal(got, want) {
			t.Errorf("Params(%s) = %q, want %q", name, got, want)
		}
	}
}

// Every value's attributes are in the reference, and only those.
func TestReferenceCoversAttrs(t *testing.T) {
	e := &Env{}
	for typ, names := range map[string][]string{
		"Namespace": namespaceAttrs, "Link": linkAttrs,
		"Result":  (&Result{}).AttrNames(),
		"Process": {"ns", "pid", "running", "stderr", "stdout"},
		"Rule":    {"chain", "ns", "rule", "table"},
	} {
		var documented []string
		for _, a := range attrDocs[typ] {
			documented = append(documented, a[0])
		}
		slices.Sort(documented)
		got := slices.Sorted(slices.Values(names))
		if !slices.Equal(documented, got) {
			t.Errorf("%s: the reference documents %q, the value has %q", typ, documented, got)
		}
	}
	_ = e
}
