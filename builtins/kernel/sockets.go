package kernel

import (
	"fmt"
	"net"
	"os"

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
	var fd int
	ta, err := net.ResolveTCPAddr("tcp", addr)
	if err != nil {
		return err
	}
	family := unix.AF_INET
	var sa unix.Sockaddr
	if ip4 := ta.IP.To4(); ip4 != nil {
		s := &unix.SockaddrInet4{Port: ta.Port}
		copy(s.Addr[:], ip4)
		sa = s
	} else {
		family = unix.AF_INET6
		s := &unix.SockaddrInet6{Port: ta.Port}
		copy(s.Addr[:], ta.IP.To16())
		sa = s
	}
	err = k.Do(ns, func() error {
		var err error
		fd, err = unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0)
		return err
	})
	if err != nil {
		return fmt.Errorf("open TCP socket in namespace %s: %w", ns, err)
	}
	defer unix.Close(fd)
	if err := unix.Connect(fd, sa); err != nil && err != unix.EINPROGRESS {
		return err
	}
	ms := int(timeout * 1000)
	pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLOUT}}
	for {
		n, err := unix.Poll(pfd, ms)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("connect to %s: timed out", addr)
		}
		break
	}
	soerr, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR)
	if err != nil {
		return err
	}
	if soerr != 0 {
		return fmt.Errorf("connect to %s: %w", addr, unix.Errno(soerr))
	}
	return nil
}
