package main

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"golang.org/x/sys/unix"
)

// The capture builtin's own checks are testdata/builtins/capture.star;
// here the files it writes are read back from outside: by gopacket's
// pcapng reader and by tcpdump -r, and those of `nsscript test
// --capture-on-failure`.

// frame is a packet read back from a pcapng file: the name of its
// interface and its IPv4 (or ARP) addresses.
type frame struct {
	iface, proto, src, dst string
}

// readPcapng reads a pcapng file with gopacket's reader.
func readPcapng(t *testing.T, path string) []frame {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewNgReader(f, pcapgo.DefaultNgReaderOptions)
	if err != nil {
		t.Fatalf("%s is not a pcapng file gopacket reads: %v", path, err)
	}
	var out []frame
	for {
		data, ci, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		intf, _ := r.Interface(ci.InterfaceIndex)
		fr := frame{iface: intf.Name}
		p := gopacket.NewPacket(data, layers.LinkTypeEthernet, gopacket.Default)
		if ip, ok := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4); ok {
			fr.proto, fr.src, fr.dst = strings.ToLower(ip.Protocol.String()), ip.SrcIP.String(), ip.DstIP.String()
		} else if arp, ok := p.Layer(layers.LayerTypeARP).(*layers.ARP); ok {
			fr.proto, fr.src, fr.dst = "arp", net.IP(arp.SourceProtAddress).String(), net.IP(arp.DstProtAddress).String()
		}
		out = append(out, fr)
	}
}

// tcpdumpRead is what `tcpdump -nn -r path` prints; it skips the (sub)test
// where tcpdump is not installed.
func tcpdumpRead(t *testing.T, path string) string {
	t.Helper()
	if _, err := exec.LookPath("tcpdump"); err != nil {
		t.Skip("tcpdump is not installed (apt-get install tcpdump): the file is read back by gopacket only")
	}
	out, err := exec.Command("tcpdump", "-nn", "-r", path).CombinedOutput()
	if err != nil {
		t.Fatalf("tcpdump -r %s: %v\n%s", path, err, out)
	}
	return string(out)
}

// TestCaptureMasqueradeFile: a capture of the upstream side of a
// masquerade, written to a file of the caller's, is read back by
// gopacket and by tcpdump, and they both see what the script saw: the
// requests come from the masquerading address, never from the private
// one.
func TestCaptureMasqueradeFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	wan := filepath.Join(dir, "wan.pcapng")
	mustRun(t, `
red, upstream = namespace("red"), namespace("upstream")
sw = bridge("v-net-0", addr = "192.168.15.5/24")
veth("veth-red", "veth-red-br", ns = red, addr = "192.168.15.1/24", peer_master = sw)
route(red, "default", via = "192.168.15.5")
veth("uplink", "eth0", peer_ns = upstream, addr = "203.0.113.1/24", peer_addr = "203.0.113.2/24")
forwarding()
nat.masquerade("192.168.15.0/24", out = "uplink")
c = capture(upstream, file = args["file"], filter = "icmp or arp")
for i in range(3):
    assert.true(ping(red, "203.0.113.2"))
# Six echoes (requests and replies), and the ARP frames besides: the
# capture reads its socket on its own, so wait until all six are in.
def echoes():
    return len([p for p in c.packets if p.proto == "icmp"])
for _ in range(250):
    if echoes() >= 6:
        break
    c.wait(count = c.count + 1, timeout = "20ms")
c.stop()
echo = [p for p in c.packets if p.proto == "icmp"]
assert.eq(len(echo), 6)
assert.eq(sorted({p.src: 1 for p in echo}.keys()), ["203.0.113.1", "203.0.113.2"])
`, "file="+wan)
	frames := readPcapng(t, wan)
	var icmp int
	for _, f := range frames {
		if f.src == "192.168.15.1" || f.dst == "192.168.15.1" {
			t.Errorf("upstream saw red's own address: %+v", f)
		}
		if f.proto == "icmpv4" {
			icmp++
			if f.iface != "eth0" || (f.src != "203.0.113.1" && f.src != "203.0.113.2") {
				t.Errorf("frame %+v", f)
			}
		}
	}
	if icmp != 6 {
		t.Errorf("%d ICMP frames read back, want 6: %+v", icmp, frames)
	}
	t.Run("tcpdump -r", func(t *testing.T) {
		out := tcpdumpRead(t, wan)
		if strings.Count(out, "IP 203.0.113.1 > 203.0.113.2: ICMP echo request") != 3 ||
			strings.Count(out, "IP 203.0.113.2 > 203.0.113.1: ICMP echo reply") != 3 || strings.Contains(out, "192.168.15.1") {
			t.Errorf("tcpdump -r reads:\n%s", out)
		}
	})
}

// TestCaptureOnFailure: `nsscript test --capture-on-failure DIR` keeps a
// pcapng of every device of a failed test's namespaces, named after the
// test, from the test's start (the namespace made first thing is in it);
// a passing test leaves none.
func TestCaptureOnFailure(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	src := `
def lab():
    red = namespace("red")
    veth("eth0", "peer0", ns = red, addr = "10.50.0.1/24", peer_addr = "10.50.0.2/24")
    return red

def test_passes():
    red = lab()
    assert.true(ping(red, "10.50.0.2"))

def test_fails():
    red = lab()
    assert.true(ping(red, "10.50.0.2"))
    assert.eq(ping(red, "10.50.0.99", timeout = "300ms"), True)
`
	if err := os.WriteFile(filepath.Join(dir, "cap_test.star"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "captures")
	r := nsscript(t, dir, "test", "--capture-on-failure", out)
	want := filepath.Join(out, "cap_test.test_fails.pcapng")
	if r.code != 1 || !strings.Contains(r.stdout, "1 passed, 1 failed") || !strings.Contains(r.stdout, "    packets: "+want+"\n") {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	ents, err := os.ReadDir(out)
	if err != nil || len(ents) != 1 || ents[0].Name() != filepath.Base(want) {
		t.Fatalf("%s holds %v (%v), want only %s", out, ents, err, filepath.Base(want))
	}
	seen := map[string]bool{}
	for _, f := range readPcapng(t, want) {
		seen[f.iface+" "+f.proto+" "+f.src+" > "+f.dst] = true
	}
	for _, w := range []string{
		"red/eth0 icmpv4 10.50.0.1 > 10.50.0.2", "host/peer0 icmpv4 10.50.0.1 > 10.50.0.2", "host/peer0 icmpv4 10.50.0.2 > 10.50.0.1",
		"red/eth0 arp 10.50.0.1 > 10.50.0.99",
	} {
		if !seen[w] {
			t.Errorf("the capture lacks %q; it has %v", w, seen)
		}
	}
	t.Run("tcpdump -r", func(t *testing.T) {
		if text := tcpdumpRead(t, want); !strings.Contains(text, "ARP, Request who-has 10.50.0.99 tell 10.50.0.1") {
			t.Errorf("tcpdump -r reads:\n%s", text)
		}
	})
	// The sandbox of each test has a /run of its own: a directory there
	// would lose the files. It is refused before it is made.
	if r := nsscript(t, dir, "test", "--capture-on-failure", "/run/nsscript-captures"); r.code != 2 || !strings.Contains(r.stderr, "choose a directory elsewhere") {
		t.Errorf("--capture-on-failure under /run: exit %d\n%s", r.code, r.stderr)
	}
	if _, err := os.Stat("/run/nsscript-captures"); err == nil {
		os.Remove("/run/nsscript-captures")
		t.Errorf("--capture-on-failure made /run/nsscript-captures, which it refused")
	}
}

// TestCaptureOnFailureTwoRuns: two runs of nsscript test at once, with
// one --capture-on-failure directory and the same failing test, each keep
// their own file (the second run's is NAME.2.pcapng), and a passing test
// of one run does not remove the other's; a later run replaces the file
// an earlier one left.
func TestCaptureOnFailureTwoRuns(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	src := `
def test_fails():
    red = namespace("red")
    assert.true(ping(red, "127.0.0.1"))
    sleep("1500ms")  # long enough for the other run to start
    assert.eq(1, 2, "fails on purpose")
`
	if err := os.WriteFile(filepath.Join(dir, "two_test.star"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "captures")
	var wg sync.WaitGroup
	rs := make([]result, 2)
	for i := range rs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rs[i] = nsscript(t, dir, "test", "--capture-on-failure", out)
		}()
		time.Sleep(300 * time.Millisecond) // the first has claimed its file
	}
	wg.Wait()
	first, second := filepath.Join(out, "two_test.test_fails.pcapng"), filepath.Join(out, "two_test.test_fails.2.pcapng")
	got := map[string]bool{}
	for _, r := range rs {
		if r.code != 1 || !strings.Contains(r.stdout, "0 passed, 1 failed") {
			t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		for _, f := range []string{first, second} {
			if strings.Contains(r.stdout, "    packets: "+f+"\n") {
				got[f] = true
			}
		}
	}
	if !got[first] || !got[second] {
		t.Fatalf("the two runs did not name a file each (%v):\n%s\n%s", got, rs[0].stdout, rs[1].stdout)
	}
	for _, f := range []string{first, second} {
		seen := false
		for _, p := range readPcapng(t, f) {
			seen = seen || p.iface == "red/lo" && p.proto == "icmpv4"
		}
		if !seen {
			t.Errorf("%s lacks its run's ping on red/lo", f)
		}
	}
	// A later run, alone: the first name, replaced.
	before, err := os.Stat(first)
	if err != nil {
		t.Fatal(err)
	}
	r := nsscript(t, dir, "test", "--capture-on-failure", out)
	if r.code != 1 || !strings.Contains(r.stdout, "    packets: "+first+"\n") {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if after, err := os.Stat(first); err != nil || !after.ModTime().After(before.ModTime()) {
		t.Errorf("the later run did not write %s again: %v", first, err)
	}
}

// TestCaptureWithoutLibpcap: where libpcap cannot be loaded (here
// NSSCRIPT_LIBPCAP names a library that is not there, as a machine
// without libpcap would be), a capture without filter= works, and one
// with a filter is refused at its FILE:LINE:COL before it opens a socket,
// saying what libpcap is needed for.
func TestCaptureWithoutLibpcap(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	src := `red = namespace("red")
c = capture(red)
assert.true(ping(red, "127.0.0.1"))
assert.eq(c.wait(count = 2), 2)
print("without a filter:", [p.proto for p in c.packets])
capture(red, filter = "icmp")
`
	if err := os.WriteFile(filepath.Join(dir, "nolib.star"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--sandbox", "nolib.star")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "NSSCRIPT_LIBPCAP=/nonexistent/libpcap.so.0.8")
	r := runBin(t, cmd)
	want := "nolib.star:6:8: capture: for parameter filter: compiling a filter needs libpcap, and NSSCRIPT_LIBPCAP=/nonexistent/libpcap.so.0.8 does not load ("
	if r.code != 1 || r.stdout != "without a filter: [\"icmp\", \"icmp\"]\n" || !strings.HasPrefix(r.stderr, want) ||
		!strings.Contains(strings.SplitN(r.stderr, "\n", 2)[0], "point it at libpcap's shared library, or unset it") {
		t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s\nwant stderr starting %q", r.code, r.stdout, r.stderr, want)
	}
}

// TestCaptureOutlivesFailedRun: a run that fails is undone, but what it
// captured into the lab's directory stays, for tcpdump -r, until down;
// ls lists it. (Nested runs inside this test's sandbox, not sandboxed
// again, act on the sandbox's /run.)
func TestCaptureOutlivesFailedRun(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	failing := filepath.Join(dir, "failing.star")
	if err := os.WriteFile(failing, []byte(`red = namespace("red")
c = capture(red, filter = "icmp")
assert.true(ping(red, "127.0.0.1"))
c.wait(count = 2)
print(c.file)
assert.eq(len(c.packets), 3, "the run fails here")
`), 0o644); err != nil {
		t.Fatal(err)
	}
	mustRun(t, `
def nsscript(*words):
    return exec(host, [args["bin"]] + list(words), env = {"NSSCRIPT_IN_SANDBOX": ""}, check = False)

r = nsscript(args["script"])
assert.eq(r.code, 1, r.stderr)
assert.true("the run fails here" in r.stderr, r.stderr)
file = "/run/nsscript/failing/captures/capture-1.pcapng"
assert.eq(r.stdout.strip(), file)
assert.eq(namespaces(), [])  # undone
assert.true(exec(host, ["test", "-s", file]).ok)
ls = nsscript("ls").stdout
assert.true("failing (0 changes)" in ls and "  capture " + file in ls, ls)
assert.eq(nsscript("down", "failing").code, 0)
assert.eq(exec(host, ["test", "-e", "/run/nsscript/failing"], check = False).ok, False)
ls = nsscript("ls").stdout
assert.true("failing (" not in ls, ls)
`, "bin="+bin, "script="+failing)
}

// TestCaptureTrace: --trace shows a capture as the tcpdump that would
// capture the same, in its namespace, on its device or on all of them.
func TestCaptureTrace(t *testing.T) {
	t.Parallel()
	r := sandboxed(t, "tr.star", `red = namespace("red")
veth("a", "b", peer_ns = red)
c = capture(red.link("b"), filter = "icmp or arp", snaplen = 128)
d = capture(red, file = "/run/all.pcapng")
`, "--trace")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	lines := traceLines(r.stderr)
	if len(lines) < 2 {
		t.Fatalf("the trace:\n%s", r.stderr)
	}
	matchLines(t, lines[len(lines)-2:], []string{
		"ip netns exec red tcpdump -U -i b -s 128 -w /run/nsscript/tr/captures/capture-1.pcapng 'icmp or arp' &  # until stop() or the run's end",
		"ip netns exec red tcpdump -U -i any -w /run/all.pcapng &  # until stop() or the run's end",
	})
}

// TestCaptureFileOfAnotherRun: a file that a capture of another run is
// writing (here the test holds its lock, as that run's capture does) is
// refused, and left as it was: not truncated under the other capture.
func TestCaptureFileOfAnotherRun(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	shared := filepath.Join(dir, "shared.pcapng")
	mustRun(t, `
c = capture(host, file = args["file"])
ping(host, "127.0.0.1")
c.wait(count = 2)
c.stop()
`, "file="+shared)
	f, err := os.OpenFile(shared, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(shared)
	if err != nil {
		t.Fatal(err)
	}
	r := sandboxed(t, "t.star", `capture(host, file = args["file"])`, "file="+shared)
	want := "t.star:1:8: capture: for parameter file: another capture is writing " + shared + " (another run of nsscript): give another file"
	if r.code != 1 || !strings.HasPrefix(r.stderr, want) {
		t.Errorf("exit %d, stderr:\n%s\nwant exit 1 and %q", r.code, r.stderr, want)
	}
	if after, _ := os.ReadFile(shared); !bytes.Equal(after, before) || len(before) == 0 {
		t.Errorf("the other run's file was %d bytes, now %d", len(before), len(after))
	}
}
