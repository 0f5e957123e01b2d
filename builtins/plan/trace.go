package plan

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"slices"
	"strconv"
	"sync"

	"github.com/nsscript/nsscript/builtins"
	"github.com/nsscript/nsscript/builtins/kernel"
)

// Tracer is a builtins.Kernel that prints each change it passes on to the
// kernel as the equivalent command, once it is made (`--trace`). Placed
// right above the real kernel, it prints what really happens: a run's
// changes, its rollback, `nsscript down`'s undo.
type Tracer struct {
	builtins.Kernel
	R *Renderer

	mu sync.Mutex
	w  io.Writer
}

// NewTracer wraps inner, printing to w.
func NewTracer(inner builtins.Kernel, w io.Writer) *Tracer {
	return &Tracer{Kernel: inner, R: &Renderer{}, w: w}
}

func (t *Tracer) print(cmd string, err error) {
	if errors.Is(err, kernel.ErrExist) {
		return // nothing changed: a re-run finds it there
	}
	if err != nil {
		cmd = errComment(cmd, err)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	fmt.Fprintln(t.w, cmd)
}

func (t *Tracer) name(ns *kernel.NS, index int) string {
	if li, err := t.Kernel.LinkByIndex(ns, index); err == nil {
		return li.Name
	}
	return "if" + strconv.Itoa(index)
}

// CreateNamed prints `ip netns add` when it creates the namespace.
// With lo, so does `ip -n NAME link set lo up` (made before the name is).
func (t *Tracer) CreateNamed(name string, lo bool, claim func(kernel.NetnsClaim) error) (*kernel.NS, bool, error) {
	ns, created, err := t.Kernel.CreateNamed(name, lo, claim)
	if created || err != nil {
		t.print(t.R.NetnsAdd(name), err)
	}
	if created && lo {
		t.print(t.R.LinkSet(ns, "lo", "up"), nil)
	}
	return ns, created, err
}

// ReleaseClaimed prints `ip netns del` when it releases the namespace.
func (t *Tracer) ReleaseClaimed(name string, c kernel.NetnsClaim) error {
	err := t.Kernel.ReleaseClaimed(name, c)
	if !errors.Is(err, kernel.ErrNotOurs) {
		t.print(t.R.NetnsDel(name), err)
	}
	return err
}

// DeleteNamed prints what nsscript does: the veths first when no process
// keeps the namespace alive, then `ip netns del`.
func (t *Tracer) DeleteNamed(ns *kernel.NS) error {
	var cmds []string
	if pids, err := t.Kernel.Pids(ns); err == nil && len(pids) == 0 {
		if links, err := t.Kernel.Links(ns); err == nil {
			gone := map[int]bool{}
			for _, l := range links {
				if l.Kind == "veth" && !gone[l.Index] {
					cmds = append(cmds, t.R.LinkDel(ns, l.Name))
					if l.PeerNetnsID < 0 {
						gone[l.PeerIndex] = true
					}
				}
			}
		}
	}
	err := t.Kernel.DeleteNamed(ns)
	for _, c := range cmds {
		t.print(c, nil)
	}
	t.print(t.R.NetnsDel(ns.Name), err)
	return err
}

// Sysctl prints a write that changes the value.
func (t *Tracer) Sysctl(ns *kernel.NS, key string, value *string) (string, error) {
	old, err := t.Kernel.Sysctl(ns, key, value)
	if value != nil && (old != *value || err != nil) {
		t.print(t.R.Sysctl(ns, key, *value), err)
	}
	return old, err
}

func (t *Tracer) AddVeth(ns *kernel.NS, name string, peerNS *kernel.NS, peer string, o kernel.LinkOpts) (int, error) {
	index, err := t.Kernel.AddVeth(ns, name, peerNS, peer, o)
	t.print(t.R.VethAdd(ns, name, peerNS, peer, o.MTU), err)
	return index, err
}

func (t *Tracer) AddBridge(ns *kernel.NS, name string, o kernel.LinkOpts) error {
	err := t.Kernel.AddBridge(ns, name, o)
	t.print(t.R.BridgeAdd(ns, name), err)
	return err
}

func (t *Tracer) SetBridgeSTP(ns *kernel.NS, index int, on bool) error {
	name := t.name(ns, index)
	err := t.Kernel.SetBridgeSTP(ns, index, on)
	t.print(t.R.BridgeSTP(ns, name, on), err)
	return err
}

// AddDummy prints what the kernel got: a dummy, or the ifb stand-in.
func (t *Tracer) AddDummy(ns *kernel.NS, name string, o kernel.LinkOpts) error {
	err := t.Kernel.AddDummy(ns, name, o)
	ifb := false
	if d, ok := t.Kernel.(interface{ DummyIsIfb() bool }); ok {
		ifb = d.DummyIsIfb()
	}
	t.print(t.R.DummyAdd(ns, name, ifb, false), err)
	return err
}

// SetUp prints a change of state only.
func (t *Tracer) SetUp(ns *kernel.NS, index int, up bool) error {
	li, lerr := t.Kernel.LinkByIndex(ns, index)
	err := t.Kernel.SetUp(ns, index, up)
	if lerr != nil || li.Up != up || err != nil {
		t.print(t.R.LinkSet(ns, t.name(ns, index), boolWord(up)), err)
	}
	return err
}

func (t *Tracer) SetUpByName(ns *kernel.NS, name string) error {
	li, lerr := t.Kernel.LinkByName(ns, name)
	err := t.Kernel.SetUpByName(ns, name)
	if lerr != nil || !li.Up || err != nil {
		t.print(t.R.LinkSet(ns, name, "up"), err)
	}
	return err
}

// was reads a device before a change, to print only what changes.
func (t *Tracer) was(ns *kernel.NS, index int) *kernel.LinkInfo {
	li, err := t.Kernel.LinkByIndex(ns, index)
	if err != nil {
		return &kernel.LinkInfo{Name: "if" + strconv.Itoa(index), Index: index, MTU: -1, MasterIndex: -1}
	}
	return li
}

func (t *Tracer) SetMTU(ns *kernel.NS, index, mtu int) error {
	li := t.was(ns, index)
	err := t.Kernel.SetMTU(ns, index, mtu)
	if li.MTU != mtu || err != nil {
		t.print(t.R.LinkSet(ns, li.Name, "mtu", strconv.Itoa(mtu)), err)
	}
	return err
}

func (t *Tracer) SetMAC(ns *kernel.NS, index int, mac net.HardwareAddr) error {
	name := t.name(ns, index)
	err := t.Kernel.SetMAC(ns, index, mac)
	t.print(t.R.LinkSet(ns, name, "address", mac.String()), err)
	return err
}

func (t *Tracer) SetName(ns *kernel.NS, index int, name string) error {
	old := t.name(ns, index)
	err := t.Kernel.SetName(ns, index, name)
	t.print(t.R.LinkSet(ns, old, "name", name), err)
	return err
}

func (t *Tracer) SetMaster(ns *kernel.NS, index, master int) error {
	li := t.was(ns, index)
	args := []string{"nomaster"}
	if master != 0 {
		args = []string{"master", t.name(ns, master)}
	}
	err := t.Kernel.SetMaster(ns, index, master)
	if li.MasterIndex != master || err != nil {
		t.print(t.R.LinkSet(ns, li.Name, args...), err)
	}
	return err
}

func (t *Tracer) Move(ns *kernel.NS, index int, target *kernel.NS) error {
	name := t.name(ns, index)
	err := t.Kernel.Move(ns, index, target)
	t.print(t.R.Move(ns, name, target), err)
	return err
}

func (t *Tracer) DeleteLink(ns *kernel.NS, index int) error {
	name := t.name(ns, index)
	err := t.Kernel.DeleteLink(ns, index)
	t.print(t.R.LinkDel(ns, name), err)
	return err
}

func (t *Tracer) AddAddr(ns *kernel.NS, index int, cidr *net.IPNet) error {
	name := t.name(ns, index)
	have, _ := t.Kernel.Addrs(ns, index)
	err := t.Kernel.AddAddr(ns, index, cidr)
	if !slices.Contains(have, cidr.String()) || err != nil {
		t.print(t.R.Addr(ns, "add", cidr, name), err)
	}
	return err
}

func (t *Tracer) DelAddr(ns *kernel.NS, index int, cidr *net.IPNet) error {
	name := t.name(ns, index)
	err := t.Kernel.DelAddr(ns, index, cidr)
	t.print(t.R.Addr(ns, "del", cidr, name), err)
	return err
}

func (t *Tracer) route(ns *kernel.NS, r kernel.RouteInfo) RouteSpec {
	dev := ""
	if r.DevIndex != 0 {
		dev = t.name(ns, r.DevIndex)
	}
	return Spec(r, dev)
}

func (t *Tracer) ReplaceRoute(ns *kernel.NS, r kernel.RouteInfo) error {
	s := t.route(ns, r)
	had := t.hasRoute(ns, r)
	err := t.Kernel.ReplaceRoute(ns, r)
	if !had || err != nil {
		t.print(t.R.Route(ns, "replace", s), err)
	}
	return err
}

// hasRoute reports whether ns has r already, as it is.
func (t *Tracer) hasRoute(ns *kernel.NS, r kernel.RouteInfo) bool {
	rs, err := t.Kernel.Routes(ns, r.Table)
	if err != nil {
		return false
	}
	for _, o := range rs {
		if o.Dst.String() == r.Dst.String() && o.Via.Equal(r.Via) && o.Metric == r.Metric && (r.DevIndex == 0 || o.DevIndex == r.DevIndex) {
			return true
		}
	}
	return false
}

func (t *Tracer) DeleteRoute(ns *kernel.NS, r kernel.RouteInfo) error {
	s := t.route(ns, r)
	err := t.Kernel.DeleteRoute(ns, r)
	t.print(t.R.Route(ns, "del", s), err)
	return err
}

func (t *Tracer) AppendRule(ns *kernel.NS, table, chain string, spec []string) error {
	err := t.Kernel.AppendRule(ns, table, chain, spec)
	t.print(t.R.Iptables(ns, "-A", table, chain, spec), err)
	return err
}

func (t *Tracer) DeleteRule(ns *kernel.NS, table, chain string, spec []string) error {
	err := t.Kernel.DeleteRule(ns, table, chain, spec)
	t.print(t.R.Iptables(ns, "-D", table, chain, spec), err)
	return err
}

func (t *Tracer) WriteEtc(name, file string, content []byte) (string, error) {
	_, _, old, had, _ := kernel.EtcState(name, file)
	p, err := t.Kernel.WriteEtc(name, file, content)
	if !had || !bytes.Equal(old, content) || err != nil {
		t.print(t.R.Etc(name, file, content), err)
	}
	return p, err
}

// Start prints the command a process runs (its pid once started).
func (t *Tracer) Start(ns *kernel.NS, argv, env []string, stdio kernel.Stdio) (*exec.Cmd, error) {
	cmd, err := t.Kernel.Start(ns, argv, env, stdio)
	line := t.R.Exec(ns, argv, nil, nil)
	if err == nil && cmd.Process != nil {
		line += "  # pid " + strconv.Itoa(cmd.Process.Pid)
	}
	t.print(line, err)
	return cmd, err
}
