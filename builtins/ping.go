package builtins

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net"
	"os"
	"syscall"
	"time"

	"go.starlark.net/starlark"
	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// PingStats is what a ping saw: requests sent, replies received, their
// round trips, and the ICMP error that ended it, if one came back.
type PingStats struct {
	Sent, Received int
	RTTs           []time.Duration
	// Error is why a request got no reply, when the network said so
	// ("host unreachable from 10.0.0.1"), or the kernel did ("network is
	// unreachable": no route).
	Error string
}

// PingOpts are how a ping is sent.
type PingOpts struct {
	Count    int
	Interval time.Duration // between requests (a reply or a timeout ends the wait sooner)
	Timeout  time.Duration // for each reply
	Size     int           // bytes of payload after the ICMP header
	// UntilReply stops at the first reply (a reachability check).
	UntilReply bool
}

// Ping sends ICMP echo requests from inside n to dst and returns what
// came back; no ping binary is needed. An ICMP error about a request
// (destination unreachable, time exceeded) ends the wait for it at once,
// and so does the kernel refusing to send it (no route): the ping stops
// there, since the network has answered.
func (e *Env) Ping(n *Namespace, dst net.IP, o PingOpts) (PingStats, error) {
	var st PingStats
	v6 := dst.To4() == nil
	conn, err := e.K.ICMPConn(n.ns, v6)
	if err != nil {
		return st, err
	}
	defer conn.Close()
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		select {
		case <-e.Ctx.Done():
			conn.SetReadDeadline(time.Unix(1, 0))
		case <-stop:
		}
	}()
	var idb [2]byte
	_, _ = rand.Read(idb[:])
	id := int(binary.BigEndian.Uint16(idb[:]))
	var reqType icmp.Type = ipv4.ICMPTypeEcho
	if v6 {
		reqType = ipv6.ICMPTypeEchoRequest
	}
	payload := make([]byte, o.Size)
	copy(payload, "nsscript-ping")
	buf := make([]byte, 65536)
	for seq := 1; seq <= o.Count; seq++ {
		if seq > 1 && o.Interval > 0 {
			select {
			case <-time.After(o.Interval):
			case <-e.Ctx.Done():
				return st, errors.New(e.interrupted())
			}
		}
		msg := icmp.Message{Type: reqType, Body: &icmp.Echo{ID: id, Seq: seq, Data: payload}}
		b, err := msg.Marshal(nil)
		if err != nil {
			return st, err
		}
		sent := time.Now()
		st.Sent++
		if _, err := conn.WriteTo(b, &net.IPAddr{IP: dst}); err != nil {
			// No route, or the device is down: the kernel answered.
			st.Error = sendError(err)
			return st, nil
		}
		if err := conn.SetReadDeadline(sent.Add(o.Timeout)); err != nil {
			return st, err
		}
		rtt, icmpErr, err := e.awaitReply(conn, buf, v6, dst, id, seq, sent)
		switch {
		case err != nil:
			return st, err
		case icmpErr != "":
			st.Error = icmpErr
			return st, nil
		case rtt > 0:
			st.Received++
			st.RTTs = append(st.RTTs, rtt)
			if o.UntilReply {
				return st, nil
			}
		}
	}
	return st, nil
}

// awaitReply reads until the reply to (id, seq) comes (its round trip),
// an ICMP error about that request (its description), or the deadline
// (neither).
func (e *Env) awaitReply(conn net.PacketConn, buf []byte, v6 bool, dst net.IP, id, seq int, sent time.Time) (time.Duration, string, error) {
	proto, replyType := 1, icmp.Type(ipv4.ICMPTypeEchoReply)
	if v6 {
		proto, replyType = 58, ipv6.ICMPTypeEchoReply
	}
	for {
		nr, peer, err := conn.ReadFrom(buf)
		if err != nil {
			if e.Ctx.Err() != nil {
				return 0, "", errors.New(e.interrupted())
			}
			if errors.Is(err, os.ErrDeadlineExceeded) {
				return 0, "", nil
			}
			return 0, "", err
		}
		rtt := time.Since(sent)
		m, err := icmp.ParseMessage(proto, buf[:nr])
		if err != nil {
			continue
		}
		from := ""
		if pa, ok := peer.(*net.IPAddr); ok {
			from = pa.IP.String()
		}
		if m.Type == replyType {
			echo, ok := m.Body.(*icmp.Echo)
			if ok && echo.ID == id && echo.Seq == seq && from == dst.String() {
				return max(rtt, time.Nanosecond), "", nil
			}
			continue
		}
		if why := icmpError(m, v6, id, seq); why != "" {
			return 0, why + " from " + from, nil
		}
	}
}

// icmpError describes an ICMP error about the echo request (id, seq): the
// error quotes the request's IP header and first bytes; "" for anything
// else.
func icmpError(m *icmp.Message, v6 bool, id, seq int) string {
	var data []byte
	switch b := m.Body.(type) {
	case *icmp.DstUnreach:
		data = b.Data
	case *icmp.TimeExceeded:
		data = b.Data
	default:
		return ""
	}
	hdr := 40 // IPv6
	if !v6 {
		if len(data) < 1 {
			return ""
		}
		hdr = int(data[0]&0x0f) * 4
	}
	if len(data) < hdr+8 || int(binary.BigEndian.Uint16(data[hdr+4:])) != id || int(binary.BigEndian.Uint16(data[hdr+6:])) != seq {
		return ""
	}
	if _, ok := m.Body.(*icmp.TimeExceeded); ok {
		return "time to live exceeded"
	}
	if v6 {
		return map[int]string{0: "no route to the destination", 1: "communication administratively prohibited", 3: "address unreachable", 4: "port unreachable"}[m.Code] + ""
	}
	if why, ok := map[int]string{0: "network unreachable", 1: "host unreachable", 2: "protocol unreachable", 3: "port unreachable",
		9: "network administratively prohibited", 10: "host administratively prohibited", 13: "communication administratively prohibited"}[m.Code]; ok {
		return why
	}
	return fmt.Sprintf("destination unreachable (code %d)", m.Code)
}

// sendError says why the kernel would not send a request.
func sendError(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		if errno == syscall.EACCES {
			// What the kernel says of a broadcast address to a socket
			// that did not ask for broadcasts (ping -b does).
			return "permission denied: a broadcast address, which ping() does not ping"
		}
		return errno.Error()
	}
	return err.Error()
}

// pingable checks an address to ping. The unspecified address (0.0.0.0,
// ::) is refused: Linux takes it for its own and answers from 127.0.0.1
// (::1), which is no reply from the address pinged, so the ping would
// wait out its timeout and say unreachable.
func pingable(ip net.IP) error {
	switch {
	case ip == nil:
		return errors.New("want an address like \"10.0.0.1\"")
	case ip.IsUnspecified():
		return fmt.Errorf("%s is the unspecified address, which Linux answers from the pinging namespace itself: give the address of the node to ping", ip)
	}
	return nil
}

// PingResult is what ping() returns: true when any reply came, with the
// numbers (ping's summary).
type PingResult struct{ PingStats }

var _ starlark.HasAttrs = (*PingResult)(nil)

func (p *PingResult) Type() string          { return "PingResult" }
func (p *PingResult) Freeze()               {}
func (p *PingResult) Truth() starlark.Bool  { return p.Received > 0 }
func (p *PingResult) Hash() (uint32, error) { return 0, errors.New("unhashable: PingResult") }
func (p *PingResult) AttrNames() []string {
	return []string{"error", "loss", "received", "rtt_avg", "rtt_max", "rtt_min", "rtts", "sent"}
}

// String is ping's summary: "3 sent, 3 received, 0% loss, rtt
// min/avg/max 0.041/0.052/0.070 ms", and the error, if any.
func (p *PingResult) String() string {
	s := fmt.Sprintf("%d sent, %d received, %.0f%% loss", p.Sent, p.Received, 100*p.loss())
	if min, avg, max, ok := p.rtt(); ok {
		s += fmt.Sprintf(", rtt min/avg/max %.3f/%.3f/%.3f ms", min, avg, max)
	}
	if p.Error != "" {
		s += ": " + p.Error
	}
	return s
}

func (p *PingResult) loss() float64 {
	if p.Sent == 0 {
		return 1
	}
	return float64(p.Sent-p.Received) / float64(p.Sent)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// rtt is the minimum, average and maximum round trip, in milliseconds.
func (p *PingResult) rtt() (min, avg, max float64, ok bool) {
	if len(p.RTTs) == 0 {
		return 0, 0, 0, false
	}
	min, max = ms(p.RTTs[0]), ms(p.RTTs[0])
	for _, r := range p.RTTs {
		v := ms(r)
		min, max, avg = math.Min(min, v), math.Max(max, v), avg+v
	}
	return min, avg / float64(len(p.RTTs)), max, true
}

func (p *PingResult) Attr(name string) (starlark.Value, error) {
	min, avg, max, ok := p.rtt()
	opt := func(v float64) starlark.Value {
		if !ok {
			return starlark.None
		}
		return starlark.Float(v)
	}
	switch name {
	case "sent":
		return starlark.MakeInt(p.Sent), nil
	case "received":
		return starlark.MakeInt(p.Received), nil
	case "loss":
		return starlark.Float(p.loss()), nil
	case "rtt_min":
		return opt(min), nil
	case "rtt_avg":
		return opt(avg), nil
	case "rtt_max":
		return opt(max), nil
	case "rtts":
		l := make([]starlark.Value, len(p.RTTs))
		for i, r := range p.RTTs {
			l[i] = starlark.Float(ms(r))
		}
		return starlark.NewList(l), nil
	case "error":
		if p.Error == "" {
			return starlark.None, nil
		}
		return starlark.String(p.Error), nil
	}
	return nil, nil
}

// ping is the ping builtin: native ICMP echo from inside a namespace.
func (e *Env) ping(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var ns NamespaceArg
	var dst IP
	count, size := 1, 56
	timeout, interval := Duration(time.Second), Duration(0)
	if err := unpack(b, args, kwargs, &ns, &dst, &count, &interval, &timeout, &size); err != nil {
		return nil, err
	}
	if err := pingable(dst.IP); err != nil {
		return nil, errorf(b.Name(), "for parameter dst: %w", err)
	}
	if count < 1 || count > 1000 {
		return nil, errorf(b.Name(), "for parameter count: %d is not between 1 and 1000", count)
	}
	if size < 0 || size > 65000 {
		return nil, errorf(b.Name(), "for parameter size: %d bytes is not between 0 and 65000", size)
	}
	n, err := ns.need(b.Name(), "ns")
	if err != nil {
		return nil, err
	}
	if p := e.Planner; p != nil {
		p.Note(fmt.Sprintf("not sent in a plan, taken as answered: ping(%s, %q)", nsVar(n), dst.IP))
		return &PingResult{PingStats{Sent: count, Received: count}}, nil
	}
	st, err := e.Ping(n, dst.IP, PingOpts{Count: count, Interval: time.Duration(interval), Timeout: time.Duration(timeout), Size: size})
	if err != nil {
		return nil, errorf(b.Name(), "%w", err)
	}
	return &PingResult{st}, nil
}

// sleep is the sleep builtin; in a plan it advances the plan's clock
// instead of waiting.
func (e *Env) sleep(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var d Duration
	if err := unpack(b, args, kwargs, &d); err != nil {
		return nil, err
	}
	if p := e.Planner; p != nil {
		if err := p.Sleep(time.Duration(d)); err != nil {
			return nil, errorf(b.Name(), "%w", err)
		}
		return starlark.None, nil
	}
	t := time.NewTimer(time.Duration(d))
	defer t.Stop()
	select {
	case <-t.C:
		return starlark.None, nil
	case <-e.Ctx.Done():
		return nil, fmt.Errorf("%s: %s", b.Name(), e.interrupted())
	}
}
