package builtins

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"go.starlark.net/starlark"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"github.com/nsscript/nsscript/builtins/capture"
)

// Capture is a packet capture that capture() started: AF_PACKET sockets
// in a namespace, read into a pcapng file and into the list of packets a
// script asserts on. In a plan it is empty and captures nothing.
type Capture struct {
	env     *Env
	target  starlark.Value // the Link or Namespace; nil for a lab's capture
	filter  string
	path    string
	planned bool

	sess *capture.Session
	file *os.File
	// first names the interface block of a capture that saw nothing.
	first, firstNS string

	mu      sync.Mutex
	remove  map[uint64]func() // closes the socket in a namespace, by inode
	records []starlark.Value  // the Packet values made so far
	done    bool
	err     error
}

var _ starlark.HasAttrs = (*Capture)(nil)

func (c *Capture) String() string {
	state, n := "stopped", 0
	if c.sess != nil {
		n = c.sess.Count()
		if c.sess.Running() {
			state = "running"
		}
	}
	what := "the lab"
	if c.target != nil {
		what = strings.TrimSuffix(strings.TrimPrefix(c.target.String(), "<"), ">")
	}
	return fmt.Sprintf("<capture of %s: %d packets, %s, file %s>", what, n, state, c.path)
}

// running reports whether the capture reads; a plan's runs until stop(),
// as in a run.
func (c *Capture) running() bool {
	if c.planned {
		c.mu.Lock()
		defer c.mu.Unlock()
		return !c.done
	}
	return c.sess != nil && c.sess.Running()
}

func (c *Capture) Type() string          { return "Capture" }
func (c *Capture) Freeze()               {}
func (c *Capture) Truth() starlark.Bool  { return true }
func (c *Capture) Hash() (uint32, error) { return 0, errors.New("unhashable: Capture") }

func (c *Capture) AttrNames() []string {
	return sortedNames([]string{"file", "filter", "packets", "running", "target"}, captureMethods.names())
}

func (c *Capture) Attr(name string) (starlark.Value, error) {
	if m := captureMethods.get(c, name); m != nil {
		return m, nil
	}
	switch name {
	case "file":
		return starlark.String(c.path), nil
	case "filter":
		return noneOr(c.filter), nil
	case "target":
		if c.target == nil {
			return starlark.None, nil
		}
		return c.target, nil
	case "running":
		return starlark.Bool(c.running()), nil
	case "packets":
		return starlark.NewList(c.packets()), nil
	}
	return nil, nil
}

// packets are the Packet values of what came so far; each is made once.
func (c *Capture) packets() []starlark.Value {
	if c.sess == nil {
		return nil
	}
	ps := c.sess.Packets()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range ps[len(c.records):] {
		c.records = append(c.records, packetValue(p))
	}
	return append([]starlark.Value(nil), c.records...)
}

// packetValue is a captured frame as scripts see it.
func packetValue(p capture.Packet) starlark.Value {
	port := func(n int) starlark.Value {
		if n < 0 {
			return starlark.None
		}
		return starlark.MakeInt(n)
	}
	return newRecord("Packet",
		"time", starlark.Float(p.Time.Seconds()), "link", starlark.String(p.Link),
		"src", noneOr(p.Src), "dst", noneOr(p.Dst), "proto", starlark.String(p.Proto),
		"sport", port(p.Sport), "dport", port(p.Dport), "length", starlark.MakeInt(p.Length),
		"summary", starlark.String(p.Line))
}

// captureTarget unpacks capture()'s target: a Link, or a Namespace for
// all of its devices.
type captureTarget struct {
	link *Link
	ns   *Namespace
}

func (t *captureTarget) Unpack(v starlark.Value) error {
	switch x := v.(type) {
	case *Link:
		t.link, t.ns = x, x.ns
	case *Namespace:
		t.ns = x
	case starlark.String:
		return fmt.Errorf("want a Link or a Namespace, got the string %s: pass namespace(%s) for all its devices, or a Link (from veth(), link(), ns.link(...))", x, x)
	default:
		return fmt.Errorf("want a Link or a Namespace, got %s: pass a device (from veth(), link(), ns.link(...)) or a namespace for all its devices", v.Type())
	}
	if t.ns.deleted {
		return fmt.Errorf("namespace %s was deleted", t.ns.Name())
	}
	return nil
}

// snaplen unpacks how many bytes of each packet a capture keeps.
type snaplen int

func (s *snaplen) Unpack(v starlark.Value) error {
	n, err := asInt(v, "a number of bytes")
	if err != nil {
		return err
	}
	if n < 1 || n > capture.MaxSnaplen {
		return fmt.Errorf("%d is not between 1 and %d (tcpdump's -s): give how many bytes of each packet to keep", n, capture.MaxSnaplen)
	}
	*s = snaplen(n)
	return nil
}

// optString unpacks a str, or None as "".
type optString string

func (o *optString) Unpack(v starlark.Value) error {
	if v == starlark.None {
		return nil
	}
	s, ok := starlark.AsString(v)
	if !ok {
		return fmt.Errorf("want a str or None, got %s", v.Type())
	}
	*o = optString(s)
	return nil
}

// capture is the capture builtin: it checks everything it is given
// (the filter compiled, the file writable) before it opens anything.
func (e *Env) capture(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var target captureTarget
	var file, filter optString
	snap := snaplen(capture.MaxSnaplen)
	if err := unpack(b, args, kwargs, &target, &file, &filter, &snap); err != nil {
		return nil, err
	}
	var prog []bpf.RawInstruction
	if filter != "" {
		var err error
		if prog, err = capture.Compile(string(filter), int(snap)); err != nil {
			if errors.Is(err, capture.ErrNoLibpcap) {
				return nil, errorf(b.Name(), "for parameter filter: %w", err)
			}
			return nil, errorf(b.Name(), "for parameter filter: %q is not a pcap filter (libpcap: %v): write it as tcpdump takes it (man 7 pcap-filter), e.g. \"icmp\" or \"tcp port 80 and host 10.0.0.1\"", string(filter), err)
		}
	}
	path := string(file)
	if file != "" {
		var err error
		if path, err = checkOutput(path); err != nil {
			return nil, errorf(b.Name(), "for parameter file: %v", err)
		}
	}
	index, first := 0, "lo"
	var tv starlark.Value = target.ns
	if target.link != nil {
		li, err := target.link.Info()
		if err != nil {
			return nil, errorf(b.Name(), "%w", err)
		}
		index, first, tv = li.Index, li.Name, target.link
	}
	if path == "" {
		path = filepath.Join(e.RunDir(), "captures", fmt.Sprintf("%d-%d.pcapng", os.Getpid(), e.nextSeq()))
	}
	c := &Capture{env: e, target: tv, filter: string(filter), path: path, first: first, firstNS: target.ns.Name(), remove: map[uint64]func(){}}
	if p := e.Planner; p != nil {
		args := nsVar(target.ns)
		if target.link != nil {
			args = fmt.Sprintf("%s.link(%q)", nsVar(target.ns), first)
		}
		if filter != "" {
			args += fmt.Sprintf(", filter = %q", string(filter))
		}
		p.Note(fmt.Sprintf("nothing captured in a plan (no packets are sent): capture(%s) stays empty", args))
		c.planned = true
		return c, nil
	}
	f, err := createCapture(path, file == "")
	if err != nil {
		return nil, errorf(b.Name(), "for parameter file: %v", err)
	}
	c.file = f
	c.sess = capture.NewSession(f, int(snap), string(filter))
	if err := c.add(target.ns, index, prog, ""); err != nil {
		_ = c.stop()
		os.Remove(path)
		return nil, errorf(b.Name(), "%w", err)
	}
	e.addCapture(c)
	return c, nil
}

// add opens a socket on device index of n (all its devices for 0) and
// reads it into the capture.
func (c *Capture) add(n *Namespace, index int, prog []bpf.RawInstruction, prefix string) error {
	conn, err := c.env.K.PacketConn(n.ns, index, prog)
	if err != nil {
		return err
	}
	remove := c.sess.Add(conn, n.Name(), prefix)
	c.mu.Lock()
	defer c.mu.Unlock()
	if old := c.remove[n.ns.Inode]; old != nil {
		old()
	}
	c.remove[n.ns.Inode] = remove
	return nil
}

// release closes the capture's socket in n, if it has one: a socket
// holds its namespace, and with it the namespace's devices, alive.
func (c *Capture) release(n *Namespace) {
	c.mu.Lock()
	remove := c.remove[n.ns.Inode]
	delete(c.remove, n.ns.Inode)
	c.mu.Unlock()
	if remove != nil {
		remove()
	}
}

// stop ends the capture and closes its file; the first error it met
// (reading, writing, closing) is returned, once.
func (c *Capture) stop() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done || c.sess == nil {
		c.done = true
		return nil
	}
	c.done = true
	if err := c.sess.Stop(c.first, c.firstNS); c.err == nil {
		c.err = err
	}
	if err := c.file.Close(); err != nil && c.err == nil {
		c.err = err
	}
	return c.err
}

// checkOutput checks that a capture can write path (made absolute), as
// far as can be known without making it: its directory exists and is
// writable, and it is no directory.
func checkOutput(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	dir := filepath.Dir(abs)
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("directory %s does not exist: create it first, or write the capture elsewhere", dir)
	case err != nil:
		return "", err
	case !st.IsDir():
		return "", fmt.Errorf("%s is not a directory", dir)
	}
	if st, err := os.Stat(abs); err == nil && st.IsDir() {
		return "", fmt.Errorf("%s is a directory: name a file in it, e.g. %s", abs, filepath.Join(abs, "capture.pcapng"))
	}
	if unix.Access(dir, unix.W_OK) != nil && unix.Access(abs, unix.W_OK) != nil {
		return "", fmt.Errorf("%s is not writable: write the capture elsewhere", abs)
	}
	return abs, nil
}

// createCapture makes a capture's file. One in the lab's directory is
// made there new, following no link planted in its place.
func createCapture(path string, inRunDir bool) (*os.File, error) {
	if !inRunDir {
		return os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	return os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|unix.O_NOFOLLOW, 0o644)
}

// captureStop is the capture.stop method.
func captureStop(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	c := b.Receiver().(*Capture)
	if err := unpack(b, args, kwargs); err != nil {
		return nil, err
	}
	if err := c.stop(); err != nil {
		return nil, errorf(b.Name(), "%v", err)
	}
	return starlark.None, nil
}

// captureWait is the capture.wait method: it waits until count packets
// have come (or timeout passes, or the capture stops) and returns how
// many have.
func captureWait(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	c := b.Receiver().(*Capture)
	count := 1
	timeout := Duration(5 * time.Second)
	if err := unpack(b, args, kwargs, &count, &timeout); err != nil {
		return nil, err
	}
	if count < 0 {
		return nil, errorf(b.Name(), "for parameter count: %d is negative: give how many packets to wait for", count)
	}
	if c.sess == nil {
		return starlark.MakeInt(0), nil // a plan's: nothing comes
	}
	n := c.sess.Wait(count, time.Duration(timeout), c.env.Ctx.Done())
	if c.env.Ctx.Err() != nil {
		return nil, errorf(b.Name(), "%s", c.env.interrupted())
	}
	return starlark.MakeInt(n), nil
}

// addCapture keeps a running capture, to stop it with the run and to
// release its sockets in a namespace that is deleted.
func (e *Env) addCapture(c *Capture) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.captures = append(e.captures, c)
}

// releaseCaptures closes every capture's socket in n, before n goes.
func (e *Env) releaseCaptures(n *Namespace) {
	e.mu.Lock()
	cs := append([]*Capture(nil), e.captures...)
	e.mu.Unlock()
	for _, c := range cs {
		c.release(n)
	}
}

// StopCaptures stops every capture of the run and finishes its file: at
// the end of a run, before anything is rolled back (a socket would keep
// its namespace alive), and of a test. It returns what went wrong.
func (e *Env) StopCaptures() []error {
	e.mu.Lock()
	cs := e.captures
	e.captures = nil
	e.onNewNS = nil
	e.mu.Unlock()
	var errs []error
	for i := len(cs) - 1; i >= 0; i-- {
		if err := cs[i].stop(); err != nil {
			errs = append(errs, fmt.Errorf("capture to %s: %w", cs[i].path, err))
		}
	}
	return errs
}

// CaptureLab captures every device of every namespace of the run, from
// now on, to a pcapng file at path (nsscript test --capture-on-failure):
// those it has opened, and each one it opens later as soon as it does,
// before the script puts anything in it. Each device is named NS/DEV in
// the file.
func (e *Env) CaptureLab(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	c := &Capture{env: e, path: path, file: f, sess: capture.NewSession(f, capture.MaxSnaplen, ""),
		first: "lo", firstNS: "host", remove: map[uint64]func(){}}
	start := func(n *Namespace) {
		if err := c.add(n, 0, nil, n.ns.Label()+"/"); err != nil {
			c.mu.Lock()
			if c.err == nil {
				c.err = err
			}
			c.mu.Unlock()
		}
	}
	e.mu.Lock()
	e.onNewNS = start
	e.mu.Unlock()
	e.addCapture(c)
	for _, n := range e.known() {
		start(n)
	}
	return nil
}
