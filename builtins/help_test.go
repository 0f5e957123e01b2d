package builtins

import (
	"slices"
	"strings"
	"testing"
)

// Every kernel-changing builtin says what iproute2 command it is.
func TestHelpEquivalents(t *testing.T) {
	for _, name := range []string{"namespace", "veth", "bridge", "dummy", "vxlan", "tap", "vlan", "macvlan", "route", "forwarding", "exec", "link.move", "link.addr", "namespace.neigh", "namespace.del_neigh", "nat.dnat", "firewall", "rule", "nat.masquerade"} {
		if d, _ := Help(name); d.Equivalent == "" {
			t.Errorf("help(%s): no equivalent command", name)
		}
	}
	if d, _ := Help("veth"); !strings.Contains(d.Equivalent, "link add NAME type veth peer name PEER") {
		t.Errorf("help(veth) equivalent = %q", d.Equivalent)
	}
	if _, ok := Help("no.such"); ok {
		t.Errorf("help(no.such) found something")
	}
}

func TestParams(t *testing.T) {
	for name, want := range map[string][]string{
		"veth":            {"name", "peer", "ns", "peer_ns", "addr", "peer_addr", "master", "peer_master", "mtu", "up", "rate", "delay", "jitter", "loss", "mac", "peer_mac"},
		"namespace":       {"name", "lo", "ipv6", "pid", "timeout", "path"},
		"link.set_master": {"bridge"},
		"link.set":        {"mtu", "mac", "name"},
		"nat.dnat":        {"port", "to", "ns", "proto", "in_", "dst"},
		"rule":            {"ns", "from_", "to", "iif", "oif", "fwmark", "table", "priority"},
		"firewall":        {"ns", "chain", "rule", "table", "family", "position"},
		"namespace.exec":  {"cmd", "check", "timeout", "background", "env", "stdin", "restart", "ready"},
		"namespaces":      nil,
		"no.such":         nil,
	} {
		if got := Params(name); !slices.Equal(got, want) {
			t.Errorf("Params(%s) = %q, want %q", name, got, want)
		}
	}
}

// HelpNames lists the builtins, sorted, before the dotted names, sorted.
func TestHelpNames(t *testing.T) {
	names := HelpNames()
	if len(names) != len(entries) {
		t.Fatalf("HelpNames has %d names, the table %d", len(names), len(entries))
	}
	i := slices.IndexFunc(names, func(n string) bool { return strings.Contains(n, ".") })
	top, dotted := names[:i], names[i:]
	if !slices.IsSorted(top) || !slices.IsSorted(dotted) || slices.ContainsFunc(dotted, func(n string) bool { return !strings.Contains(n, ".") }) {
		t.Errorf("HelpNames = %q", names)
	}
	if top[0] != "bridge" || dotted[0] != "assert.contains" {
		t.Errorf("HelpNames starts %q and %q", top[0], dotted[0])
	}
}

// Every value's attributes are in the reference, and only those.
func TestReferenceCoversAttrs(t *testing.T) {
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
}
