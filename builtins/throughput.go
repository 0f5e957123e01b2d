package builtins

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"

	"go.starlark.net/starlark"
)

// Throughput is what throughput() measured: TCP payload received per
// second, as iperf reports it.
type Throughput struct {
	Bytes   int64
	Elapsed time.Duration
	planned bool
}

var _ starlark.HasAttrs = (*Throughput)(nil)

// bps is the payload bits per second.
func (t *Throughput) bps() float64 {
	if t.Elapsed <= 0 {
		return 0
	}
	return float64(t.Bytes) * 8 / t.Elapsed.Seconds()
}

func (t *Throughput) String() string {
	if t.planned {
		return "not measured (nsscript plan sends nothing)"
	}
	return fmt.Sprintf("%.2f Mbit/s (%d bytes in %.2fs)", t.bps()/1e6, t.Bytes, t.Elapsed.Seconds())
}
func (t *Throughput) Type() string          { return "Throughput" }
func (t *Throughput) Freeze()               {}
func (t *Throughput) Truth() starlark.Bool  { return t.Bytes > 0 }
func (t *Throughput) Hash() (uint32, error) { return 0, errors.New("unhashable: Throughput") }
func (t *Throughput) AttrNames() []string   { return []string{"bps", "bytes", "mbps", "seconds"} }
func (t *Throughput) Attr(name string) (starlark.Value, error) {
	switch name {
	case "bps":
		return starlark.MakeInt64(int64(t.bps())), nil
	case "mbps":
		return starlark.Float(t.bps() / 1e6), nil
	case "bytes":
		return starlark.MakeInt64(t.Bytes), nil
	case "seconds":
		return starlark.Float(t.Elapsed.Seconds()), nil
	}
	return nil, nil
}

// throughput is the throughput builtin: a TCP stream from src to dst for
// duration, measured where it arrives.
func (e *Env) throughput(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var src, dst NamespaceArg
	var addr IP
	port := 5201
	duration := Duration(2 * time.Second)
	if err := unpack(b, args, kwargs, &src, &dst, &addr, &port, &duration); err != nil {
		return nil, err
	}
	if port < 1 || port > 65535 {
		return nil, errorf(b.Name(), "for parameter port: %d is not a port from 1 to 65535", port)
	}
	if d := time.Duration(duration); d < 100*time.Millisecond || d > time.Minute {
		return nil, errorf(b.Name(), "for parameter duration: %s is not from 100ms to 1m", d)
	}
	s, err := src.need(b.Name(), "src")
	if err != nil {
		return nil, err
	}
	d, err := dst.need(b.Name(), "dst")
	if err != nil {
		return nil, err
	}
	if p := e.Planner; p != nil {
		p.Note(fmt.Sprintf("not measured in a plan: throughput(%s, %s)", nsVar(s), nsVar(d)))
		return &Throughput{planned: true}, nil
	}
	ip := addr.IP
	if ip == nil {
		if ip, err = d.firstIPv4(); err != nil {
			return nil, errorf(b.Name(), "for parameter dst: namespace %s: %v: give addr=", d.Name(), err)
		}
	}
	t, err := e.measure(s, d, net.JoinHostPort(ip.String(), strconv.Itoa(port)), time.Duration(duration))
	if err != nil {
		return nil, errorf(b.Name(), "from %s to %s in %s: %w", s.Name(), ip, d.Name(), err)
	}
	return t, nil
}

// measure sends a TCP stream from src to addr, where a receiver in dst
// listens, and counts what arrives in duration after its first byte.
func (e *Env) measure(src, dst *Namespace, addr string, duration time.Duration) (*Throughput, error) {
	ln, err := e.K.ListenTCP(dst.ns, addr)
	if err != nil {
		return nil, err
	}
	defer ln.Close()
	got := make(chan *Throughput, 1)
	fail := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			fail <- err
			return
		}
		defer c.Close()
		buf := make([]byte, 1<<16)
		n, err := c.Read(buf)
		if err != nil {
			fail <- fmt.Errorf("nothing arrived: %w", err)
			return
		}
		_ = n // the first read only starts the clock
		first := time.Now()
		c.SetReadDeadline(first.Add(duration))
		t := &Throughput{}
		last := first
		for {
			n, err := c.Read(buf)
			if n > 0 {
				t.Bytes += int64(n)
				last = time.Now()
			}
			if err != nil {
				var ne net.Error
				if !errors.Is(err, io.EOF) && !(errors.As(err, &ne) && ne.Timeout()) {
					fail <- err
					return
				}
				break
			}
		}
		t.Elapsed = last.Sub(first)
		got <- t
	}()
	c, err := e.K.ConnectTCP(src.ns, addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		buf := make([]byte, 1<<16)
		end := time.Now().Add(duration + 10*time.Second)
		c.SetWriteDeadline(end)
		for time.Now().Before(end) {
			if _, err := c.Write(buf); err != nil {
				return // the receiver has closed: it has measured
			}
		}
	}()
	select {
	case t := <-got:
		c.Close()
		<-sent
		return t, nil
	case err := <-fail:
		return nil, err
	case <-time.After(duration + 15*time.Second):
		return nil, fmt.Errorf("no measure after %s", duration+15*time.Second)
	case <-e.Ctx.Done():
		return nil, errors.New(e.interrupted())
	}
}
