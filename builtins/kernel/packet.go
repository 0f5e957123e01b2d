package kernel

import (
	"encoding/binary"
	"fmt"
	"os"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// PacketConn is an AF_PACKET socket: it receives a copy of each frame
// that the devices of its namespace (or the one it is bound to) send and
// receive, as tcpdump's socket does. It was made in its namespace and
// stays there, so any thread may read it.
type PacketConn struct {
	f      *os.File
	raw    syscall.RawConn
	oob    []byte
	closed atomic.Bool
}

// PacketInfo is what the kernel says of a frame PacketConn.Read copied.
type PacketInfo struct {
	Time     time.Time // when the kernel saw it (SO_TIMESTAMPNS)
	Index    int       // the device it went through, by index
	HAType   uint16    // that device's hardware type (unix.ARPHRD_*)
	Outgoing bool      // sent by the device (PACKET_OUTGOING), not received
	Length   int       // its length on the wire
	Captured int       // how much of it Read copied: at most len(buf)
}

// packetRcvbuf is the receive buffer a packet socket asks for: room for
// a burst of a few thousand frames between two reads.
const packetRcvbuf = 4 << 20

// MaxSnaplen is the most of a packet that tcpdump keeps (its default
// -s), and a capture.
const MaxSnaplen = 262144

// CaptureSpec is what a capture's packet socket is for: the device
// (Index; 0 for every device of the namespace) and the compiled filter
// it runs (Prog; none takes every frame); and, for the command that
// stands for it in a plan and under --trace, the filter as written, how
// much of each packet is kept and the file the packets go to.
type CaptureSpec struct {
	Index   int
	Prog    []bpf.RawInstruction
	Filter  string
	Snaplen int
	File    string
}

// Tcpdump is the command that captures the same, on device dev ("any"
// for all): tcpdump writing each packet to File as it comes.
func (c CaptureSpec) Tcpdump(dev string) []string {
	argv := []string{"tcpdump", "-U", "-i", dev}
	if c.Snaplen > 0 && c.Snaplen != MaxSnaplen {
		argv = append(argv, "-s", strconv.Itoa(c.Snaplen))
	}
	argv = append(argv, "-w", c.File)
	if c.Filter != "" {
		argv = append(argv, c.Filter)
	}
	return argv
}

// PacketConn opens an AF_PACKET socket inside ns that sees every frame
// of device c.Index there (of every device of ns for 0), with c.Prog
// attached (SO_ATTACH_FILTER) when it is not empty. Only the socket is
// made on a throwaway thread in ns. It sees nothing before its filter is
// on: it is made for no protocol, and bound to all of them afterwards.
func (k *Linux) PacketConn(ns *NS, c CaptureSpec) (*PacketConn, error) {
	index, prog := c.Index, c.Prog
	var fd int
	err := k.Do(ns, func() error {
		var err error
		fd, err = unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("open packet socket in namespace %s: %w", ns, err)
	}
	if err := setupPacketSocket(fd, index, prog); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("packet socket in namespace %s: %w", ns, err)
	}
	f := os.NewFile(uintptr(fd), "packet")
	raw, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, err
	}
	return &PacketConn{f: f, raw: raw, oob: make([]byte, 256)}, nil
}

// setupPacketSocket attaches the filter, asks for timestamps and the
// original lengths of frames, and binds the socket to every protocol on
// device index (0: every device).
func setupPacketSocket(fd, index int, prog []bpf.RawInstruction) error {
	if len(prog) > 0 {
		filters := make([]unix.SockFilter, len(prog))
		for i, in := range prog {
			filters[i] = unix.SockFilter{Code: in.Op, Jt: in.Jt, Jf: in.Jf, K: in.K}
		}
		fprog := unix.SockFprog{Len: uint16(len(filters)), Filter: &filters[0]}
		if err := unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &fprog); err != nil {
			return fmt.Errorf("attach filter: %w", err)
		}
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_AUXDATA, 1); err != nil {
		return fmt.Errorf("PACKET_AUXDATA: %w", err)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1); err != nil {
		return fmt.Errorf("SO_TIMESTAMPNS: %w", err)
	}
	if unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, packetRcvbuf) != nil {
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, packetRcvbuf)
	}
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: index}); err != nil {
		return fmt.Errorf("bind to device %d: %w", index, err)
	}
	return nil
}

// htons is v in network byte order, as sockaddr_ll wants its protocol.
func htons(v uint16) uint16 {
	var b [2]byte
	binary.BigEndian.PutUint16(b[:], v)
	return binary.NativeEndian.Uint16(b[:])
}

// Read waits for the next frame and copies its first len(buf) bytes into
// buf. After Close it returns os.ErrClosed.
func (c *PacketConn) Read(buf []byte) (PacketInfo, error) {
	var (
		n, oobn int
		from    unix.Sockaddr
		rerr    error
	)
	err := c.raw.Read(func(fd uintptr) bool {
		// MSG_TRUNC: n is the frame's length, also when buf is shorter.
		n, oobn, _, from, rerr = unix.Recvmsg(int(fd), buf, c.oob, unix.MSG_TRUNC)
		return rerr != unix.EAGAIN
	})
	if err == nil {
		err = rerr
	}
	if err != nil && c.closed.Load() {
		return PacketInfo{}, os.ErrClosed
	}
	if err != nil {
		return PacketInfo{}, err
	}
	info := PacketInfo{Time: time.Now(), Length: n, Captured: min(n, len(buf))}
	if ll, ok := from.(*unix.SockaddrLinklayer); ok {
		info.Index = ll.Ifindex
		info.HAType = ll.Hatype
		info.Outgoing = ll.Pkttype == unix.PACKET_OUTGOING
	}
	msgs, _ := unix.ParseSocketControlMessage(c.oob[:oobn])
	for _, m := range msgs {
		switch {
		case m.Header.Level == unix.SOL_SOCKET && m.Header.Type == unix.SCM_TIMESTAMPNS &&
			len(m.Data) >= int(unsafe.Sizeof(unix.Timespec{})):
			ts := (*unix.Timespec)(unsafe.Pointer(&m.Data[0]))
			info.Time = time.Unix(ts.Unix())
		case m.Header.Level == unix.SOL_PACKET && m.Header.Type == unix.PACKET_AUXDATA &&
			len(m.Data) >= int(unsafe.Sizeof(unix.TpacketAuxdata{})):
			// The length before a filter cut the frame to its snaplen.
			aux := (*unix.TpacketAuxdata)(unsafe.Pointer(&m.Data[0]))
			info.Length = int(aux.Len)
		}
	}
	return info, nil
}

// IfName is the name of device index in the socket's namespace now; ""
// when there is none.
func (c *PacketConn) IfName(index int) string {
	name := ""
	_ = c.raw.Control(func(fd uintptr) {
		ifr, err := unix.NewIfreq("")
		if err != nil {
			return
		}
		ifr.SetUint32(uint32(index))
		if unix.IoctlIfreq(int(fd), unix.SIOCGIFNAME, ifr) == nil {
			name = ifr.Name()
		}
	})
	return name
}

// Close ends the socket; a Read waiting on it returns.
func (c *PacketConn) Close() error {
	c.closed.Store(true)
	return c.f.Close()
}
