package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nsscript/nsscript/builtins/kernel"
	"github.com/nsscript/nsscript/builtins/kernel/direct"
)

// TestMain lets the test binary be its own sandbox and measurement, as
// nsbench is (kernel.RunSandboxed re-runs /proc/self/exe).
func TestMain(m *testing.M) {
	kernel.MaybeSandboxInit()
	if len(os.Args) > 1 && os.Args[1] == "__one" {
		os.Exit(one(os.Args[2:]))
	}
	if len(os.Args) == 7 && os.Args[1] == "__netlink" {
		os.Exit(netlinkWay(os.Args[2:]))
	}
	// Every measurement runs in a sandbox: the host must be as it was
	// (its devices, addresses, routes, ip_forward, /run/netns, /etc/netns
	// and /run/nsscript; cmd/nsscript's TestMain checks more).
	before, berr := hostState()
	code := m.Run()
	after, aerr := hostState()
	if berr != nil || aerr != nil {
		fmt.Fprintf(os.Stderr, "host state: %v %v\n", berr, aerr)
		code = 1
	} else if after != before {
		fmt.Fprintf(os.Stderr, "the tests changed the host:\n%s\n", diff(before, after))
		code = 1
	}
	os.Exit(code)
}

func hostState() (string, error) {
	s, err := direct.State()
	for _, d := range []string{"/run/netns", "/etc/netns", "/run/nsscript"} {
		ents, derr := os.ReadDir(d)
		s += fmt.Sprintf("%s exists=%v entries=%d\n", d, !os.IsNotExist(derr), len(ents))
	}
	return s, err
}

func needRoot(tb testing.TB) {
	if os.Geteuid() != 0 {
		tb.Skip("needs root: every measurement builds namespaces in a sandbox of its own")
	}
}

func buildNsscript(tb testing.TB) string {
	bin := filepath.Join(tb.TempDir(), "nsscript")
	if out, err := exec.Command("go", "build", "-o", bin, "../nsscript").CombinedOutput(); err != nil {
		tb.Fatalf("build nsscript: %v\n%s", err, out)
	}
	return bin
}

func scriptsDir(tb testing.TB) string {
	d, err := filepath.Abs("../../scripts/bench")
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

// TestBench runs the whole benchmark small: 5 hosts over 3 bridges (so
// the host namespace forwards between them), each way; exec side by side
// with what it is compared to, nsscript test on 2 tests, 20 namespaces
// made and deleted. measure itself checks what makes the figures
// comparable: the four builds leave the same kernel state (devices,
// masters, up, addresses, routes, ip_forward, in every namespace), each
// build's last host answers a ping from the first, and each teardown
// restores the state from before. The test asserts that all of it held
// and that every figure was measured.
func TestBench(t *testing.T) {
	needRoot(t)
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("the ip way needs iproute2")
	}
	o := options{ns: []int{5}, perBridge: 2, hostIPv6: true, hostsIPv6: true, ways: []string{"nsscript", "netlink", "tuned", "ip"},
		nsscript: buildNsscript(t), scripts: scriptsDir(t), calls: 3, runs: 1, rounds: 1, tests: 2, cycles: 20}
	rep := measure(o)
	if len(rep.Errors) > 0 {
		t.Fatalf("errors:\n%s", strings.Join(rep.Errors, "\n"))
	}
	if len(rep.Rows) != 1 || rep.Rows[0].Bridges != 3 {
		t.Fatalf("rows: %+v", rep.Rows)
	}
	for _, w := range o.ways {
		r := rep.Rows[0].Ways[w]
		if r == nil || r.Build <= 0 || r.Ping <= 0 || r.Down <= 0 || r.CPU <= 0 || r.RSS <= 0 {
			t.Errorf("%s: not measured: %+v", w, r)
		}
	}
	// (exec in nsscript is timed as the difference of two runs of a
	// script, which over a few calls is within the noise: it ran.)
	for _, way := range []string{"nsscript", "nsenter", "ip netns exec", "fork+exec"} {
		if d, ok := rep.Exec[way]; !ok || way != "nsscript" && d <= 0 {
			t.Errorf("exec: %s not measured: %v", way, rep.Exec)
		}
	}
	for _, key := range []string{"sandbox", "empty 1", "empty 2", "empty 4", "small 1", "small 2", "small 4"} {
		if rep.Tests[key] <= 0 {
			t.Errorf("nsscript test: %s not measured: %v", key, rep.Tests)
		}
	}
	for _, key := range []string{"rss 2", "rss 10", "rss 20"} {
		if rep.Cycles[key] <= 0 {
			t.Errorf("cycles: %s not measured: %v", key, rep.Cycles)
		}
	}
	// (ping and assert.reachable ran, with no error; over 3 calls their
	// cost is within the noise of a process start, so not checked > 0.)
	if rep.Empty <= 0 {
		t.Errorf("empty script: not measured")
	}
	var out bytes.Buffer
	rep.print(&out)
	for _, want := range []string{"build ns", "    5   3 |", "empty script:", "exec / nsenter:", "nsscript test, per test:", "namespaces made and deleted"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the table lacks %q:\n%s", want, out.String())
		}
	}
}

// TestBenchCatchesDifferentStates makes sure the state comparison is not
// vacuous: a build that differs (here, the bench script leaves the hosts'
// loopback down; the pings still go through) is reported.
func TestBenchCatchesDifferentStates(t *testing.T) {
	needRoot(t)
	dir := t.TempDir()
	src, err := os.ReadFile(filepath.Join(scriptsDir(t), "hosts.star"))
	if err != nil {
		t.Fatal(err)
	}
	changed := strings.Replace(string(src), `namespace("h%d" % i, ipv6 = IPV6)`, `namespace("h%d" % i, ipv6 = IPV6, lo = False)`, 1)
	if changed == string(src) {
		t.Fatal("the bench script no longer names its hosts as this test expects: update the test")
	}
	os.WriteFile(filepath.Join(dir, "hosts.star"), []byte(changed), 0o644)
	o := options{ns: []int{4}, perBridge: 2, hostIPv6: false, hostsIPv6: true, ways: []string{"netlink", "nsscript"},
		nsscript: buildNsscript(t), scripts: dir, runs: 1}
	rep := measure(o)
	errs := strings.Join(rep.Errors, "\n")
	if len(rep.Errors) != 1 || !strings.Contains(errs, "nsscript built a different state than netlink") || !strings.Contains(errs, "link lo device up=false") {
		t.Fatalf("want the state difference reported, got:\n%s", errs)
	}
}

// BenchmarkHosts200 builds and tears down 200 hosts on a bridge, each way
// in a fresh sandbox per iteration; ns/op is the build, down-ns/op the
// teardown. (go run ./cmd/nsbench prints all the figures at once.)
func BenchmarkHosts200(b *testing.B) {
	needRoot(b)
	bin := buildNsscript(b)
	for _, way := range []string{"nsscript", "netlink"} {
		b.Run(way, func(b *testing.B) {
			var build, down time.Duration
			for range b.N {
				r := sandboxed("build", way, "200", "250", bin, scriptsDir(b), "", "true", "true")
				if r.Err != "" {
					b.Fatal(r.Err)
				}
				build += r.Build
				down += r.Down
			}
			b.ReportMetric(float64(build.Nanoseconds())/float64(b.N), "ns/op")
			b.ReportMetric(float64(down.Nanoseconds())/float64(b.N), "down-ns/op")
		})
	}
}

// BenchmarkEmptyScript is the wall time of an empty script.
func BenchmarkEmptyScript(b *testing.B) {
	needRoot(b)
	bin := buildNsscript(b)
	var total time.Duration
	for range b.N {
		r := sandboxed("empty", bin)
		if r.Err != "" {
			b.Fatal(r.Err)
		}
		total += r.Build
	}
	b.ReportMetric(float64(total.Nanoseconds())/float64(b.N), "ns/op")
}

// BenchmarkPing is one ping() on a ready link (from 1000 calls).
func BenchmarkPing(b *testing.B) {
	needRoot(b)
	bin := buildNsscript(b)
	for _, check := range []string{"ping", "reachable"} {
		b.Run(check, func(b *testing.B) {
			var total time.Duration
			for range b.N {
				r := sandboxed("calls", bin, scriptsDir(b), check, strconv.Itoa(1000))
				if r.Err != "" {
					b.Fatal(r.Err)
				}
				total += r.Build
			}
			b.ReportMetric(float64(total.Nanoseconds())/float64(b.N), "ns/op")
		})
	}
}

// TestCombine: -from prints, of several runs' -json reports, the median
// of each figure.
func TestCombine(t *testing.T) {
	dir := t.TempDir()
	var files []string
	for i, ms := range []time.Duration{30, 10, 20} {
		rep := report{Empty: ms * time.Millisecond, Exec: map[string]time.Duration{"nsscript": ms}, Cycles: map[string]int64{"rss 10": int64(ms)},
			Rows: []row{{Hosts: 5, Bridges: 1, Ways: map[string]*result{"nsscript": {Build: ms, RSS: int64(ms)}}}}}
		b, err := json.Marshal(rep)
		if err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(dir, strconv.Itoa(i)+".json")
		if err := os.WriteFile(f, b, 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	r, err := combine(files)
	if err != nil {
		t.Fatal(err)
	}
	if r.Empty != 20*time.Millisecond || r.Exec["nsscript"] != 20 || r.Cycles["rss 10"] != 20 ||
		len(r.Rows) != 1 || r.Rows[0].Ways["nsscript"].Build != 20 || r.Rows[0].Ways["nsscript"].RSS != 20 {
		t.Errorf("not the medians: %+v %+v", r, r.Rows)
	}
}

// TestBenchHostsWithoutIPv6: with -hosts-ipv6=false every way makes the
// hosts' namespaces without IPv6 (the states, compared as in TestBench,
// hold no IPv6 address: not even lo's ::1), and the table says so.
func TestBenchHostsWithoutIPv6(t *testing.T) {
	needRoot(t)
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("the ip way needs iproute2")
	}
	o := options{ns: []int{3}, perBridge: 2, hostIPv6: true, hostsIPv6: false, ways: []string{"nsscript", "netlink", "tuned", "ip"},
		nsscript: buildNsscript(t), scripts: scriptsDir(t), runs: 1}
	rep := measure(o)
	if len(rep.Errors) > 0 {
		t.Fatalf("errors:\n%s", strings.Join(rep.Errors, "\n"))
	}
	for _, w := range o.ways {
		if r := rep.Rows[0].Ways[w]; r == nil || r.Build <= 0 || r.Ping <= 0 {
			t.Errorf("%s: not measured: %+v", w, r)
		}
	}
	var out bytes.Buffer
	rep.print(&out)
	if !strings.Contains(out.String(), "hosts without IPv6 (-hosts-ipv6=false)") {
		t.Errorf("the table does not say the hosts had no IPv6:\n%s", out.String())
	}
	// The state itself, from one build: lo in h1 has 127.0.0.1 only.
	r := sandboxed("build", "netlink", "3", "2", o.nsscript, o.scripts, "", "true", "false")
	if r.Err != "" {
		t.Fatal(r.Err)
	}
	r2 := sandboxed("build", "netlink", "3", "2", o.nsscript, o.scripts, "", "true", "true")
	if r2.Err != "" {
		t.Fatal(r2.Err)
	}
	if !strings.Contains(r.State, "h1 link lo device up=true master= 127.0.0.1/8\n") || !strings.Contains(r2.State, "::1/128") {
		t.Errorf("without IPv6, lo should have 127.0.0.1/8 only, and ::1 with:\nwithout:\n%s\nwith:\n%s", r.State, r2.State)
	}
}
