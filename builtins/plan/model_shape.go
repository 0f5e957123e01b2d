package plan

import (
	"fmt"
	"net"
	"time"

	"github.com/nsscript/nsscript/builtins/kernel"
)

// Link shaping in the model: a device's shaping is one value, as
// Linux's qdiscs and filter amount to one. The model's kernel has every
// qdisc, so a plan takes the netem path; its recorder says where a kernel
// without sch_netem takes the forwarder's instead.

// ShapeSupport is a kernel with everything shaping needs.
func (r *Model) ShapeSupport() kernel.ShapeSupport { return kernel.AllShaping }

// Shaping reads what nsscript set on a device's egress.
func (r *Model) Shaping(ns *kernel.NS, index int) (*kernel.Shaping, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, l, err := r.link(ns, index)
	if err != nil {
		return nil, err
	}
	return l.shape.Clone(), nil
}

// SetShaping sets it.
func (r *Model) SetShaping(ns *kernel.NS, index int, s *kernel.Shaping) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	n, l, err := r.link(ns, index)
	if err != nil {
		return err
	}
	if s != nil && s.Tap != "" && n.byName(s.Tap) == nil {
		return fmt.Errorf("the forwarder's tap %q: %w", s.Tap, kernel.ErrNoLink)
	}
	l.shape = s.Clone()
	return nil
}

// ConnectTCP refuses: throughput asks the planner instead.
func (r *Model) ConnectTCP(ns *kernel.NS, addr string, timeout time.Duration) (net.Conn, error) {
	return nil, errPlan
}

// ListenTCP refuses, as ConnectTCP.
func (r *Model) ListenTCP(ns *kernel.NS, addr string) (net.Listener, error) { return nil, errPlan }
