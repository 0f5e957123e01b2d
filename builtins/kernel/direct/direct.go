// Package direct is the benchmark's baseline: the topology of
// scripts/bench/hosts.star built and torn down with direct netlink calls,
// one per `ip` command a user would type, as a small Go program would make
// them. nsscript's own run is measured against it (cmd/nsbench). Like the
// kernel package it is allowed netlink and setns, on throwaway threads
// only; nsscript itself never imports it.
package direct

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/sys/unix"
)

// Topo is N hosts, each a namespace hI with eth0 (a veth whose other end,
// hI-br, is a port of a bridge in the caller's namespace), an address and
// a default route via the bridge. Hosts fill bridges br0, br1, ... of
// PerBridge ports each; each bridge has its own /16 and the caller's
// namespace forwards between them.
type Topo struct {
	Hosts     int
	PerBridge int
	// Tuned builds it as nsscript does: each bridge port without IPv6
	// (disable_ipv6 before it comes up), and each host's namespace made
	// ahead, on another thread, while the last one's links are built.
	Tuned bool
	// NoIPv6 makes each host's namespace without IPv6, as
	// namespace(name, ipv6=False) does: net.ipv6.conf.all.disable_ipv6=1
	// there, before lo is up.
	NoIPv6 bool
}

// Bridges is how many bridges the hosts fill.
func (t Topo) Bridges() int { return (t.Hosts + t.PerBridge - 1) / t.PerBridge }

// BridgeAddr is bridge b's address (the hosts' gateway), with its prefix.
func (t Topo) BridgeAddr(b int) string { return fmt.Sprintf("10.%d.0.1/16", b+1) }

// HostAddr is host i's address (i from 1), with its prefix.
func (t Topo) HostAddr(i int) string {
	b, k := (i-1)/t.PerBridge, (i-1)%t.PerBridge+1
	return fmt.Sprintf("10.%d.%d.%d/16", b+1, 1+k/256, k%256)
}

// Bridge is the bridge host i is on.
func (t Topo) Bridge(i int) int { return (i - 1) / t.PerBridge }

// Lab holds what Build opened.
type Lab struct {
	T     Topo
	host  *netlink.Handle
	hosts []hostNS
}

type hostNS struct {
	fd int
	h  *netlink.Handle
}

const netnsDir = "/run/netns"

// Build makes the topology in the calling process's namespace. Equivalent
// to: ip link add brB type bridge; ip addr add ... dev brB; ip link set brB
// up; sysctl net.ipv4.ip_forward=1 (more than one bridge); then per host:
// ip netns add hI; [NoIPv6: ip netns exec hI sysctl -w
// net.ipv6.conf.all.disable_ipv6=1;] ip -n hI link set lo up; ip link add hI-br type veth
// peer name eth0 netns hI; [Tuned: sysctl net.ipv6.conf.hI-br.disable_ipv6=1;]
// ip link set hI-br master brB up; ip -n hI addr add ADDR dev eth0; ip -n
// hI link set eth0 up; ip -n hI route add default via GW.
func Build(t Topo) (*Lab, error) {
	host, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		return nil, err
	}
	lab := &Lab{T: t, host: host}
	var bridges []netlink.Link
	for b := range t.Bridges() {
		attrs := netlink.NewLinkAttrs()
		attrs.Name = fmt.Sprintf("br%d", b)
		br := &netlink.Bridge{LinkAttrs: attrs}
		if err := host.LinkAdd(br); err != nil {
			return lab, fmt.Errorf("bridge: %w", err)
		}
		l, err := host.LinkByName(attrs.Name)
		if err != nil {
			return lab, err
		}
		a, _ := netlink.ParseAddr(t.BridgeAddr(b))
		a.Broadcast = net.IPv4zero // as ip addr add: none
		if err := host.AddrAdd(l, a); err != nil {
			return lab, err
		}
		if err := host.LinkSetUp(l); err != nil {
			return lab, err
		}
		bridges = append(bridges, l)
	}
	if t.Bridges() > 1 {
		if err := os.WriteFile("/proc/sys/net/ipv4/ip_forward", []byte("1"), 0o644); err != nil {
			return lab, err
		}
	}
	if err := os.MkdirAll(netnsDir, 0o755); err != nil {
		return lab, err
	}
	// Tuned, the next host's namespace is made ahead while this one's
	// links are built, as nsscript makes its next one.
	type made struct {
		ns  hostNS
		err error
	}
	mk := func(i int) made {
		ns, err := addNamed(fmt.Sprintf("h%d", i), t.NoIPv6)
		if err != nil {
			return made{ns, err}
		}
		lo, err := ns.h.LinkByName("lo")
		if err == nil {
			err = ns.h.LinkSetUp(lo)
		}
		return made{ns, err}
	}
	var ahead chan made
	for i := 1; i <= t.Hosts; i++ {
		name := fmt.Sprintf("h%d", i)
		var m made
		if ahead != nil {
			m = <-ahead
		} else {
			m = mk(i)
		}
		if t.Tuned && i < t.Hosts {
			ahead = make(chan made, 1)
			go func(c chan<- made, i int) { c <- mk(i) }(ahead, i+1)
		}
		ns, err := m.ns, m.err
		if ns.h != nil {
			lab.hosts = append(lab.hosts, ns)
		}
		if err != nil {
			return lab, err
		}
		attrs := netlink.NewLinkAttrs()
		attrs.Name = name + "-br"
		if err := host.LinkAdd(&netlink.Veth{LinkAttrs: attrs, PeerName: "eth0", PeerNamespace: netlink.NsFd(ns.fd)}); err != nil {
			return lab, fmt.Errorf("veth %s: %w", attrs.Name, err)
		}
		port, err := host.LinkByName(attrs.Name)
		if err != nil {
			return lab, err
		}
		if t.Tuned {
			if err := os.WriteFile("/proc/sys/net/ipv6/conf/"+attrs.Name+"/disable_ipv6", []byte("1"), 0o644); err != nil {
				return lab, err
			}
		}
		if err := host.LinkSetMaster(port, bridges[t.Bridge(i)]); err != nil {
			return lab, err
		}
		if err := host.LinkSetUp(port); err != nil {
			return lab, err
		}
		eth0, err := ns.h.LinkByName("eth0")
		if err != nil {
			return lab, err
		}
		a, _ := netlink.ParseAddr(t.HostAddr(i))
		a.Broadcast = net.IPv4zero
		if err := ns.h.AddrAdd(eth0, a); err != nil {
			return lab, err
		}
		if err := ns.h.LinkSetUp(eth0); err != nil {
			return lab, err
		}
		gw, _, _ := net.ParseCIDR(t.BridgeAddr(t.Bridge(i)))
		if err := ns.h.RouteAdd(&netlink.Route{Gw: gw}); err != nil {
			return lab, err
		}
	}
	return lab, nil
}

// addNamed is `ip netns add NAME`: a thread unshares a new network
// namespace and bind-mounts it at /run/netns/NAME; it also opens the
// netlink handle there while it is inside (and with noIPv6 turns IPv6
// off there), then goes back.
func addNamed(name string, noIPv6 bool) (hostNS, error) {
	p := filepath.Join(netnsDir, name)
	f, err := os.OpenFile(p, os.O_RDONLY|os.O_CREATE|os.O_EXCL, 0)
	if err != nil {
		return hostNS{}, err
	}
	f.Close()
	var ns hostNS
	err = onThread(func() error { return unix.Unshare(unix.CLONE_NEWNET) }, func() error {
		err := unix.Mount("/proc/thread-self/ns/net", p, "none", unix.MS_BIND, "")
		if err == nil {
			ns.fd, err = unix.Open(p, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		}
		if err == nil {
			ns.h, err = netlink.NewHandle(unix.NETLINK_ROUTE)
		}
		if err == nil && noIPv6 {
			err = os.WriteFile("/proc/sys/net/ipv6/conf/all/disable_ipv6", []byte("1"), 0o644)
		}
		return err
	})
	return ns, err
}

// onThread runs fn on a locked OS thread that enter has moved into another
// network namespace, then moves the thread back. If it cannot go back, it
// stays locked, and Go discards it with its goroutine.
func onThread(enter, fn func() error) error {
	c := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			c <- err
			return
		}
		defer unix.Close(orig)
		if err = enter(); err == nil {
			err = fn()
		}
		if e := unix.Setns(orig, unix.CLONE_NEWNET); e != nil {
			c <- e
			return
		}
		runtime.UnlockOSThread()
		c <- err
	}()
	return <-c
}

// inside runs fn on a thread inside the namespace at path.
func inside(path string, fn func() error) error {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	return onThread(func() error { return unix.Setns(fd, unix.CLONE_NEWNET) }, fn)
}

// Ping sends one ICMP echo from the first host to the last and waits for
// the answer. Equivalent to: ip netns exec h1 ping -c 1 ADDR
func (t Topo) Ping() error {
	dst, _, _ := net.ParseCIDR(t.HostAddr(t.Hosts))
	var fd int
	err := inside(filepath.Join(netnsDir, "h1"), func() (err error) {
		fd, err = unix.Socket(unix.AF_INET, unix.SOCK_RAW|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, unix.IPPROTO_ICMP)
		return err
	})
	if err != nil {
		return err
	}
	f := os.NewFile(uintptr(fd), "icmp")
	conn, err := net.FilePacketConn(f)
	f.Close()
	if err != nil {
		return err
	}
	defer conn.Close()
	// An echo every 10ms until one is answered: the first ARP request
	// after a device comes up can be lost (see kernel.Linux.Sync), and
	// this measures when the path works, not ARP's one-second retry.
	buf := make([]byte, 1500)
	deadline := time.Now().Add(5 * time.Second)
	for seq := 1; time.Now().Before(deadline); seq++ {
		msg := icmp.Message{Type: ipv4.ICMPTypeEcho, Body: &icmp.Echo{ID: os.Getpid() & 0xffff, Seq: seq, Data: []byte("bench")}}
		b, _ := msg.Marshal(nil)
		if _, err := conn.WriteTo(b, &net.IPAddr{IP: dst}); err != nil {
			return err
		}
		_ = conn.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
		for {
			n, peer, err := conn.ReadFrom(buf)
			if err != nil {
				break
			}
			m, err := icmp.ParseMessage(1, buf[:n])
			if err == nil && m.Type == ipv4.ICMPTypeEchoReply && peer.(*net.IPAddr).IP.Equal(dst) {
				return nil
			}
		}
	}
	return fmt.Errorf("ping %s from h1: no answer in 5s", dst)
}

// Close lets go of the handles and namespace descriptors Build opened.
func (lab *Lab) Close() {
	for _, ns := range lab.hosts {
		ns.h.Close()
		unix.Close(ns.fd)
	}
	lab.host.Close()
}

// Teardown is `ip netns del hI` for every host and `ip link del brB`, and
// then, as nsscript's down does, waits until the kernel has removed the
// hosts' veths, so that the same topology can be built again at once.
// (It needs nothing from Build: a separate program runs it.)
func (t Topo) Teardown() error {
	host, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		return err
	}
	defer host.Close()
	var errs []error
	for i := 1; i <= t.Hosts; i++ {
		p := filepath.Join(netnsDir, fmt.Sprintf("h%d", i))
		if err := unix.Unmount(p, unix.MNT_DETACH); err != nil {
			errs = append(errs, err)
		}
		if err := os.Remove(p); err != nil {
			errs = append(errs, err)
		}
	}
	for b := range t.Bridges() {
		if l, err := host.LinkByName(fmt.Sprintf("br%d", b)); err == nil {
			errs = append(errs, host.LinkDel(l))
		}
	}
	if t.Bridges() > 1 {
		errs = append(errs, os.WriteFile("/proc/sys/net/ipv4/ip_forward", []byte("0"), 0o644))
	}
	if err := WaitVethsGone(host); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// WaitVethsGone waits until the namespace h is in has no veth left: the
// kernel removes a deleted namespace's devices, and the other ends of its
// veths, in the background.
func WaitVethsGone(h *netlink.Handle) error {
	if h == nil {
		var err error
		if h, err = netlink.NewHandle(unix.NETLINK_ROUTE); err != nil {
			return err
		}
		defer h.Close()
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		ls, err := h.LinkList()
		if err != nil && !errors.Is(err, netlink.ErrDumpInterrupted) {
			return err
		}
		veths := 0
		for _, l := range ls {
			if l.Type() == "veth" {
				veths++
			}
		}
		if err == nil && veths == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d veths still there after 10s", veths)
		}
		time.Sleep(time.Millisecond)
	}
}

// IPScripts are the `ip` command scripts (sh) that build and tear down
// the same topology, one command per line as the documents write them.
func (t Topo) IPScripts() (build, teardown string) {
	var b, d strings.Builder
	b.WriteString("set -e\n")
	for br := range t.Bridges() {
		fmt.Fprintf(&b, "ip link add br%d type bridge\nip addr add %s dev br%d\nip link set br%d up\n", br, t.BridgeAddr(br), br, br)
	}
	if t.Bridges() > 1 {
		b.WriteString("echo 1 > /proc/sys/net/ipv4/ip_forward\n")
	}
	for i := 1; i <= t.Hosts; i++ {
		br := t.Bridge(i)
		gw, _, _ := net.ParseCIDR(t.BridgeAddr(br))
		fmt.Fprintf(&b, "ip netns add h%d\n", i)
		if t.NoIPv6 {
			fmt.Fprintf(&b, "ip netns exec h%d sysctl -qw net.ipv6.conf.all.disable_ipv6=1\n", i)
		}
		fmt.Fprintf(&b, "ip -n h%d link set lo up\n", i)
		fmt.Fprintf(&b, "ip link add h%d-br type veth peer name eth0 netns h%d\n", i, i)
		fmt.Fprintf(&b, "ip link set h%d-br master br%d up\n", i, br)
		fmt.Fprintf(&b, "ip -n h%d addr add %s dev eth0\n", i, t.HostAddr(i))
		fmt.Fprintf(&b, "ip -n h%d link set eth0 up\n", i)
		fmt.Fprintf(&b, "ip -n h%d route add default via %s\n", i, gw)
		fmt.Fprintf(&d, "ip netns del h%d\n", i)
	}
	for br := range t.Bridges() {
		fmt.Fprintf(&d, "ip link del br%d\n", br)
	}
	if t.Bridges() > 1 {
		d.WriteString("echo 0 > /proc/sys/net/ipv4/ip_forward\n")
	}
	return b.String(), d.String()
}
