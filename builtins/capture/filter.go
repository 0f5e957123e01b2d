// Package capture is what capture() is made of, apart from the kernel's
// sockets: pcap filters compiled to classic BPF, the frames a socket
// gives decoded into one-line summaries, and the pcapng file they are
// written to. It needs no root: its tests feed it frames of their own.
package capture

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"unsafe"

	"github.com/ebitengine/purego"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"github.com/nsscript/nsscript/builtins/kernel"
)

// Filters are compiled by libpcap itself, the library behind tcpdump,
// loaded when the first filter is compiled (dlopen, through purego): no
// Go library that compiles the pcap filter language was fit to use (the
// one pure-Go compiler to be had compiles "icmp" into a program that
// takes every packet), and linking libpcap with cgo would make every
// build of nsscript need libpcap's headers. So a build needs nothing,
// and a run needs libpcap's shared library only when a script passes
// filter=.

// ErrNoLibpcap is (wrapped in) what Compile returns when libpcap's shared
// library is not there.
var ErrNoLibpcap = errors.New("compiling a filter needs libpcap")

// LibpcapEnv names the environment variable that says which libpcap to
// load (a file name the dynamic loader finds, or a path), in place of
// the names it has on Linux distributions.
const LibpcapEnv = "NSSCRIPT_LIBPCAP"

// MaxSnaplen is the most of a packet that tcpdump keeps, and capture().
const MaxSnaplen = kernel.MaxSnaplen

// The link types that a filter is compiled for (pcap_open_dead's DLT_*).
const (
	dltEthernet = 1
	dltRaw      = 12 // DLT_RAW on Linux: IPv4 or IPv6, no link header
)

// libpcap is the part of libpcap's API that compiles filters.
type libpcap struct {
	mu       sync.Mutex // pcap_compile was not always reentrant
	openDead func(linktype, snaplen int32) uintptr
	compile  func(p uintptr, prog *bpfProgram, expr string, optimize int32, netmask uint32) int32
	geterr   func(p uintptr) string
	freecode func(prog *bpfProgram)
	close    func(p uintptr)
}

// bpfProgram and bpfInsn are libpcap's struct bpf_program and bpf_insn.
type bpfProgram struct {
	n     uint32
	insns *bpfInsn
}

type bpfInsn struct {
	code   uint16
	jt, jf uint8
	k      uint32
}

// libpcapNames are the names of libpcap's shared library: Debian's and
// Ubuntu's, then everyone else's.
var libpcapNames = []string{"libpcap.so.0.8", "libpcap.so.1", "libpcap.so"}

// loadLibpcap loads libpcap the first time a filter is compiled.
var loadLibpcap = sync.OnceValues(func() (*libpcap, error) {
	return findLibpcap(os.Getenv(LibpcapEnv), libpcapNames)
})

// findLibpcap loads the library env names (the value of LibpcapEnv),
// else the first of names there is.
func findLibpcap(env string, names []string) (*libpcap, error) {
	if env != "" {
		l, err := openLibpcap(env)
		if err != nil {
			return nil, fmt.Errorf("%w, and %s=%s does not load (%v): point it at libpcap's shared library, or unset it", ErrNoLibpcap, LibpcapEnv, env, err)
		}
		return l, nil
	}
	for _, name := range names {
		if l, err := openLibpcap(name); err == nil {
			return l, nil
		}
	}
	return nil, fmt.Errorf("%w, the library behind tcpdump, and it is not installed here: install it (apt-get install libpcap0.8, which tcpdump brings along), or capture without filter= and pick from .packets", ErrNoLibpcap)
}

// openLibpcap loads the library name and finds the functions that
// compile a filter in it.
func openLibpcap(name string) (*libpcap, error) {
	lib, err := purego.Dlopen(name, purego.RTLD_NOW|purego.RTLD_LOCAL)
	if err != nil {
		return nil, err
	}
	l := &libpcap{}
	for _, f := range []struct {
		ptr  any
		name string
	}{{&l.openDead, "pcap_open_dead"}, {&l.compile, "pcap_compile"}, {&l.geterr, "pcap_geterr"},
		{&l.freecode, "pcap_freecode"}, {&l.close, "pcap_close"}} {
		sym, err := purego.Dlsym(lib, f.name)
		if err != nil {
			purego.Dlclose(lib)
			return nil, fmt.Errorf("%s has no %s: it is not libpcap", name, f.name)
		}
		purego.RegisterFunc(f.ptr, sym)
	}
	return l, nil
}

// netmaskUnknown is PCAP_NETMASK_UNKNOWN: "ip broadcast" then does not
// compile, as with tcpdump on a device without an IPv4 address.
const netmaskUnknown = 0xffffffff

// compileFor compiles expr for frames of link type dlt, as tcpdump -y
// would, with libpcap's optimizer.
func (l *libpcap) compileFor(dlt int, expr string, snaplen int) ([]bpf.RawInstruction, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	p := l.openDead(int32(dlt), int32(snaplen))
	if p == 0 {
		return nil, errors.New("libpcap: pcap_open_dead failed")
	}
	defer l.close(p)
	var prog bpfProgram
	if l.compile(p, &prog, expr, 1, netmaskUnknown) != 0 {
		return nil, errors.New(l.geterr(p))
	}
	defer l.freecode(&prog)
	out := make([]bpf.RawInstruction, prog.n)
	for i, in := range unsafe.Slice(prog.insns, prog.n) {
		out[i] = bpf.RawInstruction{Op: in.code, Jt: in.jt, Jf: in.jf, K: in.k}
	}
	return out, nil
}

// maxInsns is the longest program the kernel attaches (BPF_MAXINSNS).
const maxInsns = 4096

// Compile compiles a pcap filter (pcap-filter(7), tcpdump's language)
// into the program a capture's socket runs: one that looks at each
// frame's device type and runs the filter as compiled for Ethernet frames
// (veth, bridge, dummy, lo) or for bare IP packets (tun, wireguard, ipip
// and other devices without a link header). A frame of any other kind
// does not pass. The error is libpcap's message.
func Compile(expr string, snaplen int) ([]bpf.RawInstruction, error) {
	l, err := loadLibpcap()
	if err != nil {
		return nil, err
	}
	ether, err := l.compileFor(dltEthernet, expr, snaplen)
	if err != nil {
		return nil, err
	}
	// A filter on Ethernet fields ("ether host ...") does not compile
	// for bare IP: such packets then never match it.
	raw, err := l.compileFor(dltRaw, expr, snaplen)
	if err != nil {
		raw = reject
	}
	prog, err := dispatch(ether, raw)
	if err != nil {
		return nil, err
	}
	if len(prog) > maxInsns {
		return nil, fmt.Errorf("it compiles to %d BPF instructions, and the kernel takes at most %d: make it simpler", len(prog), maxInsns)
	}
	return prog, nil
}

// reject is a program that takes nothing.
var reject = func() []bpf.RawInstruction {
	r, _ := bpf.RetConstant{Val: 0}.Assemble()
	return []bpf.RawInstruction{r}
}()

// etherTypes and rawTypes are the device types (ARPHRD_*) whose frames
// an AF_PACKET socket gives with an Ethernet header, and as bare IP.
var (
	etherTypes = []uint16{unix.ARPHRD_ETHER, unix.ARPHRD_LOOPBACK}
	rawTypes   = []uint16{unix.ARPHRD_NONE, unix.ARPHRD_TUNNEL, unix.ARPHRD_TUNNEL6, unix.ARPHRD_SIT, unix.ARPHRD_RAWIP}
)

// dispatch joins two programs into one that runs ether on frames of
// Ethernet-like devices and raw on those of devices without a link
// header. Classic BPF jumps are relative, so each program runs unchanged
// after a header that jumps to it:
//
//	0      ld hatype
//	1..m   jeq TYPE -> the jump to its program
//	m+1    ret 0
//	m+2    ja ether
//	m+3    ja raw
//	m+4    ether...
//	       raw...
func dispatch(ether, raw []bpf.RawInstruction) ([]bpf.RawInstruction, error) {
	type arm struct {
		typ  uint16
		jump int // m+2 or m+3
	}
	var arms []arm
	m := len(etherTypes) + len(rawTypes)
	for _, t := range etherTypes {
		arms = append(arms, arm{t, m + 2})
	}
	for _, t := range rawTypes {
		arms = append(arms, arm{t, m + 3})
	}
	head := []bpf.Instruction{bpf.LoadExtension{Num: bpf.ExtLinkLayerType}}
	for i, a := range arms {
		head = append(head, bpf.JumpIf{Cond: bpf.JumpEqual, Val: uint32(a.typ), SkipTrue: uint8(a.jump - (i + 2))})
	}
	head = append(head, bpf.RetConstant{Val: 0}, bpf.Jump{Skip: 1}, bpf.Jump{Skip: uint32(len(ether))})
	out, err := bpf.Assemble(head)
	if err != nil {
		return nil, err
	}
	out = append(out, ether...)
	return append(out, raw...), nil
}
