package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// The iptables side of nsscript (nat.masquerade, nat.dnat, firewall) where
// Go is needed: comparing iptables-save output between runs, and running
// nsscript with a PATH that has no iptables or the legacy variant. The
// packet-level checks of each builtin are testdata/builtins/nat.star and
// firewall.star.

// seed000Doc is seed 000's "Complete Example", the document's own bash
// script, with one change: VETH_HOST. The document's "veth-${NAMESPACE}-h"
// is "veth-webserver-h", 16 bytes, and Linux allows interface names of at
// most 15 (IFNAMSIZ is 16 including the terminating NUL), so `ip link add`
// refuses it and the rest of the script works on a veth that does not
// exist. veth-websrv-h is the shortest faithful rename; the nsscript side
// uses the same name.
const seed000Doc = `#!/bin/bash
# Create isolated namespace with internet access
NAMESPACE="webserver"
BRIDGE="br-internal"
VETH_HOST="veth-websrv-h"   # the document: "veth-${NAMESPACE}-h", 16 bytes, too long for Linux
VETH_NS="veth-${NAMESPACE}"
IP_HOST="10.100.0.1"
IP_NS="10.100.0.2"
SUBNET="10.100.0.0/24"
# Create namespace
ip netns add $NAMESPACE
# Create bridge (if not exists)
ip link show $BRIDGE &>/dev/null || {
ip link add $BRIDGE type bridge
ip addr add ${IP_HOST}/24 dev $BRIDGE
ip link set $BRIDGE up
}
# Create veth pair
ip link add $VETH_HOST type veth peer name $VETH_NS
# Connect host end to bridge
ip link set $VETH_HOST master $BRIDGE
ip link set $VETH_HOST up
# Move namespace end
ip link set $VETH_NS netns $NAMESPACE
# Configure namespace
ip netns exec $NAMESPACE ip addr add ${IP_NS}/24 dev $VETH_NS
ip netns exec $NAMESPACE ip link set $VETH_NS up
ip netns exec $NAMESPACE ip link set lo up
ip netns exec $NAMESPACE ip route add default via $IP_HOST
# Enable forwarding and NAT
sysctl -w net.ipv4.ip_forward=1
iptables -t nat -A POSTROUTING -s $SUBNET ! -o $BRIDGE -j MASQUERADE
iptables -A FORWARD -i $BRIDGE -j ACCEPT
iptables -A FORWARD -o $BRIDGE -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
echo "Namespace $NAMESPACE ready"
echo "Test: ip netns exec $NAMESPACE ping 8.8.8.8"
`

// seed000Build is the same example written with nsscript builtins.
const seed000Build = `
ws = namespace("webserver")
br = bridge("br-internal", addr = "10.100.0.1/24")
# veth-websrv-h: the document's veth-webserver-h is 16 bytes, one over
# Linux's limit of 15 (IFNAMSIZ counts the NUL).
veth("veth-websrv-h", "veth-webserver", peer_ns = ws, master = br, peer_addr = "10.100.0.2/24")
route(ws, "default", via = "10.100.0.1")
forwarding()
masq = nat.masquerade("10.100.0.0/24", not_out = "br-internal")
fwd_in = firewall(host, "FORWARD", "-i br-internal -j ACCEPT")
fwd_back = firewall(host, "FORWARD", "-o br-internal -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT")
`

// seed000Script is one sandbox's run: an upstream namespace standing in
// for the internet (203.0.113.0/24, behind the sandbox's eth0; it has no
// route to 10.100.0.0/24), the example built by the code put in place of
// "# <BUILD>", a dump of the iptables rules and ip_forward, a fetch from
// the webserver namespace to upstream whose source address the upstream
// server logs, and the code put in place of "# <AFTER>".
const seed000Script = `load("lib/ip.star", "wait_for")

PY = exec(host, ["python3", "-c", "import sys; print(sys.executable)"]).stdout.strip()

def dump(label):
    print("@@ " + label)
    for ns in [host] + namespaces():
        print("## %s ip_forward=%s" % (ns.name or "host", exec(ns, "cat /proc/sys/net/ipv4/ip_forward").stdout.strip()))
        print(exec(ns, "iptables-save").stdout.strip())
    print("@@ end")

FETCH = "import urllib.request as u, sys; print(u.urlopen(sys.argv[1], timeout = float(sys.argv[2])).read().decode(), end = '')"
probes = [0]

def source_seen(ns, timeout = 5):
    """Fetches from upstream's server in ns; the source address the server
    logged, or None when the connection failed."""
    probes[0] += 1
    path = "/index.html?probe=%d" % probes[0]
    r = exec(ns, [PY, "-c", FETCH, "http://203.0.113.2:8080" + path, str(timeout)], check = False)
    if not r.ok:
        return None
    assert.eq(r.stdout, "upstream\n")
    wait_for(lambda: ("GET %s " % path) in srv.stderr, "the upstream server's log line")
    return [l for l in srv.stderr.split("\n") if ("GET %s " % path) in l][0].split(" ")[0]

# The sandbox starts with the host's ip_forward: both runs start from 0.
forwarding(on = False)
upstream = namespace("upstream")
veth("eth0", "eth0", peer_ns = upstream, addr = "203.0.113.1/24", peer_addr = "203.0.113.2/24")
exec(upstream, "mkdir -p /run/www && echo upstream > /run/www/index.html")
srv = exec(upstream, [PY, "-u", "-m", "http.server", "--bind", "203.0.113.2", "--directory", "/run/www", "8080"], background = True)
wait_for(lambda: "Serving HTTP" in srv.stdout or not srv.running, "the upstream server to listen")
dump("empty")

# <BUILD>

dump("built")
ws = namespace("webserver")
assert.reachable(ws, "10.100.0.1")
assert.reachable(ws, "203.0.113.2")
# upstream has no route back to 10.100.0.0/24: it answers because it sees
# the sandbox's own address, the masquerade.
assert.eq(source_seen(ws), "203.0.113.1")
assert.eq(exec(upstream, "ip route get 10.100.0.2", check = False).ok, False)

# <AFTER>
`

// seed000After proves, on the nsscript side, that the two FORWARD rules
// are what forwards once FORWARD's policy is DROP, and that the
// masquerade is what makes upstream answer.
const seed000After = `
exec(host, "iptables -P FORWARD DROP")
assert.eq(source_seen(ws), "203.0.113.1")  # -i br-internal out, RELATED,ESTABLISHED back
fwd_back.delete()
assert.eq(source_seen(ws, timeout = 1), None)  # the replies are dropped
fwd_back = firewall(host, "FORWARD", "-o br-internal -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT")
assert.eq(source_seen(ws), "203.0.113.1")
exec(host, "iptables -P FORWARD ACCEPT")
masq.delete()
assert.eq(source_seen(ws, timeout = 1), None)  # 10.100.0.2 gets no answer from upstream
masq = nat.masquerade("10.100.0.0/24", not_out = "br-internal")
assert.eq(source_seen(ws), "203.0.113.1")
print("after: ok")
`

// seed000DocRun runs the document's script, after showing that its
// original name is refused.
const seed000DocRun = `
# The document's name for the host end, alone: Linux refuses it.
long = exec(host, "ip link add veth-webserver-h type veth peer name veth-webserver", check = False)
assert.false(long.ok)
print("long name: " + long.stderr.strip())
assert.false(exec(host, "ip link show veth-webserver-h", check = False).ok)
doc = exec(host, ["bash", "-c", DOC])
assert.eq(doc.stderr, "")
assert.contains(doc.stdout, "Namespace webserver ready")
`

// savedRules is one namespace's iptables-save, normalized: tables in name
// order, each with its chains and rules; no comment lines (they carry the
// date), no packet counters, and nsscript's ownership comment removed.
func savedRules(t *testing.T, text, lab string) string {
	t.Helper()
	own := regexp.MustCompile(` -m comment --comment "?nsscript:` + regexp.QuoteMeta(lab) + `"?`)
	var tables []string
	var cur []string
	for _, l := range strings.Split(text, "\n") {
		switch {
		case l == "" || strings.HasPrefix(l, "#"):
		case strings.HasPrefix(l, "*"):
			cur = []string{l}
		case l == "COMMIT":
			tables = append(tables, strings.Join(append(cur, l), "\n"))
			cur = nil
		default:
			if cur == nil {
				t.Fatalf("iptables-save line outside a table: %q\n%s", l, text)
			}
			if i := strings.Index(l, " ["); strings.HasPrefix(l, ":") && i > 0 {
				l = l[:i]
			}
			cur = append(cur, own.ReplaceAllString(l, ""))
		}
	}
	sort.Strings(tables)
	return strings.Join(tables, "\n")
}

// splitNamespaces cuts a dump into "## NAME ip_forward=N" sections.
func splitNamespaces(dump string) map[string]string {
	out := map[string]string{}
	name := ""
	for _, l := range strings.Split(dump, "\n") {
		if strings.HasPrefix(l, "## ") {
			name = strings.TrimPrefix(l, "## ")
			out[name] = ""
			continue
		}
		out[name] += l + "\n"
	}
	return out
}

// TestSeed000NAT builds seed 000's complete example twice, each in its own
// sandbox: with nsscript builtins, and with the document's own bash script
// run by exec(host, ...). Both must leave the same iptables rules (filter
// and nat, and nothing else, in every namespace) and ip_forward, and in
// both the webserver namespace reaches an upstream namespace with its
// traffic masqueraded.
func TestSeed000NAT(t *testing.T) {
	t.Parallel()
	const lab = "seed000"
	runs := map[string]string{
		"nsscript": strings.NewReplacer("# <BUILD>", seed000Build, "# <AFTER>", seed000After).Replace(seed000Script),
		"document": "DOC = " + strconv.Quote(seed000Doc) + "\n" + strings.NewReplacer("# <BUILD>", seed000DocRun, "# <AFTER>", "").Replace(seed000Script),
	}
	got := map[string]map[string]string{} // run -> label -> dump
	var mu sync.Mutex
	t.Run("run", func(t *testing.T) {
		for name, src := range runs {
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				r := runInLibDir(t, lab+".star", src)
				if r.code != 0 {
					t.Fatalf("exited %d\nstdout:\n%s\nstderr:\n%s\nscript:\n%s", r.code, r.stdout, r.stderr, numbered(src))
				}
				dumps := map[string]string{}
				label := ""
				for _, l := range strings.Split(r.stdout, "\n") {
					switch {
					case l == "@@ end":
						label = ""
					case strings.HasPrefix(l, "@@ "):
						label = l[3:]
					case label != "":
						dumps[label] += l + "\n"
					}
				}
				if name == "nsscript" && !strings.Contains(r.stdout, "after: ok") {
					t.Fatalf("the checks after the dump did not finish:\n%s", r.stdout)
				}
				if name == "document" {
					long := grepLines(r.stdout, "long name: ")
					if len(long) != 1 {
						t.Fatalf("the long-name check did not run:\n%s", r.stdout)
					}
					t.Log(long[0])
				}
				mu.Lock()
				got[name] = dumps
				mu.Unlock()
			})
		}
	})
	if t.Failed() {
		return
	}

	state := map[string]map[string]string{} // run -> "label ns" -> normalized
	for name, dumps := range got {
		state[name] = map[string]string{}
		for _, label := range []string{"empty", "built"} {
			sections := splitNamespaces(dumps[label])
			for ns, text := range sections {
				if ns == "" {
					continue
				}
				state[name][label+" "+ns] = savedRules(t, text, lab)
			}
		}
	}

	// Before: no rules anywhere, forwarding off.
	for name := range got {
		for _, key := range []string{"empty host ip_forward=0", "empty upstream ip_forward=0"} {
			s, ok := state[name][key]
			if !ok {
				t.Fatalf("%s run: no %q section in its dumps:\n%v", name, key, got[name]["empty"])
			}
			if s != "" {
				t.Errorf("%s run: %s has iptables rules before the example:\n%s", name, key, s)
			}
		}
	}

	// nsscript's rules carry its ownership comment; the document's do not.
	ownRule := regexp.MustCompile(`^-A .* -m comment --comment "?nsscript:seed000"? `)
	for _, l := range strings.Split(got["nsscript"]["built"], "\n") {
		if strings.HasPrefix(l, "-A ") && !ownRule.MatchString(l) {
			t.Errorf("nsscript's rule lacks the ownership comment: %s", l)
		}
	}
	if strings.Contains(got["document"]["built"], "nsscript:") {
		t.Errorf("the document's run has nsscript-owned rules:\n%s", got["document"]["built"])
	}

	// The same namespaces, ip_forward values and rules.
	keys := func(m map[string]string) []string {
		var k []string
		for key := range m {
			k = append(k, key)
		}
		sort.Strings(k)
		return k
	}
	if a, b := keys(state["nsscript"]), keys(state["document"]); strings.Join(a, ",") != strings.Join(b, ",") {
		t.Fatalf("the runs dumped different namespaces or ip_forward values:\nnsscript: %q\ndocument: %q", a, b)
	}
	for _, want := range []string{"built host ip_forward=1", "built webserver ip_forward=0", "built upstream ip_forward=0"} {
		if _, ok := state["nsscript"][want]; !ok {
			t.Errorf("no %q in the dumps: %q", want, keys(state["nsscript"]))
		}
	}
	for key, s := range state["nsscript"] {
		if d := state["document"][key]; s != d {
			t.Errorf("%s: nsscript and the document's commands give different rules:\n%s", key, stateDiff("nsscript", s, "document", d))
		}
	}
	host := state["nsscript"]["built host ip_forward=1"]
	for _, want := range []string{
		"*nat\n:PREROUTING ACCEPT\n:INPUT ACCEPT\n:OUTPUT ACCEPT\n:POSTROUTING ACCEPT\n-A POSTROUTING -s 10.100.0.0/24 ! -o br-internal -j MASQUERADE\nCOMMIT",
		"*filter\n:INPUT ACCEPT\n:FORWARD ACCEPT\n:OUTPUT ACCEPT\n-A FORWARD -i br-internal -j ACCEPT\n-A FORWARD -o br-internal -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\nCOMMIT",
	} {
		if !strings.Contains(host, want) {
			t.Errorf("the host's rules lack\n%s\nthey are:\n%s", want, host)
		}
	}
	if n := strings.Count(host, "\n*") + 1; n != 2 {
		t.Errorf("the host has %d iptables tables, want filter and nat only:\n%s", n, host)
	}
	for _, key := range []string{"built webserver ip_forward=0", "built upstream ip_forward=0"} {
		if s := state["nsscript"][key]; s != "" {
			t.Errorf("%s has iptables rules, want none:\n%s", key, s)
		}
	}
}

func grepLines(text, prefix string) []string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return out
}

// runInLibDir runs src as name under --sandbox in a fresh directory that
// also holds testdata/builtins/lib, so the script can load("lib/ip.star").
func runInLibDir(t *testing.T, name, src string, extra ...string) result {
	t.Helper()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "lib"), 0o755); err != nil {
		t.Fatal(err)
	}
	lib, err := os.ReadFile(filepath.Join(builtinsDir, "lib", "ip.star"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "lib", "ip.star"), lib, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return nsscript(t, dir, append([]string{"--sandbox", name}, extra...)...)
}

// nsscriptWithPath runs the binary under --sandbox with PATH set to path.
func nsscriptWithPath(t *testing.T, path, name, src string) result {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--sandbox", name)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PATH="+path)
	return runBin(t, cmd)
}

// TestNATMissingIptables runs nsscript where PATH has no iptables: bad
// arguments are still refused for what they are (they are checked before
// iptables is looked for), and the first real rule is a FILE:LINE:COL
// error that says what to install.
func TestNATMissingIptables(t *testing.T) {
	t.Parallel()
	const src = `# No iptables on PATH.
assert.fails(lambda: firewall(host, "FORWARDING", "-j ACCEPT"), 'no built-in chain "FORWARDING"')
assert.fails(lambda: firewall(host, "INPUT", "-j ACCEPT", table = "nats"), 'unknown table "nats"')
assert.fails(lambda: firewall(host, "INPUT", ""), "rule is empty")
assert.fails(lambda: firewall(host, "INPUT", "-A INPUT -j DROP"), "contains the iptables command -A")
assert.fails(lambda: nat.dnat(0, "192.168.15.2:80"), "port 0 is out of range")
assert.fails(lambda: nat.dnat(80, "192.168.15.2:"), "no port after the colon")
assert.fails(lambda: nat.dnat(80, "192.168.15.2:80", proto = "icmp"), "has no ports")
assert.fails(lambda: nat.masquerade("10.0.0.0/24", out = "a", not_out = "b"), "not both")
assert.fails(lambda: nat.masquerade("br-internal"), "is not")
assert.fails(lambda: nat.masquerade("10.100.0.0/24"), "iptables is not installed")
assert.fails(lambda: nat.dnat(80, "192.168.15.2:80"), "iptables is not installed")
print("validated")
firewall(host, "INPUT", "-p tcp --dport 80 -j DROP")
`
	r := nsscriptWithPath(t, filepath.Join(t.TempDir(), "nonexistent"), "noipt.star", src)
	if r.code != 1 || r.stdout != "validated\n" {
		t.Fatalf("exit %d, want 1 after \"validated\"\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	first, _, _ := strings.Cut(r.stderr, "\n")
	want := regexp.MustCompile(`^noipt\.star:14:\d+: firewall: iptables -t filter -A INPUT -p tcp --dport 80 -j DROP in namespace host: iptables is not installed: install it \(Debian/Ubuntu: apt-get install iptables; Fedora: dnf install iptables-nft\)$`)
	if !want.MatchString(first) {
		t.Fatalf("first stderr line\n\t%s\ndoes not match\n\t%s\nstderr:\n%s", first, want, r.stderr)
	}
}

// TestFirewallLegacyIptables runs the rules through iptables-legacy: a
// PATH whose first directory has iptables and iptables-save linked to the
// legacy binaries. The rules must land in the legacy (x_tables) tables of
// the namespace, not in nftables, and act on packets.
func TestFirewallLegacyIptables(t *testing.T) {
	t.Parallel()
	legacy, err := exec.LookPath("iptables-legacy")
	if err != nil {
		t.Skip("iptables-legacy is not installed")
	}
	legacySave, err := exec.LookPath("iptables-legacy-save")
	if err != nil {
		t.Skip("iptables-legacy-save is not installed")
	}
	nft, err := exec.LookPath("iptables-nft")
	if err != nil {
		t.Skip("iptables-nft is not installed")
	}
	dir := t.TempDir()
	for name, target := range map[string]string{"iptables": legacy, "iptables-save": legacySave} {
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	const src = `
assert.contains(exec(host, "iptables --version").stdout, "(legacy)")
a, b = namespace("a"), namespace("b")
veth("eth0", "eth0", ns = a, peer_ns = b, addr = "10.40.0.1/24", peer_addr = "10.40.0.2/24")
assert.reachable(a, "10.40.0.2")

def legacy(ns, table = "filter"):
    return [l for l in exec(ns, ["iptables", "-t", table, "-S"]).stdout.split("\n") if l.startswith("-A ")]

def nft(ns, table = "filter"):
    return [l for l in exec(ns, [NFT, "-t", table, "-S"]).stdout.split("\n") if l.startswith("-A ")]

r = firewall(b, "INPUT", "-p icmp -j DROP")
assert.eq(legacy(b), ['-A INPUT -p icmp -m comment --comment "nsscript:legacy" -j DROP'])
assert.eq(nft(b), [])
assert.eq(legacy(a) + legacy(host), [])
assert.unreachable(a, "10.40.0.2", timeout = "300ms")
firewall(b, "INPUT", ["-p", "icmp", "-j", "DROP"])  # again: not duplicated
assert.eq(len(legacy(b)), 1)
r.delete()
assert.eq(legacy(b), [])
assert.reachable(a, "10.40.0.2")

m = nat.masquerade("10.40.0.0/24", ns = a, out = "eth0")
d = nat.dnat(80, "10.40.0.2:8080", ns = a, in_ = "eth0")
assert.eq(legacy(a, "nat"), [
    '-A PREROUTING -i eth0 -p tcp -m tcp --dport 80 -m comment --comment "nsscript:legacy" -j DNAT --to-destination 10.40.0.2:8080',
    '-A POSTROUTING -s 10.40.0.0/24 -o eth0 -m comment --comment "nsscript:legacy" -j MASQUERADE',
])
assert.eq(nft(a, "nat"), [])
m.delete()
d.delete()
assert.eq(legacy(a, "nat"), [])
assert.fails(lambda: firewall(b, "INPUT", "--dport 80 -j ACCEPT"), 'iptables v[0-9.]+ \\(legacy\\): unknown option "--dport"')
print("legacy: ok")
`
	r := nsscriptWithPath(t, dir+":"+os.Getenv("PATH"), "legacy.star", "NFT = "+strconv.Quote(nft)+"\n"+src)
	if r.code != 0 || !strings.Contains(r.stdout, "legacy: ok") {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
}

// TestFirewallRerun runs a script that adds rules twice in the same
// sandbox, as a user re-runs it (a nested nsscript, not sandboxed again):
// the second run finds every rule in place and adds none, in the host and
// in the named namespace, and the rules are the script's (its lab's
// ownership comment).
func TestFirewallRerun(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rules := `
a = namespace("a")
bridge("br0", addr = "10.0.0.1/24")
firewall(a, "INPUT", "-p tcp --dport 80 -j DROP")
firewall(a, "OUTPUT", "-p udp --dport 53 -j ACCEPT", table = "raw")
firewall(host, "FORWARD", ["-i", "br0", "-j", "ACCEPT"])
firewall(host, "FORWARD", "-o br0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT")
nat.masquerade("10.0.0.0/24", not_out = "br0")
nat.dnat(80, "10.0.0.2:80", in_ = "eth0")
nat.dnat(8080, "10.0.0.2:80", ns = a)
print("rules added")
`
	if err := os.WriteFile(filepath.Join(dir, "rules.star"), []byte(rules), 0o644); err != nil {
		t.Fatal(err)
	}
	out := mustRun(t, `
def run():
    r = exec(host, [args["bin"], args["rules"]], env = {"NSSCRIPT_IN_SANDBOX": ""}, check = False)
    assert.eq(r.code, 0, "nsscript rules.star: " + r.stderr)
    assert.eq(r.stdout, "rules added\n")

def state():
    out = []
    for ns in [host] + namespaces():
        out.append("## " + (ns.name or "host"))
        for line in exec(ns, "iptables-save").stdout.split("\n"):
            if line.startswith("-A "):
                out.append(line)
    return out

run()
first = state()
run()
second = state()
assert.eq(first, second)
rules = [l for l in first if l.startswith("-A ")]
assert.eq(len(rules), 7)
for l in rules:
    assert.contains(l, '-m comment --comment "nsscript:rules"')
print("\n".join(first))
`, "bin="+bin, "rules="+filepath.Join(dir, "rules.star"))
	for _, want := range []string{
		"## host\n",
		"## a\n",
		`-A INPUT -p tcp -m tcp --dport 80 -m comment --comment "nsscript:rules" -j DROP`,
		`-A POSTROUTING -s 10.0.0.0/24 ! -o br0 -m comment --comment "nsscript:rules" -j MASQUERADE`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the rules lack %q:\n%s", want, out)
		}
	}
}
