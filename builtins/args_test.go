package builtins

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.starlark.net/starlark"
)

// Pure unit tests of the argument kinds in args.go: no root, no kernel.

// bad is one value an unpacker must refuse, with a regexp for its message.
type bad struct {
	v    starlark.Value
	want string
}

func sv(x string) starlark.Value  { return starlark.String(x) }
func iv(x int64) starlark.Value   { return starlark.MakeInt64(x) }
func fv(x float64) starlark.Value { return starlark.Float(x) }

// checkBad asserts that unpack refuses every value with a matching message
// and leaves the destination as it was (zero).
func checkBad[T any](t *testing.T, kind string, cases []bad, unpack func(*T, starlark.Value) error) {
	t.Helper()
	for _, c := range cases {
		var dst, zero T
		err := unpack(&dst, c.v)
		if err == nil {
			t.Errorf("%s.Unpack(%s) succeeded (%v), want an error matching %q", kind, c.v, dst, c.want)
			continue
		}
		if !regexp.MustCompile(c.want).MatchString(err.Error()) {
			t.Errorf("%s.Unpack(%s) = %q, want it to match %q", kind, c.v, err, c.want)
		}
		if fmt.Sprint(dst) != fmt.Sprint(zero) {
			t.Errorf("%s.Unpack(%s) failed but set the value to %v", kind, c.v, dst)
		}
	}
}

func TestArgsIfName(t *testing.T) {
	for _, good := range []string{
		"a", "eth0", "veth-red-br", "v-net-0", "veth0.100", "br_0", "veth-webserver", // 14 bytes
		"abcdefghijklmno", // 15 bytes: the most Linux allows
		"é",               // bytes other than '/', ':' and whitespace are allowed
	} {
		var n IfName
		if err := n.Unpack(sv(good)); err != nil || string(n) != good {
			t.Errorf("IfName.Unpack(%q) = %q, %v; want it accepted", good, n, err)
		}
	}
	checkBad(t, "IfName", []bad{
		// Seed 000's complete example: "veth-${NAMESPACE}-h" with NAMESPACE=webserver.
		{sv("veth-webserver-h"), `^interface name "veth-webserver-h" is 16 bytes, 1 too many: Linux allows at most 15 \(IFNAMSIZ\); shorten it$`},
		{sv("eth-renamed-too-long"), `is 20 bytes, 5 too many`},
		{sv("éééééééé"), `is 16 bytes, 1 too many`}, // 8 characters, but bytes count
		{sv(""), `^interface name is empty: give 1 to 15 bytes$`},
		{sv("a/b"), `^interface name "a/b" contains '/': Linux forbids '/', ':' and whitespace in interface names; choose a name without them`},
		{sv("eth0:1"), `contains ':'`},
		{sv("my veth"), `contains ' '`},
		{sv("a\tb"), `contains '\\t'`},
		{sv("a\nb"), `contains '\\n'`},
		{sv("trailing "), `contains ' '`},
		{sv("."), `^interface name "\." is not allowed .*: choose another name$`},
		{sv(".."), `^interface name "\.\." is not allowed .*: choose another name$`},
		{iv(0), `^want an interface name \(str\), got int$`},
		{starlark.None, `^want an interface name \(str\), got NoneType$`},
	}, (*IfName).Unpack)
}

func TestArgsNSName(t *testing.T) {
	for _, good := range []string{"red", "ns-1", "v.net", "...", "webserver", strings.Repeat("n", 255)} {
		var n NSName
		if err := n.Unpack(sv(good)); err != nil || string(n) != good {
			t.Errorf("NSName.Unpack(%q) = %q, %v; want it accepted", good, n, err)
		}
	}
	checkBad(t, "NSName", []bad{
		{sv(""), `^namespace name is empty: give a name like "red"$`},
		{sv("."), `^namespace name "\." is not allowed: it must be a single path component .*; choose a name like "red"$`},
		{sv(".."), `^namespace name "\.\." is not allowed: it must be a single path component`},
		{sv("red/blue"), `^namespace name "red/blue" contains '/': it must be a single path component \(a file name in /run/netns\); choose a name without '/'$`},
		{sv("/run/netns/red"), `contains '/'`},
		{sv("../etc"), `contains '/'`},
		{sv("a\x00b"), `contains a NUL byte`},
		{sv(strings.Repeat("n", 256)), `^namespace name is 256 bytes, 1 too many: a file name has at most 255; shorten it$`},
		{iv(1), `^want a namespace name \(str\), got int$`},
	}, (*NSName).Unpack)
}

func TestArgsCIDR(t *testing.T) {
	for _, c := range []struct {
		in, ip, mask string
		bytes        int
	}{
		// An interface address keeps its host part (ip addr add 10.0.0.1/24).
		{"10.0.0.1/24", "10.0.0.1", "ffffff00", 4},
		{"192.168.15.5/24", "192.168.15.5", "ffffff00", 4},
		{"1.1.1.1/10", "1.1.1.1", "ffc00000", 4}, // seed 001
		{"10.0.0.1/32", "10.0.0.1", "ffffffff", 4},
		{"10.0.0.0/8", "10.0.0.0", "ff000000", 4},
		{"fd00::1/64", "fd00::1", "ffffffffffffffff0000000000000000", 16},
		{"fd00::1/128", "fd00::1", "ffffffffffffffffffffffffffffffff", 16},
	} {
		var a CIDR
		if err := a.Unpack(sv(c.in)); err != nil {
			t.Errorf("CIDR.Unpack(%q): %v", c.in, err)
			continue
		}
		if a.IP.String() != c.ip || a.Mask.String() != c.mask || len(a.IP) != c.bytes {
			t.Errorf("CIDR.Unpack(%q) = %s mask %s (%d bytes), want %s mask %s (%d bytes)", c.in, a.IP, a.Mask, len(a.IP), c.ip, c.mask, c.bytes)
		}
		if a.String() != c.in {
			t.Errorf("CIDR.Unpack(%q).String() = %q", c.in, a.String())
		}
	}
	var none CIDR
	if err := none.Unpack(starlark.None); err != nil || none.IPNet != nil {
		t.Errorf("CIDR.Unpack(None) = %v, %v; want no address", none.IPNet, err)
	}
	checkBad(t, "CIDR", []bad{
		{sv("10.0.0.1"), `^address "10\.0\.0\.1" has no prefix length: write it as 10\.0\.0\.1/24 \(or /32 for a single host\)$`},
		{sv("fd00::1"), `^address "fd00::1" has no prefix length`},
		{sv("x"), `^"x" is not an address with a prefix length like "10\.0\.0\.1/24"$`},
		{sv(""), `is not an address with a prefix length`},
		{sv("10.0.0.256/24"), `^"10\.0\.0\.256/24": "10\.0\.0\.256" is not an IPv4 or IPv6 address; write it like "10\.0\.0\.1/24"$`},
		{sv("10.0.0/24"), `"10\.0\.0" is not an IPv4 or IPv6 address`},
		{sv("/24"), `"" is not an IPv4 or IPv6 address`},
		{sv("10.0.0.1/33"), `^"10\.0\.0\.1/33": prefix length 33 is out of range: an IPv4 prefix length is 0 to 32$`},
		{sv("fd00::1/129"), `^"fd00::1/129": prefix length 129 is out of range: an IPv6 prefix length is 0 to 128$`},
		{sv("10.0.0.1/x"), `^"10\.0\.0\.1/x": prefix length "x" is not a number from 0 to 32: write it like "10\.0\.0\.1/24"$`},
		{sv("10.0.0.1/-1"), `prefix length "-1" is not a number from 0 to 32`},
		{sv("10.0.0.1/"), `prefix length "" is not a number`},
		{sv("10.0.0.1/24/8"), `prefix length "24/8" is not a number`},
		{iv(24), `^want an address like "10\.0\.0\.1/24" \(str\), got int$`},
	}, (*CIDR).Unpack)
}

func TestArgsDest(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"default", "default"},
		{"0.0.0.0/0", "default"},
		{"10.1.0.0/16", "10.1.0.0/16"},
		{"10.1.2.3/16", "10.1.0.0/16"}, // a destination is a network: host bits go
		{"10.0.0.5", "10.0.0.5/32"},    // a single address is a host route
		{"fd00::/8", "fd00::/8"},
		{"fd00::1", "fd00::1/128"},
	} {
		var d Dest
		if err := d.Unpack(sv(c.in)); err != nil {
			t.Errorf("Dest.Unpack(%q): %v", c.in, err)
			continue
		}
		if d.String() != c.want {
			t.Errorf("Dest.Unpack(%q) = %s, want %s", c.in, d, c.want)
		}
		if (c.want == "default") != (d.IPNet == nil) {
			t.Errorf("Dest.Unpack(%q): IPNet = %v, want nil exactly for the default route", c.in, d.IPNet)
		}
	}
	checkBad(t, "Dest", []bad{
		{sv("defualt"), `^"defualt" is not "default", a prefix like "10\.0\.0\.0/24" or an address$`},
		{sv(""), `is not "default"`},
		{sv("10.0.0.0/33"), `^"10\.0\.0\.0/33": prefix length 33 is out of range: an IPv4 prefix length is 0 to 32$`},
		{sv("10.0.0.256/24"), `^"10\.0\.0\.256/24": "10\.0\.0\.256" is not an IPv4 or IPv6 address; write it like "10\.0\.0\.0/24"$`},
		{sv("fd00::/200"), `prefix length 200 is out of range: an IPv6 prefix length is 0 to 128`},
		{starlark.None, `^want "default" or a prefix like "10\.0\.0\.0/24" \(str\), got NoneType$`},
		{iv(0), `got int$`},
	}, (*Dest).Unpack)
}

func TestArgsIP(t *testing.T) {
	for _, c := range []struct {
		in    string
		bytes int
	}{{"10.0.0.1", 4}, {"192.168.15.5", 4}, {"fd00::1", 16}, {"::ffff:10.0.0.1", 4}} {
		var a IP
		if err := a.Unpack(sv(c.in)); err != nil || !a.IP.Equal(net.ParseIP(c.in)) || len(a.IP) != c.bytes {
			t.Errorf("IP.Unpack(%q) = %v (%d bytes), %v; want %s in %d bytes", c.in, a.IP, len(a.IP), err, c.in, c.bytes)
		}
	}
	var none IP
	if err := none.Unpack(starlark.None); err != nil || none.IP != nil {
		t.Errorf("IP.Unpack(None) = %v, %v; want no address", none.IP, err)
	}
	checkBad(t, "IP", []bad{
		{sv("10.0.0.1/24"), `^"10\.0\.0\.1/24" is a prefix: give a single address, without /len$`},
		{sv("nowhere"), `^"nowhere" is not an IP address$`},
		{sv("10.0.0.256"), `is not an IP address`},
		{sv(""), `is not an IP address`},
		{iv(10), `^want an address like "10\.0\.0\.1" \(str\), got int$`},
	}, (*IP).Unpack)
}

func TestArgsMAC(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"02:00:00:00:00:01", "02:00:00:00:00:01"},
		{"AA:BB:CC:DD:EE:FE", "aa:bb:cc:dd:ee:fe"},
		{"02-00-00-00-00-01", "02:00:00:00:00:01"},
		{"0200.0000.0001", "02:00:00:00:00:01"},
	} {
		var m MAC
		if err := m.Unpack(sv(c.in)); err != nil || m.String() != c.want {
			t.Errorf("MAC.Unpack(%q) = %v, %v; want %s", c.in, m.HardwareAddr, err, c.want)
		}
	}
	var none MAC
	if err := none.Unpack(starlark.None); err != nil || none.HardwareAddr != nil {
		t.Errorf("MAC.Unpack(None) = %v, %v; want no address", none.HardwareAddr, err)
	}
	checkBad(t, "MAC", []bad{
		{sv("02:00:00:00:01"), `^"02:00:00:00:01" is not a MAC address like "02:00:00:00:00:01"$`},
		{sv("zz:00:00:00:00:01"), `is not a MAC address like`},
		{sv(""), `is not a MAC address like`},
		{sv("00:00:00:00:00:00:00:00"), `is not a MAC address like`},        // EUI-64: not Ethernet
		{sv(strings.Repeat("00:", 19) + "01"), `is not a MAC address like`}, // InfiniBand: not Ethernet
		{sv("01:00:5e:00:00:01"), `^"01:00:5e:00:00:01" is a multicast MAC address \(lowest bit of the first byte set\): the kernel refuses it for a device; use e\.g\. "02:\.\.\."$`},
		{sv("ff:ff:ff:ff:ff:ff"), `is a multicast MAC address`},
		{sv("03:00:00:00:00:01"), `is a multicast MAC address`},
		{sv("00:00:00:00:00:00"), `^"00:00:00:00:00:00" is the all-zero MAC address, which the kernel refuses`},
		{iv(2), `^want a MAC address like "02:00:00:00:00:01" \(str\), got int$`},
	}, (*MAC).Unpack)
}

func TestArgsMTU(t *testing.T) {
	for _, good := range []int64{68, 576, 1280, 1500, 9000, 65535} {
		var m MTU
		if err := m.Unpack(iv(good)); err != nil || int64(m) != good {
			t.Errorf("MTU.Unpack(%d) = %d, %v", good, m, err)
		}
	}
	var none MTU
	if err := none.Unpack(starlark.None); err != nil || none != 0 {
		t.Errorf("MTU.Unpack(None) = %d, %v; want 0 (not given)", none, err)
	}
	checkBad(t, "MTU", []bad{
		{iv(0), `^MTU 0 is out of range: Linux accepts 68 to 65535`},
		{iv(67), `^MTU 67 is out of range: Linux accepts 68 to 65535`},
		{iv(65536), `^MTU 65536 is out of range`},
		{iv(70000), `^MTU 70000 is out of range`},
		{iv(-1500), `^MTU -1500 is out of range`},
		{iv(1 << 40), `^MTU 1099511627776 is out of range`},
		{starlark.MakeBigInt(new(big.Int).Lsh(big.NewInt(1), 100)), `^MTU 1267650600228229401496703205376 is out of range`},
		{sv("big"), `^want an MTU \(an int from 68 to 65535, e\.g\. 1500\), got string$`},
		{sv("1500"), `got string$`},
		{fv(1500), `got float$`},
		{starlark.True, `got bool$`},
	}, (*MTU).Unpack)
}

func TestArgsDuration(t *testing.T) {
	for _, c := range []struct {
		in   starlark.Value
		want time.Duration
	}{
		{sv("250ms"), 250 * time.Millisecond},
		{sv("2s"), 2 * time.Second},
		{sv("1m"), time.Minute},
		{sv("1h30m"), 90 * time.Minute},
		{sv("0s"), 0},
		{iv(2), 2 * time.Second},
		{iv(0), 0},
		{fv(0.5), 500 * time.Millisecond},
		{fv(1.25), 1250 * time.Millisecond},
	} {
		var d Duration
		if err := d.Unpack(c.in); err != nil || time.Duration(d) != c.want {
			t.Errorf("Duration.Unpack(%s) = %v, %v; want %v", c.in, time.Duration(d), err, c.want)
		}
	}
	checkBad(t, "Duration", []bad{
		{sv("2 parsecs"), `^"2 parsecs" is not a duration like "250ms", "2s" or "1m"$`},
		{sv("2"), `is not a duration like`}, // a string needs its unit; a number is seconds
		{sv(""), `is not a duration like`},
		{sv("-1s"), `^duration "-1s" is negative: give 0 or more`},
		{iv(-1), `^duration -1 is negative: give 0 or more`},
		{fv(-0.5), `^duration -0\.5 is negative`},
		{fv(math.NaN()), `is not a usable number of seconds`},
		{fv(1e12), `is not a usable number of seconds`},
		{iv(1 << 40), `is not a usable number of seconds`},
		{starlark.None, `^want a duration \("2s" or seconds as a number\), got NoneType$`},
		{starlark.True, `got bool$`},
	}, (*Duration).Unpack)
}

func TestArgsExplain(t *testing.T) {
	const vethUsage = "veth(name, peer, ns=host, peer_ns=host, addr=None, peer_addr=None, master=None, peer_master=None, mtu=None, up=True, rate=None, delay=None, jitter=None, loss=None, mac=None, peer_mac=None)"
	evalErr := &starlark.EvalError{Msg: "veth: unexpected keyword argument \"x\""}
	base := errors.New("veth: unexpected keyword argument \"bogus\"")
	for _, c := range []struct {
		name string
		in   error
		want string
	}{
		{"veth", base, `veth: unexpected keyword argument "bogus"; usage: ` + vethUsage},
		{"veth", errors.New(`veth: unexpected keyword argument "peer_nss" (did you mean peer_ns?)`),
			`veth: unexpected keyword argument "peer_nss" (did you mean peer_ns?); usage: ` + vethUsage},
		{"veth", errors.New("veth: missing argument for peer"), "veth: missing argument for peer; usage: " + vethUsage},
		{"link", errors.New("link: got 3 arguments, want at most 2"), "link: got 3 arguments, want at most 2; usage: link(name, ns=host)"},
		{"link.set", errors.New(`link.set: got multiple values for keyword argument "mtu"`), `link.set: got multiple values for keyword argument "mtu"; usage: link.set(mtu=None, mac=None, name=None)`},
		// Keyword parameters lose Starlark's quotes, so that every message reads alike.
		{"veth", errors.New(`veth: for parameter "mtu": MTU 0 is out of range`), `veth: for parameter mtu: MTU 0 is out of range`},
		{"veth", errors.New(`veth: for parameter "up": got string, want bool`), `veth: for parameter up: got string, want bool (True or False)`},
		{"veth", errors.New(`veth: for parameter up: got int, want bool`), `veth: for parameter up: got int, want bool (True or False)`},
		// Errors that are not Starlark's argument errors stay as they are.
		{"veth", errors.New(`veth: name and peer are both "a" in namespace host: give the peer another name`), `veth: name and peer are both "a" in namespace host: give the peer another name`},
		{"veth", errors.New(`bridge: unexpected keyword argument "x"`), `bridge: unexpected keyword argument "x"`},
		{"veth", evalErr, evalErr.Error()},
		{"no_such_builtin", errors.New("no_such_builtin: missing argument for x"), "no_such_builtin: missing argument for x"},
	} {
		got := explainArgs(c.name, c.in)
		if got.Error() != c.want {
			t.Errorf("explainArgs(%q, %q)\n\t= %q\n\twant %q", c.name, c.in, got, c.want)
		}
		if !errors.Is(got, c.in) {
			t.Errorf("explainArgs(%q, %q) does not wrap the original error", c.name, c.in)
		}
	}
}

// TestUnpackBeforeKernel calls the real builtins with bad arguments on an
// Env that has no kernel at all (a nil *kernel.Linux): each call must be
// refused with its message, and any kernel call before the refusal would
// panic. It proves these inputs are checked before anything is touched.
func TestUnpackBeforeKernel(t *testing.T) {
	pre := (&Env{}).Predeclared()
	delete(pre, "host") // a nil *Namespace: the cases below do not use it
	for _, c := range []struct{ src, want string }{
		{`veth("veth-webserver-h", "veth-webserver")`, `^veth: for parameter name: interface name "veth-webserver-h" is 16 bytes, 1 too many: Linux allows at most 15 \(IFNAMSIZ\); shorten it$`},
		{`veth("veth0", "a/b")`, `^veth: for parameter peer: interface name "a/b" contains '/'`},
		{`veth("veth0", "veth1", addr = "10.0.0.1/33")`, `^veth: for parameter addr: "10\.0\.0\.1/33": prefix length 33 is out of range`},
		{`veth("veth0", "veth1", peer_addr = "10.0.0.1")`, `^veth: for parameter peer_addr: address "10\.0\.0\.1" has no prefix length`},
		{`veth("veth0", "veth1", mtu = 70000)`, `^veth: for parameter mtu: MTU 70000 is out of range`},
		{`veth("veth0", "veth1", mtu = "big")`, `^veth: for parameter mtu: want an MTU`},
		{`veth("veth0", "veth1", up = "yes")`, `^veth: for parameter up: got string, want bool \(True or False\)$`},
		{`veth("veth0", "veth1", bogus = 1)`, `^veth: unexpected keyword argument "bogus"; usage: veth\(name, peer, `},
		{`veth("veth0")`, `^veth: missing argument for peer; usage: veth\(`},
		{`veth("veth0", "veth1", ns = "red")`, `^veth: for parameter ns: want a Namespace, got the string "red": pass namespace\("red"\)`},
		{`veth("veth0", "veth1", master = "br0")`, `^veth: for parameter master: want a bridge Link, got the string "br0"`},
		{`bridge("")`, `^bridge: for parameter name: interface name is empty`},
		{`bridge("br0", addr = "10.0.0.256/24")`, `^bridge: for parameter addr: .*is not an IPv4 or IPv6 address`},
		{`dummy("eth0:1")`, `^dummy: for parameter name: interface name "eth0:1" contains ':'`},
		{`link("..")`, `^link: for parameter name: interface name "\.\." is not allowed`},
		{`namespace("..")`, `^namespace: for parameter name: namespace name "\.\." is not allowed`},
		{`namespace("red/blue")`, `^namespace: for parameter name: namespace name "red/blue" contains '/'`},
		{`namespace("")`, `^namespace: for parameter name: namespace name is empty`},
		{`namespace()`, `^namespace: give exactly one of name, pid= or path=`},
		{`namespace("red", pid = 1)`, `^namespace: give exactly one of name, pid= or path=`},
		{`namespace(pid = 1, path = "/proc/1/ns/net")`, `^namespace: give exactly one of name, pid= or path=`},
		{`namespace(pid = -1)`, `^namespace: for parameter pid: want a process id \(a positive int\), got -1$`},
		{`route("red", "default", via = "10.0.0.1")`, `^route: for parameter ns: want a Namespace, got the string "red"`},
		{`route(None, "default", via = "10.0.0.1")`, `^route: for parameter ns: want a Namespace, got None`},
		{`route(None, "10.0.0.0/40", dev = "lo")`, `^route: for parameter dst: "10\.0\.0\.0/40": prefix length 40 is out of range`},
		{`route(None, "default", via = "10.0.0.1/24")`, `^route: for parameter via: "10\.0\.0\.1/24" is a prefix`},
		{`ping(None, "127.0.0.1")`, `^ping: for parameter ns: want a Namespace, got None`},
		{`ping(None, "127.0.0.1", count = 0)`, `^ping: for parameter count: 0 is not between 1 and 1000$`},
		{`ping(None, "nowhere")`, `^ping: for parameter dst: "nowhere" is not an IP address$`},
		{`exec()`, `^exec: missing argument for ns; usage: exec\(ns, cmd, `},
		{`exec("red", "true")`, `^exec: for parameter ns: want a Namespace, got the string "red"`},
		{`sleep("2 parsecs")`, `^sleep: for parameter duration: "2 parsecs" is not a duration`},
		{`sleep(-1)`, `^sleep: for parameter duration: duration -1 is negative`},
		{`identify(0)`, `^identify: pid 0 is not a process id$`},
		{`assert.reachable(None, "10.0.0.1")`, `^assert\.reachable: for parameter ns: want a Namespace, got None`},
		{`assert.eq(1)`, `^assert\.eq: missing argument for b; usage: assert\.eq\(a, b, msg=None\)$`},
		{`assert.fails(lambda: veth("a", "b", mtu = 0), "MTU 1 ")`, `^assert\.fails: error "veth: for parameter mtu: MTU 0 is out of range.*" does not match "MTU 1 "$`},
	} {
		t.Run(c.src, func(t *testing.T) {
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("%s reached the kernel (or crashed) before refusing its arguments: %v", c.src, r)
				}
			}()
			thread := &starlark.Thread{Name: "test"}
			_, err := starlark.ExecFile(thread, "bad.star", c.src, pre)
			if err == nil {
				t.Fatalf("%s succeeded, want an error matching %q", c.src, c.want)
			}
			var ee *starlark.EvalError
			if !errors.As(err, &ee) {
				t.Fatalf("%s: %v is not a Starlark evaluation error", c.src, err)
			}
			if !regexp.MustCompile(c.want).MatchString(ee.Msg) {
				t.Errorf("%s\n\t= %s\n\twant %s", c.src, ee.Msg, c.want)
			}
		})
	}
}
