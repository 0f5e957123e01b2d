package builtins

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"go.starlark.net/starlark"

	"github.com/nsscript/nsscript/builtins/kernel"
	"github.com/nsscript/nsscript/builtins/names"
)

// Namespace is a network namespace: the host, a named one in /run/netns,
// or one attached by pid or path.
type Namespace struct {
	env     *Env
	ns      *kernel.NS
	deleted bool
}

var (
	_ starlark.HasAttrs = (*Namespace)(nil)
	_ starlark.Value    = (*Namespace)(nil)
)

func (n *Namespace) String() string {
	switch {
	case n.ns.Host:
		return "<namespace host>"
	case n.ns.Name != "":
		return fmt.Sprintf("<namespace %q>", n.ns.Name)
	}
	return fmt.Sprintf("<namespace %s>", n.ns.Path)
}
func (n *Namespace) Type() string          { return "Namespace" }
func (n *Namespace) Freeze()               {}
func (n *Namespace) Truth() starlark.Bool  { return true }
func (n *Namespace) Hash() (uint32, error) { return uint32(n.ns.Inode), nil }

// Name is how errors name the namespace: host, "red", or its path.
func (n *Namespace) Name() string { return n.ns.String() }

// NS is the kernel namespace behind the value.
func (n *Namespace) NS() *kernel.NS { return n.ns }

var namespaceAttrs = []string{"inode", "is_host", "links", "name", "neighbors", "path", "pids", "routes"}

func (n *Namespace) AttrNames() []string {
	return sortedNames(namespaceAttrs, namespaceMethods.names())
}

func (n *Namespace) alive(what string) error {
	if n.deleted {
		return fmt.Errorf("%s: namespace %s was deleted: its name is gone, and nsscript no longer holds it, so its devices, routes and commands are out of reach (while processes keep it alive, .pids still lists them; identify(pid) finds it again by a process)", what, n.Name())
	}
	return nil
}

func (n *Namespace) Attr(name string) (starlark.Value, error) {
	if m := namespaceMethods.get(n, name); m != nil {
		return m, nil
	}
	switch name {
	case "name":
		return noneOr(n.ns.Name), nil
	case "path":
		return starlark.String(n.ns.Path), nil
	case "inode":
		return starlark.MakeUint64(n.ns.Inode), nil
	case "is_host":
		return starlark.Bool(n.ns.Host), nil
	}
	if name == "pids" {
		// Also of a deleted namespace that processes keep alive, as
		// `ip netns pids` told before the delete.
		pids, err := n.env.K.Pids(n.ns)
		if err != nil {
			return nil, err
		}
		vs := make([]starlark.Value, len(pids))
		for i, p := range pids {
			vs[i] = starlark.MakeInt(p)
		}
		return starlark.NewList(vs), nil
	}
	if err := n.alive("namespace." + name); err != nil {
		return nil, err
	}
	switch name {
	case "links":
		links, err := n.Links()
		if err != nil {
			return nil, err
		}
		vs := make([]starlark.Value, len(links))
		for i, l := range links {
			vs[i] = l
		}
		return starlark.NewList(vs), nil
	case "routes":
		rs, err := n.routes(0)
		if err != nil {
			return nil, err
		}
		return starlark.NewList(rs), nil
	case "neighbors":
		return n.neighbors()
	}
	return nil, nil
}

// Links lists the namespace's devices in index order.
func (n *Namespace) Links() ([]*Link, error) {
	infos, err := n.env.K.Links(n.ns)
	if err != nil {
		return nil, err
	}
	out := make([]*Link, len(infos))
	for i, li := range infos {
		out[i] = n.env.wrapLink(n, li.Index, li.Name)
	}
	return out, nil
}

func (n *Namespace) neighbors() (starlark.Value, error) {
	ents, err := n.env.K.Neighbors(n.ns)
	if err != nil {
		return nil, err
	}
	var vs []starlark.Value
	for _, e := range ents {
		dev := ""
		if li, err := n.env.K.LinkByIndex(n.ns, e.DevIndex); err == nil {
			dev = li.Name
		}
		vs = append(vs, newRecord("neighbor",
			"ip", starlark.String(e.IP.String()), "mac", noneOr(e.MAC),
			"dev", starlark.String(dev), "state", starlark.String(e.State)))
	}
	return starlark.NewList(vs), nil
}

// lookupLink finds a device by name, with an error listing what exists.
func (n *Namespace) lookupLink(fn, name string) (*Link, *kernel.LinkInfo, error) {
	li, err := n.env.K.LinkByName(n.ns, name)
	if errors.Is(err, kernel.ErrNoLink) {
		// The lab's device that a run moved or renamed: where it is now.
		if at, atName := n.env.located(n, name); at != n || atName != name {
			if li, err := n.env.K.LinkByName(at.ns, atName); err == nil {
				return n.env.wrapLink(at, li.Index, li.Name), li, nil
			}
		}
	}
	if errors.Is(err, kernel.ErrNoLink) {
		var have []string
		if ls, err := n.env.K.Links(n.ns); err == nil {
			for _, l := range ls {
				have = append(have, l.Name)
			}
		}
		sandbox := ""
		if kernel.MachineLink(name) {
			// A real NIC, say: a sandbox has no device of the machine's.
			sandbox = fmt.Sprintf("; %s is a device of the machine's, and a sandbox has none of them: a script that uses it runs without --sandbox, as root", name)
		}
		return nil, nil, because(errorf(fn, "no device %q in namespace %s (it has: %s)%s", name, n.Name(), strings.Join(have, ", "), sandbox), err)
	}
	if err != nil {
		return nil, nil, errorf(fn, "%w", err)
	}
	return n.env.wrapLink(n, li.Index, li.Name), li, nil
}

// NamespaceArg unpacks a Namespace; it is used for every ns= parameter.
type NamespaceArg struct{ *Namespace }

func (a *NamespaceArg) Unpack(v starlark.Value) error {
	if v == starlark.None {
		return nil
	}
	n, ok := v.(*Namespace)
	if !ok {
		if s, isStr := v.(starlark.String); isStr {
			return fmt.Errorf("want a Namespace, got the string %s: pass namespace(%s) or a variable holding it", s, s)
		}
		return fmt.Errorf("want a Namespace, got %s", v.Type())
	}
	if n.deleted {
		return fmt.Errorf("namespace %s was deleted", n.Name())
	}
	a.Namespace = n
	return nil
}

// need returns the namespace of a parameter that has no default, where
// None is an error.
func (a NamespaceArg) need(fn, param string) (*Namespace, error) {
	if a.Namespace == nil {
		return nil, errorf(fn, "for parameter %s: want a Namespace, got None: pass host or a value from namespace(...)", param)
	}
	return a.Namespace, nil
}

// or returns the namespace, or def when the argument was not given.
func (a NamespaceArg) or(def *Namespace) *Namespace {
	if a.Namespace == nil {
		return def
	}
	return a.Namespace
}

// namespace is the namespace builtin: it creates or adopts
// /run/netns/NAME and brings its loopback up, or attaches to an existing
// namespace by pid or path, which is never deleted.
func (e *Env) namespace(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var name NSName
	var pid starlark.Value = starlark.None
	var path string
	lo := true
	var ipv6v starlark.Value = starlark.None
	timeout := Duration(5 * time.Second)
	if err := unpack(b, args, kwargs, &name, &lo, &ipv6v, &pid, &path, &timeout); err != nil {
		return nil, err
	}
	// ipv6 left out is True, but does not undo an ipv6=False of this run's
	// (a later namespace("h") that only names the namespace keeps it so).
	ipv6, explicit := true, false
	switch v := ipv6v.(type) {
	case starlark.NoneType:
	case starlark.Bool:
		ipv6, explicit = bool(v), true
	default:
		return nil, errorf(b.Name(), "for parameter ipv6: got %s, want bool", v.Type())
	}
	given := 0
	for _, g := range []bool{name != "", pid != starlark.None, path != ""} {
		if g {
			given++
		}
	}
	if given != 1 {
		return nil, errorf(b.Name(), "give exactly one of name, pid= or path= (e.g. namespace(\"red\"))")
	}
	if !ipv6 && name == "" {
		return nil, errorf(b.Name(), "ipv6=False is for a namespace by name, which nsscript makes or adopts; in one attached with pid= or path=, set %s with ns.sysctl(%q, \"1\") (down puts it back)", kernel.DisableIPv6Key, kernel.DisableIPv6Key)
	}
	var ns *kernel.NS
	var err error
	created := false
	switch {
	case name != "":
		ns, created, err = e.K.CreateNamed(string(name), kernel.NetnsSetup{Lo: lo, NoIPv6: !ipv6}, nil)
	case pid != starlark.None:
		p, perr := asInt(pid, "a process id")
		if perr != nil || p <= 0 {
			return nil, errorf(b.Name(), "for parameter pid: want a process id (a positive int), got %s", pid)
		}
		if e.Planner == nil {
			// A process just started with `unshare --net` is in its
			// parent's namespace until it has made its own.
			if err := e.waitOwnNetns(p, time.Duration(timeout)); err != nil {
				return nil, errorf(b.Name(), "%w", err)
			}
		}
		ns, err = e.K.OpenPath(fmt.Sprintf("/proc/%d/ns/net", p))
	default:
		ns, err = e.K.OpenPath(path)
	}
	if err != nil {
		return nil, errorf(b.Name(), "%w", err)
	}
	n := e.wrapNS(ns)
	n.deleted = false
	if created {
		e.setIPv6Off(ns, !ipv6)
	}
	if name != "" && !created {
		// (A namespace CreateNamed made is set up already.)
		if err := n.convergeIPv6(b.Name(), string(name), ipv6, explicit); err != nil {
			return nil, err
		}
		if lo {
			if err = e.K.SetUpByName(ns, "lo"); err != nil {
				return nil, errorf(b.Name(), "set lo up in %s: %w", n.Name(), err)
			}
		}
	}
	return n, nil
}

// convergeIPv6 makes a namespace that was there already what ipv6= asks
// (see namespace), unless ipv6= was left out (not explicit) of a call on
// a namespace this run has made or set without IPv6: with False, IPv6 off from now on, journaled (down
// puts it back in a namespace the lab did not make). With True, a
// namespace an earlier run of the lab made with ipv6=False gets its IPv6
// back, as a run from nothing would make it: every device's, except the
// bridge ports', which the lab makes without (the journal keeps them so:
// see journal.switchIPv6).
func (n *Namespace) convergeIPv6(fn, name string, ipv6, explicit bool) error {
	e := n.env
	if ipv6 && !explicit && e.ipv6Off(n.ns) {
		return nil // this run made it without IPv6: a call that only names it keeps it so
	}
	defer func() { e.setIPv6Off(n.ns, !ipv6) }()
	if !ipv6 {
		if n.ns.Host {
			return errorf(fn, "namespace %s is the host's own namespace (/run/netns/%s is bound to it): ipv6=False would turn IPv6 off for the whole machine; choose another name", name, name)
		}
		if _, err := e.K.WriteSysctl(n.ns, kernel.DisableIPv6Key, "1"); err != nil && !errors.Is(err, os.ErrNotExist) {
			return errorf(fn, "turn IPv6 off in %s: %w", n.Name(), err)
		}
		return nil
	}
	if !e.Own.Mine(n.ns, "") {
		return nil // someone else's: as it is
	}
	const dflt = kernel.DefaultDisableIPv6Key
	if v, err := e.K.ReadSysctl(n.ns, dflt); err != nil || v != "1" {
		return nil
	}
	if _, err := e.K.WriteSysctl(n.ns, kernel.DisableIPv6Key, "0"); err != nil {
		return errorf(fn, "turn IPv6 back on in %s: %w", n.Name(), err)
	}
	return nil
}

// ipv6Off reports whether this run made or set ns without IPv6 (see
// namespace), setIPv6Off notes it.
func (e *Env) ipv6Off(ns *kernel.NS) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.noIPv6[ns.Inode]
}

func (e *Env) setIPv6Off(ns *kernel.NS, off bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.noIPv6 == nil {
		e.noIPv6 = map[uint64]bool{}
	}
	e.noIPv6[ns.Inode] = off
}

// namespaces is the namespaces builtin: the named namespaces.
func (e *Env) namespaces(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := unpack(b, args, kwargs); err != nil {
		return nil, err
	}
	names, err := e.K.ListNamed()
	if err != nil {
		return nil, errorf(b.Name(), "%w", err)
	}
	var vs []starlark.Value
	for _, name := range names {
		ns, err := e.K.OpenNamed(name)
		if err != nil {
			continue // a leftover file, not a namespace
		}
		vs = append(vs, e.wrapNS(ns))
	}
	return starlark.NewList(vs), nil
}

// identify is the identify builtin: the namespace a process is in.
func (e *Env) identify(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var pid int
	if err := unpack(b, args, kwargs, &pid); err != nil {
		return nil, err
	}
	if pid <= 0 {
		return nil, errorf(b.Name(), "pid %d is not a process id", pid)
	}
	ns, err := e.K.Identify(pid)
	if err != nil {
		return nil, errorf(b.Name(), "%w", err)
	}
	return e.wrapNS(ns), nil
}

// nsLink is the namespace.link method: the link builtin in the namespace.
func nsLink(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	n := b.Receiver().(*Namespace)
	var name IfName
	if err := unpack(b, args, kwargs, &name); err != nil {
		return nil, err
	}
	if err := n.alive(b.Name()); err != nil {
		return nil, err
	}
	l, _, err := n.lookupLink(b.Name(), string(name))
	if err != nil {
		return nil, err
	}
	return l, nil
}

// nsSysctl is the namespace.sysctl method: it reads a sysctl in the
// namespace, or writes it and returns the old value.
func nsSysctl(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	n := b.Receiver().(*Namespace)
	var key string
	var value starlark.Value = starlark.None
	if err := unpack(b, args, kwargs, &key, &value); err != nil {
		return nil, err
	}
	if _, err := names.SysctlKey(key); err != nil {
		return nil, errorf(b.Name(), "for parameter key: %w", err)
	}
	if err := n.alive(b.Name()); err != nil {
		return nil, err
	}
	var val *string
	switch v := value.(type) {
	case starlark.NoneType:
	case starlark.String:
		s := string(v)
		val = &s
	case starlark.Int, starlark.Bool:
		s := v.String()
		if v == starlark.True {
			s = "1"
		} else if v == starlark.False {
			s = "0"
		}
		val = &s
	default:
		return nil, errorf(b.Name(), "for parameter value: want str or int, got %s", value.Type())
	}
	var old string
	var err error
	if val == nil {
		old, err = n.env.K.ReadSysctl(n.ns, key)
	} else {
		old, err = n.env.K.WriteSysctl(n.ns, key, *val)
	}
	if err != nil {
		return nil, errorf(b.Name(), "%s in namespace %s: %w", key, n.Name(), err)
	}
	return starlark.String(old), nil
}

// nsDelete is the namespace.delete method: it removes a named namespace.
func nsDelete(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	n := b.Receiver().(*Namespace)
	if err := unpack(b, args, kwargs); err != nil {
		return nil, err
	}
	if n.deleted {
		return starlark.None, nil
	}
	if n.ns.Host || n.ns.Name == "" {
		return nil, errorf(b.Name(), "namespace %s has no name in /run/netns: nsscript only deletes named namespaces", n.Name())
	}
	if !n.env.Own.Mine(n.ns, "") {
		return nil, errorf(b.Name(), "namespace %s was not made by this lab: nsscript deletes only what it made; delete it yourself (ip netns del %s) if you mean to", n.Name(), n.ns.Name)
	}
	n.env.forgetLinksIn(n)
	n.env.releaseCaptures(n)
	if err := n.env.K.DeleteNamed(n.ns); err != nil {
		return nil, errorf(b.Name(), "%w", err)
	}
	n.env.forgetNS(n)
	n.deleted = true
	return starlark.None, nil
}

func (e *Env) forgetLinksIn(n *Namespace) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.carried = nil // (see firstCarrier)
	for k := range e.links {
		if k.ns == n.ns.Inode {
			delete(e.links, k)
		}
	}
}

// forwarding is the forwarding builtin: it sets net.ipv4.ip_forward (or
// net.ipv6.conf.all.forwarding) in a namespace.
func (e *Env) forwarding(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var ns NamespaceArg
	on, family := true, "ipv4"
	if err := unpack(b, args, kwargs, &ns, &on, &family); err != nil {
		return nil, err
	}
	v6, err := familyArg(family)
	if err != nil {
		return nil, errorf(b.Name(), "%w", err)
	}
	n := ns.or(e.host)
	key := "net.ipv4.ip_forward"
	if v6 {
		key = "net.ipv6.conf.all.forwarding"
	}
	v := "0"
	if on {
		v = "1"
	}
	if _, err := e.K.WriteSysctl(n.ns, key, v); err != nil {
		return nil, errorf(b.Name(), "set %s in %s: %w", key, n.Name(), err)
	}
	return starlark.None, nil
}

// lookupLinkQuiet finds a device by name with a plain error.
func (n *Namespace) lookupLinkQuiet(name string) (*Link, error) {
	l, _, err := n.lookupLinkInfo(name)
	return l, err
}

// lookupLinkInfo is lookupLinkQuiet that also returns what it read.
func (n *Namespace) lookupLinkInfo(name string) (*Link, *kernel.LinkInfo, error) {
	li, err := n.env.K.LinkByName(n.ns, name)
	if err != nil {
		return nil, nil, fmt.Errorf("device %q in namespace %s: %w", name, n.Name(), err)
	}
	return n.env.wrapLink(n, li.Index, li.Name), li, nil
}

func quote(s string) string { return fmt.Sprintf("%q", s) }

// nsEtc is the namespace.etc method: it writes /etc/netns/NAME/FILE,
// which processes that exec starts in the namespace see as /etc/FILE
// (hosts, resolv.conf, ...).
func nsEtc(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	n := b.Receiver().(*Namespace)
	var file string
	var content starlark.Value
	if err := unpack(b, args, kwargs, &file, &content); err != nil {
		return nil, err
	}
	if err := names.EtcFile(file); err != nil {
		return nil, errorf(b.Name(), "for parameter file: %w", err)
	}
	var data []byte
	switch c := content.(type) {
	case starlark.String:
		data = []byte(c)
	case starlark.Bytes:
		data = []byte(c)
	default:
		return nil, errorf(b.Name(), "for parameter content: want str or bytes, got %s", content.Type())
	}
	if err := n.alive(b.Name()); err != nil {
		return nil, err
	}
	if n.ns.Host || n.ns.Name == "" {
		return nil, errorf(b.Name(), "namespace %s has no name, and /etc/netns files belong to named namespaces: use namespace(\"NAME\")", n.Name())
	}
	p, err := n.env.K.WriteEtc(n.ns.Name, file, data)
	if err != nil {
		return nil, errorf(b.Name(), "%w", err)
	}
	return starlark.String(p), nil
}

// waitOwnNetns waits until process pid is in another network namespace
// than its parent, for at most timeout.
func (e *Env) waitOwnNetns(pid int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		own, parent, err := kernel.NetnsOfParent(pid)
		if err != nil || parent == 0 || own != parent {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("process %d is still in its parent's network namespace after %s: if it makes one of its own (unshare --net), it has not yet (give it longer with timeout=); for the namespace it shares with its parent, use identify(%d)", pid, timeout, pid)
		}
		select {
		case <-e.Ctx.Done():
			return errors.New(e.interrupted())
		case <-time.After(5 * time.Millisecond):
		}
	}
}
