package plan

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/nsscript/nsscript/builtins/kernel"
)

// Recorder writes down each change made through it as an Op: what it is,
// as data, and the equivalent command (rendered by R), to a Sink. It is
// the one place that knows which command each change stands for, and it
// serves two stacks:
//
//   - `nsscript plan`: over the Model, into an OpList;
//   - `--trace` and `nsscript down --trace`: right above the real kernel,
//     printing each change as it is made (a run's, its rollback's, a
//     prune's, down's).
//
// It reads through the kernel it wraps (the embedded Reader) and
// implements every method of kernel.Writer itself, so a change it does
// not show cannot compile through it. A call that changes nothing (a
// device set up that is up) shows nothing; a call that fails shows as a
// "# failed" comment in a trace, and not at all in a plan (the script
// gets the error). A plan shows every sysctl, route and /etc/netns write,
// also one the model holds already: a command the plan did not run
// (exec "ip route del ...") may have undone it for real.
type Recorder struct {
	kernel.Reader
	in    kernel.Kernel
	R     *Renderer
	Sink  Sink
	trace bool
	// netemNoted: the plan has said what a kernel without sch_netem does.
	netemNoted bool
}

var _ kernel.Kernel = (*Recorder)(nil)

// NewRecorder records the changes made through it to in; trace: as a
// trace (see Recorder), else as a plan.
func NewRecorder(in kernel.Kernel, r *Renderer, sink Sink, trace bool) *Recorder {
	return &Recorder{Reader: in, in: in, R: r, Sink: sink, trace: trace}
}

// NewTracer prints each change made through it to in, as it is made
// (`--trace`).
func NewTracer(in kernel.Kernel, w io.Writer) *Recorder {
	return NewRecorder(in, &Renderer{}, &Lines{W: w}, true)
}

// emit hands op to the sink: after the change, or with the error it got.
func (r *Recorder) emit(op Op, err error) {
	if errors.Is(err, kernel.ErrExist) {
		return // nothing changed: a re-run finds it there
	}
	if err != nil {
		if !r.trace {
			return
		}
		op.Cmd = errComment(op.Cmd, err)
	}
	r.Sink.Add(op)
}

// name is a device's name before a change, for its command.
func (r *Recorder) name(ns *kernel.NS, index int) string {
	if li, err := r.Reader.LinkByIndex(ns, index); err == nil {
		return li.Name
	}
	return "if" + strconv.Itoa(index)
}

// was reads a device before a change, to show only what changes.
func (r *Recorder) was(ns *kernel.NS, index int) *kernel.LinkInfo {
	li, err := r.Reader.LinkByIndex(ns, index)
	if err != nil {
		return &kernel.LinkInfo{Name: "if" + strconv.Itoa(index), Index: index, MTU: -1, MasterIndex: -1}
	}
	return li
}

func (r *Recorder) linkSet(ns *kernel.NS, dev string, args ...string) Op {
	return Op{Op: "link_set", NS: ns.Label(), Dev: dev, Cmd: r.R.LinkSet(ns, dev, args...)}
}

// --- namespaces ---

// CreateNamed is `ip netns add NAME` when it creates the namespace, with
// setup.NoIPv6 `ip netns exec NAME sysctl -w
// net.ipv6.conf.all.disable_ipv6=1`, and with setup.Lo `ip -n NAME link
// set lo up` (made before the name is).
func (r *Recorder) CreateNamed(name string, setup kernel.NetnsSetup, claim func(kernel.NetnsClaim) error) (*kernel.NS, bool, error) {
	ns, created, err := r.in.CreateNamed(name, setup, claim)
	if created || err != nil {
		r.emit(Op{Op: "netns_add", NS: name, Cmd: r.R.NetnsAdd(name)}, err)
	}
	if created && setup.NoIPv6 {
		r.emit(Op{Op: "sysctl", NS: ns.Label(), Key: kernel.DisableIPv6Key, Value: "1", Cmd: r.R.Sysctl(ns, kernel.DisableIPv6Key, "1")}, nil)
	}
	if created && setup.Lo {
		up := true
		op := r.linkSet(ns, "lo", "up")
		op.Up = &up
		r.emit(op, nil)
	}
	return ns, created, err
}

// ReleaseClaimed is `ip netns del NAME` when it releases the namespace.
func (r *Recorder) ReleaseClaimed(name string, c kernel.NetnsClaim) error {
	err := r.in.ReleaseClaimed(name, c)
	if !errors.Is(err, kernel.ErrNotOurs) {
		r.emit(Op{Op: "netns_del", NS: name, Cmd: r.R.NetnsDel(name)}, err)
	}
	return err
}

// DeleteNamed is what nsscript does: the veths first when no process
// keeps the namespace alive (kernel.VethsFirst), then `ip netns del`.
func (r *Recorder) DeleteNamed(ns *kernel.NS) error {
	first := kernel.VethsFirst(r.Reader, ns)
	err := r.in.DeleteNamed(ns)
	for _, l := range first {
		r.emit(Op{Op: "link_del", NS: ns.Label(), Dev: l.Name, Cmd: r.R.LinkDel(ns, l.Name)}, nil)
	}
	r.emit(Op{Op: "netns_del", NS: ns.Name, Cmd: r.R.NetnsDel(ns.Name)}, err)
	return err
}

// RemoveNetnsDir is not shown: /run/netns is where `ip netns add` keeps
// names, and no command of iproute2 removes it.
func (r *Recorder) RemoveNetnsDir() error { return r.in.RemoveNetnsDir() }

// WriteSysctl is `sysctl -w KEY=VALUE`, when the value changes.
func (r *Recorder) WriteSysctl(ns *kernel.NS, key, value string) (string, error) {
	old, err := r.in.WriteSysctl(ns, key, value)
	if old != value || err != nil || !r.trace {
		r.emit(Op{Op: "sysctl", NS: ns.Label(), Key: key, Value: value, Cmd: r.R.Sysctl(ns, key, value)}, err)
	}
	if err == nil && !r.trace && key == kernel.DisableIPv6Key && value == "0" && old != "0" {
		// The bridge ports stay without (see Model.sysctl); in a trace,
		// the journal's own writes show it.
		if links, lerr := r.in.Links(ns); lerr == nil {
			for _, li := range links {
				if pk := kernel.PortSysctl(li.Name); li.MasterIndex != 0 {
					r.emit(Op{Op: "sysctl", NS: ns.Label(), Key: pk, Value: "1", Cmd: r.R.Sysctl(ns, pk, "1")}, nil)
				}
			}
		}
	}
	return old, err
}

// --- devices ---

func (r *Recorder) AddVeth(ns *kernel.NS, name string, peerNS *kernel.NS, peer string, o kernel.LinkOpts) (int, int, error) {
	index, peerIndex, err := r.in.AddVeth(ns, name, peerNS, peer, o)
	mac, peerMAC := chosen(o.MAC, o.MACChosen), chosen(o.PeerMAC, o.PeerMACChosen)
	r.emit(Op{Op: "veth_add", NS: ns.Label(), Dev: name, Peer: peer, PeerNS: peerNS.Label(), MTU: o.MTU, MAC: mac,
		Cmd: r.R.VethAdd(ns, name, peerNS, peer, o.MTU, mac, peerMAC)}, err)
	if err == nil {
		// A bridge port's end loses IPv6 in the same call.
		for _, end := range []struct {
			ns   *kernel.NS
			name string
			on   bool
		}{{ns, name, o.PortOnly}, {peerNS, peer, o.PeerPortOnly}} {
			if end.on {
				key := kernel.PortSysctl(end.name)
				r.emit(Op{Op: "sysctl", NS: end.ns.Label(), Key: key, Value: "1", Cmd: r.R.Sysctl(end.ns, key, "1")}, nil)
			}
		}
	}
	return index, peerIndex, err
}

// chosen is a MAC the script chose, as a command shows it ("": none).
func chosen(mac net.HardwareAddr, byScript bool) string {
	if !byScript || mac == nil {
		return ""
	}
	return mac.String()
}

// AddDevice is `ip link add ... type vxlan|vlan|macvlan ...` or `ip
// tuntap add ... mode tap`.
func (r *Recorder) AddDevice(ns *kernel.NS, name string, d kernel.Device, o kernel.LinkOpts) error {
	spec := DeviceSpec{Kind: d.Kind}
	if d.Link != 0 {
		at := ns
		if d.LinkNS != nil {
			at = d.LinkNS
		}
		spec.Link = r.name(at, d.Link)
		if at != ns {
			spec.LinkNS = at.Label()
		}
	}
	switch d.Kind {
	case "vxlan":
		spec.VNI, spec.Port = &d.VNI, d.Port
		spec.Remote, spec.Group, spec.Local = ipWord(d.Remote), ipWord(d.Group), ipWord(d.Local)
	case "vlan":
		spec.VlanID = d.VlanID
	case "macvlan":
		spec.Mode = d.Mode
	}
	err := r.in.AddDevice(ns, name, d, o)
	mac := chosen(o.MAC, o.MACChosen)
	r.emit(Op{Op: d.Kind + "_add", NS: ns.Label(), Dev: name, MTU: o.MTU, MAC: mac, Device: &spec,
		Cmd: r.R.DeviceAdd(ns, d.LinkNS, name, spec, o.MTU, mac)}, err)
	return err
}

func ipWord(ip net.IP) string {
	if ip == nil {
		return ""
	}
	return ip.String()
}

func (r *Recorder) AddBridge(ns *kernel.NS, name string, o kernel.LinkOpts) error {
	err := r.in.AddBridge(ns, name, o)
	r.emit(Op{Op: "bridge_add", NS: ns.Label(), Dev: name, Cmd: r.R.BridgeAdd(ns, name)}, err)
	return err
}

// AddDummy shows what the kernel made: a dummy, or the ifb stand-in
// (both, the first that works, where that is not known: a plan).
func (r *Recorder) AddDummy(ns *kernel.NS, name string, o kernel.LinkOpts) error {
	err := r.in.AddDummy(ns, name, o)
	r.emit(Op{Op: "dummy_add", NS: ns.Label(), Dev: name, Cmd: r.R.DummyAdd(ns, name, r.Reader.DummyKind())}, err)
	return err
}

func (r *Recorder) SetBridgeSTP(ns *kernel.NS, index int, on bool) error {
	name := r.name(ns, index)
	err := r.in.SetBridgeSTP(ns, index, on)
	r.emit(Op{Op: "bridge_stp", NS: ns.Label(), Dev: name, On: &on, Cmd: r.R.BridgeSTP(ns, name, on)}, err)
	return err
}

// SetUp shows a change of state only.
func (r *Recorder) SetUp(ns *kernel.NS, index int, up bool) error {
	li, lerr := r.Reader.LinkByIndex(ns, index)
	name := r.name(ns, index)
	err := r.in.SetUp(ns, index, up)
	if lerr != nil || li.Up != up || err != nil {
		op := r.linkSet(ns, name, boolWord(up))
		op.Up = &up
		r.emit(op, err)
	}
	return err
}

func (r *Recorder) SetUpByName(ns *kernel.NS, name string) error {
	li, lerr := r.Reader.LinkByName(ns, name)
	err := r.in.SetUpByName(ns, name)
	if lerr != nil || !li.Up || err != nil {
		up := true
		op := r.linkSet(ns, name, "up")
		op.Up = &up
		r.emit(op, err)
	}
	return err
}

func (r *Recorder) SetMTU(ns *kernel.NS, index, mtu int) error {
	li := r.was(ns, index)
	err := r.in.SetMTU(ns, index, mtu)
	if li.MTU != mtu || err != nil {
		op := r.linkSet(ns, li.Name, "mtu", strconv.Itoa(mtu))
		op.MTU = mtu
		r.emit(op, err)
	}
	return err
}

// SetMAC shows a change of address only.
func (r *Recorder) SetMAC(ns *kernel.NS, index int, mac net.HardwareAddr) error {
	li := r.was(ns, index)
	err := r.in.SetMAC(ns, index, mac)
	if li.MAC != mac.String() || err != nil {
		op := r.linkSet(ns, li.Name, "address", mac.String())
		op.MAC = mac.String()
		r.emit(op, err)
	}
	return err
}

// SetName is `ip link set DEV name NEW`; a rename to the name the
// device has is nothing.
func (r *Recorder) SetName(ns *kernel.NS, index int, name string) error {
	old := r.name(ns, index)
	if old == name {
		return nil
	}
	err := r.in.SetName(ns, index, name)
	op := r.linkSet(ns, old, "name", name)
	op.Name = name
	r.emit(op, err)
	return err
}

func (r *Recorder) SetMaster(ns *kernel.NS, index, master int) error {
	li := r.was(ns, index)
	args, br := []string{"nomaster"}, ""
	if master != 0 {
		br = r.name(ns, master)
		args = []string{"master", br}
	}
	err := r.in.SetMaster(ns, index, master)
	if li.MasterIndex != master || err != nil {
		op := r.linkSet(ns, li.Name, args...)
		op.Master = br
		r.emit(op, err)
	}
	return err
}

// Move is `ip link set DEV netns TARGET`; a move to where the device is
// is nothing.
func (r *Recorder) Move(ns *kernel.NS, index int, target *kernel.NS) error {
	name := r.name(ns, index)
	err := r.in.Move(ns, index, target)
	if ns.Inode != target.Inode {
		r.emit(Op{Op: "link_move", NS: ns.Label(), Dev: name, To: target.Label(), Cmd: r.R.Move(ns, name, target)}, err)
	}
	return err
}

func (r *Recorder) DeleteLink(ns *kernel.NS, index int) error {
	name := r.name(ns, index)
	err := r.in.DeleteLink(ns, index)
	r.emit(Op{Op: "link_del", NS: ns.Label(), Dev: name, Cmd: r.R.LinkDel(ns, name)}, err)
	return err
}

// --- addresses and routes ---

// AddAddr shows an address the device did not have.
func (r *Recorder) AddAddr(ns *kernel.NS, index int, cidr *net.IPNet) error {
	name := r.name(ns, index)
	have, _ := r.Reader.Addrs(ns, index)
	err := r.in.AddAddr(ns, index, cidr)
	if !slices.Contains(have, cidr.String()) || err != nil {
		r.emit(Op{Op: "addr_add", NS: ns.Label(), Dev: name, Addr: cidr.String(), Cmd: r.R.Addr(ns, "add", cidr, name)}, err)
	}
	return err
}

func (r *Recorder) DelAddr(ns *kernel.NS, index int, cidr *net.IPNet) error {
	name := r.name(ns, index)
	err := r.in.DelAddr(ns, index, cidr)
	r.emit(Op{Op: "addr_del", NS: ns.Label(), Dev: name, Addr: cidr.String(), Cmd: r.R.Addr(ns, "del", cidr, name)}, err)
	return err
}

func (r *Recorder) spec(ns *kernel.NS, ri kernel.RouteInfo) RouteSpec {
	dev := ""
	if ri.DevIndex != 0 {
		dev = r.name(ns, ri.DevIndex)
	}
	return Spec(ri, dev)
}

// ReplaceRoute shows a route the namespace did not have as it is.
func (r *Recorder) ReplaceRoute(ns *kernel.NS, ri kernel.RouteInfo) error {
	s := r.spec(ns, ri)
	had := r.hasRoute(ns, ri)
	err := r.in.ReplaceRoute(ns, ri)
	if !had || err != nil || !r.trace {
		r.emit(Op{Op: "route_replace", NS: ns.Label(), Route: &s, Cmd: r.R.Route(ns, "replace", s)}, err)
	}
	return err
}

// hasRoute reports whether ns has ri already, as it is.
func (r *Recorder) hasRoute(ns *kernel.NS, ri kernel.RouteInfo) bool {
	rs, err := r.Reader.Routes(ns, ri.Table)
	if err != nil {
		return false
	}
	for _, o := range rs {
		if o.Dst.String() == ri.Dst.String() && o.Via.Equal(ri.Via) && o.Metric == ri.Metric && (ri.DevIndex == 0 || o.DevIndex == ri.DevIndex) {
			return true
		}
	}
	return false
}

func (r *Recorder) DeleteRoute(ns *kernel.NS, ri kernel.RouteInfo) error {
	s := r.spec(ns, ri)
	err := r.in.DeleteRoute(ns, ri)
	r.emit(Op{Op: "route_del", NS: ns.Label(), Route: &s, Cmd: r.R.Route(ns, "del", s)}, err)
	return err
}

// ReplaceNeigh shows a static entry; in a trace, only one the cache did
// not hold as it is.
func (r *Recorder) ReplaceNeigh(ns *kernel.NS, n kernel.NeighInfo) error {
	name := r.name(ns, n.DevIndex)
	had := r.hasNeigh(ns, n)
	err := r.in.ReplaceNeigh(ns, n)
	if !had || err != nil || !r.trace {
		r.emit(Op{Op: "neigh_replace", NS: ns.Label(), Dev: name, IP: n.IP.String(), MAC: n.MAC, Cmd: r.R.Neigh(ns, n.IP.String(), n.MAC, name)}, err)
	}
	return err
}

// hasNeigh reports whether ns has n as a static entry already.
func (r *Recorder) hasNeigh(ns *kernel.NS, n kernel.NeighInfo) bool {
	ents, err := r.Reader.Neighbors(ns)
	if err != nil {
		return false
	}
	for _, e := range ents {
		if e.DevIndex == n.DevIndex && e.IP.Equal(n.IP) && e.MAC == n.MAC && e.State == "PERMANENT" {
			return true
		}
	}
	return false
}

// DeleteNeigh shows the deletion of an entry that was there.
func (r *Recorder) DeleteNeigh(ns *kernel.NS, n kernel.NeighInfo) error {
	name := r.name(ns, n.DevIndex)
	err := r.in.DeleteNeigh(ns, n)
	if err == nil || !errors.Is(err, unix.ENOENT) {
		r.emit(Op{Op: "neigh_del", NS: ns.Label(), Dev: name, IP: n.IP.String(), Cmd: r.R.Neigh(ns, n.IP.String(), "", name)}, err)
	}
	return err
}

// --- iptables ---

func (r *Recorder) iptablesOp(ns *kernel.NS, op string, c kernel.Chain, flag string, pos int, spec []string) Op {
	o := Op{Op: op, NS: ns.Label(), Table: c.Table, Chain: c.Name, Rule: spec, Position: pos, Cmd: r.R.Iptables(ns, c, flag, pos, spec)}
	if c.V6 {
		o.Family = "ipv6"
	}
	return o
}

// AddRule is `iptables -A` (-I CHAIN POS with a position).
func (r *Recorder) AddRule(ns *kernel.NS, c kernel.Chain, pos int, spec []string) error {
	err := r.in.AddRule(ns, c, pos, spec)
	op, flag := "iptables_append", "-A"
	if pos > 0 {
		op, flag = "iptables_insert", "-I"
	}
	r.emit(r.iptablesOp(ns, op, c, flag, pos, spec), err)
	return err
}

// DeleteRule shows the deletion of a rule that was there.
func (r *Recorder) DeleteRule(ns *kernel.NS, c kernel.Chain, spec []string) error {
	had, herr := r.Reader.RuleExists(ns, c, spec)
	err := r.in.DeleteRule(ns, c, spec)
	if had || herr != nil || err != nil {
		r.emit(r.iptablesOp(ns, "iptables_delete", c, "-D", 0, spec), err)
	}
	return err
}

// NewChain is `iptables -N CHAIN`.
func (r *Recorder) NewChain(ns *kernel.NS, c kernel.Chain) error {
	err := r.in.NewChain(ns, c)
	r.emit(r.iptablesOp(ns, "iptables_new_chain", c, "-N", 0, nil), err)
	return err
}

// DeleteChain is `iptables -X CHAIN`.
func (r *Recorder) DeleteChain(ns *kernel.NS, c kernel.Chain) error {
	err := r.in.DeleteChain(ns, c)
	r.emit(r.iptablesOp(ns, "iptables_delete_chain", c, "-X", 0, nil), err)
	return err
}

// --- routing policy rules ---

func (r *Recorder) policyOp(ns *kernel.NS, op, verb string, pr kernel.PolicyRule) Op {
	o := Op{Op: op, NS: ns.Label(), PolicyRule: pr.Selector(), Cmd: r.R.PolicyRule(ns, verb, pr)}
	if pr.V6 {
		o.Family = "ipv6"
	}
	return o
}

// AddPolicyRule is `ip rule add ...`.
func (r *Recorder) AddPolicyRule(ns *kernel.NS, pr kernel.PolicyRule) error {
	err := r.in.AddPolicyRule(ns, pr)
	r.emit(r.policyOp(ns, "ip_rule_add", "add", pr), err)
	return err
}

// DeletePolicyRule is `ip rule del ...`.
func (r *Recorder) DeletePolicyRule(ns *kernel.NS, pr kernel.PolicyRule) error {
	err := r.in.DeletePolicyRule(ns, pr)
	r.emit(r.policyOp(ns, "ip_rule_del", "del", pr), err)
	return err
}

// --- /etc/netns ---

// WriteEtc shows a file written with other contents than it had.
func (r *Recorder) WriteEtc(name, file string, content []byte) (string, error) {
	st, _ := r.Reader.EtcState(name, file)
	p, err := r.in.WriteEtc(name, file, content)
	if !st.Had || !bytes.Equal(st.Old, content) || err != nil || !r.trace {
		r.emit(Op{Op: "etc", NS: name, File: kernel.EtcNetnsDir + "/" + name + "/" + file, Content: string(content), Cmd: r.R.Etc(name, file, content)}, err)
	}
	return p, err
}

// UndoEtc shows the file written back, or removed.
func (r *Recorder) UndoEtc(name, file, sum string, wrote []byte, had bool, old []byte) error {
	st, _ := r.Reader.EtcState(name, file)
	err := r.in.UndoEtc(name, file, sum, wrote, had, old)
	if !st.Had || errors.Is(err, kernel.ErrNotOurs) || had && bytes.Equal(st.Old, old) {
		return err // (nothing there, not ours, or as it was already)
	}
	cmd := r.R.EtcRemove(name, file)
	if had {
		cmd = r.R.Etc(name, file, old)
	}
	r.emit(Op{Op: "etc", NS: name, File: kernel.EtcNetnsDir + "/" + name + "/" + file, Content: string(old), Cmd: cmd}, err)
	return err
}

// RemoveEtcDir is not shown: it removes only an empty directory that
// nsscript's `mkdir -p` made.
func (r *Recorder) RemoveEtcDir(name string) error { return r.in.RemoveEtcDir(name) }

// --- processes ---

// Start shows the command a process runs (its pid once started).
func (r *Recorder) Start(ns *kernel.NS, argv, env []string, stdio kernel.Stdio) (*exec.Cmd, error) {
	cmd, err := r.in.Start(ns, argv, env, stdio)
	op := Op{Op: "exec", NS: ns.Label(), Argv: argv, Background: stdio.Info.Background, Cmd: r.R.Exec(ns, argv, nil, nil)}
	if stdio.Info.Background {
		// With what the script added to its environment, and its output
		// where nsscript sends it.
		op.Env = stdio.Info.Env
		op.Cmd = r.R.Exec(ns, argv, op.Env, nil)
		if stdio.Info.Stdout != "" && stdio.Info.Stderr != "" {
			op.Cmd += " >" + q(stdio.Info.Stdout) + " 2>" + q(stdio.Info.Stderr)
		}
		op.Cmd += " &"
	}
	if err == nil && cmd.Process != nil {
		op.Pid = cmd.Process.Pid
		op.Cmd += "  # pid " + strconv.Itoa(op.Pid)
	}
	r.emit(op, err)
	return cmd, err
}

// EndSandbox shows `kill -TERM PID` of the sandbox's init (which ends
// everything in it).
func (r *Recorder) EndSandbox(info kernel.SandboxInfo) error {
	err := r.in.EndSandbox(info)
	r.emit(Op{Op: "kill", Pid: info.Pid, Signal: "TERM", Cmd: r.R.Kill(info.Pid, syscall.SIGTERM)}, err)
	return err
}

// Signal shows `kill -SIG PID` (`kill -SIG -- -PGID` for a group).
func (r *Recorder) Signal(pid int, sig syscall.Signal) error {
	err := r.in.Signal(pid, sig)
	r.emit(Op{Op: "kill", Pid: pid, Signal: signalName(sig), Cmd: r.R.Kill(pid, sig)}, err)
	return err
}

// StopProcesses shows `kill PID...` (TERM; KILL follows for those left).
func (r *Recorder) StopProcesses(pids []int) {
	var shown []string
	for _, p := range pids {
		if p > 0 {
			shown = append(shown, strconv.Itoa(p))
		}
	}
	r.in.StopProcesses(pids)
	if len(shown) > 0 {
		r.emit(Op{Op: "kill", Text: strings.Join(shown, " "), Cmd: "kill " + strings.Join(shown, " ")}, nil)
	}
}

// MakeCgroup is not shown: the cgroup is nsscript's bookkeeping of the
// processes a run starts (each shows as it starts).
func (r *Recorder) MakeCgroup(rel string) (*os.File, error) { return r.in.MakeCgroup(rel) }

// EndCgroup is not shown, as MakeCgroup.
func (r *Recorder) EndCgroup(rel string) error { return r.in.EndCgroup(rel) }

// PacketConn shows the tcpdump that would capture the same (--trace): a
// capture's socket changes nothing in the kernel, but it runs as a
// background tcpdump would, until stop() or the run's end. In a plan,
// capture() asks the planner and never gets here.
func (r *Recorder) PacketConn(ns *kernel.NS, c kernel.CaptureSpec) (*kernel.PacketConn, error) {
	conn, err := r.Reader.PacketConn(ns, c)
	dev := "any"
	if c.Index != 0 {
		dev = r.name(ns, c.Index)
	}
	argv := c.Tcpdump(dev)
	r.emit(Op{Op: "capture", NS: ns.Label(), Dev: dev, File: c.File, Argv: argv, Background: true,
		Cmd: r.R.Exec(ns, argv, nil, nil) + " &  # until stop() or the run's end"}, err)
	return conn, err
}

// --- link shaping ---

// SetShaping is the tc commands of what changes; in a plan, the first
// netem command follows a comment on what a kernel without sch_netem
// does instead.
func (r *Recorder) SetShaping(ns *kernel.NS, index int, s *kernel.Shaping) error {
	cur, _ := r.Reader.Shaping(ns, index)
	li := r.was(ns, index)
	err := r.in.SetShaping(ns, index, s)
	if cur.Equal(s) && err == nil {
		return nil
	}
	cmd := r.R.Shape(ns, li.Name, li.MTU, cur, s, !r.trace)
	if !r.trace && s.Netem() && s.Tap == "" && !r.netemNoted {
		r.netemNoted = true
		cmd = comment(NetemNote) + "\n" + cmd
	}
	if cmd == "" {
		return err
	}
	r.emit(Op{Op: "shape", NS: ns.Label(), Dev: li.Name, Text: s.String(), Cmd: cmd}, err)
	return err
}
