package main

import (
	"fmt"
	"math/rand"
	"strings"
	"testing"
	"time"
)

// The trust tests: nsscript touches only what it made. Like the ownership
// tests, each runs one script of testdata/ownership (trust_*.star) in its
// own --sandbox, which drives inner nsscript runs there and compares the
// kernel state with lib.star's snapshot().

func trust(t *testing.T, script, want string, extra ...string) {
	t.Helper()
	t.Parallel()
	out := ownership(t, script, extra...)
	if !strings.Contains(out, want) {
		t.Fatalf("stdout = %q, want %q in it", out, want)
	}
	t.Log(strings.TrimSpace(out))
}

// TestTrustNames: --lab ../../x, "", ".", ".." and the like are usage
// errors (exit 2) for runs, down, ls and graph, before anything is made
// or removed; a script named "my topo.star" needs --lab; a NUL in an
// interface name is refused.
func TestTrustNames(t *testing.T) { trust(t, "trust_names.star", "names checked") }

// TestTrustIdentity: down leaves alone what the user replaced since the
// run (a device, a namespace, an /etc/netns file, a changed device) and
// what a journal names without identity; it finishes an interrupted
// down; torn and corrupt journal lines are reported and skipped, never
// swallowing a record; sysctl keys are net.* only.
func TestTrustIdentity(t *testing.T) { trust(t, "trust_identity.star", "identity checked") }

// TestTrustFiles: ns.etc() and down never write or remove through a link
// planted under /etc/netns; a firewall rule string with an unquoted
// operator is an error (run and plan), quoted it arrives whole.
func TestTrustFiles(t *testing.T) { trust(t, "trust_files.star", "files checked") }

// TestTrustProcs: daemons that shed their environment and session are
// still listed and stopped; SIGPIPE and SIGHUP roll back; running out of
// memory or recursing without end gives a short message and exit 1.
func TestTrustProcs(t *testing.T) { trust(t, "trust_procs.star", "processes checked") }

// TestTrustRace: two labs make the same namespace, bridge and veth at
// the same moment, 50 times; the one that rolls back never removes what
// the other made.
func TestTrustRace(t *testing.T) { trust(t, "trust_race.star", "raced 50 times", "n=50") }

// TestTrustKill9: kill -9 of a build (30 random moments) and of a down
// (30 random moments); the next down restores the state from before.
func TestTrustKill9(t *testing.T) {
	out := "killed "
	trust(t, "trust_kill9.star", out, "build="+fractions(t, 30), "down="+fractions(t, 30))
}

// fractions are n random numbers in [0, 1.2) (a few past the end: a
// kill that comes too late must be harmless too); the seed is logged.
func fractions(t *testing.T, n int) string {
	seed := time.Now().UnixNano()
	rnd := rand.New(rand.NewSource(seed))
	fs := make([]string, n)
	for i := range fs {
		fs[i] = fmt.Sprintf("%.3f", rnd.Float64()*1.2)
	}
	t.Logf("random fractions (seed %d): %s", seed, strings.Join(fs, " "))
	return strings.Join(fs, ",")
}

// TestTrustMore: what a red team found: unclean namespace paths, a
// half-written /etc/netns file, the side effects of forwarding, IPv6
// dropped with a device set down, a down started from inside the lab,
// deletes of what the lab did not make, a device replaced with the same
// MAC, links and FIFOs planted in /run/nsscript, forged process records,
// journal permissions, a link in /run/netns, SIGQUIT.
func TestTrustMore(t *testing.T) { trust(t, "trust_more.star", "more checked") }
