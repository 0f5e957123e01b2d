package capture

import (
	"errors"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// needLibpcap skips a test where libpcap is not installed.
func needLibpcap(t *testing.T) {
	t.Helper()
	if _, err := loadLibpcap(); errors.Is(err, ErrNoLibpcap) {
		t.Skip("libpcap is not installed (apt-get install libpcap0.8): filters cannot be compiled")
	} else if err != nil {
		t.Fatal(err)
	}
}

// run runs a compiled program on a frame from a device of type hatype,
// in x/net/bpf's machine: that has no ancillary loads, so the first
// instruction (the load of the device type) becomes a load of hatype.
func run(t *testing.T, prog []bpf.RawInstruction, hatype uint16, frame []byte) bool {
	t.Helper()
	ins := make([]bpf.Instruction, len(prog))
	for i, r := range prog {
		ins[i] = r.Disassemble()
	}
	if ins[0] != (bpf.LoadExtension{Num: bpf.ExtLinkLayerType}) {
		t.Fatalf("the program does not start with the load of the device type: %#v", ins[0])
	}
	ins[0] = bpf.LoadConstant{Dst: bpf.RegA, Val: uint32(hatype)}
	vm, err := bpf.NewVM(ins)
	if err != nil {
		t.Fatal(err)
	}
	n, err := vm.Run(frame)
	if err != nil {
		t.Fatal(err)
	}
	return n > 0
}

// TestCompileSelects: a compiled filter takes the frames the expression
// names and no others, on Ethernet-like devices and on devices without
// a link header, and none from other kinds of device.
func TestCompileSelects(t *testing.T) {
	needLibpcap(t)
	icmp := icmpEcho(t, "192.168.15.1", "203.0.113.2", false, 1, 1)
	web := tcpFrame(t, "10.0.0.1", 43210, "10.0.0.2", 80, true, false, "")
	ssh := tcpFrame(t, "10.0.0.3", 22, "10.0.0.4", 555, false, true, "")
	dns := udpFrame(t, "203.0.113.1", 53, "10.0.0.2", 9, "x")
	arp := arpFrame(t, layers.ARPRequest, "10.0.0.1", "10.0.0.2")
	frames := map[string][]byte{"icmp": icmp, "web": web, "ssh": ssh, "dns": dns, "arp": arp}
	for _, c := range []struct {
		expr string
		take []string
	}{
		{"icmp", []string{"icmp"}},
		{"not icmp", []string{"web", "ssh", "dns", "arp"}},
		{"tcp port 80 and host 10.0.0.1", []string{"web"}},
		{"tcp and (port 80 or port 22)", []string{"web", "ssh"}},
		{"arp or udp port 53", []string{"arp", "dns"}},
		{"src host 203.0.113.1", []string{"dns"}},
		{"ether host 02:00:00:00:00:0a and icmp", []string{"icmp"}},
	} {
		prog, err := Compile(c.expr, MaxSnaplen)
		if err != nil {
			t.Errorf("Compile(%q): %v", c.expr, err)
			continue
		}
		for name, f := range frames {
			want := strings.Contains(" "+strings.Join(c.take, " ")+" ", " "+name+" ")
			if got := run(t, prog, unix.ARPHRD_ETHER, f); got != want {
				t.Errorf("%q on %s (Ethernet): %v, want %v", c.expr, name, got, want)
			}
			if got := run(t, prog, unix.ARPHRD_LOOPBACK, f); got != want {
				t.Errorf("%q on %s (loopback): %v, want %v", c.expr, name, got, want)
			}
			if name == "arp" {
				continue // no ARP without a link header
			}
			wantBare := want && !strings.HasPrefix(c.expr, "ether")
			if got := run(t, prog, unix.ARPHRD_NONE, f[14:]); got != wantBare {
				t.Errorf("%q on %s (bare IP): %v, want %v", c.expr, name, got, wantBare)
			}
			if run(t, prog, unix.ARPHRD_INFINIBAND, f) {
				t.Errorf("%q takes %s from an InfiniBand device", c.expr, name)
			}
		}
	}
}

// TestCompileErrors: what does not compile is refused with libpcap's
// word for it.
func TestCompileErrors(t *testing.T) {
	needLibpcap(t)
	for expr, want := range map[string]string{
		"tcp prot 80":     "syntax error",
		"port 99999":      "99999",
		"ip proto nosuch": "nosuch",
	} {
		if _, err := Compile(expr, MaxSnaplen); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Compile(%q) = %v, want an error saying %q", expr, err, want)
		}
	}
}

// TestNoLibpcap: where libpcap is not there, or NSSCRIPT_LIBPCAP names
// something else, compiling says what to install or to set, and that a
// capture without a filter needs none.
func TestNoLibpcap(t *testing.T) {
	_, err := findLibpcap("", []string{"libpcap-nsscript-test-none.so.0"})
	if !errors.Is(err, ErrNoLibpcap) || !strings.Contains(err.Error(), "it is not installed here: install it (apt-get install libpcap0.8") ||
		!strings.Contains(err.Error(), "capture without filter=") {
		t.Errorf("without libpcap: %v", err)
	}
	_, err = findLibpcap("/nonexistent/libpcap.so.0.8", libpcapNames)
	if !errors.Is(err, ErrNoLibpcap) || !strings.HasPrefix(err.Error(), "compiling a filter needs libpcap, and NSSCRIPT_LIBPCAP=/nonexistent/libpcap.so.0.8 does not load (") {
		t.Errorf("NSSCRIPT_LIBPCAP naming no file: %v", err)
	}
	// A library that is there but is not libpcap: the C library, which
	// every Go test binary on Linux can load.
	_, err = findLibpcap("libc.so.6", nil)
	if !errors.Is(err, ErrNoLibpcap) || !strings.Contains(err.Error(), "libc.so.6 has no pcap_open_dead: it is not libpcap") {
		t.Errorf("NSSCRIPT_LIBPCAP naming the C library: %v", err)
	}
}
