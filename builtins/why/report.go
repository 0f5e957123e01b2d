package why

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/nsscript/nsscript/builtins/kernel"
	"github.com/nsscript/nsscript/builtins/shell"
)

// The report, and the fixes written as nsscript code and as commands.

// Title is what was asked: "red → 203.0.113.8 (ping)".
func (d *Diagnosis) Title() string {
	what := "ping"
	if d.Proto != "icmp" {
		what = fmt.Sprintf("%s port %d", d.Proto, d.Port)
	}
	return fmt.Sprintf("%s → %s (%s)", d.Src, d.Dst, what)
}

// Verdict is the report's conclusion in one line.
func (d *Diagnosis) Verdict() string {
	switch {
	case d.Fault != "":
		return d.Fault
	case d.Stop != "":
		return d.Stop
	case d.OK:
		return "the way there and back is open"
	}
	return "not diagnosed"
}

// String is the short report: the hops there and back, the fault and
// its fix, or what was checked.
func (d *Diagnosis) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "why %s\n", d.Title())
	line := func(label, text string) {
		for i, l := range strings.Split(text, "\n") {
			if i > 0 {
				label = ""
			}
			fmt.Fprintf(&b, "  %-6s %s\n", label, l)
		}
	}
	if len(d.Path) > 0 {
		line("path", strings.Join(d.Path, " → "))
	}
	if len(d.Back) > 0 {
		line("back", strings.Join(d.Back, " → "))
	}
	switch {
	case d.Fault != "":
		line("fault", d.Fault)
		if d.Fix != "" {
			line("fix", d.Fix)
			line("", d.Command)
		}
		if d.Alt != "" {
			if d.Fix != "" {
				line("", d.Alt)
			} else {
				line("fix", d.Alt)
			}
		}
	case d.Stop != "":
		line("stops", d.Stop)
	case d.OK:
		line("ok", fmt.Sprintf("%s (checked %s)", d.Verdict(), d.checkedSummary()))
	}
	for _, u := range d.Unseen {
		line("unseen", u)
	}
	return strings.TrimRight(b.String(), "\n")
}

// checkedSummary says in a few words what the walk looked at.
func (d *Diagnosis) checkedSummary() string {
	end := "the listening socket"
	if d.Proto == "icmp" {
		end = "echo_ignore"
	}
	return fmt.Sprintf("%d things: routes with ip rule, devices, carriers, bridge ports, neighbours, forwarding, rp_filter, iptables, NAT, %s", len(d.Checked), end)
}

// Unexplained is what to say when packets do not arrive although the
// walk found nothing wrong.
func (d *Diagnosis) Unexplained() string {
	s := "nsscript found nothing wrong on the way there and back (it checked " + d.checkedSummary() + ")"
	if len(d.Unseen) > 0 {
		s += "; it could not evaluate: " + strings.Join(d.Unseen, "; ")
	}
	return s + "; what stops the packets is something it cannot see: a firewall outside iptables (nftables, eBPF), tc that link.shape did not set, a daemon that does not answer, or a change since"
}

// Starlark's (and Python's) reserved words, and the names every script
// sees: a namespace named like one is not a variable of that name.
var notVariable = map[string]bool{
	"and": true, "break": true, "continue": true, "def": true, "elif": true, "else": true, "for": true,
	"if": true, "in": true, "lambda": true, "load": true, "not": true, "or": true, "pass": true, "return": true,
	"while": true, "None": true, "True": true, "False": true, "host": true, "args": true, "nat": true,
	"assert": true, "link": true, "route": true, "exec": true, "ping": true, "bridge": true, "veth": true,
	"dummy": true, "namespace": true, "namespaces": true, "forwarding": true, "firewall": true, "capture": true,
	"print": true, "fail": true, "struct": true, "topo": true, "why": true, "sleep": true, "show": true,
}

// nsRef is the namespace in nsscript code: host, the variable the
// tutorials name it by (its name), or namespace("NAME").
func nsRef(v *view) string {
	switch {
	case v.host:
		return "host"
	case v.ns.Name != "" && identifier(v.ns.Name) && !notVariable[v.ns.Name]:
		return v.ns.Name
	case v.ns.Name != "":
		return "namespace(" + quote(v.ns.Name) + ")"
	}
	return "namespace(path = " + quote(v.ns.Path) + ")"
}

// nsArg is the namespace as a builtin's ns= argument: none for the host.
func nsArg(v *view) string {
	if v.host {
		return ""
	}
	return nsRef(v)
}

func identifier(s string) bool {
	for i, c := range s {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return s != ""
}

func quote(s string) string { return strconv.Quote(s) }

func linkRef(v *view, dev string) string {
	if v.host {
		return "link(" + quote(dev) + ")"
	}
	return nsRef(v) + ".link(" + quote(dev) + ")"
}

// nsPrefixIP is what `ip` needs to act in v: "-n NAME ".
func nsPrefixIP(v *view) string {
	switch {
	case v.host:
		return ""
	case v.ns.Name != "":
		return "-n " + shell.Quote(v.ns.Name) + " "
	}
	return ""
}

// ipCmd is an ip command in v.
func ipCmd(v *view, args string) string {
	if !v.host && v.ns.Name == "" {
		return nsExec(v) + "ip " + args
	}
	return "ip " + nsPrefixIP(v) + args
}

// nsExec is what runs a command in v: "ip netns exec NAME ".
func nsExec(v *view) string {
	switch {
	case v.host:
		return ""
	case v.ns.Name != "":
		return "ip netns exec " + shell.Quote(v.ns.Name) + " "
	}
	return "nsenter --net=" + shell.Quote(v.ns.Path) + " "
}

func upFix(v *view, l *kernel.LinkInfo) fix {
	return fix{code: linkRef(v, l.Name) + ".set_up()", cmd: ipCmd(v, "link set "+shell.Quote(l.Name)+" up")}
}

func routeFix(v *view, dst string, via net.IP) fix {
	return fix{code: fmt.Sprintf("route(%s, %s, via = %s)", nsRef(v), quote(dst), quote(via.String())),
		cmd: ipCmd(v, fmt.Sprintf("route replace %s via %s", dst, via))}
}

func sysctlFix(v *view, key, value string) fix {
	return fix{code: fmt.Sprintf("%s.sysctl(%s, %s)", nsRef(v), quote(key), value),
		cmd: nsExec(v) + "sysctl -w " + key + "=" + value}
}

func masqFix(v *view, src, out string) fix {
	ns := ""
	if !v.host {
		ns = ", ns = " + nsRef(v)
	}
	return fix{code: fmt.Sprintf("nat.masquerade(%s%s, out = %s)", quote(src), ns, quote(out)),
		cmd: nsExec(v) + fmt.Sprintf("iptables -t nat -A POSTROUTING -s %s -o %s -j MASQUERADE", src, shell.Quote(out))}
}

func dnatFix(v *view, p *packet, to net.IP, in *kernel.LinkInfo) fix {
	args := fmt.Sprintf("%d, %s", p.dport, quote(hostPort(to, p.dport)))
	if !v.host {
		args += ", ns = " + nsRef(v)
	}
	if p.proto != "tcp" {
		args += ", proto = " + quote(p.proto)
	}
	args += ", in_ = " + quote(in.Name)
	return fix{code: "nat.dnat(" + args + ")",
		cmd: nsExec(v) + fmt.Sprintf("iptables -t nat -A PREROUTING -p %s --dport %d -i %s -j DNAT --to-destination %s",
			p.proto, p.dport, shell.Quote(in.Name), hostPort(to, p.dport))}
}

// addrFix replaces an address by the same one with the right prefix:
// the new one first, so that the device keeps an address (and with it
// the routes through it) all along.
func addrFix(v *view, l *kernel.LinkInfo, old, right *net.IPNet) fix {
	ref := linkRef(v, l.Name)
	return fix{code: fmt.Sprintf("%s.addr(%s)\n%s.del_addr(%s)", ref, quote(right.String()), ref, quote(old.String())),
		cmd: ipCmd(v, fmt.Sprintf("addr add %s dev %s", right, shell.Quote(l.Name))) + "\n" +
			ipCmd(v, fmt.Sprintf("addr del %s dev %s", old, shell.Quote(l.Name)))}
}
