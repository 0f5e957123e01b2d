package builtins

import (
	"strings"
	"testing"
)

// A pingall of many pairs that lost some says that the kernel's one
// neighbour table may have overflowed; a small or a clean one does not,
// and prints exactly as Mininet's pingall.
func TestMatrixNeighbourNote(t *testing.T) {
	nodes := []node{{name: "h1"}, {name: "h2"}}
	m := &Matrix{nodes: nodes, count: 1, got: [][]int{{0, 1}, {0, 0}}}
	if got, want := m.String(), "h1 -> h2\nh2 -> X\n*** Results: 50% dropped (1/2 received)"; got != want {
		t.Errorf("small matrix:\n%s\nwant:\n%s", got, want)
	}
	m.crowded = true
	if s := m.String(); !strings.Contains(s, "\n*** Note: 2 pairs at once may overflow the kernel's neighbour table") || !strings.Contains(s, "gc_thresh3") {
		t.Errorf("crowded matrix with drops: no note:\n%s", s)
	}
	m.got = [][]int{{0, 1}, {1, 0}}
	if s := m.String(); strings.Contains(s, "Note") {
		t.Errorf("crowded matrix without drops has a note:\n%s", s)
	}
}
