package main

import (
	"regexp"
	"strings"
	"testing"
)

const driversDir = "../../testdata/drivers"

// TestDeviceDrivers: vlan() and macvlan() on this kernel. Where it has
// the kind's driver (probed with ip itself in a sandbox), its script of
// testdata/drivers makes the devices and proves them with real packets;
// where it has none, missing.star checks that the call fails naming the
// module, leaves nothing behind, and that the command line reports it as
// FILE:LINE:COL. Each half says why it is skipped on the other kernel.
func TestDeviceDrivers(t *testing.T) {
	for _, c := range []struct{ kind, module, probe string }{
		{"vlan", "8021q", "ip link add p0 type veth peer name p1 && ip link add link p0 name p0.5 type vlan id 5"},
		{"macvlan", "macvlan", "ip link add p0 type veth peer name p1 && ip link add link p0 name mv0 type macvlan mode bridge"},
	} {
		t.Run(c.kind, func(t *testing.T) {
			t.Parallel()
			out := mustRun(t, `print(exec(host, ["sh", "-c", args["probe"]], check = False).ok)`, "probe="+c.probe)
			present := strings.TrimSpace(out) == "True"
			t.Run("works", func(t *testing.T) {
				if !present {
					t.Skipf("the kernel has no %s module, so no %s device can be made here (`%s` fails); the missing subtest checks the error instead", c.module, c.kind, c.probe)
				}
				r := nsscript(t, driversDir, "--sandbox", c.kind+".star")
				if r.code != 0 {
					t.Fatalf("%s.star exited %d\nstdout:\n%s\nstderr:\n%s", c.kind, r.code, r.stdout, r.stderr)
				}
			})
			t.Run("missing", func(t *testing.T) {
				if present {
					t.Skipf("the kernel has the %s module: its absence cannot be provoked here", c.module)
				}
				r := nsscript(t, driversDir, "--sandbox", "missing.star", "kind="+c.kind)
				if r.code != 0 {
					t.Fatalf("missing.star kind=%s exited %d\nstdout:\n%s\nstderr:\n%s", c.kind, r.code, r.stdout, r.stderr)
				}
				r = nsscript(t, driversDir, "--sandbox", "missing.star", "kind="+c.kind, "direct=1")
				want := regexp.MustCompile(`^missing\.star:\d+:\d+: ` + c.kind + `: the kernel has no ` + regexp.QuoteMeta(c.module) + ` module \(` + c.kind + `\): `)
				first, _, _ := strings.Cut(r.stderr, "\n")
				if r.code != 1 || !want.MatchString(first) {
					t.Fatalf("exit %d, stderr:\n%s\nwant exit 1 and a first line matching %s", r.code, r.stderr, want)
				}
			})
		})
	}
}
