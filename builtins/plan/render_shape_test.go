package plan

import (
	"testing"
	"time"

	"github.com/nsscript/nsscript/builtins/kernel"
)

// TestShapeForwarderCommands: the forwarder's hook as a trace prints it
// (a run on a kernel without sch_netem): its clsact and filter, behind
// the tbf of a rate; and taken away.
func TestShapeForwarderCommands(t *testing.T) {
	r := &Renderer{}
	ns := kernel.FakeNS("a", "/run/netns/a", 4026532001, false)
	s := &kernel.Shaping{Rate: 10e6, Delay: 20 * time.Millisecond, Limit: kernel.NetemLimit, Tap: "nsfwd7"}
	filter := "tc -n a filter replace dev x egress protocol all pref 20051 handle 1 bpf bytecode '4,32 0 0 4294963220,21 1 0 1853059944,6 0 0 4294967295,6 0 0 0' action mirred egress redirect dev nsfwd7"
	for _, c := range []struct {
		cur, next *kernel.Shaping
		want      string
	}{
		{nil, s, "tc -n a qdisc add dev x root handle 4e53: tbf rate 10mbit burst 12500 limit 137500\ntc -n a qdisc add dev x clsact\n" + filter},
		{&kernel.Shaping{Rate: 10e6, Delay: time.Millisecond, Tap: "nsfwd5"}, s, filter},
		{s, &kernel.Shaping{Rate: 10e6}, "tc -n a filter del dev x egress pref 20051\ntc -n a qdisc del dev x clsact"},
		{s, nil, "tc -n a qdisc del dev x root\ntc -n a filter del dev x egress pref 20051\ntc -n a qdisc del dev x clsact"},
	} {
		if got := r.Shape(ns, "x", 1500, c.cur, c.next, false); got != c.want {
			t.Errorf("from %v to %v:\n%s\nwant:\n%s", c.cur, c.next, got, c.want)
		}
	}
}
