package graph

import (
	"strings"
	"testing"
	"time"

	"github.com/nsscript/nsscript/builtins/kernel"
	"github.com/nsscript/nsscript/builtins/plan"
)

// TestGraphShaping: a shaped device says its shaping and what does it,
// in the text, the JSON and the veth pair's edge in dot.
func TestGraphShaping(t *testing.T) {
	m := plan.NewModel()
	host := m.Host()
	if _, err := m.AddVeth(host, "a", host, "b", kernel.LinkOpts{}); err != nil {
		t.Fatal(err)
	}
	li, err := m.LinkByName(host, "a")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.SetShaping(host, li.Index, &kernel.Shaping{Rate: 10e6, Delay: 20 * time.Millisecond, Limit: kernel.NetemLimit}); err != nil {
		t.Fatal(err)
	}
	g, err := Build(m, []*kernel.NS{host}, nil)
	if err != nil {
		t.Fatal(err)
	}
	const shape = "rate 10mbit delay 20ms (tbf+netem)"
	for _, d := range g.Namespaces[0].Devices {
		if want := map[string]string{"a": shape, "b": ""}[d.Name]; d.Shape != want {
			t.Errorf("%s: shape %q, want %q", d.Name, d.Shape, want)
		}
	}
	if text := g.Text(); !strings.Contains(text, "═══ host/b  ["+shape+"]") {
		t.Errorf("the text does not show a's shaping:\n%s", text)
	}
	if dot := g.Dot(); !strings.Contains(dot, `label="veth\nhost/a → `+shape+`"`) {
		t.Errorf("the veth's edge does not say a's shaping:\n%s", dot)
	}
}
