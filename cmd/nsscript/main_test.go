package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// bin is the nsscript binary under test, built once by TestMain.
var bin string

// TestMain builds nsscript, runs the suite, and fails it when the host's
// links, addresses, routes, rules, iptables rules, sysctls, mounts,
// /run/netns or /etc/netns differ afterwards: every test must stay inside
// the sandboxes it creates.
func TestMain(m *testing.M) {
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "nsscript's tests act on the real kernel inside throwaway namespaces: run them as root (sudo go test ./...)")
		os.Exit(1)
	}
	dir, err := os.MkdirTemp("", "nsscript-test-")
	if err != nil {
		panic(err)
	}
	bin = filepath.Join(dir, "nsscript")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build nsscript: %v\n%s", err, out)
		os.Exit(1)
	}
	removeStaleCgroups()
	before := hostState()
	code := m.Run()
	after := hostState()
	os.RemoveAll(dir)
	if d := diffLines(before, after); d != "" {
		fmt.Fprintf(os.Stderr, "FAIL: the host changed during the tests:\n%s", d)
		code = 1
	}
	os.Exit(code)
}

// removeStaleCgroups removes the empty cgroups of sandboxes whose
// nsscript was killed before this suite (rmdir takes only an empty one):
// what is there afterwards, the suite left.
func removeStaleCgroups() {
	for _, root := range []string{"/sys/fs/cgroup", "/sys/fs/cgroup/unified"} {
		dirs, _ := filepath.Glob(root + "/nsscript-sandbox-*")
		for _, d := range dirs {
			sub, _ := filepath.Glob(d + "/*/")
			for _, s := range sub {
				os.Remove(s)
			}
			os.Remove(d)
		}
	}
}

// hostState is a text snapshot of everything the tests must not touch.
func hostState() string {
	var b strings.Builder
	run := func(name string, args ...string) {
		out, err := exec.Command(name, args...).CombinedOutput()
		if err != nil && os.Getenv("CI") == "true" {
			fmt.Fprintf(os.Stderr, "host snapshot: %s %v: %v\n%s", name, args, err, out)
			os.Exit(1)
		}
		fmt.Fprintf(&b, "$ %s %s\n", name, strings.Join(args, " "))
		for _, l := range strings.Split(string(out), "\n") {
			// Counters and timers change on their own.
			if strings.HasPrefix(l, "#") || strings.Contains(l, "valid_lft") {
				continue
			}
			if i := strings.Index(l, " ["); strings.HasPrefix(l, ":") && i > 0 {
				l = l[:i]
			}
			b.WriteString(l + "\n")
		}
	}
	run("ip", "-d", "link", "show")
	run("ip", "addr", "show")
	run("ip", "route", "show", "table", "all")
	run("ip", "-6", "route", "show", "table", "all")
	run("ip", "rule", "show")
	run("iptables-save")
	run("ip6tables-save")
	var sysctls []string
	filepath.Walk("/proc/sys/net/ipv4", func(p string, info os.FileInfo, err error) error {
		if err == nil && info.Mode().IsRegular() && info.Mode().Perm()&0o444 != 0 && !strings.Contains(p, "/neigh/") && !strings.Contains(p, "route/flush") {
			if v, err := os.ReadFile(p); err == nil {
				sysctls = append(sysctls, p+" = "+strings.TrimSpace(string(v)))
			}
		}
		return nil
	})
	sort.Strings(sysctls)
	b.WriteString(strings.Join(sysctls, "\n") + "\n")
	for _, d := range []string{"/run/netns", "/etc/netns", "/run/nsscript"} {
		ents, err := os.ReadDir(d)
		fmt.Fprintf(&b, "%s exists=%v:", d, err == nil)
		for _, e := range ents {
			b.WriteString(" " + e.Name())
		}
		b.WriteString("\n")
	}
	// The cgroups nsscript makes for sandboxes (cgroup v2) whose nsscript
	// is gone: left behind. (A sandbox of another package's tests, which
	// go test runs at the same time, is alive.)
	for _, root := range []string{"/sys/fs/cgroup", "/sys/fs/cgroup/unified"} {
		if ents, err := os.ReadDir(root); err == nil {
			for _, e := range ents {
				pid, err := strconv.Atoi(strings.TrimPrefix(e.Name(), "nsscript-sandbox-"))
				if e.IsDir() && strings.HasPrefix(e.Name(), "nsscript-") && (err != nil || syscall.Kill(pid, 0) != nil) {
					fmt.Fprintf(&b, "cgroup %s/%s\n", root, e.Name())
				}
			}
		}
	}
	mounts, _ := os.ReadFile("/proc/self/mountinfo")
	for _, l := range strings.Split(string(mounts), "\n") {
		if f := strings.Fields(l); len(f) > 4 {
			b.WriteString("mount " + f[4] + "\n")
		}
	}
	return b.String()
}

// diffLines lists the lines only in a and only in b.
func diffLines(a, b string) string {
	count := func(s string) map[string]int {
		m := map[string]int{}
		for _, l := range strings.Split(s, "\n") {
			m[l]++
		}
		return m
	}
	ca, cb := count(a), count(b)
	var out []string
	for l, n := range ca {
		if cb[l] < n {
			out = append(out, "- "+l)
		}
	}
	for l, n := range cb {
		if ca[l] < n {
			out = append(out, "+ "+l)
		}
	}
	sort.Strings(out)
	if len(out) == 0 {
		return ""
	}
	return strings.Join(out, "\n") + "\n"
}

// result is what one nsscript run gave.
type result struct {
	code           int
	stdout, stderr string
}

// nsscript runs the binary with args in dir and returns what it gave.
func nsscript(t testing.TB, dir string, args ...string) result {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	return runBin(t, cmd)
}

// runBin runs a prepared nsscript command and returns what it gave.
func runBin(t testing.TB, cmd *exec.Cmd) result {
	t.Helper()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run nsscript: %v", err)
	}
	return result{code, out.String(), errb.String()}
}

// sandboxed writes files (name -> source) to a fresh directory and runs
// the first-named script there under --sandbox, with extra arguments.
func sandboxed(t testing.TB, name, src string, extra ...string) result {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return nsscript(t, dir, append([]string{"--sandbox", name}, extra...)...)
}

// mustRun runs a script in a sandbox and fails the test unless it exits 0.
func mustRun(t testing.TB, src string, extra ...string) string {
	t.Helper()
	r := sandboxed(t, "t.star", src, extra...)
	if r.code != 0 {
		t.Fatalf("script exited %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	return r.stdout
}
