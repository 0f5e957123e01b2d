package names

import (
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestNames(t *testing.T) {
	for _, c := range []struct {
		check func(string) error
		ok    []string
		bad   []string
	}{
		{Lab, []string{"topo", "03_red_blue_bridge", "my-lab.2", "_x", strings.Repeat("a", MaxLab)},
			[]string{"", ".", "..", "../../tmp/x", "a/b", "-x", ".hidden", "a b", "a\x00b", "é", strings.Repeat("a", MaxLab+1), "a\n"}},
		{Netns, []string{"red", "ns-1", "a.b", "é", strings.Repeat("n", MaxNetns)},
			[]string{"", ".", "..", "a/b", "a\x00b", "a b", "a\tb", "a\nb", "\xff", strings.Repeat("n", MaxNetns+1)}},
		{IfName, []string{"eth0", "veth-red-br", "eth0.100", strings.Repeat("i", 15)},
			[]string{"", ".", "..", "ab\x00c", "eth0:1", "eth0/1", "veth red", "a\u00a0b", "\x7f", "\xff\xfe", strings.Repeat("i", 16), "v%d", "x%"}},
		{EtcFile, []string{"hosts", "resolv.conf", "nsswitch.conf"},
			[]string{"", ".", "..", "a/b", "../hosts", "h\x00", "h\n"}},
	} {
		for _, s := range c.ok {
			if err := c.check(s); err != nil {
				t.Errorf("%q refused: %v", s, err)
			}
		}
		for _, s := range c.bad {
			if err := c.check(s); err == nil {
				t.Errorf("%q accepted", s)
			}
		}
	}
}

func TestOutputFile(t *testing.T) {
	for _, p := range []string{"/tmp/wan.pcapng", "/home/me/lab captures/é.pcapng", "/run/user/0/x", "/etc/x.pcapng", "/devices/x"} {
		if err := OutputFile(p); err != nil {
			t.Errorf("%q refused: %v", p, err)
		}
	}
	for _, p := range []string{"", "x.pcapng", "/tmp/../tmp/x", "/tmp/x/", "/tmp/a\x00b", "/tmp/a\nb", "/tmp/\xff",
		"/run/nsscript/lab/journal", "/run/nsscript", "/run/netns/red", "/etc/netns/red/hosts", "/proc/sys/net/ipv4/ip_forward",
		"/sys/class/net/x", "/dev/sda", "/dev"} {
		if err := OutputFile(p); err == nil {
			t.Errorf("%q accepted", p)
		}
	}
}

// OutputDir refuses the kernel's pseudo-filesystems by what they are,
// wherever they are mounted; a directory that is not there is left to
// what opens the file.
func TestOutputDir(t *testing.T) {
	for _, d := range []string{t.TempDir(), "/", "/nonexistent/dir"} {
		if err := OutputDir(d); err != nil {
			t.Errorf("%q refused: %v", d, err)
		}
	}
	for d, fs := range map[string]string{"/proc": "proc", "/proc/sys/net/ipv4": "proc", "/sys/class/net": "sysfs"} {
		if err := OutputDir(d); err == nil || !strings.Contains(err.Error(), "on a "+fs+" filesystem") {
			t.Errorf("%q: error %v, want one saying it is on a %s filesystem", d, err, fs)
		}
	}
}

func TestSysctlKey(t *testing.T) {
	for key, want := range map[string]string{
		"net.ipv4.ip_forward":              "/proc/sys/net/ipv4/ip_forward",
		"net/ipv4/ip_forward":              "/proc/sys/net/ipv4/ip_forward",
		"net.ipv4.conf.eth0/100.rp_filter": "/proc/sys/net/ipv4/conf/eth0.100/rp_filter",
		"net.ipv6.conf.all.forwarding":     "/proc/sys/net/ipv6/conf/all/forwarding",
	} {
		got, err := SysctlKey(key)
		if err != nil || got != want {
			t.Errorf("SysctlKey(%q) = %q, %v; want %q", key, got, err, want)
		}
	}
	for _, key := range []string{"", "kernel.hostname", "vm.drop_caches", "net", "net.", "net..x", "net.ipv4...x",
		"net/../kernel/hostname", "net.ipv4.conf.../rp_filter", "net/ipv4/../../kernel/x", "/proc/sys/net/x", "net.a b", "net.a\x00"} {
		if p, err := SysctlKey(key); err == nil {
			t.Errorf("SysctlKey(%q) = %q, want an error", key, p)
		}
	}
	_, err := SysctlKey("kernel.hostname")
	if err == nil || !strings.Contains(err.Error(), `"kernel.hostname"`) {
		t.Errorf("the error names no key: %v", err)
	}
}

// oneComponent is what every accepted name must be, whatever the checker
// says: a single path component that stays in its directory.
func oneComponent(t *testing.T, what, s string) {
	for _, dir := range []string{"/run/nsscript", "/run/netns", "/etc/netns"} {
		p := filepath.Join(dir, s)
		if filepath.Dir(p) != dir || filepath.Base(p) != s {
			t.Fatalf("%s %q accepted, but %s/%q is %q", what, s, dir, s, p)
		}
	}
	if strings.ContainsAny(s, "/\x00\n") || s == "." || s == ".." || !utf8.ValidString(s) {
		t.Fatalf("%s %q accepted", what, s)
	}
}

// FuzzNames: whatever the input, no checker panics, and what one accepts
// is a single path component (or, for a sysctl key, a file under
// /proc/sys/net) with no byte the kernel or the journal would change.
func FuzzNames(f *testing.F) {
	for _, s := range []string{"red", "..", "../../etc", "a/b", "ab\x00c", "", ".", "net.ipv4.ip_forward",
		"net/../kernel", "kernel.hostname", "eth0:1", "\xff", "net.ipv4.conf.eth0/100.rp_filter", "veth red",
		"/tmp/x.pcapng", "/run/nsscript/x", "/proc/sys/x", "/dev/../dev/x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if Lab(s) == nil {
			oneComponent(t, "lab", s)
			if len(s) > MaxLab || strings.HasPrefix(s, ".") || strings.HasPrefix(s, "-") {
				t.Fatalf("lab %q accepted", s)
			}
		}
		if Netns(s) == nil {
			oneComponent(t, "namespace", s)
		}
		if EtcFile(s) == nil {
			oneComponent(t, "file", s)
		}
		if IfName(s) == nil {
			oneComponent(t, "interface", s)
			if len(s) > MaxIfName || strings.ContainsAny(s, ": \t%") {
				t.Fatalf("interface %q accepted", s)
			}
		}
		if OutputFile(s) == nil {
			if !filepath.IsAbs(s) || filepath.Clean(s) != s || strings.ContainsAny(s, "\x00\n") || !utf8.ValidString(s) {
				t.Fatalf("output file %q accepted", s)
			}
			for _, dir := range reserved {
				if rel, err := filepath.Rel(dir, s); err == nil && !strings.HasPrefix(rel, "..") {
					t.Fatalf("output file %q accepted, in %s", s, dir)
				}
			}
		}
		if p, err := SysctlKey(s); err == nil {
			if !strings.HasPrefix(p, "/proc/sys/net/") || filepath.Clean(p) != p || strings.Contains(p, "/../") || strings.ContainsRune(p, 0) {
				t.Fatalf("sysctl key %q accepted as %q", s, p)
			}
		}
	})
}
