package kernel

import (
	"bytes"
	"container/heap"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// The forwarder: where the kernel has no sch_netem, nsscript applies
// netem's model itself, in a process of the lab's (nsscript started
// again with forwardArg, like every process a run starts: journaled,
// in the lab's cgroup, stopped by down). It runs in the shaped device's
// namespace, makes a tap device there (ForwarderTap, gone with the
// process), to which the device's egress filter hands every packet the
// device would send, and sends each one out of the device again, marked
// with ForwardMark (which the filter lets pass, and the device's tbf
// then rates), after netem's delay and jitter, or drops, duplicates or
// sends it early (reorder) as netem would.

const forwardArg = "__nsscript_shape"

// ForwarderArgv is the command that shapes device index (of the
// namespace it runs in) with the netem part of s. It says all the
// forwarder does, so that a re-run finds the one it needs (and adopts
// it) by its command line.
func ForwarderArgv(index int, s *Shaping) []string {
	return append([]string{"/proc/self/exe", forwardArg, "dev=" + strconv.Itoa(index)}, s.Args()...)
}

// IsForwarder reports whether a command line is a forwarder's: plumbing
// of a shaped device, not one of the lab's daemons.
func IsForwarder(argv []string) bool { return len(argv) > 1 && argv[1] == forwardArg }

// ForwarderTap is the tap of the forwarder with that pid.
func ForwarderTap(pid int) string { return "nsfwd" + strconv.Itoa(pid) }

// IsForwarderTap reports whether a device is a forwarder's tap: plumbing
// of a shaped device, which nsscript does not list among a namespace's
// devices.
func IsForwarderTap(li *LinkInfo) bool { return strings.HasPrefix(li.Alias, ForwardAlias+" ") }

// MaybeForward must be called first in main: when this process is a
// forwarder, it never returns.
func MaybeForward() {
	if len(os.Args) < 3 || os.Args[1] != forwardArg {
		return
	}
	if err := forward(os.Args[2:]); err != nil {
		fmt.Fprintf(os.Stderr, "nsscript forwarder: %v\n", err)
		os.Exit(1)
	}
	os.Exit(0)
}

func forward(args []string) error {
	idx, ok := strings.CutPrefix(args[0], "dev=")
	dev, err := strconv.Atoi(idx)
	if !ok || err != nil || dev <= 0 {
		return fmt.Errorf("%q is not dev=INDEX", args[0])
	}
	s := &Shaping{}
	if err := s.ParseArgs(args[1:]); err != nil {
		return err
	}
	realtime()
	h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		return err
	}
	if _, err := h.LinkByIndex(dev); err != nil {
		return fmt.Errorf("device %d: %w", dev, err)
	}
	name := ForwarderTap(os.Getpid())
	tap, err := openTap(name)
	if err != nil {
		return fmt.Errorf("make tap %s: %w", name, err)
	}
	l, err := h.LinkByName(name)
	if err != nil {
		return err
	}
	tapMAC := l.Attrs().HardwareAddr
	// The tap carries nothing of its own: no IPv6 (no router or neighbour
	// solicitations), no ARP; its alias says what it is for.
	_ = os.WriteFile("/proc/sys/net/ipv6/conf/"+name+"/disable_ipv6", []byte("1"), 0)
	if err := h.LinkSetAlias(l, ForwardAlias+" "+strings.Join(args, " ")); err != nil {
		return err
	}
	if err := h.LinkSetARPOff(l); err != nil {
		return err
	}
	out, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("packet socket: %w", err)
	}
	if err := unix.SetsockoptInt(out, unix.SOL_SOCKET, unix.SO_MARK, int(ForwardMark)); err != nil {
		return fmt.Errorf("mark: %w", err)
	}
	if err := unix.Bind(out, &unix.SockaddrLinklayer{Ifindex: dev}); err != nil {
		return fmt.Errorf("bind to device %d: %w", dev, err)
	}
	if err := h.LinkSetUp(l); err != nil {
		return err
	}

	m := newNetem(s, rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64())))
	wake := make(chan struct{}, 1)
	var mu sync.Mutex
	fail := make(chan error, 2)
	go func() { // read what the filter hands over
		buf := make([]byte, 1<<16)
		for {
			n, err := tap.Read(buf)
			if err != nil {
				fail <- fmt.Errorf("read %s: %w", name, err)
				return
			}
			if n < 14 || bytes.Equal(buf[6:12], tapMAC) {
				continue // (the tap's own, if it ever sends)
			}
			frame := append([]byte(nil), buf[:n]...)
			mu.Lock()
			first := m.arrive(frame, time.Now())
			mu.Unlock()
			if first {
				select {
				case wake <- struct{}{}:
				default:
				}
			}
		}
	}()
	go func() { // send what is due
		timer := time.NewTimer(time.Hour)
		for {
			mu.Lock()
			due, next := m.due(time.Now())
			mu.Unlock()
			for _, f := range due {
				_, _ = unix.Write(out, f) // a full queue drops it, as it would netem's
			}
			wait := time.Hour
			if !next.IsZero() {
				wait = time.Until(next)
			}
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-wake:
				if !timer.Stop() {
					<-timer.C
				}
			}
		}
	}()
	go func() { // end with the device
		for range time.Tick(time.Second) {
			if _, err := h.LinkByIndex(dev); err != nil {
				var nf netlink.LinkNotFoundError
				if errors.As(err, &nf) || errors.Is(err, unix.ENODEV) {
					fail <- nil
					return
				}
			}
		}
	}()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	select {
	case <-sig:
		return nil
	case err := <-fail:
		return err
	}
}

// realtime puts the forwarder's threads (and so those they start) in
// the lowest real-time priority, as the kernel's own timers are: a delay
// then holds on a busy machine too, where an ordinary process may wait
// for the CPU for tens of milliseconds. (The kernel keeps real-time
// tasks to 95% of the CPU.) Where that is not allowed, a nice of -10.
func realtime() {
	tasks, _ := os.ReadDir("/proc/self/task")
	for _, t := range tasks {
		tid, err := strconv.Atoi(t.Name())
		if err != nil {
			continue
		}
		if unix.SchedSetAttr(tid, &unix.SchedAttr{Policy: unix.SCHED_RR, Priority: 1}, 0) != nil {
			_ = unix.Setpriority(unix.PRIO_PROCESS, tid, -10)
		}
	}
}

// openTap makes the tap name, which goes when this process ends.
func openTap(name string) (*os.File, error) {
	fd, err := unix.Open(tunFile, unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	if err := attachTap(fd, name, 0); err != nil {
		unix.Close(fd)
		return nil, err
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return os.NewFile(uintptr(fd), name), nil
}

// netem is netem's model (net/sched/sch_netem.c) of what becomes of
// each packet: a duplicate with probability duplicate, a loss with
// probability loss (of one of the copies), a drop when limit packets
// wait already, and otherwise a wait of delay varied uniformly by up to
// jitter either way, or none with probability reorder (such a packet
// overtakes those waiting). Packets leave in the order of their times.
type netem struct {
	s   Shaping
	rnd *rand.Rand
	q   frames
	seq uint64
}

func newNetem(s *Shaping, rnd *rand.Rand) *netem {
	n := &netem{s: *s, rnd: rnd}
	if n.s.Limit == 0 {
		n.s.Limit = NetemLimit
	}
	return n
}

func (n *netem) chance(percent float64) bool {
	return percent > 0 && n.rnd.Float64()*100 < percent
}

// arrive takes a packet that arrived at now; it reports whether the
// packet is now the first to leave (the sender must wake).
func (n *netem) arrive(data []byte, now time.Time) bool {
	count := 1
	if n.chance(n.s.Duplicate) {
		count++
	}
	if n.chance(n.s.Loss) {
		count--
	}
	first := false
	for range count {
		if len(n.q) >= n.s.Limit {
			return first
		}
		at := now
		if !n.chance(n.s.Reorder) {
			d := n.s.Delay
			if n.s.Jitter > 0 {
				d += time.Duration(n.rnd.Int64N(int64(2*n.s.Jitter))) - n.s.Jitter
			}
			at = now.Add(max(d, 0))
		}
		n.seq++
		heap.Push(&n.q, frame{at: at, seq: n.seq, data: data})
		first = first || n.q[0].seq == n.seq
	}
	return first
}

// due takes the packets whose time has come, in order, and says when the
// next one is due (zero: none waits).
func (n *netem) due(now time.Time) ([][]byte, time.Time) {
	var out [][]byte
	for len(n.q) > 0 && !n.q[0].at.After(now) {
		out = append(out, heap.Pop(&n.q).(frame).data)
	}
	if len(n.q) == 0 {
		return out, time.Time{}
	}
	return out, n.q[0].at
}

type frame struct {
	at   time.Time
	seq  uint64
	data []byte
}

// frames is a heap of packets by the time they leave (then arrival).
type frames []frame

func (f frames) Len() int { return len(f) }
func (f frames) Less(i, j int) bool {
	if f[i].at.Equal(f[j].at) {
		return f[i].seq < f[j].seq
	}
	return f[i].at.Before(f[j].at)
}
func (f frames) Swap(i, j int) { f[i], f[j] = f[j], f[i] }
func (f *frames) Push(x any)   { *f = append(*f, x.(frame)) }
func (f *frames) Pop() any {
	old := *f
	x := old[len(old)-1]
	*f = old[:len(old)-1]
	return x
}
