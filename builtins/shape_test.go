package builtins

import (
	"strings"
	"testing"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/nsscript/nsscript/builtins/kernel"
	"github.com/nsscript/nsscript/builtins/plan"
)

// TestShapePlan: a plan prints the tc commands of the netem path (a
// netem, a tbf for a rate, netem under the tbf for both), and, once,
// what a kernel without sch_netem does instead; each netem command goes
// on where the kernel lacks it; a changed shaping changes only what
// differs; None takes it away. link.shape reads back what was set.
func TestShapePlan(t *testing.T) {
	p, err := run(t, `
a = namespace("a")
x, y = veth("x", "y", ns = a, delay = "20ms", jitter = "2ms", loss = "1%")
assert.eq((x.shape.delay, x.shape.jitter, x.shape.loss, x.shape.mechanism), ("20ms", "2ms", "1%", "netem"))
y.shape(rate = "10mbit")
y.shape(rate = "10mbit", delay = "5ms")
y.shape(rate = "20mbit", delay = "5ms")
y.shape(rate = "20mbit", delay = "6ms", limit = 50)
assert.eq(str(y.shape), "rate 20mbit delay 6ms limit 50 (tbf+netem)")
y.shape(None)
x.shape(delay = "20ms", duplicate = "1%", reorder = "25%")
x.shape(None)
assert.false(x.shape)
`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, op := range p.Ops() {
		if op.Op == "shape" {
			got = append(got, op.Cmd)
		}
	}
	guard := func(dev string) string {
		return " || echo 'no sch_netem here: " + dev + " is not shaped (nsscript would run its forwarder)' >&2"
	}
	want := []string{
		"# delay, jitter, loss, duplicate, reorder and limit are netem's: where the kernel has no sch_netem, nsscript runs them in a forwarder process of the lab instead (link.shape says which), and this script only says so\n" +
			"tc -n a qdisc add dev x root handle 4e53: netem delay 20ms 2ms loss 1%" + guard("x"),
		"tc qdisc add dev y root handle 4e53: netem delay 20ms 2ms loss 1%" + guard("y"),
		"tc qdisc del dev y root 2>/dev/null || true\ntc qdisc add dev y root handle 4e53: tbf rate 10mbit burst 12500 limit 137500",
		"tc qdisc add dev y parent 4e53:1 handle 4e54: netem delay 5ms" + guard("y"),
		"tc qdisc change dev y root handle 4e53: tbf rate 20mbit burst 25000 limit 275000",
		"tc qdisc change dev y parent 4e53:1 handle 4e54: netem limit 50 delay 6ms" + guard("y"),
		"tc qdisc del dev y root",
		"tc -n a qdisc change dev x root handle 4e53: netem delay 20ms duplicate 1% reorder 25%" + guard("x"),
		"tc -n a qdisc del dev x root 2>/dev/null || true",
	}
	if strings.Join(got, "\n---\n") != strings.Join(want, "\n---\n") {
		t.Errorf("the plan's shaping:\n%s\n\nwant:\n%s", strings.Join(got, "\n---\n"), strings.Join(want, "\n---\n"))
	}
}

// lacking is the plan's model of a kernel without some of what shaping
// needs.
type lacking struct {
	*plan.Model
	sup kernel.ShapeSupport
}

func (l lacking) ShapeSupport() kernel.ShapeSupport { return l.sup }

// TestShapeMissingKernel: a kernel without what a shaping needs (tbf for
// a rate; netem, or the forwarder's pieces, for the rest) is an error
// that names what it lacks, before anything is made.
func TestShapeMissingKernel(t *testing.T) {
	missing := "Error: Specified qdisc kind is unknown."
	for _, c := range []struct {
		sup  kernel.ShapeSupport
		src  string
		want string
	}{
		{kernel.ShapeSupport{Tbf: missing}, `veth("a", "b", rate = "10mbit")`,
			"veth: for parameter rate: rate needs sch_tbf, which this kernel lacks (Error: Specified qdisc kind is unknown.): build the kernel with CONFIG_NET_SCH_TBF or load the module (modprobe sch_tbf)"},
		{kernel.ShapeSupport{Netem: missing, BPF: "Error: Unknown filter kind", Tun: "no such file"}, `veth("a", "b", delay = "20ms", loss = "1%")`,
			"veth: delay and loss need sch_netem, which this kernel lacks, or nsscript's forwarder, which needs the clsact qdisc, cls_bpf, act_mirred and tun: this kernel lacks cls_bpf and tun (/dev/net/tun) too"},
		{kernel.ShapeSupport{Netem: missing, Mirred: "no act_mirred"}, `a, b = veth("a", "b")
a.shape(loss = "1%")`,
			"link.shape: loss needs sch_netem, which this kernel lacks, or nsscript's forwarder, which needs the clsact qdisc, cls_bpf, act_mirred and tun: this kernel lacks act_mirred too"},
	} {
		m := lacking{plan.NewModel(), c.sup}
		e := NewEnv("t", m, nil, nil)
		_, err := starlark.ExecFileOptions(&syntax.FileOptions{}, &starlark.Thread{Name: "t"}, "t.star", c.src, e.Predeclared())
		if err == nil || !strings.HasSuffix(err.Error(), c.want) {
			t.Errorf("%s: %v\nwant ...%s", c.src, err, c.want)
		}
		if _, lerr := m.LinkByName(m.Host(), "a"); strings.HasPrefix(c.src, "veth") && lerr == nil {
			t.Errorf("%s: the veth was made", c.src)
		}
	}
}
