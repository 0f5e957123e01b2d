package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"time"

	"github.com/nsscript/nsscript/builtins/kernel/direct"
)

// buildDown (in a sandbox) builds N hosts one way, pings end to end (the
// same native ping for each way, timed apart),
// records the state, tears it down and checks that the state before is
// back: WAY N PER_BRIDGE NSSCRIPT SCRIPTS PROFILE_DIR HOST_IPV6 HOSTS_IPV6
func buildDown(args []string) (result, error) {
	var r result
	way := args[0]
	n, _ := strconv.Atoi(args[1])
	per, _ := strconv.Atoi(args[2])
	nsscript, scripts, profile := args[3], args[4], args[5]
	t := direct.Topo{Hosts: n, PerBridge: per, NoIPv6: args[7] == "false"}
	ipv6 := "yes"
	if t.NoIPv6 {
		ipv6 = "no"
	}
	if args[6] == "false" {
		// In the sandbox's own namespace only: devices made there from
		// now on get no IPv6, so no fe80::/64 route each.
		for _, conf := range []string{"all", "default"} {
			if err := os.WriteFile("/proc/sys/net/ipv6/conf/"+conf+"/disable_ipv6", []byte("1"), 0o644); err != nil {
				return r, err
			}
		}
	}
	before, err := direct.State()
	if err != nil {
		return r, err
	}
	// run runs a program; the build's keeps its processor time and
	// largest resident size in r.
	run := func(env []string, name string, argv ...string) error {
		cmd := exec.Command(name, argv...)
		cmd.Env = append(os.Environ(), env...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("%s %v: %v\n%s", name, argv, err, out.Bytes())
		}
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok && r.RSS == 0 {
			r.CPU = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
			r.RSS = ru.Maxrss
		}
		return nil
	}
	prof := func(what string) []string {
		if profile == "" {
			return nil
		}
		return []string{"NSSCRIPT_CPUPROFILE=" + filepath.Join(profile, fmt.Sprintf("%s-%d.prof", what, n))}
	}
	var down func() error
	start := time.Now()
	switch way {
	case "nsscript":
		err = run(prof("build"), nsscript, "--lab", "bench", filepath.Join(scripts, "hosts.star"), "n="+args[1], "per_bridge="+args[2], "ping=no", "ipv6="+ipv6)
		down = func() error { return run(prof("down"), nsscript, "down", "bench") }
	case "netlink", "tuned":
		// A program of its own, like the others: this one, re-run.
		tuned := strconv.FormatBool(way == "tuned")
		err = run(nil, "/proc/self/exe", "__netlink", "build", args[1], args[2], tuned, args[7])
		down = func() error { return run(nil, "/proc/self/exe", "__netlink", "down", args[1], args[2], tuned, args[7]) }
	case "ip":
		bs, ds := t.IPScripts()
		dir, derr := os.MkdirTemp("", "nsbench-ip")
		if derr != nil {
			return r, derr
		}
		defer os.RemoveAll(dir)
		build, teardown := filepath.Join(dir, "build.sh"), filepath.Join(dir, "down.sh")
		os.WriteFile(build, []byte(bs), 0o644)
		os.WriteFile(teardown, []byte(ds), 0o644)
		start = time.Now()
		err = run(nil, "sh", build) // (its CPU time includes the ip commands')
		down = func() error {
			if err := run(nil, "sh", teardown); err != nil {
				return err
			}
			return direct.WaitVethsGone(nil) // ip netns del does not wait
		}
	default:
		return r, fmt.Errorf("unknown way %q", way)
	}
	r.Build = time.Since(start)
	if err != nil {
		return r, err
	}
	start = time.Now()
	err = t.Ping()
	r.Ping = time.Since(start)
	if err != nil {
		return r, err
	}
	if r.State, err = direct.State(); err != nil {
		return r, err
	}
	start = time.Now()
	err = down()
	r.Down = time.Since(start)
	if err != nil {
		return r, err
	}
	after, err := direct.State()
	if err != nil {
		return r, err
	}
	if after != before {
		return r, fmt.Errorf("the teardown left the state changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	return r, nil
}

// empty (in a sandbox) times runs of an empty script and keeps the
// fastest of the middle half: NSSCRIPT
func empty(args []string) (result, error) {
	var r result
	dir, err := os.MkdirTemp("", "nsbench-empty")
	if err != nil {
		return r, err
	}
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "empty.star")
	os.WriteFile(file, nil, 0o644)
	var times []time.Duration
	for range 21 {
		start := time.Now()
		if out, err := exec.Command(args[0], file).CombinedOutput(); err != nil {
			return r, fmt.Errorf("empty script: %v\n%s", err, out)
		}
		times = append(times, time.Since(start))
	}
	slices.Sort(times)
	r.Build = times[len(times)/2]
	return r, nil
}

// calls (in a sandbox) times CHECK (ping or reachable) on a ready link:
// ping.star with count=0 and count=CALLS, the difference divided by
// CALLS, the best of three: NSSCRIPT SCRIPTS CHECK CALLS
func calls(args []string) (result, error) {
	var r result
	nsscript, scripts, check := args[0], args[1], args[2]
	k, _ := strconv.Atoi(args[3])
	best := time.Duration(1 << 62)
	for range 3 {
		t0, err := scriptTime(nsscript, scripts, check, 0)
		if err != nil {
			return r, err
		}
		tk, err := scriptTime(nsscript, scripts, check, k)
		if err != nil {
			return r, err
		}
		best = min(best, max(0, tk-t0)/time.Duration(k))
	}
	r.Build = best
	return r, nil
}
