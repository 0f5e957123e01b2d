// Command nsbench measures nsscript against the same topology built with
// direct netlink calls (builtins/kernel/direct), the same calls tuned as
// nsscript makes them now (bridge ports without IPv6, the next namespace
// made ahead), and `ip` commands: N hosts on bridges
// (scripts/bench/hosts.star), built, pinged end to end and torn down,
// each way in its own throwaway sandbox (fresh network, mount and PID
// namespaces), the ways taking turns. It checks that the builds leave the
// same kernel state and that each teardown restores the state before,
// then prints the times and ratios. It also times, each side by side with
// what it is compared to: an empty script, one ping()/assert.reachable on
// a ready link, exec in a named namespace (against nsenter, ip netns exec
// and a plain fork and exec), nsscript test's start-up per test at
// -parallel 1, 2 and 4, and nsscript's memory over many namespaces made
// and deleted in one run (scripts/bench/cycles.star).
//
// Run it from the repository root, as root:
//
//	go run ./cmd/nsbench [-n 10,100,200,1000] [-per-bridge 250] [-ways nsscript,netlink,tuned,ip] [-hosts-ipv6=false] [-profile DIR] [-json]
//	go run ./cmd/nsbench -from run1.json,run2.json,run3.json   # the medians of several -json runs
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nsscript/nsscript/builtins/kernel"
	"github.com/nsscript/nsscript/builtins/kernel/direct"
)

// result is what one measurement, in its sandbox, reports.
type result struct {
	Build time.Duration `json:"build"`
	Ping  time.Duration `json:"first_ping"`
	Down  time.Duration `json:"down"`
	// CPU is the build's processor time (user and system, its children's
	// included), RSS its largest resident size in kB.
	CPU   time.Duration `json:"build_cpu,omitempty"`
	RSS   int64         `json:"build_rss_kb,omitempty"`
	State string        `json:"state,omitempty"`
	// Times and Values are what the other measurements give, by name.
	Times  map[string]time.Duration `json:"times,omitempty"`
	Values map[string]int64         `json:"values,omitempty"`
	Err    string                   `json:"err,omitempty"`
}

type options struct {
	ns        []int
	perBridge int
	ways      []string
	nsscript  string
	scripts   string
	profile   string
	calls     int
	runs      int
	rounds    int
	tests     int
	cycles    int
	hostIPv6  bool
	hostsIPv6 bool
	json      bool
}

func main() {
	kernel.MaybeSandboxInit()
	if len(os.Args) > 1 && os.Args[1] == "__one" {
		os.Exit(one(os.Args[2:]))
	}
	if len(os.Args) == 7 && os.Args[1] == "__netlink" {
		os.Exit(netlinkWay(os.Args[2:]))
	}
	var o options
	var ns, ways string
	flag.StringVar(&ns, "n", "10,100,200,1000", "host counts to measure")
	flag.IntVar(&o.perBridge, "per-bridge", 250, "hosts per bridge (a bridge takes at most 1023)")
	flag.StringVar(&ways, "ways", "nsscript,netlink,tuned,ip", "what to measure: nsscript, netlink (direct calls), tuned (the same, tuned as nsscript is), ip (an ip command script)")
	flag.StringVar(&o.nsscript, "nsscript", "", "the nsscript binary (default: build ./cmd/nsscript)")
	flag.StringVar(&o.scripts, "scripts", "scripts/bench", "the directory of hosts.star and ping.star")
	flag.StringVar(&o.profile, "profile", "", "write CPU profiles of nsscript's builds and downs to this directory (go tool pprof)")
	flag.IntVar(&o.calls, "calls", 1000, "ping()/assert.reachable calls to time (0: skip)")
	flag.IntVar(&o.runs, "runs", 3, "runs of each build and teardown (the median is shown)")
	flag.IntVar(&o.rounds, "rounds", 5, "rounds of the exec and nsscript test figures, each side by side with its baseline (the median is shown)")
	flag.IntVar(&o.tests, "tests", 20, "tests per nsscript test run (0: skip)")
	flag.IntVar(&o.cycles, "cycles", 1000, "namespaces made and deleted in one run, for its memory (0: skip)")
	flag.BoolVar(&o.hostIPv6, "host-ipv6", true, "IPv6 on the bridges and ports in the host namespace (false: disable_ipv6 there, inside each sandbox)")
	flag.BoolVar(&o.hostsIPv6, "hosts-ipv6", true, "IPv6 in the hosts' namespaces (false: each made without, as namespace(name, ipv6=False) makes it, each way alike)")
	flag.BoolVar(&o.json, "json", false, "print the results as JSON")
	var from string
	flag.StringVar(&from, "from", "", "measure nothing: print the medians of earlier runs' -json results (files, comma-separated)")
	flag.Parse()
	if from != "" {
		r, err := combine(strings.Split(from, ","))
		if err != nil {
			fatalf("-from: %v", err)
		}
		r.print(os.Stdout)
		return
	}
	for _, s := range strings.Split(ns, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 2 {
			fatalf("-n: %q is not a host count (2 or more)", s)
		}
		o.ns = append(o.ns, n)
	}
	o.ways = strings.Split(ways, ",")
	for _, w := range o.ways {
		if !slices.Contains([]string{"nsscript", "netlink", "tuned", "ip"}, w) {
			fatalf("-ways: %q is not nsscript, netlink, tuned or ip", w)
		}
	}
	if o.runs < 1 || o.rounds < 1 {
		fatalf("-runs, -rounds: want 1 or more")
	}
	if o.perBridge < 1 || o.perBridge > 1023 {
		fatalf("-per-bridge: %d is not between 1 and 1023", o.perBridge)
	}
	if os.Geteuid() != 0 {
		fatalf("run as root: every measurement builds namespaces (in a sandbox of its own)")
	}
	if o.nsscript == "" {
		dir, err := os.MkdirTemp("", "nsbench")
		if err != nil {
			fatalf("%v", err)
		}
		defer os.RemoveAll(dir)
		o.nsscript = filepath.Join(dir, "nsscript")
		if out, err := exec.Command("go", "build", "-o", o.nsscript, "./cmd/nsscript").CombinedOutput(); err != nil {
			fatalf("build nsscript (run from the repository root, or pass -nsscript): %v\n%s", err, out)
		}
	}
	var err error
	if o.nsscript, err = filepath.Abs(o.nsscript); err == nil {
		o.scripts, err = filepath.Abs(o.scripts)
	}
	if err != nil {
		fatalf("%v", err)
	}
	if _, err := os.Stat(filepath.Join(o.scripts, "hosts.star")); err != nil {
		fatalf("-scripts: %v (run from the repository root)", err)
	}
	r := measure(o)
	if o.json {
		b, _ := json.MarshalIndent(r, "", "  ")
		fmt.Println(string(b))
	} else {
		r.print(os.Stdout)
	}
	if len(r.Errors) > 0 {
		os.Exit(1)
	}
}

func fatalf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "nsbench: "+format+"\n", a...)
	os.Exit(2)
}

// sandboxed runs one measurement in a fresh sandbox and returns its result.
func sandboxed(args ...string) result {
	f, err := os.CreateTemp("", "nsbench-*.json")
	if err != nil {
		return result{Err: err.Error()}
	}
	f.Close()
	defer os.Remove(f.Name())
	code, err := kernel.RunSandboxed(append([]string{"__one", f.Name()}, args...), "", false)
	var r result
	b, rerr := os.ReadFile(f.Name())
	if rerr == nil && len(b) > 0 {
		rerr = json.Unmarshal(b, &r)
	}
	switch {
	case err != nil:
		r.Err = err.Error()
	case rerr != nil || len(b) == 0:
		r.Err = fmt.Sprintf("the measurement exited %d without a result", code)
	}
	return r
}

// one is a measurement inside its sandbox: __one OUT WAY ARGS...
func one(args []string) int {
	out, way, args := args[0], args[1], args[2:]
	r, err := func() (result, error) {
		switch way {
		case "build":
			return buildDown(args)
		case "empty":
			return empty(args)
		case "calls":
			return calls(args)
		case "execs":
			return execs(args)
		case "tests":
			return testStartup(args)
		case "cycles":
			return cycles(args)
		}
		return result{}, fmt.Errorf("unknown measurement %q", way)
	}()
	if err != nil {
		r.Err = err.Error()
	}
	b, _ := json.Marshal(r)
	if err := os.WriteFile(out, b, 0o600); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// netlinkWay is the direct-netlink program: __netlink build|down N
// PER_BRIDGE TUNED HOSTS_IPV6 (see direct.Topo).
func netlinkWay(args []string) int {
	var t direct.Topo
	t.Hosts, _ = strconv.Atoi(args[1])
	t.PerBridge, _ = strconv.Atoi(args[2])
	t.Tuned = args[3] == "true"
	t.NoIPv6 = args[4] == "false"
	var err error
	if args[0] == "build" {
		var lab *direct.Lab
		if lab, err = direct.Build(t); lab != nil {
			lab.Close()
		}
	} else {
		err = t.Teardown()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}
