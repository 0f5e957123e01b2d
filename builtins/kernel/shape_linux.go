package kernel

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"strings"
	"syscall"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"
)

// The qdiscs and filter of link shaping on the real kernel (see
// shape.go for what they are).

// ErrForeignQdisc is a device whose root qdisc nsscript did not make:
// shaping it would take that away.
var ErrForeignQdisc = errors.New("a root qdisc that nsscript did not make")

// ShapeSupport probes, once, what the kernel has of what shaping needs:
// in a throwaway network namespace (of a thread that ends with it), it
// adds each qdisc, the egress filter and its action to lo, and opens
// /dev/net/tun. Where it cannot probe, it reports everything there, and
// the shaping itself says what fails.
func (k *Linux) ShapeSupport() ShapeSupport {
	k.shapeOnce.Do(func() { k.shapeSup = k.probeShaping() })
	return k.shapeSup
}

func (k *Linux) probeShaping() ShapeSupport {
	var s ShapeSupport
	_ = k.inThrowawayNS(func(h *netlink.Handle) {
		try := func(q netlink.Qdisc) string {
			if err := h.QdiscAdd(q); err != nil {
				return err.Error()
			}
			_ = h.QdiscDel(q)
			return ""
		}
		s.Tbf = try(tbfQdisc(LoopbackIndex, RootHandle, netlink.HANDLE_ROOT, 1e6, 1500))
		s.Netem = try(netemQdisc(LoopbackIndex, RootHandle, netlink.HANDLE_ROOT, &Shaping{Delay: 1e6}))
		cls := clsact(LoopbackIndex)
		if err := h.QdiscAdd(cls); err != nil {
			s.Clsact = err.Error()
			s.BPF, s.Mirred = "no clsact to probe with", "no clsact to probe with"
		} else {
			if err := execRaw(forwardFilterReq(unix.NLM_F_CREATE|unix.NLM_F_EXCL, LoopbackIndex, 0)); err != nil {
				s.BPF = err.Error()
				s.Mirred = "no cls_bpf to probe with"
			} else {
				_ = execRaw(delFilterReq(LoopbackIndex))
				if err := execRaw(forwardFilterReq(unix.NLM_F_CREATE|unix.NLM_F_EXCL, LoopbackIndex, LoopbackIndex)); err != nil {
					s.Mirred = err.Error()
				}
			}
			_ = h.QdiscDel(cls)
		}
		if f, err := os.OpenFile(tunFile, os.O_RDWR, 0); err != nil {
			s.Tun, s.TunDenied = err.Error(), errors.Is(err, fs.ErrPermission)
		} else {
			f.Close()
		}
	})
	return s
}

func clsact(index int) *netlink.Clsact {
	return &netlink.Clsact{QdiscAttrs: netlink.QdiscAttrs{LinkIndex: index, Handle: netlink.MakeHandle(0xffff, 0), Parent: netlink.HANDLE_CLSACT}}
}

// tbfQdisc is the tbf of a rate (bits per second).
func tbfQdisc(index int, handle, parent uint32, rateBits uint64, mtu int) *netlink.Tbf {
	burst, limit := TbfParams(rateBits, mtu)
	bytes := rateBits / 8
	return &netlink.Tbf{QdiscAttrs: netlink.QdiscAttrs{LinkIndex: index, Handle: handle, Parent: parent},
		Rate: bytes, Limit: limit, Buffer: netlink.Xmittime(bytes, burst)}
}

// netemQdisc is the netem of s's netem part.
func netemQdisc(index int, handle, parent uint32, s *Shaping) *netlink.Netem {
	limit := s.Limit
	if limit == 0 {
		limit = NetemLimit
	}
	n := netlink.NewNetem(netlink.QdiscAttrs{LinkIndex: index, Handle: handle, Parent: parent}, netlink.NetemQdiscAttrs{
		Latency: uint32(s.Delay.Microseconds()), Jitter: uint32(s.Jitter.Microseconds()), Limit: uint32(limit)})
	// (netlink's own conversion of percentages goes through float32.)
	n.Loss, n.Duplicate, n.ReorderProb = percentU32(s.Loss), percentU32(s.Duplicate), percentU32(s.Reorder)
	if s.Reorder > 0 && n.Gap == 0 {
		n.Gap = 1 // as tc: reorder needs a gap
	}
	return n
}

// netemInto reads a netem qdisc's settings into s.
func netemInto(s *Shaping, n *netlink.Netem) {
	us := func(ticks uint32) int64 { return int64(math.Round(float64(ticks) / netlink.TickInUsec())) }
	s.Delay = usec(us(n.Latency))
	s.Jitter = usec(us(n.Jitter))
	s.Loss, s.Duplicate, s.Reorder = u32Percent(n.Loss), u32Percent(n.Duplicate), u32Percent(n.ReorderProb)
	if n.Gap == 0 {
		// netem reorders only with a gap; a change that took reorder
		// away leaves its probability behind, unused.
		s.Reorder = 0
	}
	s.Limit = int(n.Limit)
}

// ourQdiscs are nsscript's root qdisc and the netem under it, if any,
// and whether the root qdisc is another's (not a kernel default).
func ourQdiscs(qs []netlink.Qdisc) (root, child netlink.Qdisc, foreign netlink.Qdisc) {
	for _, q := range qs {
		a := q.Attrs()
		switch {
		case a.Parent == netlink.HANDLE_ROOT && a.Handle == RootHandle:
			root = q
		case a.Parent == netlink.HANDLE_ROOT && a.Handle != 0:
			foreign = q
		case a.Parent == RootHandle|1 && a.Handle == ChildHandle:
			child = q
		}
	}
	return root, child, foreign
}

// Shaping reads back what nsscript set on the device's egress (nil:
// nothing): its qdiscs, and the forwarder's tap its filter hands packets
// to, whose alias says what the forwarder does.
func (k *Linux) Shaping(ns *NS, index int) (*Shaping, error) {
	l, h, err := k.linkByIndex(ns, index)
	if err != nil {
		return nil, err
	}
	qs, err := h.QdiscList(l)
	if err != nil {
		return nil, fmt.Errorf("list the qdiscs of %q: %w", l.Attrs().Name, err)
	}
	s := &Shaping{}
	root, child, _ := ourQdiscs(qs)
	for _, q := range []netlink.Qdisc{root, child} {
		switch q := q.(type) {
		case *netlink.Tbf:
			s.Rate = q.Rate * 8
		case *netlink.Netem:
			netemInto(s, q)
		}
	}
	if !hasClsact(qs) {
		return s.Clone(), nil // no filter
	}
	fs, err := k.egressFilters(ns, index)
	if err != nil {
		return nil, err
	}
	for _, f := range fs {
		if f.pref != FilterPref || f.kind != "bpf" || !f.options {
			continue
		}
		s.Stale = true
		if f.redirect == 0 {
			continue
		}
		tap, err := h.LinkByIndex(f.redirect)
		if err != nil {
			continue
		}
		args, ok := strings.CutPrefix(tap.Attrs().Alias, ForwardAlias+" ")
		if !ok {
			continue
		}
		words := strings.Fields(args)
		if len(words) > 0 && strings.HasPrefix(words[0], "dev=") {
			words = words[1:]
		}
		if err := s.ParseArgs(words); err != nil {
			return nil, fmt.Errorf("the alias of %q: %w", tap.Attrs().Name, err)
		}
		s.Tap, s.Stale = tap.Attrs().Name, false
	}
	return s.Clone(), nil
}

// SetShaping makes the device's egress shaped as s says (nil: not at
// all), changing only what differs. It refuses a device whose root qdisc
// nsscript did not make.
func (k *Linux) SetShaping(ns *NS, index int, s *Shaping) error {
	l, h, err := k.linkByIndex(ns, index)
	if err != nil {
		return err
	}
	name := l.Attrs().Name
	qs, err := h.QdiscList(l)
	if err != nil {
		return fmt.Errorf("list the qdiscs of %q: %w", name, err)
	}
	root, child, foreign := ourQdiscs(qs)
	wantRoot, wantChild := qdiscLayout(s)
	if foreign != nil && wantRoot != "" {
		a := foreign.Attrs()
		return fmt.Errorf("it has %w (%s %s): remove it first (tc qdisc del dev %s root) or shape another device", ErrForeignQdisc, foreign.Type(), TCHandle(a.Handle), name)
	}
	kind := func(q netlink.Qdisc) string {
		if q == nil {
			return ""
		}
		return q.Type()
	}
	switch {
	case root != nil && kind(root) != wantRoot:
		if err := h.QdiscDel(root); err != nil && !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("tc qdisc del dev %s root: %w", name, err)
		}
	case child != nil && kind(child) != wantChild:
		if err := h.QdiscDel(child); err != nil && !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("tc qdisc del dev %s parent %s: %w", name, TCHandle(RootHandle|1), err)
		}
	}
	mtu := l.Attrs().MTU
	var qdiscs []netlink.Qdisc
	switch {
	case wantRoot == "tbf":
		qdiscs = append(qdiscs, tbfQdisc(index, RootHandle, netlink.HANDLE_ROOT, s.Rate, mtu))
		if wantChild == "netem" {
			qdiscs = append(qdiscs, netemQdisc(index, ChildHandle, RootHandle|1, s))
		}
	case wantRoot == "netem":
		qdiscs = append(qdiscs, netemQdisc(index, RootHandle, netlink.HANDLE_ROOT, s))
	}
	for _, q := range qdiscs {
		if err := h.QdiscReplace(q); err != nil {
			return fmt.Errorf("tc qdisc replace dev %s %s: %w", name, q.Type(), qdiscError(q.Type(), err))
		}
	}
	// The forwarder's filter.
	var fs []tcFilter
	if hasClsact(qs) {
		if fs, err = k.egressFilters(ns, index); err != nil {
			return err
		}
	}
	ours, others := false, 0
	for _, f := range fs {
		if f.pref == FilterPref {
			ours = true
		} else if f.options {
			others++
		}
	}
	if s != nil && s.Tap != "" {
		tap, err := h.LinkByName(s.Tap)
		if err != nil {
			return fmt.Errorf("the forwarder's tap %q: %w", s.Tap, err)
		}
		if err := h.QdiscAdd(clsact(index)); err != nil && !errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("tc qdisc add dev %s clsact: %w", name, err)
		}
		if err := k.inNS(ns, func() error {
			return execRaw(forwardFilterReq(unix.NLM_F_CREATE, index, tap.Attrs().Index))
		}); err != nil {
			return fmt.Errorf("tc filter replace dev %s egress ... action mirred egress redirect dev %s: %w", name, s.Tap, err)
		}
		return nil
	}
	if ours {
		if err := k.inNS(ns, func() error { return execRaw(delFilterReq(index)) }); err != nil && !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("tc filter del dev %s egress pref %d: %w", name, FilterPref, err)
		}
		ing, _ := k.filters(ns, index, netlink.HANDLE_MIN_INGRESS)
		if others == 0 && len(ing) == 0 {
			if err := h.QdiscDel(clsact(index)); err != nil && !errors.Is(err, unix.ENOENT) && !errors.Is(err, unix.EINVAL) {
				return fmt.Errorf("tc qdisc del dev %s clsact: %w", name, err)
			}
		}
	}
	return nil
}

// hasClsact reports whether the qdiscs have a clsact (filters to dump).
func hasClsact(qs []netlink.Qdisc) bool {
	for _, q := range qs {
		if q.Type() == "clsact" {
			return true
		}
	}
	return false
}

// qdiscLayout is the kinds of nsscript's root qdisc and of the one under
// it that s needs ("" for none).
func qdiscLayout(s *Shaping) (root, child string) {
	netem := s.Netem() && s.Tap == ""
	switch {
	case s != nil && s.Rate > 0 && netem:
		return "tbf", "netem"
	case s != nil && s.Rate > 0:
		return "tbf", ""
	case netem:
		return "netem", ""
	}
	return "", ""
}

// qdiscError names the module behind "Specified qdisc kind is unknown".
func qdiscError(kind string, err error) error {
	if errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("%w (the kernel has no sch_%s)", err, kind)
	}
	return err
}

// inNS runs fn with the calling thread in ns: at once for the host,
// else on a throwaway thread (see Do).
func (k *Linux) inNS(ns *NS, fn func() error) error {
	if ns.Host {
		return fn()
	}
	return k.Do(ns, fn)
}

// execRaw sends a netlink request from the calling thread's namespace.
func execRaw(req *nl.NetlinkRequest) error {
	_, err := req.Execute(unix.NETLINK_ROUTE, 0)
	return err
}

// forwardFilterReq is `tc filter add|replace dev INDEX egress protocol
// all pref 20051 handle 1 bpf bytecode '...' [action mirred egress
// redirect dev TAP]` (no action with tap 0).
func forwardFilterReq(flags, index, tap int) *nl.NetlinkRequest {
	req := nl.NewNetlinkRequest(unix.RTM_NEWTFILTER, flags|unix.NLM_F_ACK)
	req.AddData(&nl.TcMsg{Family: nl.FAMILY_ALL, Ifindex: int32(index), Handle: 1, Parent: netlink.HANDLE_MIN_EGRESS,
		Info: netlink.MakeHandle(FilterPref, nl.Swap16(unix.ETH_P_ALL))})
	req.AddData(nl.NewRtAttr(nl.TCA_KIND, nl.ZeroTerminated("bpf")))
	opts := nl.NewRtAttr(nl.TCA_OPTIONS, nil)
	prog := ForwardFilter()
	native := nl.NativeEndian()
	ops := make([]byte, 8*len(prog))
	for i, in := range prog {
		native.PutUint16(ops[8*i:], in.Op)
		ops[8*i+2], ops[8*i+3] = in.Jt, in.Jf
		native.PutUint32(ops[8*i+4:], in.K)
	}
	opts.AddRtAttr(nl.TCA_BPF_OPS_LEN, nl.Uint16Attr(uint16(len(prog))))
	opts.AddRtAttr(nl.TCA_BPF_OPS, ops)
	if tap != 0 {
		act := opts.AddRtAttr(nl.TCA_BPF_ACT, nil)
		if err := netlink.EncodeActions(act, []netlink.Action{&netlink.MirredAction{
			ActionAttrs: netlink.ActionAttrs{Action: netlink.TC_ACT_STOLEN}, MirredAction: netlink.TCA_EGRESS_REDIR, Ifindex: tap}}); err != nil {
			panic(err) // (only an unknown action type fails)
		}
	}
	req.AddData(opts)
	return req
}

// delFilterReq is `tc filter del dev INDEX egress pref 20051`.
func delFilterReq(index int) *nl.NetlinkRequest {
	req := nl.NewNetlinkRequest(unix.RTM_DELTFILTER, unix.NLM_F_ACK)
	req.AddData(&nl.TcMsg{Family: nl.FAMILY_ALL, Ifindex: int32(index), Parent: netlink.HANDLE_MIN_EGRESS,
		Info: netlink.MakeHandle(FilterPref, 0)})
	return req
}

// tcFilter is a filter as a dump shows it: its preference, kind, whether
// it is a filter (with options) rather than the head of its preference,
// and the device a mirred action of a bpf filter redirects to (0: none,
// or gone).
type tcFilter struct {
	pref     uint16
	kind     string
	options  bool
	redirect int
}

func (k *Linux) egressFilters(ns *NS, index int) ([]tcFilter, error) {
	return k.filters(ns, index, netlink.HANDLE_MIN_EGRESS)
}

// filters dumps the filters of a device's clsact hook (parent).
func (k *Linux) filters(ns *NS, index int, parent uint32) ([]tcFilter, error) {
	var msgs [][]byte
	err := k.inNS(ns, func() error {
		req := nl.NewNetlinkRequest(unix.RTM_GETTFILTER, unix.NLM_F_DUMP)
		req.AddData(&nl.TcMsg{Family: nl.FAMILY_ALL, Ifindex: int32(index), Parent: parent})
		var err error
		msgs, err = req.Execute(unix.NETLINK_ROUTE, unix.RTM_NEWTFILTER)
		return err
	})
	if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOENT) {
		return nil, nil // no clsact
	}
	if err != nil {
		return nil, fmt.Errorf("list the filters of device %d: %w", index, err)
	}
	var out []tcFilter
	for _, m := range msgs {
		if len(m) < nl.SizeofTcMsg {
			continue
		}
		msg := nl.DeserializeTcMsg(m)
		f := tcFilter{pref: uint16(msg.Info >> 16)}
		attrs, err := nl.ParseRouteAttr(m[nl.SizeofTcMsg:])
		if err != nil {
			continue
		}
		for _, a := range attrs {
			switch attrType(a) {
			case nl.TCA_KIND:
				f.kind = strings.TrimRight(string(a.Value), "\x00")
			case nl.TCA_OPTIONS:
				f.options = true
				f.redirect = mirredTarget(a.Value)
			}
		}
		out = append(out, f)
	}
	return out, nil
}

func attrType(a syscall.NetlinkRouteAttr) uint16 {
	return a.Attr.Type &^ (unix.NLA_F_NESTED | unix.NLA_F_NET_BYTEORDER)
}

// mirredTarget finds, in a bpf filter's options, the device its mirred
// action redirects to.
func mirredTarget(options []byte) int {
	opts, err := nl.ParseRouteAttr(options)
	if err != nil {
		return 0
	}
	for _, o := range opts {
		if attrType(o) != nl.TCA_BPF_ACT {
			continue
		}
		tabs, err := nl.ParseRouteAttr(o.Value)
		if err != nil {
			return 0
		}
		for _, tab := range tabs {
			act, err := nl.ParseRouteAttr(tab.Value)
			if err != nil {
				continue
			}
			kind := ""
			var aopts []byte
			for _, a := range act {
				switch attrType(a) {
				case nl.TCA_ACT_KIND:
					kind = strings.TrimRight(string(a.Value), "\x00")
				case nl.TCA_ACT_OPTIONS:
					aopts = a.Value
				}
			}
			if kind != "mirred" {
				continue
			}
			mo, err := nl.ParseRouteAttr(aopts)
			if err != nil {
				continue
			}
			for _, a := range mo {
				// struct tc_mirred: tc_gen (20 bytes), eaction, ifindex.
				if attrType(a) == nl.TCA_MIRRED_PARMS && len(a.Value) >= 28 {
					return int(nl.NativeEndian().Uint32(a.Value[24:28]))
				}
			}
		}
	}
	return 0
}
