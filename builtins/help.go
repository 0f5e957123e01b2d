package builtins

import (
	"sort"
	"strings"
)

// Doc is what help() says about a builtin or method, from its entry in
// the table: how it is called, what it does, and the iproute2 (or
// iptables, sysctl) command it stands for, which is what nsscript's users
// think in.
type Doc struct {
	Name       string
	Signature  string
	Meaning    string
	Equivalent string // "" when there is none
}

// Help returns the documentation of a builtin or method: "veth",
// "nat.dnat", "link.move" (methods are named TYPE.METHOD, as in errors).
func Help(name string) (Doc, bool) {
	s, ok := entries[name]
	if !ok {
		return Doc{}, false
	}
	return Doc{Name: name, Signature: s.usage(), Meaning: s.Meaning, Equivalent: s.Equivalent}, true
}

// HelpNames lists every documented name, sorted: the builtins first, then
// the module functions and methods (names with a dot).
func HelpNames() []string {
	var top, dotted []string
	for name := range entries {
		if strings.Contains(name, ".") {
			dotted = append(dotted, name)
		} else {
			top = append(top, name)
		}
	}
	sort.Strings(top)
	sort.Strings(dotted)
	return append(top, dotted...)
}

// TypeDoc is a line about each kind of value the builtins return.
var TypeDoc = map[string]string{
	"Namespace":  "a network namespace: the host, a named one in /run/netns, or one attached by pid or path",
	"Link":       "a network device; it follows its device through renames and moves",
	"Route":      "a route of a namespace's main table",
	"Result":     "what a finished command gave; str(result) is its stdout",
	"Process":    "a command started with exec(..., background=True)",
	"Rule":       "an iptables (or ip6tables) rule nsscript added (or found) in a namespace",
	"PolicyRule": "a routing policy rule (ip rule) of a namespace, as the kernel has it",
	"neighbor":   "an entry of a namespace's ARP/NDP cache",
	"PingResult": "what ping() saw; true when any reply came; str() is ping's summary line",
	"Diagnosis":  "what why() found; true when the way there and back is open; str() is the report",
	"Matrix":     "what reachability() saw, pair by pair; print() shows it as Mininet's pingall does",
	"Shape":      "what link.shape reads: a device's shaping and what does it; str() is tc's words and the mechanism, \"rate 10mbit delay 20ms (tbf+netem)\"",
	"Throughput": "what throughput() measured; str() is \"9.56 Mbit/s (...)\"",
}

// Params lists the parameters a builtin or method takes, form by form
// (for the REPL's keyword completion).
func Params(name string) []string {
	s, ok := entries[name]
	if !ok {
		return nil
	}
	var out []string
	for _, f := range s.Params.forms() {
		for _, p := range f {
			if !strings.HasPrefix(p.Name, "*") { // *args are no keyword
				out = append(out, p.Name)
			}
		}
	}
	return out
}
