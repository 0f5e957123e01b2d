package builtins

import (
	"errors"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// checkError is a check that failed (not a call that was wrong).
type checkError struct{ error }

func (e *checkError) Unwrap() error { return e.error }

func checkFailed(name, format string, args ...any) error {
	return &checkError{errorf(name, format, args...)}
}

// lenient makes a failed check a comment in a plan, where what it looked
// at (a command's output, an ARP cache) is not known: the script goes on.
func (e *Env) lenient(f func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error)) func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
	return func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		v, err := f(thread, b, args, kwargs)
		var ce *checkError
		if p := e.Planner; p != nil && errors.As(err, &ce) {
			p.Note("not checked in a plan: " + ce.Error())
			return starlark.None, nil
		}
		return v, err
	}
}

func withMsg(msg starlark.Value, s string) string {
	if m, ok := msg.(starlark.String); ok && m != "" {
		return string(m) + ": " + s
	}
	return s
}

func assertCompare(wantEqual bool) envFunc {
	return func(_ *Env, thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var x, y starlark.Value
		var msg starlark.Value = starlark.None
		if err := unpack(b, args, kwargs, &x, &y, &msg); err != nil {
			return nil, err
		}
		eq, err := starlark.Equal(x, y)
		if err != nil {
			return nil, errorf(b.Name(), "%w", err)
		}
		if eq != wantEqual {
			op := "!="
			if !wantEqual {
				op = "=="
			}
			return nil, checkFailed(b.Name(), "%s", withMsg(msg, fmt.Sprintf("%s %s %s", x.String(), op, y.String())))
		}
		return starlark.None, nil
	}
}

func assertTruth(want bool) envFunc {
	return func(_ *Env, thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var x starlark.Value
		var msg starlark.Value = starlark.None
		if err := unpack(b, args, kwargs, &x, &msg); err != nil {
			return nil, err
		}
		if bool(x.Truth()) != want {
			return nil, checkFailed(b.Name(), "%s", withMsg(msg, fmt.Sprintf("%s is %v, want %v", x.String(), !want, want)))
		}
		return starlark.None, nil
	}
}

func assertContains(_ *Env, thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var c, x starlark.Value
	var msg starlark.Value = starlark.None
	if err := unpack(b, args, kwargs, &c, &x, &msg); err != nil {
		return nil, err
	}
	var in bool
	switch cc := c.(type) {
	case *Result:
		s, ok := starlark.AsString(x)
		if !ok {
			return nil, errorf(b.Name(), "a Result contains str, not %s", x.Type())
		}
		in = strings.Contains(cc.Stdout, s)
	default:
		v, err := starlark.Binary(syntax.IN, x, c)
		if err != nil {
			return nil, errorf(b.Name(), "%w", err)
		}
		in = bool(v.Truth())
	}
	if !in {
		return nil, checkFailed(b.Name(), "%s", withMsg(msg, fmt.Sprintf("%s not in %s", x.String(), c.String())))
	}
	return starlark.None, nil
}

func (e *Env) assertFails(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var f starlark.Callable
	var pattern string
	if err := unpack(b, args, kwargs, &f, &pattern); err != nil {
		return nil, err
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, errorf(b.Name(), "for parameter pattern: %w", err)
	}
	var restore func()
	if p := e.Planner; p != nil {
		restore = p.Checkpoint()
	}
	_, err = starlark.Call(thread, f, nil, nil)
	if err == nil && restore != nil {
		// The kernel would have refused it, for a reason a plan cannot
		// see (iptables' own parser, say): what it did is not planned.
		restore()
		e.Planner.Note(fmt.Sprintf("assert.fails: %s did not fail in the plan (want an error matching %q); left out of the plan", f.Name(), pattern))
		return starlark.String(""), nil
	}
	if err == nil {
		return nil, checkFailed(b.Name(), "%s did not fail (want an error matching %q)", f.Name(), pattern)
	}
	msg := err.Error()
	if ee, ok := err.(*starlark.EvalError); ok {
		msg = ee.Msg
	}
	if !re.MatchString(msg) {
		return nil, checkFailed(b.Name(), "error %q does not match %q", msg, pattern)
	}
	return starlark.String(msg), nil
}

// assertReach checks reachability from inside a namespace: ICMP echo for
// an address, a TCP connect for "address:port".
func assertReach(want bool) envFunc {
	return func(e *Env, thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var ns NamespaceArg
		var dst string
		timeout := Duration(time.Second)
		if err := unpack(b, args, kwargs, &ns, &dst, &timeout); err != nil {
			return nil, err
		}
		n, err := ns.need(b.Name(), "ns")
		if err != nil {
			return nil, err
		}
		// dst is checked first, in a plan too.
		ip := net.ParseIP(dst)
		if ip != nil {
			if err := pingable(ip); err != nil {
				return nil, errorf(b.Name(), "for parameter dst: %w", err)
			}
		} else if host, port, err := net.SplitHostPort(dst); err != nil || net.ParseIP(host) == nil || port == "" {
			return nil, errorf(b.Name(), "for parameter dst: %q is not an address (\"10.0.0.2\") or address:port (\"10.0.0.2:80\", \"[fd00::2]:80\")", dst)
		}
		if p := e.Planner; p != nil {
			p.Note(fmt.Sprintf("not checked in a plan (no packets are sent): %s(%s, %q)", b.Name(), nsVar(n), dst))
			return starlark.None, nil
		}
		var ok bool
		var how string
		if ip != nil {
			count := 1
			if want {
				count = 3 // a first request may be lost while ARP resolves
			}
			st, err := e.Ping(n, ip, PingOpts{Count: count, Timeout: time.Duration(timeout), Size: 56, UntilReply: true})
			if err != nil {
				return nil, errorf(b.Name(), "%w", err)
			}
			ok = st.Received > 0
			how = (&PingResult{st}).String()
		} else {
			var cerr error
			if want {
				// A server that is still starting refuses: try again
				// until the timeout.
				cerr = e.waitTCP(n, dst, time.Duration(timeout), nil)
			} else {
				cerr = e.K.DialTCP(n.ns, dst, time.Duration(timeout).Seconds())
			}
			ok = cerr == nil
			how = "TCP connect"
			if cerr != nil {
				if want && errors.Is(cerr, syscall.ECONNREFUSED) {
					return nil, checkFailed(b.Name(), "nothing is listening on %s (seen from namespace %s, which reaches the address: the connection was refused for %s); start the server, check its address and port, or give it longer (timeout=)%s", dst, n.Name(), time.Duration(timeout), e.whyFor(n, dst, false))
				}
				how += ": " + cerr.Error()
			}
		}
		if ok != want {
			// Only now, when it failed: why() reads every namespace on the way.
			if want {
				return nil, checkFailed(b.Name(), "%s is not reachable from namespace %s (%s)%s", dst, n.Name(), how, e.whyFor(n, dst, false))
			}
			return nil, checkFailed(b.Name(), "%s is reachable from namespace %s (%s), want unreachable%s", dst, n.Name(), how, e.whyFor(n, dst, true))
		}
		return starlark.None, nil
	}
}

func nsVar(n *Namespace) string {
	if n.ns.Host {
		return "host"
	}
	if n.ns.Name != "" {
		return n.ns.Name
	}
	return "ns"
}

// waitTCP connects to addr from n until it succeeds or timeout passes,
// trying again while the connection is refused (a server still
// starting). With proc, it stops as soon as proc ends. It returns the
// last error.
func (e *Env) waitTCP(n *Namespace, addr string, timeout time.Duration, proc *Process) error {
	deadline := time.Now().Add(timeout)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			left = time.Millisecond
		}
		err := e.K.DialTCP(n.ns, addr, left.Seconds())
		if err == nil || !errors.Is(err, syscall.ECONNREFUSED) || time.Now().After(deadline) {
			return err
		}
		if proc != nil && !proc.Running() {
			return fmt.Errorf("%w (and the process ended first)", err)
		}
		select {
		case <-e.Ctx.Done():
			return errors.New(e.interrupted())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// waitPort is the wait_port builtin: it waits until something accepts
// TCP connections on ip:port, seen from a namespace (a daemon that is
// starting).
func (e *Env) waitPort(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var ns NamespaceArg
	var dst string
	timeout := Duration(5 * time.Second)
	if err := unpack(b, args, kwargs, &ns, &dst, &timeout); err != nil {
		return nil, err
	}
	n, err := ns.need(b.Name(), "ns")
	if err != nil {
		return nil, err
	}
	if err := checkHostPort(dst); err != nil {
		return nil, errorf(b.Name(), "for parameter dst: %w", err)
	}
	if p := e.Planner; p != nil {
		p.Note(fmt.Sprintf("not waited for in a plan: %s(%s, %q)", b.Name(), nsVar(n), dst))
		return starlark.None, nil
	}
	if err := e.waitTCP(n, dst, time.Duration(timeout), nil); err != nil {
		if errors.Is(err, syscall.ECONNREFUSED) {
			return nil, errorf(b.Name(), "nothing listened on %s (seen from namespace %s) within %s", dst, n.Name(), time.Duration(timeout))
		}
		return nil, errorf(b.Name(), "%s from namespace %s: %w", dst, n.Name(), err)
	}
	return starlark.None, nil
}

// checkHostPort accepts "address:port".
func checkHostPort(dst string) error {
	host, port, err := net.SplitHostPort(dst)
	if err != nil || net.ParseIP(host) == nil {
		return fmt.Errorf("%q is not address:port (\"10.0.0.2:80\", \"[fd00::2]:80\")", dst)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
		return fmt.Errorf("%q: port %q is not 1 to 65535", dst, port)
	}
	return nil
}
