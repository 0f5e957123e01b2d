package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// traceLines are the lines of stderr that are commands (not nsscript's
// own messages or a Starlark backtrace).
func traceLines(stderr string) []string {
	var out []string
	for _, l := range strings.Split(strings.TrimRight(stderr, "\n"), "\n") {
		out = append(out, l)
	}
	return out
}

// matchLines compares lines with patterns, each a literal line or, when
// it starts with "~", a regular expression.
func matchLines(t *testing.T, got []string, want []string) {
	t.Helper()
	ok := len(got) == len(want)
	for i := 0; ok && i < len(want); i++ {
		if strings.HasPrefix(want[i], "~") {
			ok = regexp.MustCompile("^" + want[i][1:] + "$").MatchString(got[i])
		} else {
			ok = got[i] == want[i]
		}
	}
	if !ok {
		t.Errorf("the trace:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestTrace: --trace prints each kernel change of a real run as the
// equivalent command, on stderr, as it is made; the script checks that it
// really built what the trace says (and prints the rule iptables holds).
func TestTrace(t *testing.T) {
	src := `
ns = namespace("ns1")
a, b = veth("a", "b", peer_ns = ns, addr = "10.9.0.1/24", peer_addr = "10.9.0.2/24")
br = bridge("br0", stp = True)
dummy("eth9", ns = ns)
route(ns, "default", via = "10.9.0.1")
forwarding()
firewall(ns, "INPUT", "-p tcp --dport 22 -j ACCEPT")
ns.etc("hosts", "10.9.0.1 gw\n")
b.set(mtu = 1400)
assert.reachable(ns, "10.9.0.1")
assert.eq([(r.dst, r.via) for r in ns.routes], [("default", "10.9.0.1"), ("10.9.0.0/24", None)])
assert.eq(host.sysctl("net.ipv4.ip_forward"), "1")
assert.eq((b.mtu, ns.link("eth9").kind, br.up), (1400, "dummy", True))
print(exec(ns, ["iptables", "-S", "INPUT"]).stdout)
`
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "tr.star"), []byte(src), 0o644)
	r := nsscript(t, dir, "--sandbox", "--trace", "tr.star")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, `-A INPUT -p tcp -m tcp --dport 22 -m comment --comment "nsscript:tr" -j ACCEPT`) {
		t.Errorf("iptables does not hold the rule the trace shows:\n%s", r.stdout)
	}
	matchLines(t, traceLines(r.stderr), []string{
		"ip link set lo up", // the sandbox's own loopback
		"ip netns add ns1",
		"ip -n ns1 link set lo up",
		"ip link add a type veth peer name b netns ns1",
		"ip addr add 10.9.0.1/24 dev a",
		"ip link set a up",
		"ip -n ns1 addr add 10.9.0.2/24 dev b",
		"ip -n ns1 link set b up",
		"ip link add br0 type bridge",
		"ip link set br0 type bridge stp_state 1",
		"ip link set br0 up",
		// This kernel may lack the dummy driver: nsscript then makes an ifb.
		`~ip -n ns1 link add eth9 type dummy|ip -n ns1 link add eth9 type ifb && ip -n ns1 link set eth9 alias nsscript:dummy`,
		"ip -n ns1 link set eth9 up",
		"ip -n ns1 route replace default via 10.9.0.1",
		"sysctl -w net.ipv4.ip_forward=1",
		"ip netns exec ns1 iptables -t filter -A INPUT -p tcp --dport 22 -j ACCEPT -m comment --comment nsscript:tr",
		"mkdir -p /etc/netns/ns1",
		"cat > /etc/netns/ns1/hosts <<'EOF'",
		"10.9.0.1 gw",
		"EOF",
		"ip -n ns1 link set b mtu 1400",
		`~ip netns exec ns1 iptables -S INPUT  # pid \d+`,
	})
}

// TestTraceRollbackAndDown: what a failed run rolls back, and what
// `nsscript down --trace` undoes, are traced with the same commands.
func TestTraceRollbackAndDown(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "bad.star"), []byte(`
ns = namespace("ns1")
veth("a", "b", peer_ns = ns)
fail("boom")
`), 0o644)
	r := nsscript(t, dir, "--sandbox", "--trace", "bad.star")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\n%s", r.code, r.stderr)
	}
	// The veth goes with its namespace: the undo lets the kernel tear
	// the namespace down, devices and all, instead of deleting the veth.
	for _, want := range []string{
		"ip link add a type veth peer name b netns ns1\nip link set a up\nip -n ns1 link set b up\n",
		"ip netns del ns1\n",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("the trace of the run and its rollback lacks %q:\n%s", want, r.stderr)
		}
	}
	if strings.Index(r.stderr, "boom") > strings.Index(r.stderr, "ip netns del ns1") {
		t.Errorf("the rollback is traced before the error is reported:\n%s", r.stderr)
	}

	os.WriteFile(filepath.Join(dir, "lab.star"), []byte(`
ns = namespace("ns1")
veth("a", "b", peer_ns = ns, addr = "10.9.0.1/24")
forwarding()
nat.masquerade("10.9.0.0/24")
`), 0o644)
	os.WriteFile(filepath.Join(dir, "wrapper.star"), []byte(fmt.Sprintf(`
exec(host, [%q, "lab.star"])
r = exec(host, [%q, "down", "--trace", "lab"])
print(r.stderr)
assert.eq(namespaces(), [])
assert.eq([l.name for l in host.links], ["lo"])
assert.eq(host.sysctl("net.ipv4.ip_forward"), "0")
`, bin, bin)), 0o644)
	r = nsscript(t, dir, "--sandbox", "wrapper.star")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{
		"iptables -t nat -D POSTROUTING -s 10.9.0.0/24 -j MASQUERADE -m comment --comment nsscript:lab\n",
		"sysctl -w net.ipv4.ip_forward=0\n",
		"ip netns del ns1\n",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("down --trace lacks %q:\n%s", want, r.stdout)
		}
	}
}
