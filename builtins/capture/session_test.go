package capture

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"golang.org/x/sys/unix"
)

// capture runs a session over the sources until it has want frames, and
// returns the file it wrote.
func capture(t *testing.T, want int, add func(*Session)) (*Session, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "c.pcapng")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := NewSession(f, MaxSnaplen, "", 1000)
	add(s)
	if n := s.Wait(want, 5*time.Second, nil); n != want {
		t.Fatalf("Wait: %d frames, want %d", n, want)
	}
	if err := s.Stop("lo", "test"); err != nil {
		t.Fatal(err)
	}
	return s, path
}

// readBack reads a pcapng file with the library: its interfaces (name,
// link type) and each packet's interface, direction and data.
func readBack(t *testing.T, path string) (ifaces []pcapgo.NgInterface, pkts [][]byte, where []int, out []bool) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewNgReader(f, pcapgo.NgReaderOptions{WantMixedLinkType: true})
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	for {
		data, ci, opts, err := r.ReadPacketDataWithOptions()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		pkts = append(pkts, append([]byte(nil), data...))
		where = append(where, ci.InterfaceIndex)
		out = append(out, opts.Flags != nil && opts.Flags.Direction == pcapgo.NgEpbFlagDirectionOutbound)
	}
	for i := 0; i < r.NInterfaces(); i++ {
		intf, _ := r.Interface(i)
		ifaces = append(ifaces, intf)
	}
	return ifaces, pkts, where, out
}

// TestSessionWritesPcapng: frames from two sockets (two namespaces) go
// to one pcapng file, an interface block per device, in and out marked,
// loopback's sent copies dropped; the library reads it back as written,
// and so does tcpdump where it is installed.
func TestSessionWritesPcapng(t *testing.T) {
	req := icmpEcho(t, "192.168.15.1", "203.0.113.2", false, 7, 1)
	rep := icmpEcho(t, "203.0.113.2", "192.168.15.1", true, 7, 1)
	arp := arpFrame(t, layers.ARPRequest, "10.0.0.1", "10.0.0.2")
	red := newFakeSource(map[int]string{1: "lo", 5: "veth-red"},
		fakeFrame{data: req, index: 5, hatype: unix.ARPHRD_ETHER, outgoing: true},
		fakeFrame{data: arp, index: 1, hatype: unix.ARPHRD_LOOPBACK, outgoing: true}, // dropped: lo's sent copy
		fakeFrame{data: rep, index: 5, hatype: unix.ARPHRD_ETHER})
	s, path := capture(t, 2, func(s *Session) { s.Add(red, `"red"`, "red/") })
	ps := s.Packets()
	if len(ps) != 2 || ps[0].Link != "veth-red" || ps[0].Proto != "icmp" || ps[1].Src != "203.0.113.2" {
		t.Fatalf("packets: %+v", ps)
	}
	ifaces, pkts, where, out := readBack(t, path)
	if len(ifaces) != 1 || ifaces[0].Name != "red/veth-red" || ifaces[0].LinkType != layers.LinkTypeEthernet ||
		!strings.Contains(ifaces[0].Description, `namespace "red"`) {
		t.Fatalf("interfaces: %+v", ifaces)
	}
	if len(pkts) != 2 || !bytes.Equal(pkts[0], req) || !bytes.Equal(pkts[1], rep) || where[0] != 0 || !out[0] || out[1] {
		t.Fatalf("packets read back: %d, interfaces %v, outgoing %v", len(pkts), where, out)
	}
	tcpdumpReads(t, path, "IP 192.168.15.1 > 203.0.113.2: ICMP echo request, id 7, seq 1, length 21",
		"IP 203.0.113.2 > 192.168.15.1: ICMP echo reply, id 7, seq 1, length 21")
}

// TestSessionSeveralSources: a device met later gets its interface
// block then; a bare IP packet (a wireguard-like device's) is written
// behind a blank Ethernet header; a source removed stops alone.
func TestSessionSeveralSources(t *testing.T) {
	req := icmpEcho(t, "10.0.0.1", "10.0.0.2", false, 1, 1)
	raw := udpFrame(t, "10.9.0.1", 51820, "10.9.0.2", 51820, "wg")[14:]
	a := newFakeSource(map[int]string{2: "eth0"}, fakeFrame{data: req, index: 2, hatype: unix.ARPHRD_ETHER})
	b := newFakeSource(map[int]string{9: "wg0"})
	var removeB func()
	s, path := capture(t, 3, func(s *Session) {
		s.Add(a, "host", "host/")
		removeB = s.Add(b, `"blue"`, "blue/")
		if s.Wait(1, 5*time.Second, nil) != 1 {
			t.Fatal("no first frame")
		}
		b.frames <- fakeFrame{data: raw, index: 9, hatype: unix.ARPHRD_NONE}
		if s.Wait(2, 5*time.Second, nil) != 2 {
			t.Fatal("no second frame")
		}
		removeB()
		b.frames <- fakeFrame{data: raw, index: 9, hatype: unix.ARPHRD_NONE} // never read
		a.frames <- fakeFrame{data: req, index: 2, hatype: unix.ARPHRD_ETHER}
	})
	if got := s.Packets(); got[1].Link != "wg0" || got[1].Proto != "udp" || got[1].Sport != 51820 {
		t.Fatalf("packets: %+v", got)
	}
	ifaces, pkts, where, _ := readBack(t, path)
	if len(ifaces) != 2 || ifaces[1].Name != "blue/wg0" || ifaces[1].LinkType != layers.LinkTypeEthernet ||
		len(pkts) != 3 || where[1] != 1 || where[2] != 0 || !bytes.Equal(pkts[1][14:], raw) || pkts[1][12] != 0x08 {
		t.Fatalf("interfaces %+v, packets %d on %v", ifaces, len(pkts), where)
	}
	tcpdumpReads(t, path, "IP 10.9.0.1.51820 > 10.9.0.2.51820: UDP, length 2")
}

// TestSessionEmpty: a capture that saw nothing still leaves a file that
// readers open (a header and one interface block).
func TestSessionEmpty(t *testing.T) {
	_, path := capture(t, 0, func(s *Session) { s.Add(newFakeSource(nil), "host", "") })
	ifaces, pkts, _, _ := readBack(t, path)
	if len(ifaces) != 1 || ifaces[0].Name != "lo" || len(pkts) != 0 {
		t.Fatalf("interfaces %+v, %d packets", ifaces, len(pkts))
	}
	tcpdumpReads(t, path)
}

// TestSessionWait: Wait returns at the count, at the timeout, when the
// capture stops, and when it is told to give up.
func TestSessionWait(t *testing.T) {
	req := icmpEcho(t, "10.0.0.1", "10.0.0.2", false, 1, 1)
	src := newFakeSource(map[int]string{2: "eth0"}, fakeFrame{data: req, index: 2, hatype: unix.ARPHRD_ETHER})
	s := NewSession(io.Discard, MaxSnaplen, "icmp", 1000)
	s.Add(src, "host", "")
	if n := s.Wait(1, 5*time.Second, nil); n != 1 {
		t.Fatalf("Wait(1) = %d", n)
	}
	start := time.Now()
	if n := s.Wait(2, 100*time.Millisecond, nil); n != 1 || time.Since(start) < 100*time.Millisecond {
		t.Fatalf("Wait(2, 100ms) = %d after %s", n, time.Since(start))
	}
	done := make(chan struct{})
	close(done)
	if n := s.Wait(2, time.Hour, done); n != 1 {
		t.Fatalf("Wait given up = %d", n)
	}
	go func() {
		time.Sleep(50 * time.Millisecond)
		_ = s.Stop("eth0", "host")
	}()
	if n := s.Wait(2, time.Hour, nil); n != 1 || s.Running() {
		t.Fatalf("Wait across Stop = %d, running %v", n, s.Running())
	}
}

// tcpdumpReads checks that tcpdump reads the file and prints each line
// (after its timestamp), where tcpdump is installed.
func tcpdumpReads(t *testing.T, path string, lines ...string) {
	t.Helper()
	if _, err := exec.LookPath("tcpdump"); err != nil {
		t.Logf("tcpdump -r not tried: tcpdump is not installed")
		return
	}
	out, err := exec.Command("tcpdump", "-nn", "-S", "-r", path).CombinedOutput()
	if err != nil {
		t.Fatalf("tcpdump -r %s: %v\n%s", path, err, out)
	}
	for _, l := range lines {
		if !strings.Contains(string(out), l) {
			t.Errorf("tcpdump -r does not print %q:\n%s", l, out)
		}
	}
}
