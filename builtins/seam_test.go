package builtins

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
	"golang.org/x/sys/unix"

	"github.com/nsscript/nsscript/builtins/kernel"
	"github.com/nsscript/nsscript/builtins/plan"
)

// run runs src against the plan's model of the kernel (no root, nothing
// changes) and returns the model and the script's error.
func run(t *testing.T, src string) (*plan.Plan, error) {
	t.Helper()
	p := plan.New()
	e := NewEnv("t", p, nil, p)
	thread := &starlark.Thread{Name: "t"}
	_, err := starlark.ExecFileOptions(&syntax.FileOptions{}, thread, "t.star", src, e.Predeclared())
	return p, err
}

// TestErrorsKeepCause: a builtin's error keeps the kernel's in its chain,
// whatever its message says.
func TestErrorsKeepCause(t *testing.T) {
	for _, c := range []struct {
		src   string
		cause error
	}{
		{`link("nope")`, kernel.ErrNoLink},
		{`ns = namespace("n1")
bridge("br0").move(ns)`, unix.EINVAL},
	} {
		_, err := run(t, c.src)
		if err == nil {
			t.Errorf("%s: no error", c.src)
			continue
		}
		if !errors.Is(err, c.cause) {
			t.Errorf("%s: %v does not wrap %v", c.src, err, c.cause)
		}
	}
}

// TestBuiltinsOnModel: what the builtins make, the kernel they are given
// holds (here the plan's model), and what they change the recorder above
// it writes down, in order.
func TestBuiltinsOnModel(t *testing.T) {
	p, err := run(t, `
ns = namespace("n1")
a, b = veth("a", "b", peer_ns = ns, addr = "10.1.0.1/24", peer_addr = "10.1.0.2/24")
route(ns, "default", via = "10.1.0.1")
forwarding()
`)
	if err != nil {
		t.Fatal(err)
	}
	ns, err := p.Model.OpenNamed("n1")
	if err != nil {
		t.Fatal(err)
	}
	li, err := p.Model.LinkByName(ns, "b")
	if err != nil || !li.Up || li.Kind != "veth" {
		t.Fatalf("b in n1: %+v, %v", li, err)
	}
	if v, _ := p.Model.ReadSysctl(p.Model.Host(), "net.ipv4.ip_forward"); v != "1" {
		t.Errorf("ip_forward = %q", v)
	}
	var ops []string
	for _, op := range p.Ops() {
		ops = append(ops, op.Cmd)
	}
	want := []string{
		"ip netns add n1",
		"ip -n n1 link set lo up",
		"ip link add a type veth peer name b netns n1",
		"ip addr add 10.1.0.1/24 dev a",
		"ip link set a up",
		"ip -n n1 addr add 10.1.0.2/24 dev b",
		"ip -n n1 link set b up",
		"ip -n n1 route replace default via 10.1.0.1",
		"sysctl -w net.ipv4.ip_forward=1",
	}
	if len(ops) != len(want) {
		t.Fatalf("ops:\n%q\nwant:\n%q", ops, want)
	}
	for i := range want {
		if ops[i] != want[i] {
			t.Errorf("op %d: %q, want %q", i, ops[i], want[i])
		}
	}
}

// TestRoutingOnModel: policy rules, ip6tables rules, positions, chains of
// the lab's, IPv6 forwarding and masquerade go through the seam: the
// recorder writes each as its command, the model holds it, and a second
// call finds it there (no command).
func TestRoutingOnModel(t *testing.T) {
	p, err := run(t, `
ns = namespace("n1")
a, b = veth("a", "b", peer_ns = ns, addr = "10.1.0.1/24", peer_addr = "10.1.0.2/24")
route(ns, "default", via = "10.1.0.1", table = 11)
def build():
    r = rule(ns, from_ = "10.1.0.2", table = 11, priority = 100)
    auto = rule(ns, fwmark = "0x1/0xff", table = 11)
    firewall(ns, "WEB", "-p tcp --dport 80 -j ACCEPT")
    firewall(ns, "INPUT", "-j WEB", position = 1)
    firewall(ns, "INPUT", "-p icmpv6 -j DROP", family = "ipv6")
    nat.masquerade("fd01::/64", ns = ns, not_dst = "fd01::/64")
    forwarding(ns, family = "ipv6")
    return r, auto
r, auto = build()
r2, auto2 = build()
got = (r.priority, r.table, r.from_, auto.priority, auto2.priority)
got == (100, 11, "10.1.0.2/32", 99, 99) or fail(got)
`)
	if err != nil {
		t.Fatal(err)
	}
	var ops []string
	for _, op := range p.Ops() {
		ops = append(ops, op.Cmd)
	}
	ops = ops[slices.Index(ops, "ip -n n1 route replace default via 10.1.0.1 table 11")+1:]
	c := " -m comment --comment nsscript:t"
	want := []string{
		"ip -n n1 rule add from 10.1.0.2/32 table 11 priority 100",
		"ip -n n1 rule add from all fwmark 0x1/0xff table 11 priority 99",
		"ip netns exec n1 iptables -t filter -N WEB",
		"ip netns exec n1 iptables -t filter -A WEB -p tcp --dport 80 -j ACCEPT" + c,
		"ip netns exec n1 iptables -t filter -I INPUT 1 -j WEB" + c,
		"ip netns exec n1 ip6tables -t filter -A INPUT -p icmpv6 -j DROP" + c,
		"ip netns exec n1 ip6tables -t nat -A POSTROUTING -s fd01::/64 ! -d fd01::/64 -j MASQUERADE" + c,
		"ip netns exec n1 sysctl -w net.ipv6.conf.all.forwarding=1",
		// The second round: only the sysctl, which a plan always shows.
		"ip netns exec n1 sysctl -w net.ipv6.conf.all.forwarding=1",
	}
	if !slices.Equal(ops, want) {
		t.Fatalf("ops:\n%s\nwant:\n%s", strings.Join(ops, "\n"), strings.Join(want, "\n"))
	}
	inv := strings.Join(p.Model.Inventory(), "\n")
	for _, w := range []string{"ip rule n1 from 10.1.0.2/32 table 11 priority 100", "chain n1 iptables -t filter -N WEB",
		"rule n1 ip6tables -t nat -A POSTROUTING -s fd01::/64 ! -d fd01::/64 -j MASQUERADE"} {
		if !strings.Contains(inv, w) {
			t.Errorf("the model's inventory lacks %q:\n%s", w, inv)
		}
	}
}

func TestDevicesOnModel(t *testing.T) {
	p, err := run(t, `
m = namespace("m")
eth0, _ = veth("eth0", "up0", ns = m, addr = "192.0.2.1/24", mac = "02:00:00:00:00:01", peer_mac = "02:00:00:00:00:02")
br = bridge("br0", ns = m)
vxlan("vx0", 42, remote = "192.0.2.2", local = "192.0.2.1", dev = eth0, ns = m, master = br)
vxlan("vx1", 7, group = "239.1.1.1", dev = "eth0", dstport = 8472, ns = m, up = False)
tap("tap0", ns = m, master = br)
vlan(eth0, 10, addr = "10.10.0.1/24")
macvlan(link("up0"), "mv0", ns = m, mode = "private", up = False)
m.neigh("192.0.2.2", "02:00:00:00:00:02", "eth0")
m.del_neigh("192.0.2.2", eth0)
m.del_neigh("192.0.2.3", eth0)
`)
	if err != nil {
		t.Fatal(err)
	}
	var ops []string
	for _, op := range p.Ops() {
		ops = append(ops, op.Cmd)
	}
	want := []string{
		"ip netns add m",
		"ip -n m link set lo up",
		"ip -n m link add eth0 address 02:00:00:00:00:01 type veth peer name up0 netns $$ address 02:00:00:00:00:02",
		"ip -n m addr add 192.0.2.1/24 dev eth0",
		"ip -n m link set eth0 up",
		"ip link set up0 up",
		"ip -n m link add br0 type bridge",
		"ip -n m link set br0 up",
		"ip -n m link add vx0 type vxlan id 42 remote 192.0.2.2 local 192.0.2.1 dev eth0 dstport 4789",
		"ip -n m link set vx0 master br0",
		"ip -n m link set vx0 up",
		"ip -n m link add vx1 type vxlan id 7 group 239.1.1.1 dev eth0 dstport 8472",
		"ip -n m tuntap add tap0 mode tap",
		"ip -n m link set tap0 master br0",
		"ip -n m link set tap0 up",
		"ip -n m link add link eth0 name eth0.10 type vlan id 10",
		"ip -n m addr add 10.10.0.1/24 dev eth0.10",
		"ip -n m link set eth0.10 up",
		"ip link add link up0 name mv0 netns m type macvlan mode private",
		"ip -n m neigh replace 192.0.2.2 lladdr 02:00:00:00:00:02 dev eth0 nud permanent",
		"ip -n m neigh del 192.0.2.2 dev eth0",
	}
	if len(ops) != len(want) {
		t.Fatalf("ops:\n%s\nwant:\n%s", strings.Join(ops, "\n"), strings.Join(want, "\n"))
	}
	for i := range want {
		if ops[i] != want[i] {
			t.Errorf("op %d: %q, want %q", i, ops[i], want[i])
		}
	}
	inv := strings.Join(p.Model.Inventory(), "\n")
	for _, w := range []string{"link m/vx0 vxlan vni 42 remote 192.0.2.2 local 192.0.2.1 dev eth0 dstport 4789 master br0", "link m/eth0.10 vlan id 10 on eth0", "link m/mv0 macvlan mode private", "link m/tap0 tap master br0"} {
		if !strings.Contains(inv, w) {
			t.Errorf("inventory lacks %q:\n%s", w, inv)
		}
	}
}
