package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
)

// dumpState prints the kernel state a script built, in an order and form
// that two runs of the same build give alike: per namespace (the host and
// the named ones) its forwarding, devices (kind, up, mtu, master, veth
// peer, addresses), routes of every table (IPv4) and of the main table
// (IPv6), and iptables -S of each table; then /etc/netns. Processes, MAC
// addresses and interface indexes are left out.
const dumpState = `
def label(ns):
    if ns.is_host:
        return "host"
    return ns.name or "(unnamed)"

def dump():
    out = []
    for ns in [host] + namespaces():
        out.append("namespace %s ip_forward=%s" % (label(ns), ns.sysctl("net.ipv4.ip_forward")))
        for l in sorted(ns.links, key = lambda l: l.name):
            extra = ""
            if l.master != None:
                extra += " master " + l.master.name
            if l.kind == "veth":
                p = l.peer
                extra += " peer " + ("(elsewhere)" if p == None else label(p.ns) + ":" + p.name)
            out.append("  link %s %s %s mtu %d%s addrs %s" % (l.name, l.kind, "up" if l.up else "down", l.mtu, extra, " ".join(sorted(l.addrs))))
        for line in sorted(exec(ns, "ip -4 route show table all").stdout.strip().split("\n")):
            if line:
                out.append("  route4 " + line.strip())
        for r in ns.routes:
            if ":" in r.dst or ":" in (r.via or ""):
                out.append("  route6 %s via %s dev %s metric %d" % (r.dst, r.via, r.dev, r.metric))
        for t in ["filter", "nat", "mangle", "raw"]:
            for line in exec(ns, ["iptables", "-t", t, "-S"]).stdout.strip().split("\n"):
                out.append("  iptables -t %s %s" % (t, line))
    out.append(exec(host, "cd /etc && find netns -type f 2>/dev/null | sort | while read f; do echo \"file $f\"; cat \"$f\"; echo; done").stdout)
    return "\n".join(out)
`

// buildAndDump runs build (Starlark that makes the state) in a fresh
// sandbox and returns the state dump printed after it.
func buildAndDump(t *testing.T, dir, name, build string) string {
	t.Helper()
	src := dumpState + build + "\nprint(\"=== state\")\nprint(dump())\n"
	path := filepath.Join(dir, name+".star")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	r := nsscript(t, dir, "--sandbox", filepath.Base(path))
	if r.code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	_, state, ok := strings.Cut(r.stdout, "=== state\n")
	if !ok {
		t.Fatalf("no state dump:\n%s", r.stdout)
	}
	return state
}

// tutorials are the scripts TestPlanTutorials and TestGraphTutorials
// check: scripts/tutorial/*.star, or those of the directory
// $NSSCRIPT_TUTORIALS (to check drafts before they land).
func tutorials(t *testing.T) []string {
	t.Helper()
	dir := "../../scripts/tutorial"
	if d := os.Getenv("NSSCRIPT_TUTORIALS"); d != "" {
		dir = d
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.star"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no tutorials: %v", err)
	}
	for i, f := range files {
		files[i], _ = filepath.Abs(f)
	}
	sort.Strings(files)
	return files
}

// planOf runs `nsscript plan` as an ordinary process (no sandbox) and
// returns the plan; it fails the test unless the plan exits 0.
func planOf(t *testing.T, file string, extra ...string) string {
	t.Helper()
	r := nsscript(t, filepath.Dir(file), append([]string{"plan", filepath.Base(file)}, extra...)...)
	if r.code != 0 {
		t.Fatalf("nsscript plan %s: exit %d\nstderr:\n%s\nplan:\n%s", filepath.Base(file), r.code, r.stderr, tail(r.stdout, 40))
	}
	return r.stdout
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = append([]string{"..."}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}

// TestPlanTutorials: for every tutorial, the shell script `nsscript plan`
// prints, run with sh in a fresh sandbox, builds the same kernel state as
// `nsscript FILE.star` does in another one (namespaces, devices, addresses,
// routes, forwarding, iptables, /etc/netns; processes aside).
func TestPlanTutorials(t *testing.T) {
	for _, file := range tutorials(t) {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".star"), func(t *testing.T) {
			t.Parallel()
			plan := planOf(t, file)
			if !strings.HasPrefix(plan, "#!/bin/sh\n") || !strings.Contains(plan, "\nset -e\n") {
				t.Fatalf("the plan is not a sh script with set -e:\n%s", tail(plan, 20))
			}
			dir := t.TempDir()
			planFile := filepath.Join(dir, "plan.sh")
			if err := os.WriteFile(planFile, []byte(plan), 0o755); err != nil {
				t.Fatal(err)
			}
			fromPlan := make(chan string, 1)
			go func() {
				defer close(fromPlan)
				fromPlan <- buildAndDump(t, dir, "from_plan", fmt.Sprintf(
					"r = exec(host, [\"sh\", %q], check = False, timeout = \"300s\")\n"+
						"if r.code != 0:\n    fail(\"the plan failed with code %%d:\\n%%s\\n%%s\" %% (r.code, r.stdout, r.stderr))\n", planFile))
			}()
			fromRun := buildAndDump(t, dir, "from_run", fmt.Sprintf(
				"r = exec(host, [%q, %q], check = False, timeout = \"300s\")\n"+
					"if r.code != 0:\n    fail(\"the script failed with code %%d:\\n%%s\\n%%s\" %% (r.code, r.stdout, r.stderr))\n", bin, file))
			got, ok := <-fromPlan
			if !ok {
				t.FailNow()
			}
			if got != fromRun {
				t.Errorf("the plan builds another state than the script.\nonly after the plan (+) / only after the script (-):\n%s\nplan:\n%s",
					diffLines(fromRun, got), plan)
			}
			if !strings.Contains(fromRun, "namespace host") {
				t.Errorf("the dump is empty:\n%s", fromRun)
			}
		})
	}
}

// TestPlanChangesNothing: plan needs no root and changes nothing. It runs
// as the unprivileged user nobody, outside any sandbox, and leaves no
// trace in /run/netns, /run/nsscript or /etc/netns.
func TestPlanChangesNothing(t *testing.T) {
	dir, err := os.MkdirTemp("", "nsscript-plan-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	nbin := filepath.Join(dir, "nsscript")
	if err := os.WriteFile(nbin, b, 0o755); err != nil {
		t.Fatal(err)
	}
	src := `
red, blue = namespace("red"), namespace("blue")
sw = bridge("v-net-0", addr = "192.168.15.5/24")
for ns, ip in [(red, "192.168.15.1/24"), (blue, "192.168.15.2/24")]:
    veth("veth-" + ns.name, "veth-%s-br" % ns.name, ns = ns, addr = ip, peer_master = sw)
    route(ns, "default", via = "192.168.15.5")
forwarding()
nat.masquerade("192.168.15.0/24", not_out = "v-net-0")
red.etc("hosts", "192.168.15.2 blue\n")
exec(red, ["sleep", "60"], background = True)
assert.reachable(red, "192.168.15.2")
`
	if err := os.WriteFile(filepath.Join(dir, "lab.star"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	snap := func() string {
		var s []string
		for _, d := range []string{"/run/netns", "/run/nsscript", "/etc/netns"} {
			ents, err := os.ReadDir(d)
			names := []string{}
			for _, e := range ents {
				names = append(names, e.Name())
			}
			s = append(s, fmt.Sprintf("%s exists=%v %v", d, err == nil, names))
		}
		out, _ := exec.Command("ip", "-o", "link").Output()
		return strings.Join(s, "\n") + "\n" + string(out)
	}
	before := snap()
	cmd := exec.Command(nbin, "plan", "lab.star")
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	r := runBin(t, cmd)
	if r.code != 0 {
		t.Fatalf("plan as nobody: exit %d\n%s", r.code, r.stderr)
	}
	for _, want := range []string{
		"ip netns add red",
		"ip link add v-net-0 type bridge",
		"ip -n red link add veth-red type veth peer name veth-red-br netns $$",
		"ip link set veth-red-br master v-net-0",
		"ip -n red addr add 192.168.15.1/24 dev veth-red",
		"ip -n red route replace default via 192.168.15.5",
		"sysctl -w net.ipv4.ip_forward=1",
		"iptables -t nat -A POSTROUTING -s 192.168.15.0/24 ! -o v-net-0 -j MASQUERADE -m comment --comment nsscript:lab",
		"mkdir -p /etc/netns/red\ncat > /etc/netns/red/hosts <<'EOF'\n192.168.15.2 blue\nEOF",
		"ip netns exec red sleep 60 >/dev/null 2>&1 &\npid1=$!",
		`# not checked in a plan (no packets are sent): assert.reachable(red, "192.168.15.2")`,
	} {
		if !strings.Contains(r.stdout, want+"\n") {
			t.Errorf("the plan lacks %q:\n%s", want, r.stdout)
		}
	}
	if after := snap(); after != before {
		t.Errorf("plan changed the machine:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

// TestPlanJSON: --json prints the operations as data, each with its
// command.
func TestPlanJSON(t *testing.T) {
	dir := t.TempDir()
	src := `
ns = namespace("ns1")
a, b = veth("a", "b", peer_ns = ns, addr = "10.9.0.1/24", peer_addr = "10.9.0.2/24")
route(ns, "default", via = "10.9.0.1")
firewall(ns, "INPUT", "-p tcp --dport 22 -j ACCEPT")
ns.sysctl("net.ipv4.ip_forward", 1)
exec(ns, "ip addr")
`
	os.WriteFile(filepath.Join(dir, "j.star"), []byte(src), 0o644)
	r := nsscript(t, dir, "plan", "--json", "j.star")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var ops []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &ops); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, r.stdout)
	}
	var kinds []string
	for _, op := range ops {
		kinds = append(kinds, op["op"].(string))
		if _, ok := op["cmd"].(string); !ok {
			t.Errorf("op without cmd: %v", op)
		}
	}
	want := "netns_add link_set veth_add addr_add link_set addr_add link_set route_replace iptables_append sysctl exec"
	if strings.Join(kinds, " ") != want {
		t.Errorf("ops: %s\nwant: %s", strings.Join(kinds, " "), want)
	}
	veth := ops[2]
	if veth["dev"] != "a" || veth["peer"] != "b" || veth["peer_ns"] != "ns1" || veth["ns"] != "host" {
		t.Errorf("veth op: %v", veth)
	}
	rt := ops[7]["route"].(map[string]any)
	if rt["dst"] != "default" || rt["via"] != "10.9.0.1" || ops[7]["ns"] != "ns1" {
		t.Errorf("route op: %v", ops[7])
	}
	ipt := ops[8]
	if ipt["table"] != "filter" || ipt["chain"] != "INPUT" || fmt.Sprint(ipt["rule"]) != "[-p tcp --dport 22 -j ACCEPT -m comment --comment nsscript:j]" {
		t.Errorf("iptables op: %v", ipt)
	}
	if ops[10]["cmd"] != "ip netns exec ns1 ip addr || true" {
		t.Errorf("exec op: %v", ops[10])
	}
}
