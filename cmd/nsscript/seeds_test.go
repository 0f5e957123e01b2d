package main

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// The seed documents' examples, written as nsscript scripts, must leave
// exactly the kernel state that the documents' own ip commands leave.
//
// Each example runs once, in one sandbox:
//
//  1. the script sets the sandbox's ip_forward to 0 (it starts from the
//     host's value) and dumps the state ("empty");
//  2. it builds the topology with nsscript builtins, checks the packets the
//     document says should flow, and dumps the state ("nsscript");
//  3. it deletes what it built and dumps again ("cleaned": must equal
//     "empty");
//  4. it runs the document's ip commands one by one with exec(host, ...),
//     checks the same packets, and dumps the state ("ip").
//
// A dump is taken by iproute2 itself (ip -j -d link, ip -j addr,
// ip -4 -j route show table all, ip -j netns list-id, ip_forward) for the
// sandbox's own namespace and every `ip netns list` entry. The test
// normalizes the dumps (see normalize) and compares "nsscript" with "ip".

// seedExample is one example: the nsscript way and the document's way.
type seedExample struct {
	name string
	// build is nsscript code that builds the topology (top level).
	build string
	// teardown is nsscript code that deletes what build built.
	teardown string
	// ip is the document's commands, in the document's order, one a line.
	ip string
	// check is the body of check(ns), run after each phase; ns maps
	// namespace names to Namespace values (and "host" to host).
	check string
	// must are prefixes of lines the normalized state must contain, so a
	// dump the normalizer misread (or an empty one) cannot pass.
	// "kind=STAND-IN" is the stand-in NIC's kind (see standInKind).
	must []string
}

// dumpScript prints one JSON object a line: the sandbox's own namespace
// ("host") first, then every named namespace.
const dumpScript = `set -e
# j prints a command's JSON ("[]" when it prints nothing); when the
# command fails it prints a string, which the test cannot parse as a list.
j() { out=$("$@") || { echo '"failed: '"$*"'"'; return; }; echo "${out:-[]}"; }
one() {
	name=$1; shift
	if [ "$name" = host ]; then fwd=$(cat /proc/sys/net/ipv4/ip_forward)
	else fwd=$(ip netns exec "$name" cat /proc/sys/net/ipv4/ip_forward); fi
	printf '{"ns":"%s","forwarding":"%s","links":%s,"addrs":%s,"routes":%s,"nsids":%s}\n' \
		"$name" "$fwd" "$(j ip "$@" -j -d link show)" "$(j ip "$@" -j addr show)" \
		"$(j ip "$@" -4 -j route show table all)" "$(j ip "$@" -j netns list-id)"
}
one host
for n in $(ip netns list | cut -d' ' -f1); do one "$n" -n "$n"; done
`

// standInNIC creates eth1, the machine's NIC in seed 001, the way
// nsscript's dummy() does: a dummy device, or on a kernel without the
// dummy driver (like the one these tests were written on) an ifb device
// marked with the alias nsscript gives its stand-ins. It is the hardware
// the document starts from, not one of the document's commands.
const standInNIC = `ip link add eth1 type dummy 2>/dev/null || { ip link add eth1 type ifb && ip link set eth1 alias nsscript:dummy; }`

// standInKind is the kind iproute2 reports for the stand-in NIC: "dummy"
// where the kernel has the dummy driver, else "ifb". It is probed in a
// throwaway network namespace (unshare -n), never in the host's.
var standInKind = sync.OnceValue(func() string {
	if exec.Command("unshare", "-n", "ip", "link", "add", "probe0", "type", "dummy").Run() == nil {
		return "dummy"
	}
	return "ifb"
})

// forEach repeats block once per row, with $0, $1, ... replaced by the
// row's fields.
func forEach(rows [][]string, block string) string {
	var b strings.Builder
	for _, row := range rows {
		s := block
		for i := len(row) - 1; i >= 0; i-- {
			s = strings.ReplaceAll(s, "$"+strconv.Itoa(i), row[i])
		}
		b.WriteString(s)
	}
	return b.String()
}

// seedScript is the whole nsscript program for one example.
func seedScript(ex seedExample) string {
	var cmds []string
	for _, l := range strings.Split(ex.ip, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			cmds = append(cmds, strconv.Quote(l))
		}
	}
	indent := func(s string) string {
		var b strings.Builder
		for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
			b.WriteString("    " + l + "\n")
		}
		return b.String()
	}
	return fmt.Sprintf(`DUMP = %s

def dump(label):
    r = exec(host, DUMP)
    print("@@ " + label)
    print(r.stdout.strip())
    print("@@ end")

def check(ns):
%s
def named():
    m = {"host": host}
    for n in namespaces():
        m[n.name] = n
    return m

# The sandbox starts with the host's ip_forward: both phases start at 0.
forwarding(on = False)
dump("empty")

# --- nsscript
%s
check(named())
dump("nsscript")

%s
assert.eq(namespaces(), [])
assert.eq([l.name for l in host.links], ["lo"])
dump("cleaned")

# --- the document's ip commands
IP = [
%s]
for cmd in IP:
    exec(host, cmd)
check(named())
dump("ip")
`, strconv.Quote(dumpScript), indent(ex.check), ex.build, ex.teardown, "    "+strings.Join(cmds, ",\n    ")+",\n")
}

func TestSeedExamples(t *testing.T) {
	for _, ex := range seedExamples {
		t.Run(ex.name, func(t *testing.T) {
			t.Parallel()
			src := seedScript(ex)
			r := sandboxed(t, "seed.star", src)
			if r.code != 0 {
				t.Fatalf("script exited %d\nstderr:\n%s\nscript:\n%s", r.code, r.stderr, numbered(src))
			}
			dumps, err := splitDumps(r.stdout)
			if err != nil {
				t.Fatalf("%v\nstdout:\n%s", err, r.stdout)
			}
			state := map[string]string{}
			for _, label := range []string{"empty", "nsscript", "cleaned", "ip"} {
				s, err := normalize(dumps[label])
				if err != nil {
					t.Fatalf("dump %q: %v\n%s", label, err, dumps[label])
				}
				state[label] = s
			}

			// The sandbox starts empty, and deleting with nsscript
			// gives it back empty.
			var nsLines, linkLines []string
			for _, l := range strings.Split(state["empty"], "\n") {
				if strings.HasPrefix(l, "ns ") {
					nsLines = append(nsLines, l)
				}
				if strings.HasPrefix(l, "link ") {
					linkLines = append(linkLines, l)
				}
			}
			if len(nsLines) != 1 || nsLines[0] != "ns host forwarding=0" || len(linkLines) != 1 || !strings.HasPrefix(linkLines[0], "link host/lo kind=loopback up=true ") {
				t.Fatalf("the sandbox did not start as one namespace with lo alone and forwarding off:\n%s", state["empty"])
			}
			if state["cleaned"] != state["empty"] {
				t.Errorf("nsscript's deletions did not give the sandbox back as it was:\n%s", stateDiff("empty", state["empty"], "cleaned", state["cleaned"]))
			}

			// The normalizer sees what the example is about.
			for _, label := range []string{"nsscript", "ip"} {
				for _, m := range ex.must {
					m = strings.ReplaceAll(m, "kind=STAND-IN", "kind="+standInKind())
					if !hasLinePrefix(state[label], m) {
						t.Errorf("%s state has no line starting %q:\n%s", label, m, state[label])
					}
				}
			}

			if state["nsscript"] != state["ip"] {
				t.Errorf("nsscript and the document's ip commands give different states:\n%s\nfull nsscript state:\n%s", stateDiff("nsscript", state["nsscript"], "ip", state["ip"]), state["nsscript"])
			}
		})
	}
}

func numbered(src string) string {
	var b strings.Builder
	for i, l := range strings.Split(src, "\n") {
		fmt.Fprintf(&b, "%4d  %s\n", i+1, l)
	}
	return b.String()
}

func hasLinePrefix(state, prefix string) bool {
	for _, l := range strings.Split(state, "\n") {
		if strings.HasPrefix(l, prefix) {
			return true
		}
	}
	return false
}

// stateDiff lists the lines only one of two states has.
func stateDiff(aName, a, bName, b string) string {
	var out []string
	for _, l := range strings.Split(diffLines(a, b), "\n") {
		switch {
		case strings.HasPrefix(l, "- "):
			out = append(out, "only "+aName+": "+l[2:])
		case strings.HasPrefix(l, "+ "):
			out = append(out, "only "+bName+":   "+l[2:])
		}
	}
	return strings.Join(out, "\n")
}

// splitDumps cuts the script's output into its labelled dumps.
func splitDumps(out string) (map[string]string, error) {
	dumps := map[string]string{}
	label := ""
	var cur []string
	for _, l := range strings.Split(out, "\n") {
		switch {
		case l == "@@ end":
			if label == "" {
				return nil, fmt.Errorf("@@ end without a dump")
			}
			dumps[label] = strings.Join(cur, "\n")
			label, cur = "", nil
		case strings.HasPrefix(l, "@@ "):
			label = l[3:]
		case label != "":
			cur = append(cur, l)
		}
	}
	for _, want := range []string{"empty", "nsscript", "cleaned", "ip"} {
		if _, ok := dumps[want]; !ok {
			return nil, fmt.Errorf("no %q dump in the output", want)
		}
	}
	return dumps, nil
}

// What iproute2's JSON gives, as far as the comparison reads it.
type ipLink struct {
	Index       int      `json:"ifindex"`
	Name        string   `json:"ifname"`
	Flags       []string `json:"flags"`
	MTU         int      `json:"mtu"`
	LinkType    string   `json:"link_type"`
	Master      string   `json:"master"`
	Link        string   `json:"link"`         // the veth peer's name, when in the same namespace
	LinkIndex   *int     `json:"link_index"`   // the veth peer's index in its own namespace
	LinkNetnsID *int     `json:"link_netnsid"` // its namespace, when not this one
	Alias       string   `json:"ifalias"`
	LinkInfo    *struct {
		Kind string         `json:"info_kind"`
		Data map[string]any `json:"info_data"`
	} `json:"linkinfo"`
}

type ipAddrLink struct {
	Name  string `json:"ifname"`
	Addrs []struct {
		Family    string `json:"family"`
		Local     string `json:"local"`
		PrefixLen int    `json:"prefixlen"`
		Broadcast string `json:"broadcast"`
		Scope     string `json:"scope"`
		Label     string `json:"label"`
	} `json:"addr_info"`
}

type nsDump struct {
	NS         string           `json:"ns"`
	Forwarding string           `json:"forwarding"`
	Links      []ipLink         `json:"links"`
	Addrs      []ipAddrLink     `json:"addrs"`
	Routes     []map[string]any `json:"routes"`
	NSIDs      []struct {
		ID   int    `json:"nsid"`
		Name string `json:"name"`
	} `json:"nsids"`
}

// normalize turns a dump into sorted lines of what must be equal:
//
//	ns NAME forwarding=0|1
//	link NS/NAME kind= up= master= peer=NS/NAME mtu= flags= alias= [stp=]
//	addr NS/DEV FAMILY ADDR/LEN brd= scope= label=
//	route NS table= type= dst= gateway= dev= (then every other field ip gives)
//
// Left out, because they differ between any two runs or change on their
// own: ifindex, MAC addresses, counters, qdisc, operstate and the carrier
// flags (LOWER_UP, NO-CARRIER, M-DOWN, DORMANT), IPv6 link-local (fe80::)
// addresses and address lifetimes/flags, IPv6 routes, and routes' linkdown
// flag. Device indexes are replaced by names: a bridge port's master by its
// name (ip does that), a veth's peer by NS/NAME, found through the nsid
// ip netns list-id maps to a /run/netns name; an nsid without one is the
// sandbox's own namespace ("host"), and the peer found there must point back.
func normalize(dump string) (string, error) {
	byName := map[string]*nsDump{}
	var order []*nsDump
	for _, l := range strings.Split(strings.TrimSpace(dump), "\n") {
		if l == "" {
			continue
		}
		d := &nsDump{}
		if err := json.Unmarshal([]byte(l), d); err != nil {
			return "", fmt.Errorf("parse %q: %v", l, err)
		}
		byName[d.NS] = d
		order = append(order, d)
	}
	if byName["host"] == nil {
		return "", fmt.Errorf("no dump of the sandbox's own namespace")
	}
	linkByIndex := func(ns string, index int) *ipLink {
		if d := byName[ns]; d != nil {
			for i := range d.Links {
				if d.Links[i].Index == index {
					return &d.Links[i]
				}
			}
		}
		return nil
	}
	nsOfID := func(d *nsDump, id int) string {
		for _, e := range d.NSIDs {
			if e.ID == id {
				if e.Name == "" {
					return "host"
				}
				return e.Name
			}
		}
		return "host"
	}
	var lines []string
	for _, d := range order {
		lines = append(lines, fmt.Sprintf("ns %s forwarding=%s", d.NS, d.Forwarding))
		for _, l := range d.Links {
			kind := "device"
			switch {
			case l.LinkType == "loopback":
				kind = "loopback"
			case l.LinkInfo != nil && l.LinkInfo.Kind != "":
				kind = l.LinkInfo.Kind
			}
			up := false
			var flags []string
			for _, f := range l.Flags {
				switch f {
				case "UP":
					up = true
				case "LOWER_UP", "NO-CARRIER", "M-DOWN", "DORMANT":
					continue
				}
				flags = append(flags, f)
			}
			sort.Strings(flags)
			peer := "-"
			if kind == "veth" {
				peer = "?"
				switch {
				case l.Link != "":
					peer = d.NS + "/" + l.Link
				case l.LinkIndex != nil:
					pns := d.NS
					if l.LinkNetnsID != nil {
						pns = nsOfID(d, *l.LinkNetnsID)
					}
					if p := linkByIndex(pns, *l.LinkIndex); p != nil && p.LinkIndex != nil && *p.LinkIndex == l.Index {
						peer = pns + "/" + p.Name
					}
				}
			}
			master := l.Master
			if master == "" {
				master = "-"
			}
			line := fmt.Sprintf("link %s/%s kind=%s up=%v master=%s peer=%s mtu=%d flags=%s alias=%s",
				d.NS, l.Name, kind, up, master, peer, l.MTU, strings.Join(flags, ","), l.Alias)
			if kind == "bridge" && l.LinkInfo != nil {
				line += fmt.Sprintf(" stp=%v", l.LinkInfo.Data["stp_state"])
			}
			lines = append(lines, line)
		}
		for _, l := range d.Addrs {
			for _, a := range l.Addrs {
				if a.Family == "inet6" && strings.HasPrefix(strings.ToLower(a.Local), "fe80:") {
					continue
				}
				lines = append(lines, fmt.Sprintf("addr %s/%s %s %s/%d brd=%s scope=%s label=%s",
					d.NS, l.Name, a.Family, a.Local, a.PrefixLen, a.Broadcast, a.Scope, a.Label))
			}
		}
		for _, r := range d.Routes {
			r = maps(r)
			get := func(k, def string) string {
				v, ok := r[k]
				delete(r, k)
				if !ok {
					return def
				}
				return fmt.Sprint(v)
			}
			line := fmt.Sprintf("route %s table=%s type=%s dst=%s gateway=%s dev=%s",
				d.NS, get("table", "main"), get("type", "unicast"), get("dst", "?"), get("gateway", "-"), get("dev", "-"))
			if fl, ok := r["flags"].([]any); ok {
				var keep []string
				for _, f := range fl {
					if f != "linkdown" {
						keep = append(keep, fmt.Sprint(f))
					}
				}
				r["flags"] = strings.Join(keep, ",")
			}
			var rest []string
			for k, v := range r {
				rest = append(rest, fmt.Sprintf("%s=%v", k, v))
			}
			sort.Strings(rest)
			lines = append(lines, line+" "+strings.Join(rest, " "))
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n") + "\n", nil
}

// maps copies a route object so that normalizing it does not change the dump.
func maps(m map[string]any) map[string]any {
	c := make(map[string]any, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}
