package main

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The ownership tests (issue 4: journal, nsscript down, rollback, kill -9,
// nsscript ls) live in testdata/ownership. Each test runs one script there
// in its own --sandbox; the script drives inner nsscript runs (ordinary
// runs inside that sandbox, started with exec) and compares the kernel
// state before and after with lib.star's snapshot(): links (name, kind,
// master, up, mtu, mac) of the sandbox's namespace and of every named one,
// addresses, routes, sysctls, `iptables -S` of every table, /run/netns,
// /etc/netns with contents, the labs, processes and mount points. A script
// passes only by exiting 0 after all its checks.
const ownershipDir = "../../testdata/ownership"

// ownership runs one script of testdata/ownership in a sandbox, with the
// nsscript binary and that directory as arguments, and returns its stdout.
func ownership(t *testing.T, script string, extra ...string) string {
	t.Helper()
	dir, err := filepath.Abs(ownershipDir)
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{"--sandbox", script, "bin=" + bin, "dir=" + dir}, extra...)
	start := time.Now()
	r := nsscript(t, dir, args...)
	t.Logf("%s took %s", script, time.Since(start).Round(time.Second))
	if r.code != 0 {
		t.Fatalf("%s exited %d\nstdout:\n%s\nstderr:\n%s", script, r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// randomDelays are n moments in [0, max) to kill or signal a run at, the
// first one under 30ms (while nsscript starts); the seed is logged, so
// that a failure can be told from the log.
func randomDelays(t *testing.T, n int, max time.Duration) string {
	seed := time.Now().UnixNano()
	rnd := rand.New(rand.NewSource(seed))
	ds := make([]string, n)
	for i := range ds {
		limit := max.Milliseconds()
		if i == 0 {
			limit = 30
		}
		ds[i] = fmt.Sprintf("%dms", rnd.Int63n(limit))
	}
	t.Logf("random delays (seed %d): %s", seed, strings.Join(ds, " "))
	return strings.Join(ds, ",")
}

// TestOwnershipCycles builds the reference topology (10 namespaces, 2
// bridges, 20 veths, a veth and a NIC moved into namespaces, masquerade and
// DNAT, 5 background processes, forwarding, a host route, an /etc/netns
// file) and takes it down 100 times in one sandbox: after every down the
// state equals the one before the first run, and the next run, right after
// the down, succeeds. A last down has nothing to do.
func TestOwnershipCycles(t *testing.T) {
	t.Parallel()
	out := ownership(t, "cycles.star", "cycles=100")
	if !strings.Contains(out, "100 cycles") {
		t.Fatalf("stdout = %q", out)
	}
}

// TestOwnershipKill9 kills nsscript with SIGKILL after each builtin call of
// the reference script, in turn (including between the creation of a veth
// and of a NIC in the host and their move into a namespace), and at random
// moments; `nsscript down ref` restores the state before the run every
// time.
func TestOwnershipKill9(t *testing.T) {
	t.Parallel()
	out := ownership(t, "kill9.star", "delays="+randomDelays(t, 5, 700*time.Millisecond))
	if !strings.Contains(out, "killed at ") {
		t.Fatalf("stdout = %q", out)
	}
	t.Log(strings.TrimSpace(out))
}

// TestOwnershipRollback makes steps.star fail after each of its steps (by
// fail() or by a bad builtin call): the error is reported at
// steps.star:LINE:COL with exit 1, and the run rolls back to exactly the
// state before it, the attributes of devices that existed before included.
// With --keep the state stays and `nsscript down` restores it.
func TestOwnershipRollback(t *testing.T) {
	t.Parallel()
	out := ownership(t, "rollback.star")
	if !strings.Contains(out, "rolled back ") {
		t.Fatalf("stdout = %q", out)
	}
}

// TestOwnershipSignals interrupts the reference script with SIGINT and
// SIGTERM at builtin boundaries and at random moments: it exits 1 with the
// position where it was, and rolls back to the state before it.
func TestOwnershipSignals(t *testing.T) {
	t.Parallel()
	out := ownership(t, "signals.star", "delays="+randomDelays(t, 2, 600*time.Millisecond))
	if !strings.Contains(out, "interrupted at ") {
		t.Fatalf("stdout = %q", out)
	}
	t.Log(strings.TrimSpace(out))
}

// TestOwnershipDaemons: `nsscript down` empties a namespace the lab made
// (every process inside, whoever started it, daemons that double-forked
// included) and removes it, and stops the process trees the run started in
// the host, daemons that left them included; a host process the run did
// not start keeps running.
func TestOwnershipDaemons(t *testing.T) {
	t.Parallel()
	if out := ownership(t, "emptied.star"); !strings.Contains(out, "emptied") {
		t.Fatalf("stdout = %q", out)
	}
}

// TestOwnershipAdopt: a namespace, bridge, devices, addresses, routes, an
// iptables rule, an /etc/netns file and a process that existed before a
// run, which adopts, changes and adds to them, are exactly as before after
// `nsscript down`.
func TestOwnershipAdopt(t *testing.T) {
	t.Parallel()
	if out := ownership(t, "adopt.star"); !strings.Contains(out, "adopted and restored") {
		t.Fatalf("stdout = %q", out)
	}
}

// lsProc and lsLab are what `nsscript ls --json` prints per lab.
type lsProc struct {
	Pid     int      `json:"pid"`
	NS      string   `json:"ns"`
	Argv    []string `json:"argv"`
	Running bool     `json:"running"`
}

type lsLink struct {
	Namespace string   `json:"namespace"`
	Name      string   `json:"name"`
	Kind      string   `json:"kind"`
	Peer      string   `json:"peer"`
	Master    string   `json:"master"`
	Addrs     []string `json:"addrs"`
	Up        bool     `json:"up"`
}

type lsLab struct {
	Lab        string   `json:"lab"`
	Owner      string   `json:"owner"`
	Namespaces []string `json:"namespaces"`
	Links      []lsLink `json:"links"`
	Rules      []string `json:"rules"`
	Processes  []lsProc `json:"processes"`
	Changes    int      `json:"changes"`
}

// TestOwnershipLabs: the second run of a held lab is refused (exit 1,
// naming the holder) and changes nothing, so is its down; two labs build
// at once, and one's down leaves the other exactly as it was, a shared
// sysctl included; a second down has nothing to do, and down with no name
// undoes every lab. Here: what `nsscript ls` and `ls --json` said with
// three labs up, alpha and beta built at once and gamma killed -9.
func TestOwnershipLabs(t *testing.T) {
	t.Parallel()
	out := ownership(t, "labs.star")
	if !strings.HasSuffix(out, "labs done\n") {
		t.Fatalf("stdout = %q", out)
	}
	section := func(name string) string {
		_, s, ok1 := strings.Cut(out, name+"\n")
		s, _, ok2 := strings.Cut(s, name+"-END\n")
		if !ok1 || !ok2 {
			t.Fatalf("no %s section in:\n%s", name, out)
		}
		return s
	}
	text, js := section("LS-TEXT"), section("LS-JSON")

	var labs []lsLab
	if err := json.Unmarshal([]byte(js), &labs); err != nil {
		t.Fatalf("ls --json: %v\n%s", err, js)
	}
	byName := map[string]lsLab{}
	var names []string
	for _, l := range labs {
		byName[l.Lab] = l
		names = append(names, l.Lab)
	}
	if strings.Join(names, " ") != "alpha beta gamma labs" {
		t.Fatalf("ls --json lists the labs %q, want alpha beta gamma labs (the test script's own)", names)
	}
	if o := byName["labs"].Owner; !strings.HasPrefix(o, "running: pid ") {
		t.Errorf("the test script's lab: owner %q, want running: pid N", o)
	}
	for _, c := range []struct{ lab, p string }{{"alpha", "a"}, {"beta", "b"}, {"gamma", "g"}} {
		l := byName[c.lab]
		if l.Owner != "" {
			t.Errorf("%s: owner %q, want none (no run holds it)", c.lab, l.Owner)
		}
		var want []string
		for i := range 10 {
			want = append(want, fmt.Sprintf("%sn%d", c.p, i))
		}
		if strings.Join(l.Namespaces, " ") != strings.Join(want, " ") {
			t.Errorf("%s: namespaces %q, want %q", c.lab, l.Namespaces, want)
		}
		// Every device where it is now: the moved ones in their new
		// namespaces, the veths' ends in the lab's namespaces as well as
		// in the host; each with its peer, master, addresses and state.
		var lines []string
		for _, k := range l.Links {
			line := fmt.Sprintf("%s %s/%s", k.Kind, k.Namespace, k.Name)
			if k.Peer != "" {
				line += " <-> " + k.Peer
			}
			if k.Master != "" {
				line += " master " + k.Master
			}
			line += fmt.Sprintf(" up=%v %s", k.Up, strings.Join(k.Addrs, ","))
			lines = append(lines, line)
		}
		links := strings.Join(lines, "\n") + "\n"
		net := map[string]string{"alpha": "11", "beta": "12", "gamma": "13"}[c.lab]
		for _, w := range []string{"bridge host/" + c.p + "br0 up=true 10." + net + ".0.1/24\n",
			"bridge host/" + c.p + "br1 up=true 10." + net + ".1.1/24\n",
			"veth " + c.p + "n0/eth0 <-> host/" + c.p + "a0 up=true 10." + net + ".0.10/24\n",
			"veth host/" + c.p + "a0 <-> " + c.p + "n0/eth0 master " + c.p + "br0 up=true \n",
			"veth " + c.p + "n9/eth1 <-> host/" + c.p + "b9 up=true 10." + net + ".1.19/24\n",
			"veth " + c.p + "n8/" + c.p + "m0 <-> host/" + c.p + "m1 up=false \n",
			"veth host/" + c.p + "m1 <-> " + c.p + "n8/" + c.p + "m0 master " + c.p + "br1 up=true \n",
			"dummy " + c.p + "n9/" + c.p + "nic up=false \n"} {
			if !strings.Contains(links, w) {
				t.Errorf("%s: links lack %q:\n%s", c.lab, w, links)
			}
		}
		if len(l.Links) != 45 {
			t.Errorf("%s: %d links, want 2 bridges, 21 veths (both ends) and a dummy:\n%s", c.lab, len(l.Links), links)
		}
		rules := strings.Join(l.Rules, "\n")
		if len(l.Rules) != 3 || !strings.Contains(rules, "-j MASQUERADE") || !strings.Contains(rules, "-j DNAT") ||
			!strings.Contains(rules, c.p+"n0: iptables -t filter -A INPUT -p tcp --dport 9 -j DROP") {
			t.Errorf("%s: rules %q, want the masquerade, the DNAT and the rule in %sn0", c.lab, l.Rules, c.p)
		}
		// Its 5 background processes (4 sleeps in namespaces, a shell in
		// the host) and the shell's 2 sleeps; gamma's too, after kill -9.
		var procs []string
		for _, p := range l.Processes {
			if !p.Running || p.Pid <= 1 {
				t.Errorf("%s: process %+v", c.lab, p)
			}
			procs = append(procs, p.NS+": "+strings.Join(p.Argv, " "))
		}
		all := strings.Join(procs, "\n")
		for i := range 4 {
			if w := fmt.Sprintf("%sn%d: sleep 1000", c.p, i); !strings.Contains(all, w) {
				t.Errorf("%s: processes lack %q:\n%s", c.lab, w, all)
			}
		}
		for _, w := range []string{"host: /bin/sh -c sleep 1001 & sleep 1002; wait", "host: sleep 1001", "host: sleep 1002"} {
			if !strings.Contains(all, w) {
				t.Errorf("%s: processes lack %q:\n%s", c.lab, w, all)
			}
		}
		if len(l.Processes) != 7 {
			t.Errorf("%s: %d processes, want 7:\n%s", c.lab, len(l.Processes), all)
		}
		// The text form says the same.
		block := lsBlocks(text)[c.lab]
		for _, w := range []string{"namespaces: " + strings.Join(want, " "), "link bridge host/" + c.p + "br0",
			"rule host: iptables -t nat -A POSTROUTING -s ", " in " + c.p + "n0 (running): sleep 1000"} {
			if !strings.Contains(block, w) {
				t.Errorf("ls: %s lacks %q:\n%s", c.lab, w, text)
			}
		}
	}
}

// lsBlocks splits the text of `nsscript ls` by lab: a line "LAB (N
// changes)..." and the indented lines after it.
func lsBlocks(text string) map[string]string {
	out := map[string]string{}
	lab := ""
	for _, l := range strings.Split(text, "\n") {
		if l != "" && !strings.HasPrefix(l, " ") {
			lab, _, _ = strings.Cut(l, " ")
		}
		out[lab] += l + "\n"
	}
	return out
}
