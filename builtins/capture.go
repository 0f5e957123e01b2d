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
	"golang.org/x/sys/unix"

	"github.com/nsscript/nsscript/builtins/capture"
	"github.com/nsscript/nsscript/builtins/journal"
	"github.com/nsscript/nsscript/builtins/kernel"
	"github.com/nsscript/nsscript/builtins/names"
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
	planPid int // a plan's: the pid of the tcpdump that stands for it

	sess *capture.Session
	keep int // how many packets .packets keeps
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
	}
	if c.running() {
		state = "running"
	}
	what := "the lab"
	if c.target != nil {
		what = strings.TrimSuffix(strings.TrimPrefix(c.target.String(), "<"), ">")
	}
	kept := ""
	if n > c.keep {
		kept = fmt.Sprintf(" (the first %d kept in .packets)", c.keep)
	}
	return fmt.Sprintf("<capture of %s: %d packets%s, %s, file %s>", what, n, kept, state, c.path)
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
	return sortedNames([]string{"count", "file", "filter", "packets", "running", "target"}, captureMethods.names())
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
	case "count":
		if c.sess == nil {
			return starlark.MakeInt(0), nil
		}
		return starlark.MakeInt(c.sess.Count()), nil
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
// keepCount is capture()'s keep=: how many packets .packets keeps.
type keepCount int

// defaultKeep is keep='s default: about 5 MB of packets in memory.
const defaultKeep = 10000

func (k *keepCount) Unpack(v starlark.Value) error {
	n, err := asInt(v, "a number of packets")
	if err != nil {
		return err
	}
	if n < 0 || n > 10_000_000 {
		return fmt.Errorf("%d is not between 0 and 10000000: give how many packets .packets keeps in memory (the file gets them all; 0: none)", n)
	}
	*k = keepCount(n)
	return nil
}

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
	keep := keepCount(defaultKeep)
	if err := unpack(b, args, kwargs, &target, &file, &filter, &snap, &keep); err != nil {
		return nil, err
	}
	spec := kernel.CaptureSpec{Filter: string(filter), Snaplen: int(snap)}
	if strings.IndexByte(string(filter), 0) >= 0 {
		// libpcap reads a C string: it would take the filter up to there.
		return nil, errorf(b.Name(), "for parameter filter: %q contains a NUL byte, where libpcap would cut the filter short: remove it", string(filter))
	}
	if filter != "" {
		var err error
		if spec.Prog, err = capture.Compile(string(filter), int(snap)); err != nil {
			if errors.Is(err, capture.ErrNoLibpcap) {
				return nil, errorf(b.Name(), "for parameter filter: %w", err)
			}
			return nil, errorf(b.Name(), "for parameter filter: %q is not a pcap filter (libpcap: %v): write it as tcpdump takes it (man 7 pcap-filter), e.g. \"icmp\" or \"tcp port 80 and host 10.0.0.1\"", string(filter), err)
		}
	}
	if file != "" {
		abs, err := filepath.Abs(string(file))
		if err == nil && e.captureTo(abs) != nil {
			return nil, errorf(b.Name(), "for parameter file: another capture of this run is writing %s: stop() that one first, or give another file", abs)
		}
		if spec.File, err = checkOutput(string(file)); err != nil {
			return nil, errorf(b.Name(), "for parameter file: %v", err)
		}
		if e.captureTo(spec.File) != nil {
			return nil, errorf(b.Name(), "for parameter file: another capture of this run is writing %s: stop() that one first, or give another file", spec.File)
		}
	}
	dev := "any"
	var tv starlark.Value = target.ns
	if target.link != nil {
		li, err := target.link.Info()
		if err != nil {
			return nil, errorf(b.Name(), "%w", err)
		}
		spec.Index, dev, tv = li.Index, li.Name, target.link
	}
	first := dev
	if first == "any" {
		first = "lo"
	}
	c := &Capture{env: e, target: tv, filter: string(filter), first: first, firstNS: target.ns.Name(), keep: int(keep), remove: map[uint64]func(){}}
	if p := e.Planner; p != nil {
		// A plan sends no packets: the capture stays empty, and stands
		// for the tcpdump that would capture the same.
		if spec.File == "" {
			n := e.nextCapture()
			spec.File = e.labCaptureFile(n)
			if n == 1 {
				p.Exec(e.host.ns, []string{"mkdir", "-p", filepath.Dir(spec.File)}, nil, nil, false, true)
			}
		}
		c.path, c.planned = spec.File, true
		c.planPid = p.Exec(target.ns.ns, spec.Tcpdump(dev), nil, nil, true, true)
		e.addCapture(c)
		return c, nil
	}
	var f *os.File
	var err error
	if spec.File != "" {
		f, err = openCaptureFile(spec.File)
	} else {
		f, err = e.createLabCapture()
	}
	if err != nil {
		return nil, errorf(b.Name(), "for parameter file: %v", err)
	}
	spec.File, c.path, c.file = f.Name(), f.Name(), f
	c.sess = capture.NewSession(f, int(snap), string(filter), int(keep))
	if err := c.add(target.ns, spec, ""); err != nil {
		_ = c.stop()
		os.Remove(spec.File)
		return nil, errorf(b.Name(), "%w", err)
	}
	e.addCapture(c)
	return c, nil
}

// captureTo is the running capture that writes to path, if one does.
func (e *Env) captureTo(path string) *Capture {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, c := range e.captures {
		if c.path == path && c.running() {
			return c
		}
	}
	return nil
}

// add opens a socket in n as spec says and reads it into the capture;
// prefix goes before the names of its devices in the file.
func (c *Capture) add(n *Namespace, spec kernel.CaptureSpec, prefix string) error {
	conn, err := c.env.K.PacketConn(n.ns, spec)
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
	if c.planned && !c.done && c.env.Planner.Alive(c.planPid) {
		c.env.Planner.Kill(c.planPid, "INT") // as tcpdump is stopped
	}
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

// checkOutput checks that a capture can write path (made absolute, its
// directory's links resolved) and may: the one validator accepts it
// (nsscript's state, /proc, /sys and /dev are refused), its directory
// exists and is writable, and what is there already, if anything, is a
// capture file (pcap or pcapng) or empty, not a link: a typo never
// overwrites a file that holds something else.
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
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		abs = filepath.Join(real, filepath.Base(abs))
	}
	if err := names.OutputFile(abs); err != nil {
		return "", err
	}
	if err := names.OutputDir(filepath.Dir(abs)); err != nil {
		return "", err
	}
	if st, err := os.Lstat(abs); err == nil {
		switch {
		case st.IsDir():
			return "", fmt.Errorf("%s is a directory: name a file in it, e.g. %s", abs, filepath.Join(abs, "capture.pcapng"))
		case !st.Mode().IsRegular():
			return "", fmt.Errorf("%s is there already and is not a regular file (%s): name a new file", abs, fileKind(st.Mode()))
		case st.Size() > 0 && !capture.IsCaptureFile(abs):
			return "", fmt.Errorf("%s is there already and is not a capture (pcap or pcapng): nsscript overwrites only a capture; name a new file, or remove it first", abs)
		}
	}
	if unix.Access(dir, unix.W_OK) != nil && unix.Access(abs, unix.W_OK) != nil {
		return "", fmt.Errorf("%s is not writable: write the capture elsewhere", abs)
	}
	return abs, nil
}

// openCaptureFile opens a capture's file= (see capture.OpenFile).
func openCaptureFile(path string) (*os.File, error) {
	f, err := capture.OpenFile(path)
	if errors.Is(err, capture.ErrBusy) {
		err = fmt.Errorf("another capture is writing %s (another run of nsscript): give another file", path)
	}
	return f, err
}

// fileKind names the kind of a file that is not a regular one.
func fileKind(m fs.FileMode) string {
	switch {
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return m.Type().String()
}

// nextCapture is the N of the run's next captures/capture-N.pcapng.
func (e *Env) nextCapture() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.captureSeq++
	return e.captureSeq
}

// labCaptureFile is captures/capture-N.pcapng in the lab's directory.
func (e *Env) labCaptureFile(n int) string {
	return filepath.Join(e.RunDir(), journal.CapturesDir, fmt.Sprintf("capture-%d.pcapng", n))
}

// createLabCapture makes a capture's file in the lab's directory: the
// first captures/capture-N.pcapng that is not there yet (an earlier run
// of the lab, or another one running, may have made some), made new and
// following no link.
func (e *Env) createLabCapture() (*os.File, error) {
	if err := os.MkdirAll(filepath.Join(e.RunDir(), journal.CapturesDir), 0o755); err != nil {
		return nil, err
	}
	for {
		f, err := os.OpenFile(e.labCaptureFile(e.nextCapture()), os.O_WRONLY|os.O_CREATE|os.O_EXCL|unix.O_NOFOLLOW, 0o644)
		if !errors.Is(err, fs.ErrExist) {
			return f, err
		}
	}
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
	c := &Capture{env: e, path: path, file: f, sess: capture.NewSession(f, capture.MaxSnaplen, "", 0),
		first: "lo", firstNS: "host", remove: map[uint64]func(){}}
	start := func(n *Namespace) {
		if err := c.add(n, kernel.CaptureSpec{Snaplen: capture.MaxSnaplen, File: path}, n.ns.Label()+"/"); err != nil {
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
