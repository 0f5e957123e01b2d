// Package plan shows what nsscript does in the commands its users know.
// A Recorder writes down each change made through it as an Op (data, and
// the equivalent command, rendered by the one Renderer): over the Model,
// a kernel in memory, it makes `nsscript plan`'s shell script; right
// above the real kernel it prints a run's changes as they are made
// (`--trace`).
package plan

import (
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/nsscript/nsscript/builtins/kernel"
	"github.com/nsscript/nsscript/builtins/shell"
)

// q quotes a word for sh when it needs it.
func q(w string) string { return shell.Quote(w) }

// Renderer turns kernel changes into iproute2, iptables, sysctl and shell
// commands.
type Renderer struct {
	// PidVar names the shell variable that holds a process's pid in a
	// plan script ("pid1"), when pid is one a plan started.
	PidVar func(pid int) (string, bool)
}

var procNet = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^/proc/(\d+)(?:/task/\d+)?/ns/net$`) })

// word renders a word that may contain pids of planned processes, as
// "$pidN" (the rest quoted as needed).
func (r *Renderer) word(w string) string {
	if r == nil || r.PidVar == nil {
		return q(w)
	}
	locs := digits().FindAllStringIndex(w, -1)
	var out strings.Builder
	last, changed := 0, false
	for _, l := range locs {
		pid, err := strconv.Atoi(w[l[0]:l[1]])
		if err != nil {
			continue
		}
		v, ok := r.PidVar(pid)
		if !ok {
			continue
		}
		if l[0] > last {
			out.WriteString(q(w[last:l[0]]))
		}
		out.WriteString(`"$` + v + `"`)
		last, changed = l[1], true
	}
	if !changed {
		return q(w)
	}
	if last < len(w) {
		out.WriteString(q(w[last:]))
	}
	return out.String()
}

var digits = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\d+`) })

func (r *Renderer) words(ws []string) string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = r.word(w)
	}
	return strings.Join(out, " ")
}

// pidOf is the process whose namespace an unnamed ns is known by.
func pidOf(ns *kernel.NS) (int, bool) {
	m := procNet().FindStringSubmatch(ns.Path)
	if m == nil {
		return 0, false
	}
	pid, err := strconv.Atoi(m[1])
	return pid, err == nil
}

// enter is the command prefix that runs a program inside ns: nothing for
// the host, `ip netns exec NAME` for a named namespace, nsenter for one
// known by a process or a path.
func (r *Renderer) enter(ns *kernel.NS) string {
	switch {
	case ns.Host:
		return ""
	case ns.Name != "":
		return "ip netns exec " + q(ns.Name) + " "
	}
	if pid, ok := pidOf(ns); ok {
		return "nsenter -t " + r.word(strconv.Itoa(pid)) + " -n "
	}
	return "nsenter --net=" + q(ns.Path) + " "
}

// ip is an iproute2 command inside ns: `ip -n NAME ...` for a named one.
func (r *Renderer) ip(ns *kernel.NS, args ...string) string { return r.nsTool("ip", ns, args...) }

// nsTool is a command of iproute2's (ip, tc) inside ns: `PROG -n NAME
// ...` for a named one.
func (r *Renderer) nsTool(prog string, ns *kernel.NS, args ...string) string {
	pre := prog + " "
	if !ns.Host && ns.Name != "" {
		pre = prog + " -n " + q(ns.Name) + " "
	} else if !ns.Host {
		pre = r.enter(ns) + prog + " "
	}
	return pre + r.words(args)
}

// Target names ns after `netns` in ip link: a name, a pid, or a path; the
// host is the namespace the shell runs in.
func (r *Renderer) Target(ns *kernel.NS) string {
	switch {
	case ns.Host:
		return "$$"
	case ns.Name != "":
		return q(ns.Name)
	}
	if pid, ok := pidOf(ns); ok {
		return r.word(strconv.Itoa(pid))
	}
	return q(ns.Path)
}

// NetnsAdd is `ip netns add NAME`.
func (r *Renderer) NetnsAdd(name string) string { return "ip netns add " + q(name) }

// NetnsDel is `ip netns del NAME`.
func (r *Renderer) NetnsDel(name string) string { return "ip netns del " + q(name) }

// VethAdd creates a pair with each end in its namespace; mac and
// peerMAC are the ends' MAC addresses when the script gave them ("":
// the kernel's pick).
func (r *Renderer) VethAdd(ns *kernel.NS, name string, peerNS *kernel.NS, peer string, mtu int, mac, peerMAC string) string {
	args := []string{"link", "add", name}
	if mtu > 0 {
		args = append(args, "mtu", strconv.Itoa(mtu))
	}
	if mac != "" {
		args = append(args, "address", mac)
	}
	args = append(args, "type", "veth", "peer", "name", peer)
	s := r.ip(ns, args...)
	if peerNS.Inode != ns.Inode {
		s += " netns " + r.Target(peerNS)
	}
	if mtu > 0 {
		s += " mtu " + strconv.Itoa(mtu)
	}
	if peerMAC != "" {
		s += " address " + q(peerMAC)
	}
	return s
}

// DeviceSpec is a vxlan, tap, vlan or macvlan as its command gives it
// (kernel.Device with the devices it sits on by name).
type DeviceSpec struct {
	Kind   string `json:"kind"`
	Link   string `json:"link,omitempty"`    // the device it sits on: a VXLAN's dev, a VLAN's or macvlan's parent
	LinkNS string `json:"link_ns,omitempty"` // where Link is, when not in the device's namespace
	VNI    *int   `json:"vni,omitempty"`
	Remote string `json:"remote,omitempty"`
	Group  string `json:"group,omitempty"`
	Local  string `json:"local,omitempty"`
	Port   int    `json:"dstport,omitempty"`
	VlanID int    `json:"id,omitempty"`
	Mode   string `json:"mode,omitempty"`
}

// DeviceAdd is the command that makes a vxlan, tap, vlan or macvlan in
// ns; linkNS is where its parent is (a macvlan made into another
// namespace than its parent's: `ip -n PARENT_NS link add ... netns NS`).
func (r *Renderer) DeviceAdd(ns, linkNS *kernel.NS, name string, d DeviceSpec, mtu int, mac string) string {
	if d.Kind == "tap" {
		s := r.ip(ns, "tuntap", "add", name, "mode", "tap")
		if mac != "" {
			s += " && " + r.LinkSet(ns, name, "address", mac)
		}
		if mtu > 0 {
			s += " && " + r.LinkSet(ns, name, "mtu", strconv.Itoa(mtu))
		}
		return s
	}
	at := ns
	args := []string{name}
	if d.Kind != "vxlan" {
		args = []string{"link", d.Link, "name", name}
		if linkNS != nil {
			at = linkNS
		}
	}
	if mtu > 0 {
		args = append(args, "mtu", strconv.Itoa(mtu))
	}
	if mac != "" {
		args = append(args, "address", mac)
	}
	s := r.ip(at, append([]string{"link", "add"}, args...)...)
	if at != ns {
		s += " netns " + r.Target(ns)
	}
	t := []string{"type", d.Kind}
	switch d.Kind {
	case "vxlan":
		t = append(t, "id", strconv.Itoa(*d.VNI))
		if d.Remote != "" {
			t = append(t, "remote", d.Remote)
		}
		if d.Group != "" {
			t = append(t, "group", d.Group)
		}
		if d.Local != "" {
			t = append(t, "local", d.Local)
		}
		if d.Link != "" {
			t = append(t, "dev", d.Link)
		}
		t = append(t, "dstport", strconv.Itoa(d.Port))
	case "vlan":
		t = append(t, "id", strconv.Itoa(d.VlanID))
	case "macvlan":
		t = append(t, "mode", d.Mode)
	}
	return s + " " + r.words(t)
}

// BridgeAdd is `ip link add NAME type bridge`.
func (r *Renderer) BridgeAdd(ns *kernel.NS, name string) string {
	return r.ip(ns, "link", "add", name, "type", "bridge")
}

// BridgeSTP is `ip link set NAME type bridge stp_state 0|1`.
func (r *Renderer) BridgeSTP(ns *kernel.NS, name string, on bool) string {
	v := "0"
	if on {
		v = "1"
	}
	return r.ip(ns, "link", "set", name, "type", "bridge", "stp_state", v)
}

// DummyAdd is `ip link add NAME type dummy`. kind is what the kernel
// makes (kernel.Reader.DummyKind): "ifb" on a kernel without the dummy
// driver, where nsscript makes an ifb stand-in; "" when not known, both,
// the first that works.
func (r *Renderer) DummyAdd(ns *kernel.NS, name, kind string) string {
	dummy := r.ip(ns, "link", "add", name, "type", "dummy")
	stand := r.ip(ns, "link", "add", name, "type", "ifb") + " && " + r.ip(ns, "link", "set", name, "alias", kernel.DummyAlias)
	switch kind {
	case "":
		return dummy + " 2>/dev/null ||\n    { " + stand + "; }  # no dummy driver: an ifb device, as nsscript does"
	case "ifb":
		return stand
	}
	return dummy
}

// LinkSet is `ip link set DEV ARGS...` (up, down, mtu M, address MAC,
// name NEW, master BR, nomaster).
func (r *Renderer) LinkSet(ns *kernel.NS, dev string, args ...string) string {
	return r.ip(ns, append([]string{"link", "set", dev}, args...)...)
}

// LinkDel is `ip link del DEV`.
func (r *Renderer) LinkDel(ns *kernel.NS, dev string) string { return r.ip(ns, "link", "del", dev) }

// Move is `ip link set DEV netns TARGET`.
func (r *Renderer) Move(ns *kernel.NS, dev string, to *kernel.NS) string {
	return r.ip(ns, "link", "set", dev) + " netns " + r.Target(to)
}

// Addr is `ip addr add|del CIDR dev DEV`.
func (r *Renderer) Addr(ns *kernel.NS, verb string, cidr *net.IPNet, dev string) string {
	return r.ip(ns, "addr", verb, cidr.String(), "dev", dev)
}

// RouteSpec is a route with its device by name.
type RouteSpec struct {
	Dst    string `json:"dst"` // "default" or a prefix
	Via    string `json:"via,omitempty"`
	Dev    string `json:"dev,omitempty"`
	Metric int    `json:"metric,omitempty"`
	Table  int    `json:"table,omitempty"`
}

// Spec describes a kernel route, naming its device with devName.
func Spec(ri kernel.RouteInfo, devName string) RouteSpec {
	s := RouteSpec{Dst: "default", Dev: devName, Metric: ri.Metric}
	if ri.Dst != nil {
		s.Dst = ri.Dst.String()
	}
	if ri.Via != nil {
		s.Via = ri.Via.String()
	}
	if ri.Table != 0 && ri.Table != kernel.MainTable {
		s.Table = ri.Table
	}
	return s
}

// Route is `ip route replace|del DST [via GW] [dev DEV] [metric M] [table T]`.
func (r *Renderer) Route(ns *kernel.NS, verb string, s RouteSpec) string {
	args := []string{"route", verb, s.Dst}
	if s.Dst == "default" && strings.Contains(s.Via, ":") {
		args = append([]string{"-6"}, args...)
	}
	if s.Via != "" {
		args = append(args, "via", s.Via)
	}
	if s.Dev != "" {
		args = append(args, "dev", s.Dev)
	}
	if s.Metric != 0 {
		args = append(args, "metric", strconv.Itoa(s.Metric))
	}
	if s.Table != 0 {
		args = append(args, "table", strconv.Itoa(s.Table))
	}
	return r.ip(ns, args...)
}

// Neigh is `ip neigh replace IP lladdr MAC dev DEV nud permanent` (mac
// given) or `ip neigh del IP dev DEV`.
func (r *Renderer) Neigh(ns *kernel.NS, ip, mac, dev string) string {
	if mac == "" {
		return r.ip(ns, "neigh", "del", ip, "dev", dev)
	}
	return r.ip(ns, "neigh", "replace", ip, "lladdr", mac, "dev", dev, "nud", "permanent")
}

// Sysctl is `sysctl -w KEY=VALUE` inside ns.
func (r *Renderer) Sysctl(ns *kernel.NS, key, value string) string {
	return r.enter(ns) + "sysctl -w " + q(key+"="+value)
}

// Iptables is `iptables -t TABLE FLAG CHAIN [POS] [RULE...]` inside ns
// (ip6tables for an IPv6 chain): -A, -I with pos, -D, -N, -X.
func (r *Renderer) Iptables(ns *kernel.NS, c kernel.Chain, flag string, pos int, spec []string) string {
	s := r.enter(ns) + c.Program() + " -t " + q(c.Table) + " " + flag + " " + q(c.Name)
	if pos > 0 {
		s += " " + strconv.Itoa(pos)
	}
	if len(spec) > 0 {
		s += " " + r.words(spec)
	}
	return s
}

// PolicyRule is `ip [-6] rule add|del SELECTOR table T priority P`.
func (r *Renderer) PolicyRule(ns *kernel.NS, verb string, pr kernel.PolicyRule) string {
	args := []string{"rule", verb}
	if pr.V6 {
		args = append([]string{"-6"}, args...)
	}
	return r.ip(ns, append(args, strings.Fields(pr.Selector())...)...)
}

// Etc writes /etc/netns/NAME/FILE.
func (r *Renderer) Etc(name, file string, content []byte) string {
	dir := kernel.EtcNetnsDir + "/" + name
	p := dir + "/" + file
	s := "mkdir -p " + q(dir) + "\n"
	text := string(content)
	marker := "EOF"
	for strings.Contains("\n"+text, "\n"+marker+"\n") {
		marker += "_"
	}
	if strings.HasSuffix(text, "\n") {
		return s + "cat > " + q(p) + " <<'" + marker + "'\n" + text + marker
	}
	return s + "printf '%s' " + q(text) + " > " + q(p)
}

// EtcRemove removes /etc/netns/NAME/FILE.
func (r *Renderer) EtcRemove(name, file string) string {
	return "rm -f " + q(kernel.EtcNetnsDir+"/"+name+"/"+file)
}

// Exec is a command started inside ns, as `ip netns exec` runs it: argv
// (a `/bin/sh -c` string shown as the shell line itself when it is one
// simple command), the variables the script added, its stdin.
func (r *Renderer) Exec(ns *kernel.NS, argv, env []string, stdin []byte) string {
	var cmd string
	if len(argv) == 3 && argv[0] == "/bin/sh" && argv[1] == "-c" && simpleShell(argv[2]) {
		cmd = r.words(strings.Fields(argv[2]))
	} else if len(argv) == 3 && argv[0] == "/bin/sh" && argv[1] == "-c" {
		cmd = "sh -c " + r.word(argv[2])
	} else {
		cmd = r.words(argv)
	}
	if len(env) > 0 {
		cmd = "env " + r.words(env) + " " + cmd
	}
	cmd = r.enter(ns) + cmd
	if stdin != nil {
		cmd = "printf '%s' " + q(string(stdin)) + " | " + cmd
	}
	return cmd
}

// simpleShell reports a shell line that is plain words: running it as
// words means the same as sh -c.
func simpleShell(s string) bool {
	if strings.TrimSpace(s) == "" {
		return false
	}
	for _, c := range s {
		if !(c == ' ' || strings.ContainsRune("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=,+@%^", c)) {
			return false
		}
	}
	return true
}

// notRun is why a plan leaves a command out: its program's name came
// from a command's output.
const notRun = "(not run: the program's name came from a command's output, which a plan does not know)"

// PlanExec is a command of a plan, run to its end: what it printed the
// script never sees (a plan knows no output), and its failure does not
// stop the plan. program says its name is known.
func (r *Renderer) PlanExec(ns *kernel.NS, argv, env []string, stdin []byte, program bool) string {
	cmd := r.Exec(ns, argv, env, stdin)
	if !program {
		return comment(cmd + "  " + notRun)
	}
	return cmd + " || true"
}

// PlanStart is a background command of a plan, its pid kept in $pidN
// (pidVar); from: the namespace it starts in, when the command makes a
// namespace of its own (unshare --net), which the plan waits for.
func (r *Renderer) PlanStart(ns *kernel.NS, argv, env []string, stdin []byte, pidVar string, unshare bool) string {
	cmd := r.Exec(ns, argv, env, stdin)
	if pidVar == "" {
		return comment(cmd + " &  " + notRun)
	}
	s := cmd + " >/dev/null 2>&1 &\n" + pidVar + "=$!"
	if unshare {
		from := "/proc/$$/ns/net"
		if !ns.Host {
			from = ns.Path
		}
		s += "\ni=0; while [ \"$(stat -L -c %i /proc/$" + pidVar + "/ns/net 2>/dev/null)\" = \"$(stat -L -c %i " + from + ")\" ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i+1)); done  # until unshare has made its namespace"
	}
	return s
}

// Signal is `kill -SIGNAL "$pidN"`; with no signal, `wait "$pidN"` for
// a process that ends on its own.
func (r *Renderer) Signal(pidVar, signal string) string {
	if signal == "" {
		return "wait \"$" + pidVar + "\" || true"
	}
	return "kill -" + signal + " \"$" + pidVar + "\" || true"
}

// Kill is `kill -SIG PID`, with a negative pid `kill -SIG -- -PGID`.
func (r *Renderer) Kill(pid int, sig syscall.Signal) string {
	if pid < 0 {
		return "kill -" + signalName(sig) + " -- " + strconv.Itoa(pid)
	}
	return "kill -" + signalName(sig) + " " + r.word(strconv.Itoa(pid))
}

// signalName is a signal's name as kill takes it (TERM), or its number.
func signalName(sig syscall.Signal) string {
	if n := unix.SignalName(sig); n != "" {
		return strings.TrimPrefix(n, "SIG")
	}
	return strconv.Itoa(int(sig))
}

// WaitGone waits until a device that the kernel deletes in the background
// is gone: the peer of a veth whose namespace ended with its last process.
func (r *Renderer) WaitGone(ns *kernel.NS, dev string) string {
	return "i=0; while " + r.ip(ns, "link", "show", "dev", dev) + " >/dev/null 2>&1 && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done  # the kernel deletes the namespace and the peers of its veths"
}

// comment renders text as shell comment lines.
func comment(text string) string {
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight("# "+l, " ")
	}
	return strings.Join(lines, "\n")
}

func boolWord(up bool) string {
	if up {
		return "up"
	}
	return "down"
}

func errComment(cmd string, err error) string {
	return fmt.Sprintf("%s  # failed: %v", cmd, err)
}
