package builtins

import (
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"time"

	"go.starlark.net/starlark"

	"github.com/nsscript/nsscript/builtins/kernel"
)

// Link shaping: veth(..., rate=, delay=, jitter=, loss=) and
// link.shape(...), read back as link.shape. The kernel's qdiscs do it
// (tbf for rate, netem for the rest: see kernel/shape.go); where the
// kernel has no sch_netem, a forwarder process of the lab does what
// netem would (kernel/forward.go), and link.shape says so.

// Rate is a rate as tc writes it ("10mbit", "1gbit", "500kbit", "1mbps"
// for a megabyte per second) or bits per second as an int: bits per
// second, 0 for none.
type Rate uint64

func (r *Rate) Unpack(v starlark.Value) error {
	switch x := v.(type) {
	case starlark.NoneType:
		return nil
	case starlark.String:
		bits, err := kernel.ParseRate(string(x))
		if err != nil {
			return err
		}
		*r = Rate(bits)
		return nil
	case starlark.Int:
		n, ok := x.Uint64()
		if !ok || n < 8 {
			return fmt.Errorf("rate %s is not a number of bits per second from 8 up: write it like \"10mbit\"", x)
		}
		if n > 8*math.MaxUint32*1000 {
			return fmt.Errorf("rate %s is too high: tc takes at most %s (a 32-bit count of bytes per millisecond)", x, kernel.MaxRateText)
		}
		*r = Rate(n / 8 * 8)
		return nil
	}
	return fmt.Errorf("want a rate like \"10mbit\" (str), got %s", v.Type())
}

// Delay is a time as tc writes it: "20ms", "1.5s", "500us" (a unit is
// needed: tc reads a bare number as microseconds, nsscript as seconds).
type Delay time.Duration

func (d *Delay) Unpack(v starlark.Value) error {
	switch x := v.(type) {
	case starlark.NoneType:
		return nil
	case starlark.String:
		t, err := kernel.ParseDelay(string(x))
		if err != nil {
			return err
		}
		*d = Delay(t)
		return nil
	case starlark.Int, starlark.Float:
		return fmt.Errorf("%s has no unit: write it like \"20ms\", \"1.5s\" or \"500us\"", x)
	}
	return fmt.Errorf("want a time like \"20ms\" (str), got %s", v.Type())
}

// Percent is a probability: "1%", "0.5%", or a number of percent as
// Mininet takes it (loss=10 is 10%).
type Percent float64

func (p *Percent) Unpack(v starlark.Value) error {
	switch x := v.(type) {
	case starlark.NoneType:
		return nil
	case starlark.String:
		f, err := kernel.ParsePercent(string(x))
		if err != nil {
			return err
		}
		*p = Percent(f)
		return nil
	case starlark.Int, starlark.Float:
		f, _ := starlark.AsFloat(x)
		f, err := kernel.CheckPercent(f, x.String()+"%")
		if err != nil {
			return err
		}
		*p = Percent(f)
		return nil
	}
	return fmt.Errorf("want a percentage like \"1%%\" (str) or a number of percent, got %s", v.Type())
}

// QueueLimit is netem's limit: packets, 1 or more.
type QueueLimit int

func (q *QueueLimit) Unpack(v starlark.Value) error {
	if v == starlark.None {
		return nil
	}
	n, err := asInt(v, "a number of packets")
	if err != nil {
		return err
	}
	if n < 1 || n > 1<<20 {
		return fmt.Errorf("limit %d is not a number of packets from 1 to %d", n, 1<<20)
	}
	*q = QueueLimit(n)
	return nil
}

// shapeArgs are the shaping parameters of a call.
type shapeArgs struct {
	rate                     Rate
	delay, jitter            Delay
	loss, duplicate, reorder Percent
	limit                    QueueLimit
}

// shaping checks what only the parameters together say and returns the
// shaping they ask for (nil: none).
func (a *shapeArgs) shaping(fn string) (*kernel.Shaping, error) {
	if a.jitter > 0 && a.delay == 0 {
		return nil, errorf(fn, "for parameter jitter: jitter %s varies a delay, and there is none: give delay= too (e.g. delay=\"20ms\", jitter=\"5ms\")", kernel.FormatDelay(time.Duration(a.jitter)))
	}
	if a.reorder > 0 && a.delay == 0 {
		return nil, errorf(fn, "for parameter reorder: reorder %s sends that share of the packets at once, ahead of the delayed ones, and there is no delay: give delay= too", kernel.FormatPercent(float64(a.reorder)))
	}
	s := &kernel.Shaping{Rate: uint64(a.rate), Delay: time.Duration(a.delay), Jitter: time.Duration(a.jitter),
		Loss: float64(a.loss), Duplicate: float64(a.duplicate), Reorder: float64(a.reorder), Limit: int(a.limit)}
	if s.Netem() && s.Limit == 0 {
		s.Limit = kernel.NetemLimit
	}
	return s.Clone(), nil
}

// checkShaping fails, before anything is made, when the kernel lacks
// what s needs: tbf for a rate; netem, or else what the forwarder needs,
// for the rest.
func (e *Env) checkShaping(fn string, s *kernel.Shaping) error {
	if s.Empty() {
		return nil
	}
	sup := e.K.ShapeSupport()
	if s.Rate > 0 && sup.Tbf != "" {
		return errorf(fn, "for parameter rate: rate needs sch_tbf, which this kernel lacks (%s): build the kernel with CONFIG_NET_SCH_TBF or load the module (modprobe sch_tbf)", sup.Tbf)
	}
	if s.Netem() && sup.Netem != "" {
		if miss := sup.Fallback(); len(miss) > 0 || sup.TunDenied {
			var what []string
			for _, a := range s.Args() {
				if k, _, _ := strings.Cut(a, "="); k != "limit" || len(what) == 0 {
					what = append(what, k)
				}
			}
			need := "needs"
			if len(what) > 1 {
				need = "need"
			}
			var why []string
			if len(miss) > 0 {
				why = append(why, "this kernel lacks "+joinAnd(miss)+" too")
			}
			if sup.TunDenied {
				why = append(why, kernel.TunDeniedNote)
			}
			return errorf(fn, "%s %s sch_netem, which this kernel lacks, or nsscript's forwarder, which needs the clsact qdisc, cls_bpf, act_mirred and tun: %s", joinAnd(what), need, strings.Join(why, "; "))
		}
	}
	return nil
}

// joinAnd joins words as a sentence does: "a, b and c".
func joinAnd(words []string) string {
	if len(words) > 1 {
		return strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
	}
	return strings.Join(words, "")
}

// forwarder is a forwarder this run uses for a device: the process
// (started or adopted), its tap and its command line.
type forwarder struct {
	proc *Process
	tap  string
	argv []string
}

type fwdKey struct {
	ns    uint64
	index int
}

// setShape makes the device shaped as s says (nil: not at all): through
// the kernel's qdiscs, with a forwarder for the netem part where the
// kernel has no sch_netem.
func (l *Link) setShape(fn string, s *kernel.Shaping) error {
	e := l.env
	li, err := l.Info()
	if err != nil {
		return errorf(fn, "%w", err)
	}
	if err := e.checkShaping(fn, s); err != nil {
		return err
	}
	var fwd *forwarder
	if s.Netem() && e.K.ShapeSupport().Netem != "" {
		if fwd, err = l.forwarder(fn, s); err != nil {
			return err
		}
		s = s.Clone()
		s.Tap = fwd.tap
	}
	if err := e.K.SetShaping(l.ns.ns, l.index, s); err != nil {
		if errors.Is(err, kernel.ErrForeignQdisc) {
			return errorf(fn, "cannot shape %q in %s: %w", li.Name, l.ns.Name(), err)
		}
		return errorf(fn, "shape %q in %s: %w", li.Name, l.ns.Name(), err)
	}
	e.useForwarder(fwdKey{l.ns.ns.Inode, l.index}, fwd)
	return nil
}

// forwarder starts the forwarder of the device's netem part, or finds
// the one this run or an earlier run of the lab started for it, and
// waits until its tap is up.
func (l *Link) forwarder(fn string, s *kernel.Shaping) (*forwarder, error) {
	e, n := l.env, l.ns
	argv := kernel.ForwarderArgv(l.index, s)
	e.mu.Lock()
	f := e.fwds[fwdKey{n.ns.Inode, l.index}]
	e.mu.Unlock()
	if f != nil && slices.Equal(f.argv, argv) && f.proc.Running() {
		return f, nil
	}
	f = &forwarder{argv: argv}
	if pi, ok := e.Own.FindProcess(n.ns, argv, nil); ok {
		f.proc = n.adopted(argv, pi)
	} else {
		v, err := n.startBackground(fn, argv, os.Environ(), nil, nil)
		if err != nil {
			return nil, err
		}
		f.proc = v.(*Process)
	}
	f.tap = kernel.ForwarderTap(f.proc.Pid())
	deadline := time.Now().Add(5 * time.Second)
	for {
		if li, err := e.K.LinkByName(n.ns, f.tap); err == nil && li.Up && kernel.IsForwarderTap(li) {
			return f, nil
		}
		if !f.proc.Running() || time.Now().After(deadline) {
			why := "did not make its tap " + f.tap + " within 5s"
			if !f.proc.Running() {
				why = "ended"
			}
			out, _ := os.ReadFile(f.proc.errPath)
			if msg := strings.TrimSpace(string(out)); msg != "" {
				why += ": " + msg
			}
			_ = f.proc.stopAny()
			return nil, errorf(fn, "the forwarder that shapes %q in %s %s", l.name, n.Name(), why)
		}
		select {
		case <-e.Ctx.Done():
			_ = f.proc.stopAny()
			return nil, errorf(fn, "%s", e.interrupted())
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// useForwarder notes that the device now uses fwd (nil: none), and stops
// the forwarder it used before in this run, if another.
func (e *Env) useForwarder(key fwdKey, fwd *forwarder) {
	e.mu.Lock()
	if e.fwds == nil {
		e.fwds = map[fwdKey]*forwarder{}
	}
	old := e.fwds[key]
	if fwd == nil {
		delete(e.fwds, key)
	} else {
		e.fwds[key] = fwd
	}
	e.mu.Unlock()
	if old != nil && old != fwd {
		_ = old.proc.stopAny()
	}
}

// stopAny ends a process this run started or adopted.
func (p *Process) stopAny() error {
	if p.cmd == nil && p.planned == nil {
		return p.stop()
	}
	p.Stop(2 * time.Second)
	return nil
}

// linkShape is the link.shape method: link.shape(rate=, delay=, ...)
// shapes the device's egress, link.shape(None) takes the shaping away.
func linkShape(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	l := recvLink(b)
	clear := len(args) == 1 && args[0] == starlark.None && len(kwargs) == 0
	switch {
	case clear:
	case len(args) > 0:
		return nil, errorf(b.Name(), "takes keyword arguments only: shape(rate=, delay=, jitter=, loss=, duplicate=, reorder=, limit=), or shape(None) to take the shaping away")
	case len(kwargs) == 0:
		return nil, errorf(b.Name(), "nothing to shape: give rate=, delay=, jitter=, loss=, duplicate=, reorder= or limit= (shape(None) takes the shaping away)")
	}
	var a shapeArgs
	if !clear {
		if err := unpack(b, nil, kwargs, &a.rate, &a.delay, &a.jitter, &a.loss, &a.duplicate, &a.reorder, &a.limit); err != nil {
			return nil, err
		}
	}
	s, err := a.shaping(b.Name())
	if err != nil {
		return nil, err
	}
	if err := l.setShape(b.Name(), s); err != nil {
		return nil, err
	}
	return l, nil
}

// Shape is what link.shape reads: the device's shaping now, and how it is
// done. Called, it is the link.shape method.
type Shape struct {
	link *Link
	s    *kernel.Shaping
}

var (
	_ starlark.HasAttrs = (*Shape)(nil)
	_ starlark.Callable = (*Shape)(nil)
)

func (v *Shape) String() string {
	if v.s.Empty() {
		return "none"
	}
	return v.s.String() + " (" + v.s.Mechanism() + ")"
}
func (v *Shape) Type() string          { return "Shape" }
func (v *Shape) Freeze()               {}
func (v *Shape) Truth() starlark.Bool  { return starlark.Bool(!v.s.Empty()) }
func (v *Shape) Hash() (uint32, error) { return 0, errors.New("unhashable: Shape") }
func (v *Shape) Name() string          { return "link.shape" }

// CallInternal is link.shape(...) on the link read.
func (v *Shape) CallInternal(thread *starlark.Thread, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	return linkMethods.get(v.link, "shape").(*starlark.Builtin).CallInternal(thread, args, kwargs)
}

var shapeAttrs = []string{"delay", "duplicate", "jitter", "limit", "loss", "mechanism", "rate", "reorder"}

func (v *Shape) AttrNames() []string { return shapeAttrs }

func (v *Shape) Attr(name string) (starlark.Value, error) {
	s := v.s
	if s == nil {
		s = &kernel.Shaping{}
	}
	str := func(set bool, f func() string) starlark.Value {
		if !set {
			return starlark.None
		}
		return starlark.String(f())
	}
	switch name {
	case "rate":
		return str(s.Rate > 0, func() string { return kernel.FormatRate(s.Rate) }), nil
	case "delay":
		return str(s.Delay > 0, func() string { return kernel.FormatDelay(s.Delay) }), nil
	case "jitter":
		return str(s.Jitter > 0, func() string { return kernel.FormatDelay(s.Jitter) }), nil
	case "loss":
		return str(s.Loss > 0, func() string { return kernel.FormatPercent(s.Loss) }), nil
	case "duplicate":
		return str(s.Duplicate > 0, func() string { return kernel.FormatPercent(s.Duplicate) }), nil
	case "reorder":
		return str(s.Reorder > 0, func() string { return kernel.FormatPercent(s.Reorder) }), nil
	case "limit":
		if s.Limit == 0 {
			return starlark.None, nil
		}
		return starlark.MakeInt(s.Limit), nil
	case "mechanism":
		return str(!s.Empty(), s.Mechanism), nil
	}
	return nil, nil
}

// shapeValue reads the device's shaping.
func (l *Link) shapeValue() (starlark.Value, error) {
	if _, err := l.Info(); err != nil {
		return nil, err
	}
	s, err := l.env.K.Shaping(l.ns.ns, l.index)
	if err != nil {
		return nil, err
	}
	return &Shape{link: l, s: s}, nil
}
