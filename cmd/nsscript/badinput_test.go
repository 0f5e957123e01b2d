package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// Bad-input cases live in testdata/bad, one script per case:
//
//	# What the case is (free comment lines).
//	# want: LINE: REGEXP
//	setup statements (optional; they must succeed)
//
//	def bad():
//	    the one bad call
//
//	bad()
//
// REGEXP is matched, anchored at its start, against the error message
// that follows "FILE:LINE:COL: " (so it begins with the builtin's name),
// and LINE is the line of the bad call inside bad(). The file must end
// with the call bad().
//
// TestBadInput runs every case twice, each in its own --sandbox:
//
//   - direct: the file as it is. It must exit 1 with the first stderr
//     line "NAME.star:LINE:COL: MESSAGE", MESSAGE matching REGEXP,
//     followed by the Starlark backtrace through bad() and <toplevel>.
//   - unchanged: the file with its last line replaced by code that
//     snapshots the kernel state (links, addresses, routes of the
//     sandbox's own namespace and of every named namespace, the
//     namespace list and /run/netns, /etc/netns), calls bad() under
//     assert.fails(bad, REGEXP), and snapshots again. The two snapshots
//     must be identical: the bad call was refused before it changed
//     anything, and the message is the same as in the direct run.
var badDir = filepath.Join("..", "..", "testdata", "bad")

type badCase struct {
	name    string // file name, e.g. "ifname_too_long.star"
	src     string
	line    int    // line of the bad call
	want    string // regexp for the message
	defLine int    // line of "def bad():"
	call    int    // line of the final "bad()"
}

var wantHeader = regexp.MustCompile(`^# want: (\d+): (.+)$`)

func loadBadCase(t *testing.T, path string) badCase {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c := badCase{name: filepath.Base(path), src: string(b)}
	lines := strings.Split(strings.TrimRight(c.src, "\n"), "\n")
	for i, l := range lines {
		if m := wantHeader.FindStringSubmatch(l); m != nil {
			if c.want != "" {
				t.Fatalf("%s: more than one # want: line", c.name)
			}
			c.line, _ = strconv.Atoi(m[1])
			c.want = m[2]
		}
		if l == "def bad():" {
			c.defLine = i + 1
		}
	}
	c.call = len(lines)
	switch {
	case c.want == "":
		t.Fatalf("%s: no `# want: LINE: REGEXP` header", c.name)
	case c.defLine == 0:
		t.Fatalf("%s: no `def bad():`", c.name)
	case lines[len(lines)-1] != "bad()":
		t.Fatalf("%s: the last line must be `bad()`, got %q", c.name, lines[len(lines)-1])
	case c.line <= c.defLine || c.line >= c.call:
		t.Fatalf("%s: want line %d is not inside bad() (lines %d to %d)", c.name, c.line, c.defLine+1, c.call-1)
	}
	if _, err := regexp.Compile(c.want); err != nil {
		t.Fatalf("%s: bad want regexp: %v", c.name, err)
	}
	return c
}

func TestBadInput(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(badDir, "*.star"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 40 {
		t.Fatalf("found %d cases in %s, want the whole set", len(files), badDir)
	}
	for _, f := range files {
		c := loadBadCase(t, f)
		t.Run(strings.TrimSuffix(c.name, ".star"), func(t *testing.T) {
			t.Parallel()
			msg := c.checkDirect(t)
			c.checkUnchanged(t, msg)
		})
	}
}

// checkDirect runs the case as it is and returns the error message.
func (c badCase) checkDirect(t *testing.T) string {
	t.Helper()
	r := sandboxed(t, c.name, c.src)
	if r.code != 1 {
		t.Fatalf("exit code %d, want 1\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	first, rest, _ := strings.Cut(r.stderr, "\n")
	head := regexp.MustCompile(`^` + regexp.QuoteMeta(c.name) + `:(\d+):(\d+): (.*)$`)
	m := head.FindStringSubmatch(first)
	if m == nil {
		t.Fatalf("first stderr line %q does not start with %s:LINE:COL: \nstderr:\n%s", first, c.name, r.stderr)
	}
	line, _ := strconv.Atoi(m[1])
	col, _ := strconv.Atoi(m[2])
	msg := m[3]
	if line != c.line {
		t.Errorf("error at line %d, want %d: %s", line, c.line, first)
	}
	srcLine := strings.Split(c.src, "\n")[c.line-1]
	if col < 1 || col > len(srcLine) {
		t.Errorf("column %d is outside line %d (%q)", col, c.line, srcLine)
	}
	if !regexp.MustCompile(`^(?:` + c.want + `)`).MatchString(msg) {
		t.Errorf("message\n\t%s\ndoes not match\n\t%s", msg, c.want)
	}
	// The Starlark backtrace: the bad call in bad(), called from the top level.
	for _, want := range []string{
		"Traceback (most recent call last):\n",
		fmt.Sprintf("  %s:%d:", c.name, c.call),
		fmt.Sprintf("  %s:%d:%d: in bad\n", c.name, c.line, col),
		": in <toplevel>\n",
	} {
		if !strings.Contains(rest, want) {
			t.Errorf("backtrace lacks %q\nstderr:\n%s", want, r.stderr)
		}
	}
	return msg
}

// snapshotCmd prints what a bad call must not change. It runs in the
// sandbox's own namespace (host) and in every named namespace: links,
// addresses, routes, policy rules, and iptables and ip6tables rules
// (iptables-save without its dated comment lines and the chains' packet
// counters).
const snapshotCmd = `set -e
snap() { ip "$@" -d -o link; ip "$@" -o addr; ip "$@" -4 route show table all; ip "$@" -4 rule; ip "$@" -6 rule; }
rules() { for save in iptables-save ip6tables-save; do out=$("$@" $save); printf '%s\n' "$out" | sed -e '/^#/d' -e 's/ \[[0-9]*:[0-9]*\]$//'; done; }
echo "## host"; snap; rules
echo "## ip netns list"; ip netns list
echo "## ls /run/netns /etc/netns"; ls -1A /run/netns /etc/netns
for n in $(ip netns list | cut -d' ' -f1); do echo "## netns $n"; snap -n "$n"; rules ip netns exec "$n"; done
`

const (
	markMsg    = "@@bad-input message@@"
	markBefore = "@@bad-input before@@"
	markAfter  = "@@bad-input after@@"
)

// unchangedVariant is the case with its final bad() call replaced by a
// snapshot, assert.fails(bad, WANT) and a second snapshot.
func (c badCase) unchangedVariant() string {
	lines := strings.Split(strings.TrimRight(c.src, "\n"), "\n")
	body := strings.Join(lines[:len(lines)-1], "\n")
	return body + fmt.Sprintf(`
def _snapshot():
    return exec(host, %s).stdout

_before = _snapshot()
_msg = assert.fails(bad, %s)
_after = _snapshot()
print(%q + _msg + %q + _before + %q + _after)
`, strconv.Quote(snapshotCmd), strconv.Quote("^(?:"+c.want+")"), markMsg+"\n", "\n"+markBefore+"\n", markAfter+"\n")
}

// checkUnchanged runs the snapshot variant: the bad call fails with the
// message of the direct run and the kernel state is the same before and after.
func (c badCase) checkUnchanged(t *testing.T, directMsg string) {
	t.Helper()
	msg, before, after := c.runUnchanged(t)
	if msg != directMsg {
		t.Errorf("assert.fails got\n\t%s\nthe direct run\n\t%s", msg, directMsg)
	}
	if before != after {
		t.Errorf("the bad call changed the kernel state:\n%s\nbefore:\n%s", diffLines(before, after), before)
	}
}

// runUnchanged runs the snapshot variant and returns the message
// assert.fails saw and the normalized snapshots before and after.
func (c badCase) runUnchanged(t *testing.T) (msg, before, after string) {
	t.Helper()
	r := sandboxed(t, c.name, c.unchangedVariant())
	if r.code != 0 {
		t.Fatalf("snapshot variant exited %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	_, out, ok1 := strings.Cut(r.stdout, markMsg+"\n")
	msg, out, ok2 := strings.Cut(out, "\n"+markBefore+"\n")
	before, after, ok3 := strings.Cut(out, markAfter+"\n")
	if !ok1 || !ok2 || !ok3 {
		t.Fatalf("snapshot variant printed no snapshots:\n%s", r.stdout)
	}
	before, after = normalizeSnapshot(before), normalizeSnapshot(after)
	if !strings.Contains(before, "## host\n1: lo: ") || !strings.Contains(before, "## ip netns list\n") {
		t.Fatalf("the snapshot does not show the sandbox's links:\n%s", before)
	}
	return msg, before, after
}

// TestBadInputSnapshotSeesChanges proves the snapshot variant would catch
// a half-built object: here bad() creates a namespace, a device in it, an
// address, a route, iptables and ip6tables rules and a policy rule, and
// takes a device down, before it fails.
func TestBadInputSnapshotSeesChanges(t *testing.T) {
	c := badCase{name: "leaky.star", want: `veth: name and peer are both "a"`, src: `
bridge("br0", addr = "10.5.0.1/24")
nic = dummy("eth1")
firewall(host, "FORWARD", "-i br0 -j ACCEPT")

def bad():
    leak = namespace("leak")
    dummy("leak0", ns = leak)
    link("lo").addr("10.7.0.1/32")
    route(host, "10.8.0.0/16", via = "10.5.0.2")
    nic.set_down()
    firewall(host, "FORWARD", "-o br0 -j ACCEPT")
    firewall(leak, "INPUT", "-p tcp --dport 9 -j DROP")
    firewall(host, "INPUT", "-p icmpv6 -j DROP", family = "ipv6")
    route(host, "default", via = "10.5.0.2", table = 7)
    rule(host, from_ = "10.5.0.0/24", table = 7, priority = 70)
    veth("a", "a")

bad()
`}
	_, before, after := c.runUnchanged(t)
	d := diffLines(before, after)
	for _, want := range []string{
		"+ leak",                          // ip netns list, ls /run/netns
		"+ ## netns leak",                 // its links
		"leak0: <BROADCAST,NOARP",         // the device in it
		"+ 1: lo inet 10.7.0.1/32",        // the address
		"+ 10.8.0.0/16 via 10.5.0.2",      // the route
		"- 3: eth1: <BROADCAST,NOARP,UP>", // the device taken down
		`+ -A FORWARD -o br0 -m comment --comment "nsscript:leaky" -j ACCEPT`,              // a rule in the host
		`+ -A INPUT -p tcp -m tcp --dport 9 -m comment --comment "nsscript:leaky" -j DROP`, // a rule in leak
		`+ -A INPUT -p ipv6-icmp -m comment --comment "nsscript:leaky" -j DROP`,            // an ip6tables rule
		"+ 70: from 10.5.0.0/24 lookup 7",                                                  // a policy rule
	} {
		if !strings.Contains(d, want) {
			t.Errorf("the snapshots' difference lacks %q:\n%s", want, d)
		}
	}
}

var (
	linkFlags = regexp.MustCompile(`<[A-Z0-9_,-]*>`)
	// Fields the kernel changes on its own after a device comes up:
	// operational state, STP/bridge timers, routes' linkdown.
	volatile = regexp.MustCompile(`\bstate [A-Za-z_-]+ |\b\w+_timer +[0-9.]+ ?| linkdown\b| tentative\b`)
)

// normalizeSnapshot drops what changes without anyone asking: carrier
// flags and operational state settle after a device comes up, bridge
// timers run, IPv6 link-local addresses appear after carrier and DAD.
func normalizeSnapshot(s string) string {
	var out []string
	for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		if strings.Contains(l, " inet6 fe80:") {
			continue
		}
		l = linkFlags.ReplaceAllStringFunc(l, func(f string) string {
			var keep []string
			for _, flag := range strings.Split(strings.Trim(f, "<>"), ",") {
				switch flag {
				case "LOWER_UP", "NO-CARRIER", "M-DOWN", "DORMANT":
				default:
					keep = append(keep, flag)
				}
			}
			return "<" + strings.Join(keep, ",") + ">"
		})
		l = volatile.ReplaceAllString(l, "")
		out = append(out, strings.Join(strings.Fields(l), " "))
	}
	return strings.Join(out, "\n")
}
