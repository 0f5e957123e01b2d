package capture

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"golang.org/x/sys/unix"

	"github.com/nsscript/nsscript/builtins/kernel"
)

// Source is where a Session reads frames: a kernel.PacketConn (or, in
// tests, frames of their own).
type Source interface {
	Read(buf []byte) (kernel.PacketInfo, error)
	IfName(index int) string
	Close() error
}

// Session writes what its sources see to one pcapng file as it comes,
// and keeps each frame's description for the script. Each source has
// its own reader; the file gets an interface block for each device the
// first time a frame of it comes. It is flushed after every frame, so
// the file can be read (tcpdump -r) while the capture runs.
type Session struct {
	w       io.Writer
	snaplen int
	filter  string
	start   time.Time

	mu      sync.Mutex
	ng      *pcapgo.NgWriter
	ifaces  map[ifaceKey]int // the interface block of each device
	packets []Packet         // the first keep frames' descriptions
	keep    int
	count   int           // frames written, kept or not
	notify  chan struct{} // closed (and replaced) when a frame comes
	err     error         // the first write that failed
	sources []*source
	stopped bool
	wg      sync.WaitGroup
}

type ifaceKey struct {
	src   *source
	index int
}

type source struct {
	Source
	ns     string // the namespace, for the interface's description
	prefix string // "NS/" before device names, in a capture of several namespaces
	once   sync.Once
}

func (so *source) close() { so.once.Do(func() { so.Close() }) }

// ErrBusy is OpenFile's error for a file that a capture of another
// process holds (its lock).
var ErrBusy = errors.New("another capture is writing it")

// OpenFile opens a capture file for writing, emptied, following no
// link, and locks it (flock) for as long as it is open: a capture of
// another process (another lab, another sandbox, another nsscript test)
// that writes to it already holds the lock, and then OpenFile returns
// ErrBusy without truncating the file under that capture's feet.
func OpenFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return nil, err
	}
	err = unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
	if errors.Is(err, unix.EWOULDBLOCK) {
		err = ErrBusy
	}
	if err == nil {
		err = f.Truncate(0)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// NewSession starts a capture that writes to w: frames up to snaplen
// bytes, through the filter expression (for the file's interface blocks;
// the sources apply it). It keeps the descriptions of the first keep
// frames in memory (Packets); the file gets every frame.
func NewSession(w io.Writer, snaplen int, filter string, keep int) *Session {
	return &Session{w: w, snaplen: snaplen, filter: filter, keep: max(keep, 0), start: time.Now(),
		ifaces: map[ifaceKey]int{}, notify: make(chan struct{})}
}

// Add starts reading src, a socket in namespace ns; prefix is put before
// the names of its devices in the file ("" or "NS/"). What it returns
// closes src alone (before its namespace is deleted: a socket keeps its
// namespace, and so its devices, alive).
func (s *Session) Add(src Source, ns, prefix string) (remove func()) {
	so := &source{Source: src, ns: ns, prefix: prefix}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		so.close()
		return func() {}
	}
	s.sources = append(s.sources, so)
	s.wg.Add(1)
	go s.read(so)
	return so.close
}

// read copies frames from so until it is closed.
func (s *Session) read(so *source) {
	defer s.wg.Done()
	buf := make([]byte, s.snaplen)
	var framed []byte
	for {
		info, err := so.Read(buf)
		if errors.Is(err, unix.ENETDOWN) {
			// The device of a socket bound to one went down or away: the
			// kernel says so once, and the socket reads on when it is up.
			continue
		}
		if err != nil {
			if !errors.Is(err, os.ErrClosed) {
				s.fail(fmt.Errorf("read packets in namespace %s: %w", so.ns, err))
			}
			return
		}
		// Loopback gives each frame twice, as sent and as received: keep
		// one, as tcpdump does.
		if info.HAType == unix.ARPHRD_LOOPBACK && info.Outgoing {
			continue
		}
		bare, ok := kindOf(info.HAType)
		if !ok {
			continue
		}
		frame, wire := buf[:info.Captured], info.Length
		if bare {
			framed = withEthernet(framed, frame)
			frame, wire = framed, wire+14
		}
		s.record(so, info, frame, wire)
	}
}

// kindOf says how a device type's frames come: with an Ethernet header,
// or as bare IP (devices without a link header); frames of other devices
// are not captured.
func kindOf(hatype uint16) (bare, ok bool) {
	for _, t := range etherTypes {
		if hatype == t {
			return false, true
		}
	}
	for _, t := range rawTypes {
		if hatype == t {
			return true, true
		}
	}
	return false, false
}

// withEthernet is a bare IP packet behind a blank Ethernet header of its
// version's type: tcpdump reads only files whose interfaces share one
// link type, so every frame is written as Ethernet.
func withEthernet(buf, ip []byte) []byte {
	typ := layers.EthernetTypeIPv4
	if len(ip) > 0 && ip[0]>>4 == 6 {
		typ = layers.EthernetTypeIPv6
	}
	buf = append(buf[:0], make([]byte, 12)...)
	buf = append(buf, byte(typ>>8), byte(typ))
	return append(buf, ip...)
}

// record writes one Ethernet frame, wire bytes long on the link, and
// keeps its description.
func (s *Session) record(so *source, info kernel.PacketInfo, data []byte, wire int) {
	name := so.IfName(info.Index)
	if name == "" {
		name = "if" + strconv.Itoa(info.Index)
	}
	s.mu.Lock()
	full := len(s.packets) >= s.keep
	s.mu.Unlock()
	var p Packet
	if !full {
		p = Decode(layers.LinkTypeEthernet, data, info.Length)
		p.Time = info.Time.Sub(s.start)
		p.Link = name
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	key := ifaceKey{so, info.Index}
	id, ok := s.ifaces[key]
	if !ok {
		var err error
		if id, err = s.addInterface(so.prefix, name, so.ns); err != nil {
			s.failLocked(err)
			return
		}
		s.ifaces[key] = id
	}
	dir := pcapgo.NgEpbFlagDirectionInbound
	if info.Outgoing {
		dir = pcapgo.NgEpbFlagDirectionOutbound
	}
	ci := gopacket.CaptureInfo{Timestamp: info.Time, CaptureLength: len(data), Length: max(wire, len(data)), InterfaceIndex: id}
	err := s.ng.WritePacketWithOptions(ci, data, pcapgo.NgPacketOptions{Flags: &pcapgo.NgEpbFlags{Direction: dir}})
	if err == nil {
		err = s.ng.Flush()
	}
	if err != nil {
		s.failLocked(fmt.Errorf("write the capture: %w", err))
	}
	if !full && len(s.packets) < s.keep {
		s.packets = append(s.packets, p)
	}
	s.count++
	close(s.notify)
	s.notify = make(chan struct{})
}

// addInterface writes an interface block (and, first, the file's
// header) and returns its number.
func (s *Session) addInterface(prefix, name, ns string) (int, error) {
	intf := pcapgo.NgInterface{Name: prefix + name, Description: name + " in namespace " + ns, Filter: s.filter,
		OS: runtime.GOOS, LinkType: layers.LinkTypeEthernet, SnapLength: uint32(s.snaplen)}
	if s.ng == nil {
		opts := pcapgo.NgWriterOptions{SectionInfo: pcapgo.NgSectionInfo{Hardware: runtime.GOARCH, OS: runtime.GOOS, Application: "nsscript"}}
		ng, err := pcapgo.NewNgWriterInterface(s.w, intf, opts)
		if err != nil {
			return 0, fmt.Errorf("write the capture: %w", err)
		}
		s.ng = ng
		return 0, nil
	}
	id, err := s.ng.AddInterface(intf)
	if err != nil {
		return 0, fmt.Errorf("write the capture: %w", err)
	}
	return id, nil
}

func (s *Session) fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failLocked(err)
}

func (s *Session) failLocked(err error) {
	if s.err == nil {
		s.err = err
	}
}

// Packets are the frames seen so far, in the order they came.
func (s *Session) Packets() []Packet {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.packets[:len(s.packets):len(s.packets)]
}

// Count is how many frames have come, kept or not.
func (s *Session) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.count
}

// Wait waits until count frames have come, the capture stops, timeout
// passes or done is closed, and returns how many have come.
func (s *Session) Wait(count int, timeout time.Duration, done <-chan struct{}) int {
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		s.mu.Lock()
		n, ch, stopped := s.count, s.notify, s.stopped
		s.mu.Unlock()
		if n >= count || stopped {
			return n
		}
		select {
		case <-ch:
		case <-t.C:
			return s.Count()
		case <-done:
			return s.Count()
		}
	}
}

// Running reports whether the capture still reads.
func (s *Session) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.stopped
}

// Stop closes the sources, waits for their readers and finishes the
// file: a capture that saw nothing still gets a header and an interface
// block (named fallback), which readers need. It
// returns the first error the capture met. A second Stop does nothing.
func (s *Session) Stop(fallback, ns string) error {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return nil
	}
	s.stopped = true
	sources := s.sources
	close(s.notify)
	s.notify = make(chan struct{})
	s.mu.Unlock()
	for _, so := range sources {
		so.close()
	}
	s.wg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ng == nil {
		if _, err := s.addInterface("", fallback, ns); err != nil {
			s.failLocked(err)
		} else if err := s.ng.Flush(); err != nil {
			s.failLocked(fmt.Errorf("write the capture: %w", err))
		}
	}
	return s.err
}

// Err is the first error the capture met, if any.
func (s *Session) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// IsCaptureFile reports whether the file at path begins as a pcapng file
// (a section header block) or a pcap file (either byte order, micro- or
// nanoseconds) does.
func IsCaptureFile(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var magic [4]byte
	if _, err := io.ReadFull(f, magic[:]); err != nil {
		return false
	}
	switch string(magic[:]) {
	case "\x0a\x0d\x0d\x0a", "\xa1\xb2\xc3\xd4", "\xd4\xc3\xb2\xa1", "\xa1\xb2\x3c\x4d", "\x4d\x3c\xb2\xa1":
		return true
	}
	return false
}
