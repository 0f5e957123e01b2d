package runtime

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nsscript/nsscript/builtins/plan"
)

// planScript runs src against the recording backend; every check in it
// must hold in the model (a failed check would be a note).
func planScript(t *testing.T, src string) *plan.Plan {
	t.Helper()
	dir := t.TempDir()
	f := filepath.Join(dir, "m.star")
	if err := os.WriteFile(f, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	rec, err := PlanRun(f, nil, "m")
	if err != nil {
		t.Fatalf("plan: %s", FormatError(err))
	}
	for _, op := range rec.Ops() {
		if op.Op == "note" && !strings.HasPrefix(op.Text, "not checked in a plan (no packets") && !strings.HasPrefix(op.Text, "not sent in a plan") {
			t.Errorf("a check failed in the model: %s", op.Text)
		}
	}
	return rec
}

// TestPlanModel: the recording backend answers the builtins as the
// kernel would, so that a script takes the same path in a plan.
func TestPlanModel(t *testing.T) {
	planScript(t, `
assert.eq([l.name for l in host.links], ["lo"])
assert.true(host.link("lo").up)
assert.eq(host.routes, [])
assert.eq(host.sysctl("net.ipv4.ip_forward"), "0")

# A new namespace: lo down and bare until brought up.
ns = namespace("ns1", lo = False)
lo = ns.link("lo")
assert.eq((lo.up, lo.addrs, lo.kind), (False, [], "loopback"))
lo.set_up()
assert.eq(lo.addrs, ["127.0.0.1/8", "::1/128"])
assert.eq(ns.routes, [])

# A veth across namespaces; an address on a down device has no route yet,
# so a gateway there is refused, as the kernel refuses it.
a, b = veth("a", "b", peer_ns = ns, addr = "10.0.0.1/24", peer_addr = "10.0.0.2/24", up = False)
assert.eq((a.peer, b.peer), (b, a))
assert.eq(ns.routes, [])
assert.fails(lambda: route(ns, "default", via = "10.0.0.1"), "gateway 10.0.0.1 is not reachable")
b.set_up()
assert.eq([(r.dst, r.dev, r.metric) for r in ns.routes], [("10.0.0.0/24", "b", 0)])
r = route(ns, "default", via = "10.0.0.1")
assert.eq((r.dst, r.via, r.dev), ("default", "10.0.0.1", "b"))
assert.eq([r.dst for r in ns.routes], ["default", "10.0.0.0/24"])
route(ns, "default", via = "10.0.0.1", metric = 5)
assert.eq([(r.dst, r.metric) for r in ns.routes], [("default", 0), ("default", 5), ("10.0.0.0/24", 0)])
b.addr("fd00::2/64")
assert.eq(b.addrs, ["10.0.0.2/24", "fd00::2/64"])
assert.eq([(r.dst, r.metric) for r in ns.routes][-1], ("fd00::/64", 256))

# Down takes the device's routes (and its IPv6 addresses) away.
b.set_down()
assert.eq(ns.routes, [])
assert.eq(b.addrs, ["10.0.0.2/24"])
assert.fails(lambda: b.set(name = "c") and b.set_up() and b.set(name = "d"), "rename")
b.set_up()

# A rename needs the device down; the value follows the device.
b.set_down()
b.set(name = "eth0")
assert.eq(b.name, "eth0")
assert.eq(ns.link("eth0"), b)

# A move takes the device down, out of its bridge, without addresses.
br = bridge("br0", addr = "10.1.0.1/24")
x, y = veth("x", "y", master = br)
assert.eq(x.master, br)
y.addr("10.2.0.1/24")
y.move(ns)
assert.eq((y.ns, y.up, y.addrs, y.master), (ns, False, [], None))
assert.eq(x.peer, y)
assert.fails(lambda: br.move(ns), "Invalid argument|invalid argument")

# Bridge ports and deleting the bridge.
assert.eq([l.name for l in host.links if l.master == br], ["x"])
br.delete()
assert.eq(x.master, None)

# Deleting a namespace deletes its veths, and their peers elsewhere.
assert.eq(sorted([l.name for l in host.links]), ["a", "lo", "x"])
ns.delete()
assert.eq([l.name for l in host.links], ["lo"])
assert.eq(namespaces(), [])

# iptables rules: idempotent, deletable; a port without a protocol is
# refused as iptables refuses it.
r1 = firewall(host, "FORWARD", "-j DROP")
firewall(host, "FORWARD", "-j DROP")
assert.fails(lambda: firewall(host, "INPUT", "--dport 80 -j ACCEPT"), 'unknown option "--dport"')
r1.delete()

# Sysctls.
forwarding()
assert.eq(host.sysctl("net.ipv4.ip_forward"), "1")
assert.eq(host.sysctl("net.ipv4.ip_forward", "0"), "1")
`)
}

// TestPlanProcesses: background commands are processes of the plan; a
// kill of their pids ends them, and a namespace that only they kept alive
// goes with its veths (the plan waits for the kernel to finish that).
func TestPlanProcesses(t *testing.T) {
	rec := planScript(t, `
c = exec(host, ["unshare", "--net", "sleep", "3600"], background = True)
cn = namespace(pid = c.pid)
assert.false(cn.link("lo").up)
cn.link("lo").set_up()
assert.eq(identify(c.pid), cn)
assert.eq(cn.pids, [c.pid])
assert.true(cn != host and cn.name == None)
veth("v0", "eth0", peer_ns = cn, addr = "10.0.0.1/24", peer_addr = "10.0.0.2/24")
assert.eq(cn.link("eth0").peer.name, "v0")

ns1 = namespace("ns1")
veth("w0", "w1", peer_ns = ns1)
s = exec(ns1, ["sleep", "3600"], background = True)
assert.true(s.running)
ns1.delete()                       # a process keeps it alive, with w0's peer
assert.eq([l.name for l in host.links], ["lo", "v0", "w0"])
exec(host, "kill %d %d" % (s.pid, c.pid))
assert.eq([l.name for l in host.links], ["lo"])
assert.false(s.running)
assert.eq(exec(host, "true", check = False).code, 1)
assert.eq(exec(host, "true").code, 0)
`)
	var buf bytes.Buffer
	plan.WriteScript(&buf, "m.star", "m", rec.Ops())
	out := buf.String()
	for _, want := range []string{
		"unshare --net sleep 3600 >/dev/null 2>&1 &\npid1=$!\ni=0; while [ \"$(stat -L -c %i /proc/$pid1/ns/net 2>/dev/null)\" = \"$(stat -L -c %i /proc/$$/ns/net)\" ]",
		"nsenter -t \"$pid1\" -n ip link set lo up\n",
		"ip link add v0 type veth peer name eth0 netns \"$pid1\"\n",
		"nsenter -t \"$pid1\" -n ip addr add 10.0.0.2/24 dev eth0\n",
		"ip netns exec ns1 sleep 3600 >/dev/null 2>&1 &\npid2=$!\n",
		"ip netns del ns1\nkill \"$pid2\" \"$pid1\" || true\n",
		"i=0; while ip link show dev w0 >/dev/null 2>&1 && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done",
		"i=0; while ip link show dev v0 >/dev/null 2>&1",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the plan lacks %q:\n%s", want, out)
		}
	}
}

// TestPlanAssertFails: a call assert.fails expects to fail, which the
// model lets through, is left out of the plan.
func TestPlanAssertFails(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "f.star")
	os.WriteFile(f, []byte(`
assert.fails(lambda: namespace("x") and fail("no"), "would fail")
`), 0o644)
	rec, err := PlanRun(f, nil, "f")
	if err != nil {
		t.Fatal(FormatError(err))
	}
	var buf bytes.Buffer
	plan.WriteScript(&buf, "f.star", "f", rec.Ops())
	if strings.Contains(buf.String(), "ip netns add x") || !strings.Contains(buf.String(), "# assert.fails: lambda did not fail in the plan") {
		t.Errorf("plan:\n%s", buf.String())
	}
}
