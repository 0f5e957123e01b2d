package kernel

import (
	"fmt"
	"net"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// ICMPConn opens a raw ICMP socket inside ns (IPv4 or IPv6) and returns it
// as a net.PacketConn usable from any thread: a socket stays in the
// namespace it was created in.
func (k *Linux) ICMPConn(ns *NS, v6 bool) (net.PacketConn, error) {
	var fd int
	family, proto := unix.AF_INET, unix.IPPROTO_ICMP
	if v6 {
		family, proto = unix.AF_INET6, unix.IPPROTO_ICMPV6
	}
	err := k.Do(ns, func() error {
		var err error
		fd, err = unix.Socket(family, unix.SOCK_RAW|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, proto)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("open ICMP socket in namespace %s: %w", ns, err)
	}
	f := os.NewFile(uintptr(fd), "icmp")
	defer f.Close()
	return net.FilePacketConn(f)
}

// DialTCP opens a TCP connection from inside ns (for reachability checks).
func (k *Linux) DialTCP(ns *NS, addr string, timeout float64) error {
	c, err := k.ConnectTCP(ns, addr, time.Duration(timeout*float64(time.Second)))
	if err != nil {
		return err
	}
	return c.Close()
}

// tcpSocket makes a nonblocking TCP socket for addr ("ip:port") inside
// ns, usable from any thread, and returns it with addr as a socket
// address.
func (k *Linux) tcpSocket(ns *NS, addr string) (int, unix.Sockaddr, error) {
	ta, err := net.ResolveTCPAddr("tcp", addr)
	if err != nil {
		return -1, nil, err
	}
	family := unix.AF_INET
	var sa unix.Sockaddr
	if ip4 := ta.IP.To4(); ip4 != nil || ta.IP == nil {
		s := &unix.SockaddrInet4{Port: ta.Port}
		copy(s.Addr[:], ip4)
		sa = s
	} else {
		s := &unix.SockaddrInet6{Port: ta.Port}
		copy(s.Addr[:], ta.IP.To16())
		family, sa = unix.AF_INET6, s
	}
	var fd int
	err = k.Do(ns, func() error {
		var err error
		fd, err = unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0)
		return err
	})
	if err != nil {
		return -1, nil, fmt.Errorf("open TCP socket in namespace %s: %w", ns, err)
	}
	return fd, sa, nil
}

// ConnectTCP opens a TCP connection from inside ns to addr ("ip:port").
func (k *Linux) ConnectTCP(ns *NS, addr string, timeout time.Duration) (net.Conn, error) {
	fd, sa, err := k.tcpSocket(ns, addr)
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), "tcp") // closed on return: the conn has its own
	defer f.Close()
	if err := unix.Connect(fd, sa); err != nil && err != unix.EINPROGRESS {
		return nil, err
	}
	ms := int(timeout / time.Millisecond)
	pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLOUT}}
	for {
		n, err := unix.Poll(pfd, ms)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return nil, fmt.Errorf("connect to %s: timed out", addr)
		}
		break
	}
	soerr, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR)
	if err != nil {
		return nil, err
	}
	if soerr != 0 {
		return nil, fmt.Errorf("connect to %s: %w", addr, unix.Errno(soerr))
	}
	return net.FileConn(f)
}

// ListenTCP listens on addr ("ip:port") inside ns.
func (k *Linux) ListenTCP(ns *NS, addr string) (net.Listener, error) {
	fd, sa, err := k.tcpSocket(ns, addr)
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), "tcp") // closed on return: the listener has its own
	defer f.Close()
	_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
	if err := unix.Bind(fd, sa); err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	if err := unix.Listen(fd, 16); err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	return net.FileListener(f)
}
