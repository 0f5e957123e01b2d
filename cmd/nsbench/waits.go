package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// What users wait on besides building: exec, nsscript test's start-up,
// and memory over a long run. Each is measured in a sandbox of its own,
// side by side with what it is compared to, round after round, so that
// a busy machine slows both alike; the medians are kept.

// scriptTime runs ping.star (CHECK, COUNT times) in lab calls, takes the
// lab down again, and returns the run's wall time.
func scriptTime(nsscript, scripts, check string, count int) (time.Duration, error) {
	script := filepath.Join(scripts, "ping.star")
	start := time.Now()
	out, err := exec.Command(nsscript, "--lab", "calls", script, "check="+check, "count="+strconv.Itoa(count)).CombinedOutput()
	d := time.Since(start)
	if err == nil {
		out, err = exec.Command(nsscript, "down", "calls").CombinedOutput()
	}
	if err != nil {
		return 0, fmt.Errorf("ping.star check=%s count=%d: %v\n%s", check, count, err, out)
	}
	return d, nil
}

// execs (in a sandbox) times exec(ns, ["true"]) in a named namespace (from
// ping.star with count=0 and count=CALLS: the difference divided by
// CALLS) and, in the same round, CALLS runs of each of what it is
// compared to, with stdout and stderr read as exec reads them: nsenter
// --net=/run/netns/NS true, ip netns exec NS true, and true itself
// (a fork and exec, in this namespace). Medians of ROUNDS rounds:
// NSSCRIPT SCRIPTS CALLS ROUNDS
func execs(args []string) (result, error) {
	r := result{Times: map[string]time.Duration{}}
	nsscript, scripts := args[0], args[1]
	k, _ := strconv.Atoi(args[2])
	rounds, _ := strconv.Atoi(args[3])
	if out, err := exec.Command("ip", "netns", "add", "nsbench").CombinedOutput(); err != nil {
		return r, fmt.Errorf("ip netns add: %v\n%s", err, out)
	}
	defer exec.Command("ip", "netns", "del", "nsbench").Run()
	others := []struct {
		way  string
		argv []string
	}{
		{"nsenter", []string{"nsenter", "--net=/run/netns/nsbench", "true"}},
		{"ip netns exec", []string{"ip", "netns", "exec", "nsbench", "true"}},
		{"fork+exec", []string{"true"}},
	}
	per := map[string][]time.Duration{}
	for range rounds {
		t0, err := scriptTime(nsscript, scripts, "exec", 0)
		if err != nil {
			return r, err
		}
		tk, err := scriptTime(nsscript, scripts, "exec", k)
		if err != nil {
			return r, err
		}
		per["nsscript"] = append(per["nsscript"], max(0, tk-t0)/time.Duration(k))
		for _, o := range others {
			start := time.Now()
			for range k {
				cmd := exec.Command(o.argv[0], o.argv[1:]...)
				var out, errb bytes.Buffer
				cmd.Stdout, cmd.Stderr = &out, &errb
				if err := cmd.Run(); err != nil {
					return r, fmt.Errorf("%s: %v\n%s", strings.Join(o.argv, " "), err, errb.Bytes())
				}
			}
			per[o.way] = append(per[o.way], time.Since(start)/time.Duration(k))
		}
	}
	for way, ds := range per {
		r.Times[way] = medianOf(ds)
	}
	return r, nil
}

func medianOf(ds []time.Duration) time.Duration {
	ds = slices.Clone(ds)
	slices.Sort(ds)
	return ds[len(ds)/2]
}

// testStartup (in a sandbox) times `nsscript test` on TESTS empty tests
// and on TESTS small ones (two namespaces, a veth, assert.reachable), at
// -parallel 1, 2 and 4, and, as the baseline of one test's start, an
// empty script run under --sandbox; medians of ROUNDS rounds, per test:
// NSSCRIPT TESTS ROUNDS
func testStartup(args []string) (result, error) {
	r := result{Times: map[string]time.Duration{}}
	nsscript := args[0]
	n, _ := strconv.Atoi(args[1])
	rounds, _ := strconv.Atoi(args[2])
	dir, err := os.MkdirTemp("", "nsbench-test")
	if err != nil {
		return r, err
	}
	defer os.RemoveAll(dir)
	var empty, small strings.Builder
	for i := range n {
		fmt.Fprintf(&empty, "def test_%d():\n    pass\n\n", i)
		fmt.Fprintf(&small, `def test_%d():
    a, b = namespace("a"), namespace("b")
    veth("eth0", "eth0", ns = a, peer_ns = b, addr = "10.0.0.1/24", peer_addr = "10.0.0.2/24")
    assert.reachable(a, "10.0.0.2")

`, i)
	}
	for name, src := range map[string]string{"empty": empty.String(), "small": small.String()} {
		if err := os.MkdirAll(filepath.Join(dir, name), 0o755); err != nil {
			return r, err
		}
		if err := os.WriteFile(filepath.Join(dir, name, name+"_test.star"), []byte(src), 0o644); err != nil {
			return r, err
		}
	}
	script := filepath.Join(dir, "empty.star")
	if err := os.WriteFile(script, nil, 0o644); err != nil {
		return r, err
	}
	per := map[string][]time.Duration{}
	timed := func(key string, count int, argv ...string) error {
		start := time.Now()
		out, err := exec.Command(nsscript, argv...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("nsscript %s: %v\n%s", strings.Join(argv, " "), err, out)
		}
		per[key] = append(per[key], time.Since(start)/time.Duration(count))
		return nil
	}
	for range rounds {
		for range 3 {
			if err := timed("sandbox", 1, "--sandbox", script); err != nil {
				return r, err
			}
		}
		for _, kind := range []string{"empty", "small"} {
			for _, p := range []string{"1", "2", "4"} {
				if err := timed(kind+" "+p, n, "test", "-parallel", p, filepath.Join(dir, kind)); err != nil {
					return r, err
				}
			}
		}
	}
	for key, ds := range per {
		r.Times[key] = medianOf(ds)
	}
	return r, nil
}

// cycles (in a sandbox) runs cycles.star: N namespaces made and deleted
// one after the other in one run, which prints nsscript's resident size
// along the way: NSSCRIPT SCRIPTS N
func cycles(args []string) (result, error) {
	r := result{Values: map[string]int64{}}
	nsscript, script := args[0], filepath.Join(args[1], "cycles.star")
	start := time.Now()
	out, err := exec.Command(nsscript, "--lab", "cycles", script, "n="+args[2]).CombinedOutput()
	r.Build = time.Since(start)
	if err == nil {
		var down []byte
		down, err = exec.Command(nsscript, "down", "cycles").CombinedOutput()
		out = append(out, down...)
	}
	if err != nil {
		return r, fmt.Errorf("cycles.star n=%s: %v\n%s", args[2], err, out)
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		var cycle, kb int64
		if _, err := fmt.Sscanf(sc.Text(), "rss after %d cycles: %d kB", &cycle, &kb); err == nil {
			r.Values["rss "+strconv.FormatInt(cycle, 10)] = kb
		}
	}
	if len(r.Values) < 2 {
		return r, fmt.Errorf("cycles.star printed no sizes:\n%s", out)
	}
	return r, nil
}
