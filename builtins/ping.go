package builtins

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"go.starlark.net/starlark"
	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// Ping sends count ICMP echo requests from inside n and reports whether
// any was answered; each waits up to timeout. No ping binary is needed.
func (e *Env) Ping(n *Namespace, dst net.IP, count int, timeout time.Duration) (bool, error) {
	v6 := dst.To4() == nil
	conn, err := e.K.ICMPConn(n.ns, v6)
	if err != nil {
		return false, err
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
	var reqType, replyType icmp.Type = ipv4.ICMPTypeEcho, ipv4.ICMPTypeEchoReply
	proto := 1
	if v6 {
		reqType, replyType, proto = ipv6.ICMPTypeEchoRequest, ipv6.ICMPTypeEchoReply, 58
	}
	buf := make([]byte, 1500)
	for seq := 1; seq <= count; seq++ {
		msg := icmp.Message{Type: reqType, Body: &icmp.Echo{ID: id, Seq: seq, Data: []byte("nsscript-ping")}}
		b, err := msg.Marshal(nil)
		if err != nil {
			return false, err
		}
		if _, err := conn.WriteTo(b, &net.IPAddr{IP: dst}); err != nil {
			// No route, or the device is down: not reachable.
			continue
		}
		if err := conn.SetReadDeadline(time.Now().Add(timeout)); err != nil {
			return false, err
		}
		for {
			nr, peer, err := conn.ReadFrom(buf)
			if err != nil {
				if e.Ctx.Err() != nil {
					return false, errors.New(e.interrupted())
				}
				if errors.Is(err, os.ErrDeadlineExceeded) {
					break
				}
				return false, err
			}
			m, err := icmp.ParseMessage(proto, buf[:nr])
			if err != nil || m.Type != replyType {
				continue
			}
			echo, ok := m.Body.(*icmp.Echo)
			if !ok || echo.ID != id || echo.Seq != seq {
				continue
			}
			if pa, ok := peer.(*net.IPAddr); ok && !pa.IP.Equal(dst) {
				continue
			}
			return true, nil
		}
	}
	return false, nil
}

// ping is the ping builtin: native ICMP echo from inside a namespace.
func (e *Env) ping(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var ns NamespaceArg
	var dst IP
	count := 1
	timeout := Duration(time.Second)
	if err := unpack(b, args, kwargs, &ns, &dst, &count, &timeout); err != nil {
		return nil, err
	}
	if dst.IP == nil {
		return nil, errorf(b.Name(), "for parameter dst: want an address like \"10.0.0.1\"")
	}
	if count < 1 || count > 1000 {
		return nil, errorf(b.Name(), "for parameter count: %d is not between 1 and 1000", count)
	}
	n, err := ns.need(b.Name(), "ns")
	if err != nil {
		return nil, err
	}
	if p := e.Planner; p != nil {
		p.Note(fmt.Sprintf("not sent in a plan, taken as answered: ping(%s, %q)", nsVar(n), dst.IP))
		return starlark.True, nil
	}
	ok, err := e.Ping(n, dst.IP, count, time.Duration(timeout))
	if err != nil {
		return nil, errorf(b.Name(), "%w", err)
	}
	return starlark.Bool(ok), nil
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
