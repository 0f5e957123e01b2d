package builtins

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"

	"go.starlark.net/starlark"
	"golang.org/x/sys/unix"

	"github.com/nsscript/nsscript/builtins/kernel"
)

// Link is a network device. It follows its device: after move() or a
// rename through set(name=) it still refers to the same device.
type Link struct {
	env   *Env
	ns    *Namespace
	index int
	name  string
	kind  string // as last read; a device's kind never changes
}

var _ starlark.HasAttrs = (*Link)(nil)

func (l *Link) String() string {
	return fmt.Sprintf("<link %q in %s>", l.name, strings.TrimSuffix(strings.TrimPrefix(l.ns.String(), "<namespace "), ">"))
}
func (l *Link) Type() string          { return "Link" }
func (l *Link) Freeze()               {}
func (l *Link) Truth() starlark.Bool  { return true }
func (l *Link) Hash() (uint32, error) { return uint32(l.ns.ns.Inode)*31 + uint32(l.index), nil }

// Name is the device's current name; NS its namespace.
func (l *Link) Name() string   { return l.name }
func (l *Link) NS() *Namespace { return l.ns }
func (l *Link) Index() int     { return l.index }

var linkAttrs = []string{"addrs", "index", "kind", "mac", "made", "master", "mtu", "name", "ns", "peer", "shape", "up"}

// AttrNames: shape is both (a value that, called, is the method).
func (l *Link) AttrNames() []string {
	return slices.Compact(sortedNames(linkAttrs, linkMethods.names()))
}

// Info reads the device from the kernel.
func (l *Link) Info() (*kernel.LinkInfo, error) {
	if l.ns.deleted {
		return nil, fmt.Errorf("link %q: its namespace %s was deleted", l.name, l.ns.Name())
	}
	li, err := l.env.K.LinkByIndex(l.ns.ns, l.index)
	if errors.Is(err, kernel.ErrNoLink) {
		return nil, fmt.Errorf("link %q no longer exists in namespace %s", l.name, l.ns.Name())
	}
	if err != nil {
		return nil, err
	}
	l.name, l.kind = li.Name, li.Kind
	return li, nil
}

func (l *Link) Attr(name string) (starlark.Value, error) {
	if name == "shape" && l.env != nil {
		// The device's shaping, which called is the method (a Link of no
		// run, the zero value, has only the method).
		return l.shapeValue()
	}
	if m := linkMethods.get(l, name); m != nil {
		return m, nil
	}
	switch name {
	case "ns":
		return l.ns, nil
	case "index":
		return starlark.MakeInt(l.index), nil
	}
	if !slices.Contains(linkAttrs, name) {
		return nil, nil
	}
	li, err := l.Info()
	if err != nil {
		if name == "name" {
			// A device that just went (a veth whose peer's namespace
			// was deleted) still has the name it had.
			return starlark.String(l.name), nil
		}
		return nil, err
	}
	switch name {
	case "name":
		return starlark.String(li.Name), nil
	case "kind":
		return starlark.String(li.Kind), nil
	case "mac":
		return starlark.String(li.MAC), nil
	case "mtu":
		return starlark.MakeInt(li.MTU), nil
	case "up":
		return starlark.Bool(li.Up), nil
	case "master":
		if li.MasterIndex == 0 {
			return starlark.None, nil
		}
		m, err := l.env.K.LinkByIndex(l.ns.ns, li.MasterIndex)
		if err != nil {
			return nil, err
		}
		return l.env.wrapLink(l.ns, m.Index, m.Name), nil
	case "peer":
		p, err := l.peer(li)
		if p == nil || err != nil {
			return starlark.None, err
		}
		return p, nil
	case "made":
		// What delete() and down remove: a device found, not made, is
		// adopted and left.
		return starlark.Bool(l.env.Own.Mine(l.ns.ns, li.Name)), nil
	case "addrs":
		as, err := l.env.K.Addrs(l.ns.ns, l.index)
		if err != nil {
			return nil, err
		}
		return strList(as), nil
	}
	return nil, nil
}

// peer finds the other end of a veth, in whichever namespace this run
// knows (or /run/netns names) it is.
func (l *Link) peer(li *kernel.LinkInfo) (*Link, error) {
	if li.Kind != "veth" || li.PeerIndex == 0 {
		return nil, nil
	}
	find := func(n *Namespace) *Link {
		p, err := l.env.K.LinkByIndex(n.ns, li.PeerIndex)
		if err != nil {
			return nil
		}
		return l.env.wrapLink(n, p.Index, p.Name)
	}
	if li.PeerNetnsID < 0 {
		return find(l.ns), nil
	}
	cands := l.env.known()
	if names, err := l.env.K.ListNamed(); err == nil {
		for _, name := range names {
			if ns, err := l.env.K.OpenNamed(name); err == nil {
				cands = append(cands, l.env.wrapNS(ns))
			}
		}
	}
	for _, c := range cands {
		if c == l.ns || c.deleted {
			continue
		}
		if id, err := l.env.K.NetnsID(l.ns.ns, c.ns); err == nil && id == li.PeerNetnsID {
			return find(c), nil
		}
	}
	return nil, nil
}

func recvLink(b *starlark.Builtin) *Link { return b.Receiver().(*Link) }

// linkSetUp is the link.set_up method.
func linkSetUp(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	return setUp(b, args, kwargs, true)
}

// linkSetDown is the link.set_down method.
func linkSetDown(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	return setUp(b, args, kwargs, false)
}

func setUp(b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple, up bool) (starlark.Value, error) {
	l := recvLink(b)
	if err := unpack(b, args, kwargs); err != nil {
		return nil, err
	}
	li, err := l.Info()
	if err != nil {
		return nil, errorf(b.Name(), "%w", err)
	}
	if err := l.env.K.SetUp(l.ns.ns, l.index, up); err != nil {
		return nil, errorf(b.Name(), "%s: %w", l.name, err)
	}
	if !up {
		l.env.portsChanged()
	}
	if up {
		// Apply the carrier change now (see kernel.Sync), here and on a
		// veth's peer, which got its carrier back too.
		l.env.K.Sync(l.ns.ns, l.index)
		if li.MasterIndex != 0 {
			l.env.K.Sync(l.ns.ns, li.MasterIndex) // its bridge's carrier (see veth)
		}
		if li.Kind == "veth" {
			if p, _ := l.peer(li); p != nil {
				l.env.K.Sync(p.ns.ns, p.index)
				if pli, err := p.Info(); err == nil && pli.MasterIndex != 0 {
					l.env.K.Sync(p.ns.ns, pli.MasterIndex)
				}
			}
		}
	}
	return l, nil
}

// linkSet is the link.set method: it changes the device's MTU, MAC
// address or name, given by keyword only.
func linkSet(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	l := recvLink(b)
	var mtu MTU
	var mac MAC
	var name IfName
	if len(args) > 0 {
		return nil, errorf(b.Name(), "takes keyword arguments only: set(mtu=, mac=, name=)")
	}
	if err := unpack(b, args, kwargs, &mtu, &mac, &name); err != nil {
		return nil, err
	}
	li, err := l.Info()
	if err != nil {
		return nil, errorf(b.Name(), "%w", err)
	}
	if name != "" && string(name) != li.Name {
		if _, err := l.env.K.LinkByName(l.ns.ns, string(name)); err == nil {
			return nil, errorf(b.Name(), "cannot rename %q to %q: namespace %s already has a device named %q", li.Name, name, l.ns.Name(), name)
		}
	}
	if mtu != 0 {
		if err := l.env.K.SetMTU(l.ns.ns, l.index, int(mtu)); err != nil {
			return nil, errorf(b.Name(), "set mtu of %q to %d: %w", li.Name, mtu, err)
		}
	}
	if mac.HardwareAddr != nil {
		if err := l.env.K.SetMAC(l.ns.ns, l.index, mac.HardwareAddr); err != nil {
			return nil, errorf(b.Name(), "set mac of %q to %s: %w", li.Name, mac, err)
		}
	}
	if name != "" {
		// (Also to the name it has: a re-run declares the rename again.)
		if err := l.env.K.SetName(l.ns.ns, l.index, string(name)); err != nil {
			if errors.Is(err, errBusy) {
				err = fmt.Errorf("%w (set the device down first)", err)
			}
			return nil, errorf(b.Name(), "rename %q to %q: %w", li.Name, name, err)
		}
		l.env.relink(l, l.ns, l.index, string(name))
	}
	return l, nil
}

// ensureMAC gives a device that was there mac (nil: any). It asks also
// when the device has it, so that the journal knows the script still
// wants it (a re-run keeps it).
func (l *Link) ensureMAC(fn string, mac net.HardwareAddr) error {
	if mac == nil {
		return nil
	}
	if err := l.env.K.SetMAC(l.ns.ns, l.index, mac); err != nil {
		return errorf(fn, "set mac of %q to %s: %w", l.name, mac, err)
	}
	return nil
}

// linkAddr is the link.addr method: it adds an address unless present.
func linkAddr(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	l := recvLink(b)
	var c CIDR
	if err := unpack(b, args, kwargs, &c); err != nil {
		return nil, err
	}
	if err := l.ensureAddr(b.Name(), c.IPNet); err != nil {
		return nil, err
	}
	return l, nil
}

// ensureAddr adds c, which changes nothing when the device has it (`ip
// addr replace`); the journal learns that the script still wants it.
func (l *Link) ensureAddr(fn string, c *net.IPNet) error {
	if err := l.env.K.AddAddr(l.ns.ns, l.index, c); err != nil {
		if c.IP.To4() == nil && errors.Is(err, unix.EACCES) {
			if why := l.noIPv6(); why != "" {
				return errorf(fn, "add %s to %q in %s: %s", c, l.name, l.ns.Name(), why)
			}
		}
		return errorf(fn, "add %s to %q in %s: %w", c, l.name, l.ns.Name(), err)
	}
	return nil
}

// checkIPv6Addr refuses, before a device is made in n, an IPv6 address
// (of parameter param) that the kernel would refuse it: n makes its
// devices without IPv6 (namespace(ipv6=False)), or the device is made as
// a bridge port (port: veth(master=)), also without.
func (n *Namespace) checkIPv6Addr(fn, param string, c *net.IPNet, port bool) error {
	if c == nil || c.IP.To4() != nil {
		return nil
	}
	if port {
		return errorf(fn, "for parameter %s: %s is an IPv6 address, and nsscript makes a bridge port without IPv6 of its own: put the address on the bridge, or make the veth without master= and put it on the bridge with set_master() (a device put there so keeps its IPv6)", param, c)
	}
	const dflt = kernel.DefaultDisableIPv6Key
	if v, err := n.env.K.ReadSysctl(n.ns, dflt); err == nil && v == "1" {
		return errorf(fn, "for parameter %s: %s is an IPv6 address, and namespace %s makes its devices without IPv6 (namespace(..., ipv6 = False), or %s = 1): use IPv4 there, or leave ipv6=False out", param, c, n.Name(), dflt)
	}
	return nil
}

// noIPv6 says why the device has IPv6 off, and what to do, when it has
// ("" when it has not): the kernel refuses it an IPv6 address.
func (l *Link) noIPv6() string {
	k, ns := l.env.K, l.ns.ns
	if v, err := k.ReadSysctl(ns, kernel.PortSysctl(l.name)); err != nil || v != "1" {
		return ""
	}
	if v, err := k.ReadSysctl(ns, kernel.DisableIPv6Key); err == nil && v == "1" {
		return fmt.Sprintf("namespace %s has IPv6 off (namespace(..., ipv6 = False), or %s = 1), so its devices take no IPv6 address or route: use IPv4 there, or leave ipv6=False out", l.ns.Name(), kernel.DisableIPv6Key)
	}
	return fmt.Sprintf("%q has IPv6 off (%s = 1; nsscript makes a bridge port so, as veth(master=) does), so it takes no IPv6 address or route: put them on the bridge, or turn IPv6 on for the device first with ns.sysctl(%q, \"0\")", l.name, kernel.PortSysctl(l.name), kernel.PortSysctl(l.name))
}

// linkDelAddr is the link.del_addr method.
func linkDelAddr(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	l := recvLink(b)
	var c CIDR
	if err := unpack(b, args, kwargs, &c); err != nil {
		return nil, err
	}
	have, err := l.env.K.Addrs(l.ns.ns, l.index)
	if err != nil {
		return nil, errorf(b.Name(), "%w", err)
	}
	if !slices.Contains(have, c.String()) {
		return l, nil
	}
	if err := l.env.K.DelAddr(l.ns.ns, l.index, c.IPNet); err != nil {
		return nil, errorf(b.Name(), "delete %s from %q: %w", c, l.name, err)
	}
	return l, nil
}

// BridgeArg unpacks a bridge Link (or None).
type BridgeArg struct{ *Link }

func (a *BridgeArg) Unpack(v starlark.Value) error {
	if v == starlark.None {
		return nil
	}
	l, ok := v.(*Link)
	if !ok {
		if s, isStr := v.(starlark.String); isStr {
			return fmt.Errorf("want a bridge Link, got the string %s: pass bridge(%s) or link(%s)", s, s, s)
		}
		return fmt.Errorf("want a bridge Link, got %s", v.Type())
	}
	if l.kind != "bridge" || l.ns.deleted {
		// (Known as a bridge, it needs no read: if it is gone since, the
		// kernel refuses the port, and the builtin undoes what it made.)
		li, err := l.Info()
		if err != nil {
			return err
		}
		if li.Kind != "bridge" {
			return fmt.Errorf("%q is a %s, not a bridge: a master must be a bridge; create one with bridge(\"NAME\") and pass that", li.Name, li.Kind)
		}
	}
	a.Link = l
	return nil
}

// checkSameNS reports a bridge in another namespace than the port.
func (a BridgeArg) checkSameNS(fn, param, port string, ns *Namespace) error {
	if a.Link != nil && a.ns != ns {
		return errorf(fn, "for parameter %s: bridge %q is in namespace %s but %q is in %s: a port must be in its bridge's namespace", param, a.name, a.ns.Name(), port, ns.Name())
	}
	return nil
}

// setMaster attaches l to br (nil: detaches it); li is what l is now,
// or nil to read it.
func (l *Link) setMaster(fn string, li *kernel.LinkInfo, br *Link, always bool) error {
	if li == nil {
		var err error
		if li, err = l.Info(); err != nil {
			return errorf(fn, "%w", err)
		}
	}
	want := 0
	if br != nil {
		want = br.index
	}
	if li.MasterIndex == want && !always {
		return nil
	}
	if li.MasterIndex != 0 {
		l.env.portsChanged() // (a port that joins takes no carrier away)
	}
	if err := l.env.K.SetMaster(l.ns.ns, l.index, want); err != nil {
		if errors.Is(err, errFull) {
			return errorf(fn, "cannot add %q to bridge %q: the bridge is full; the kernel has 1024 port numbers per bridge (BR_MAX_PORTS) and number 0 is reserved, so a bridge holds at most 1023 ports: spread the ports over several bridges", l.name, br.name)
		}
		return errorf(fn, "set master of %q: %w", l.name, err)
	}
	if br != nil && li.Up {
		// The port's carrier may turn the bridge's on: apply both now
		// (see kernel.Sync, and veth). (A port that is down has none:
		// veth, which brings its new ports up next, applies it then.)
		l.env.K.Sync(l.ns.ns, l.index)
		l.env.K.Sync(br.ns.ns, br.index)
	}
	return nil
}

// linkSetMaster is the link.set_master method: it puts the device on a
// bridge, or with None takes it off.
func linkSetMaster(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	l := recvLink(b)
	var br BridgeArg
	if err := unpack(b, args, kwargs, &br); err != nil {
		return nil, err
	}
	if err := br.checkSameNS(b.Name(), "bridge", l.name, l.ns); err != nil {
		return nil, err
	}
	if err := l.setMaster(b.Name(), nil, br.Link, true); err != nil {
		return nil, err
	}
	return l, nil
}

// linkMove is the link.move method.
func linkMove(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	l := recvLink(b)
	var target NamespaceArg
	if err := unpack(b, args, kwargs, &target); err != nil {
		return nil, err
	}
	to, err := target.need(b.Name(), "ns")
	if err != nil {
		return nil, err
	}
	if err := l.moveTo(b.Name(), to); err != nil {
		return nil, err
	}
	return l, nil
}

func (l *Link) moveTo(fn string, to *Namespace) error {
	li, err := l.Info()
	if err != nil {
		return errorf(fn, "%w", err)
	}
	if to == l.ns {
		// Already there: no change (a re-run of a script that moves it).
		if err := l.env.K.Move(l.ns.ns, l.index, to.ns); err != nil {
			return errorf(fn, "%w", err)
		}
		return nil
	}
	if li.Kind == "loopback" {
		return errorf(fn, "the loopback device cannot leave its namespace")
	}
	if _, err := l.env.K.LinkByName(to.ns, li.Name); err == nil {
		return errorf(fn, "namespace %s already has a device named %q: rename one first with set(name=)", to.Name(), li.Name)
	}
	// The kernel takes a device's qdiscs away when it moves: its shaping
	// is made again where it goes.
	shaped, _ := l.env.K.Shaping(l.ns.ns, l.index)
	from := fwdKey{l.ns.ns.Inode, l.index}
	l.env.portsChanged()
	if err := l.env.K.Move(l.ns.ns, l.index, to.ns); err != nil {
		return errorf(fn, "move %q to namespace %s: %w", li.Name, to.Name(), err)
	}
	nli, err := l.env.K.LinkByName(to.ns, li.Name)
	if err != nil {
		return errorf(fn, "find %q in namespace %s after the move: %w", li.Name, to.Name(), err)
	}
	l.env.relink(l, to, nli.Index, nli.Name)
	l.env.useForwarder(from, nil)
	if shaped != nil {
		shaped.Tap, shaped.Stale = "", false
		if !shaped.Empty() {
			return l.setShape(fn, shaped)
		}
	}
	return nil
}

// linkDelete is the link.delete method (a veth's peer goes with it).
func linkDelete(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	l := recvLink(b)
	if err := unpack(b, args, kwargs); err != nil {
		return nil, err
	}
	li, err := l.env.K.LinkByIndex(l.ns.ns, l.index)
	if errors.Is(err, kernel.ErrNoLink) {
		return starlark.None, nil
	}
	if err != nil {
		return nil, errorf(b.Name(), "%w", err)
	}
	if li.Kind == "loopback" {
		return nil, errorf(b.Name(), "the loopback device cannot be deleted")
	}
	if !l.env.Own.Mine(l.ns.ns, li.Name) {
		return nil, errorf(b.Name(), "%q in namespace %s was not made by this lab: nsscript deletes only what it made; delete it yourself (ip link del %s) if you mean to", li.Name, l.ns.Name(), li.Name)
	}
	if err := l.env.K.DeleteLink(l.ns.ns, l.index); err != nil {
		return nil, errorf(b.Name(), "delete %q: %w", l.name, err)
	}
	l.env.forgetLink(l)
	return starlark.None, nil
}

// link is the link builtin: an existing device.
func (e *Env) link(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var name IfName
	var ns NamespaceArg
	if err := unpack(b, args, kwargs, &name, &ns); err != nil {
		return nil, err
	}
	l, _, err := ns.or(e.host).lookupLink(b.Name(), string(name))
	if err != nil {
		return nil, err
	}
	return l, nil
}

var (
	errFull = kernel.ErrFull
	errBusy = kernel.ErrBusy
)

// converge brings a device to the configuration a creating builtin asked
// for: mtu, bridge, address, and up (up is never forced down on a re-run).
// The caller syncs what came up (kernel.Sync) when all of it is up.
// li is what the device is now (nil: read it); fresh says this call made
// it, so it has no address yet.
// wantOf is what a creation call wants of its device.
func wantOf(mtu MTU, master *Link, addr *net.IPNet, up bool) *kernel.Want {
	w := &kernel.Want{MTU: int(mtu), Up: up}
	if master != nil {
		w.Master = master.name
	}
	if addr != nil {
		w.Addr = addr.String()
	}
	return w
}

// configure is converge for a creation call that asked for its device
// as name in n: the lab is told what the call wants, and says whether
// to configure the device now (see Ownership.Declare).
func (l *Link) configure(fn string, n *Namespace, name string, li *kernel.LinkInfo, fresh bool, mtu MTU, master *Link, addr *net.IPNet, up bool) error {
	now, err := l.env.Own.Declare(n.ns, name, l.ns.ns, l.index, fresh, *wantOf(mtu, master, addr, up))
	if err != nil {
		return errorf(fn, "%w", err)
	}
	if !now {
		return nil
	}
	return l.converge(fn, li, fresh, mtu, master, addr, up)
}

func (l *Link) converge(fn string, li *kernel.LinkInfo, fresh bool, mtu MTU, master *Link, addr *net.IPNet, up bool) error {
	if li == nil {
		var err error
		if li, err = l.Info(); err != nil {
			return errorf(fn, "%w", err)
		}
	}
	// What a fresh device already is needs no call; on a device that was
	// there, each setting is asked for even when it holds already, so that
	// the journal knows the script still wants it (a re-run keeps it).
	if mtu != 0 && (int(mtu) != li.MTU || !fresh) {
		if err := l.env.K.SetMTU(l.ns.ns, l.index, int(mtu)); err != nil {
			return errorf(fn, "set mtu of %q to %d: %w", l.name, mtu, err)
		}
	}
	if master != nil {
		if err := l.setMaster(fn, li, master, !fresh); err != nil {
			return err
		}
	}
	if addr != nil {
		if err := l.ensureAddr(fn, addr); err != nil {
			return err
		}
	}
	if up && (!li.Up || !fresh) {
		if err := l.env.K.SetUp(l.ns.ns, l.index, true); err != nil {
			return errorf(fn, "set %q up: %w", l.name, err)
		}
	}
	return nil
}
