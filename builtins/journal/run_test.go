package journal

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nsscript/nsscript/builtins/kernel"
)

// A run's changes, made through the journaling Kernel over the model the
// way the builtins make them, and then rolled back: the model is as it
// was, and no lab is left.

var (
	gw      = net.ParseIP("10.0.0.1").To4()
	natRule = []string{"-s", "10.0.0.0/24", "-j", "MASQUERADE", "-m", "comment", "--comment", "nsscript:lab"}
)

// buildLab makes, through j, what a script of two namespaces on a
// bridge makes: namespaces red and blue, bridge br0 with an address, a
// veth from it into each namespace with an address and a default route,
// a veth between the two, a dummy renamed and moved into blue,
// forwarding in red and on the host, a NAT rule, a rule in red, an
// /etc/netns file of each, and a route of the host's through red.
func buildLab(t *testing.T, j *Kernel) {
	t.Helper()
	host := j.Host()
	red, created, err := j.CreateNamed("red", kernel.NetnsSetup{Lo: true}, nil)
	must(t, err)
	blue, created2, err := j.CreateNamed("blue", kernel.NetnsSetup{Lo: true}, nil)
	must(t, err)
	if !created || !created2 {
		t.Fatal("the namespaces were there already")
	}
	must(t, j.AddBridge(host, "br0", kernel.LinkOpts{}))
	br := index(t, j, host, "br0")
	must(t, j.SetUp(host, br, true))
	must(t, j.AddAddr(host, br, cidr("10.0.0.1/24")))
	for i, ns := range []*kernel.NS{red, blue} {
		v, _, err := j.AddVeth(host, "v-"+ns.Name, ns, "eth0", kernel.LinkOpts{})
		must(t, err)
		must(t, j.SetMaster(host, v, br))
		must(t, j.SetUp(host, v, true))
		e := index(t, j, ns, "eth0")
		must(t, j.SetUp(ns, e, true))
		must(t, j.AddAddr(ns, e, cidr([]string{"10.0.0.2/24", "10.0.0.3/24"}[i])))
		must(t, j.ReplaceRoute(ns, kernel.RouteInfo{Via: gw}))
	}
	_, _, err = j.AddVeth(red, "to-blue", blue, "to-red", kernel.LinkOpts{})
	must(t, err)
	must(t, j.AddDummy(host, "d0", kernel.LinkOpts{}))
	d := index(t, j, host, "d0")
	must(t, j.SetName(host, d, "d1"))
	must(t, j.Move(host, d, blue))
	for _, ns := range []*kernel.NS{red, host} {
		if _, err := j.WriteSysctl(ns, "net.ipv4.ip_forward", "1"); err != nil {
			t.Fatal(err)
		}
	}
	must(t, j.AddRule(host, kernel.Chain{Table: "nat", Name: "POSTROUTING"}, 0, natRule))
	must(t, j.AddRule(red, kernel.Chain{Table: "filter", Name: "INPUT"}, 0, []string{"-p", "tcp", "--dport", "22", "-j", "ACCEPT", "-m", "comment", "--comment", "nsscript:lab"}))
	// ip6tables: a chain of the lab's, a rule in it, a rule at the head of
	// INPUT that jumps to it; an IPv6 masquerade.
	web := kernel.Chain{V6: true, Table: "filter", Name: "WEB"}
	must(t, j.NewChain(host, web))
	must(t, j.AddRule(host, web, 0, []string{"-p", "tcp", "--dport", "80", "-j", "ACCEPT", "-m", "comment", "--comment", "nsscript:lab"}))
	must(t, j.AddRule(host, kernel.Chain{V6: true, Table: "filter", Name: "INPUT"}, 1, []string{"-j", "WEB", "-m", "comment", "--comment", "nsscript:lab"}))
	must(t, j.AddRule(host, kernel.Chain{V6: true, Table: "nat", Name: "POSTROUTING"}, 0, []string{"-s", "fd00::/64", "-j", "MASQUERADE", "-m", "comment", "--comment", "nsscript:lab"}))
	// Policy routing: table 100, and a rule that sends 10.0.0.0/24's
	// packets there.
	must(t, j.ReplaceRoute(host, kernel.RouteInfo{Via: net.ParseIP("10.0.0.2").To4(), Table: 100}))
	must(t, j.AddPolicyRule(host, kernel.PolicyRule{Src: cidr("10.0.0.0/24"), Table: 100, Priority: 100}))
	for _, n := range []string{"red", "blue"} {
		if _, err := j.WriteEtc(n, "hosts", []byte("10.0.0.1 gw\n")); err != nil {
			t.Fatal(err)
		}
	}
	must(t, j.ReplaceRoute(host, kernel.RouteInfo{Dst: cidr("10.9.0.0/24"), Via: net.ParseIP("10.0.0.2").To4()}))
}

var labEtc = []string{"red/hosts", "blue/hosts"}

// openLab opens the lab "lab" over a new userWorld, in a directory of
// the test's; before is the world as observed (with the /etc/netns files
// etc) before the run.
func openLab(t *testing.T, etc ...string) (w *userWorld, j *Kernel, before []string) {
	t.Helper()
	inTempDir(t)
	w = newUserWorld(t)
	before = observe(t, w.k, etc...)
	j, err := Open(w.k, "lab")
	must(t, err)
	return w, j, before
}

// rollBack rolls back and closes the run j over w, which must then be as
// before (observed with the /etc/netns files etc), without a warning.
func rollBack(t *testing.T, j *Kernel, w *userWorld, before []string, etc ...string) {
	t.Helper()
	var warns warnings
	if errs := j.Rollback(warns.undoer(w.k)); len(errs) > 0 {
		t.Fatalf("rollback: %v", errs)
	}
	must(t, j.Close())
	sameState(t, "after the rollback", before, observe(t, w.k, etc...))
	if len(warns) > 0 {
		t.Errorf("warnings: %q", warns)
	}
}

// down takes the lab down: w must then be as before, and nothing is
// left of the lab.
func down(t *testing.T, w *userWorld, before []string, etc ...string) {
	t.Helper()
	var warns warnings
	if n, errs := Down(w.k, "lab", warns.add); n == 0 || len(errs) > 0 {
		t.Fatalf("down: %d changes, %v", n, errs)
	}
	sameState(t, "after down", before, observe(t, w.k, etc...))
	if len(warns) > 0 {
		t.Errorf("warnings: %q", warns)
	}
	if left := labLeft(t); len(left) > 0 {
		t.Errorf("left in the labs' directory: %v", left)
	}
	if labs, err := Labs(); err != nil || len(labs) > 0 {
		t.Errorf("labs after down: %v %v", labs, err)
	}
}

// TestRollback: everything a run made is undone, newest first, and the
// model is back as it was: the user's devices, addresses, routes and
// namespace untouched, the lab's gone, sysctls, rules and /etc/netns as
// before; the lab's directory and the shared sysctl's entry are gone.
func TestRollback(t *testing.T) {
	w, j, before := openLab(t, labEtc...)
	buildLab(t, j)
	if slices.Equal(observe(t, w.k, labEtc...), before) {
		t.Fatal("the run changed nothing")
	}
	rollBack(t, j, w, before, labEtc...)
	if left := labLeft(t); len(left) > 0 {
		t.Errorf("left in the labs' directory: %v", left)
	}
}

// foreignChanges changes the user's devices (see userWorld) through j:
// nic0's MTU (below 1280: IPv6 goes), MAC and bridge, an address added
// to the bridge and one deleted from nic0, the user's route replaced,
// the user's veth end set up, the bridge set down (its IPv6 addresses
// and routes go), nic0 set down, renamed wan0 and moved into the lab's
// namespace red.
func foreignChanges(t *testing.T, j *Kernel) {
	t.Helper()
	host := j.Host()
	red, _, err := j.CreateNamed("red", kernel.NetnsSetup{Lo: true}, nil)
	must(t, err)
	nic, br := index(t, j, host, "nic0"), index(t, j, host, "ubr")
	must(t, j.SetMTU(host, nic, 1200))
	must(t, j.SetMAC(host, nic, mac("02:00:00:00:aa:01")))
	must(t, j.SetMaster(host, nic, br))
	must(t, j.AddAddr(host, br, cidr("10.1.0.1/24")))
	must(t, j.DelAddr(host, nic, cidr("192.168.7.1/24")))
	must(t, j.ReplaceRoute(host, kernel.RouteInfo{Dst: cidr("10.60.0.0/16"), Via: net.ParseIP("10.1.0.254").To4()}))
	must(t, j.SetUp(host, index(t, j, host, "uv0"), true))
	must(t, j.SetUp(host, br, false))
	must(t, j.SetUp(host, nic, false))
	must(t, j.SetName(host, nic, "wan0"))
	must(t, j.Move(host, nic, red))
}

// TestForeignDevices: what a run changes of devices the lab did not make
// is journaled with the device's identity (index and MAC) and with what
// it was, in fields of their own; the rollback puts all of it back.
func TestForeignDevices(t *testing.T) {
	w, j, before := openLab(t)
	host := w.k.Host()
	nic0, err := w.k.LinkByName(host, "nic0")
	must(t, err)
	ubr, err := w.k.LinkByName(host, "ubr")
	must(t, err)
	foreignChanges(t, j)
	recs, err := j.Records()
	must(t, err)
	find := func(op, name string) Record {
		t.Helper()
		for _, r := range recs {
			if r.Op == op && r.Name == name {
				return r
			}
		}
		t.Fatalf("no %s record of %s in %+v", op, name, recs)
		return Record{}
	}
	isNIC := func(r Record) bool { return r.Index == nic0.Index && r.NS.Host }
	mtu, macRec, brMAC, master := find("mtu", "nic0"), find("mac", "nic0"), find("mac", "ubr"), find("master", "nic0")
	addr, del, route := find("addr", "ubr"), find("addr_del", "nic0"), find("route", "")
	up, down, rename, move := find("up", "uv0"), find("up", "ubr"), find("rename", "wan0"), find("move", "wan0")
	for _, c := range []struct {
		what string
		ok   bool
	}{
		{"mtu", mtu.OldMTU == 1500 && mtu.MAC == nic0.MAC && isNIC(mtu) && slices.Equal(mtu.Addrs, []string{"2001:db8:6::1/64"})},
		{"mac", macRec.OldMAC == nic0.MAC && isNIC(macRec)},
		{"bridge's mac", brMAC.OldMAC == ubr.MAC && brMAC.Index == ubr.Index},
		{"master", master.OldMaster == "" && master.MAC == "02:00:00:00:aa:01" && isNIC(master)},
		{"addr", addr.Addr == "10.1.0.1/24" && addr.Index == ubr.Index},
		{"addr_del", del.Addr == "192.168.7.1/24" && isNIC(del)},
		{"route", route.Prev != nil && route.Prev.Via == "192.168.5.254" && route.Route.Via == "10.1.0.254"},
		{"up of the veth", up.WasUp != nil && !*up.WasUp},
		{"down of the bridge", down.WasUp != nil && *down.WasUp && slices.Equal(down.Addrs, []string{"2001:db8:5::1/64"}) && len(down.Routes) == 1},
		{"rename", rename.OldName == "nic0" && isNIC(rename)},
		{"move", move.givesBack() && !*move.WasUp && move.OldMaster == "ubr" && slices.Equal(move.Addrs, []string{"192.168.6.1/24"})},
	} {
		if !c.ok {
			t.Errorf("%s: record not as expected: %+v", c.what, recs)
		}
	}
	b, err := os.ReadFile(filepath.Join(Dir, "lab", "journal"))
	must(t, err)
	if strings.Contains(string(b), `"old":`) {
		t.Errorf("the journal is written with the legacy field \"old\":\n%s", b)
	}

	rollBack(t, j, w, before)
}

// TestDeleteNamedGivesBack: a script that deletes the lab's namespace
// into which it moved a device of the user's gets the device back in
// the host first, with its addresses, bridge and up state.
func TestDeleteNamedGivesBack(t *testing.T) {
	w, j, before := openLab(t)
	host := w.k.Host()
	red, _, err := j.CreateNamed("red", kernel.NetnsSetup{Lo: true}, nil)
	must(t, err)
	must(t, j.SetMaster(host, index(t, j, host, "nic0"), index(t, j, host, "ubr")))
	must(t, j.Move(host, index(t, j, host, "nic0"), red))
	must(t, j.DeleteNamed(red))
	if _, err := w.k.OpenNamed("red"); err == nil {
		t.Error("red is still there")
	}
	nic, err := w.k.LinkByName(host, "nic0")
	if err != nil {
		t.Fatalf("nic0 did not come back: %v", err)
	}
	if as, _ := w.k.Addrs(host, nic.Index); !nic.Up || nic.MasterIndex != index(t, w.k, host, "ubr") || !slices.Contains(as, "192.168.6.1/24") {
		t.Errorf("nic0 came back without what it had: %+v %v", nic, as)
	}
	rollBack(t, j, w, before)
}

// TestUndoLeavesReplaced: what the user deleted and made again since
// the run (a veth of the lab's, now a dummy of the user's with another
// MAC; a bridge; the namespace; the device whose MTU the run changed;
// the /etc/netns file) is left alone, with a warning for each; undo
// changes nothing of it.
func TestUndoLeavesReplaced(t *testing.T) {
	w, j, _ := openLab(t)
	m, host := w.k, w.k.Host()
	_, _, err := j.CreateNamed("red", kernel.NetnsSetup{Lo: true}, nil)
	must(t, err)
	_, _, err = j.AddVeth(host, "lv0", host, "lv1", kernel.LinkOpts{})
	must(t, err)
	must(t, j.AddBridge(host, "lbr", kernel.LinkOpts{}))
	must(t, j.SetMTU(host, index(t, j, host, "nic0"), 1400))
	_, err = j.WriteEtc("red", "hosts", []byte("the lab's\n"))
	must(t, err)

	// The user replaces each of them.
	for _, name := range []string{"lv0", "lbr", "nic0"} {
		must(t, m.DeleteLink(host, index(t, m, host, name)))
	}
	must(t, m.AddDummy(host, "lv0", kernel.LinkOpts{MAC: mac("02:00:00:00:bb:01")}))
	must(t, m.AddBridge(host, "lbr", kernel.LinkOpts{MAC: mac("02:00:00:00:bb:02")}))
	must(t, m.AddDummy(host, "nic0", kernel.LinkOpts{MAC: mac("02:00:00:00:bb:03")}))
	must(t, m.SetMTU(host, index(t, m, host, "nic0"), 9000))
	red, err := m.OpenNamed("red")
	must(t, err)
	must(t, m.DeleteNamed(red))
	_, _, err = m.CreateNamed("red", kernel.NetnsSetup{Lo: true}, nil)
	must(t, err)
	_, err = m.WriteEtc("red", "hosts", []byte("the user's\n"))
	must(t, err)
	before := observe(t, m, "red/hosts")

	var warns warnings
	if errs := j.Rollback(warns.undoer(m)); len(errs) > 0 {
		t.Fatalf("rollback: %v", errs)
	}
	must(t, j.Close())
	sameState(t, "after the rollback", before, observe(t, m, "red/hosts"))
	for _, what := range []string{`"lv0"`, `"lbr"`, `"nic0"`, `namespace "red"`, "/etc/netns/red/hosts"} {
		if !warns.contains("left alone", what) {
			t.Errorf("no warning of %s left alone: %q", what, warns)
		}
	}
}

// TestCommitPrunes: a second run of the lab that declares less (it
// meets again the namespace red, the bridge and its address, red's veth
// and forwarding, and nothing else) undoes at its Commit what it no
// longer declares (blue with its veth and file, the NAT rule, the
// host's forwarding and route, the dummy), keeps the rest, and leaves
// one record per object. The lab's down then puts the model back as it
// was before the first run.
func TestCommitPrunes(t *testing.T) {
	w, j, before := openLab(t, labEtc...)
	m, host := w.k, w.k.Host()
	var warns warnings
	buildLab(t, j)
	if errs := j.Commit(warns.undoer(m)); len(errs) > 0 {
		t.Fatalf("first commit: %v", errs)
	}
	must(t, j.Close())
	vethMAC := func() string {
		li, err := m.LinkByName(host, "v-red")
		must(t, err)
		return li.MAC
	}
	first := vethMAC()

	// The second run, as the builtins make it.
	j, err := Open(m, "lab")
	must(t, err)
	red, created, err := j.CreateNamed("red", kernel.NetnsSetup{Lo: true}, nil)
	must(t, err)
	if created {
		t.Fatal("red was made again")
	}
	if err := j.AddBridge(host, "br0", kernel.LinkOpts{}); err != kernel.ErrExist {
		t.Fatalf("bridge made again: %v", err)
	}
	br := index(t, j, host, "br0")
	must(t, j.SetUp(host, br, true))
	must(t, j.AddAddr(host, br, cidr("10.0.0.1/24")))
	if _, _, err := j.AddVeth(host, "v-red", red, "eth0", kernel.LinkOpts{}); err != kernel.ErrExist {
		t.Fatalf("veth made again: %v", err)
	}
	if _, err := j.WriteSysctl(red, "net.ipv4.ip_forward", "1"); err != nil {
		t.Fatal(err)
	}
	if errs := j.Commit(warns.undoer(m)); len(errs) > 0 {
		t.Fatalf("second commit: %v", errs)
	}
	must(t, j.Close())

	if vethMAC() != first {
		t.Error("the veth red's was made again")
	}
	lines := observe(t, m, labEtc...)
	now := strings.Join(lines, "\n")
	for _, want := range []string{"named red user", "link host/br0 bridge", "10.0.0.1/24", "link red/eth0 veth", "sysctl red net.ipv4.ip_forward=1",
		"sysctl host net.ipv4.ip_forward=0", `etc blue/hosts: top false dir false had false ""`, "link red/eth0 veth"} {
		if !strings.Contains(now, want) {
			t.Errorf("after the second run, no %q in\n%s", want, now)
		}
	}
	for _, l := range lines {
		for _, gone := range []string{"link blue/", "link red/to-blue", "MASQUERADE", "route host 10.9.0.0/24"} {
			if strings.Contains(l, gone) {
				t.Errorf("after the second run, %s", l)
			}
		}
	}
	recs, _, err := readRecords(filepath.Join(Dir, "lab", "journal"))
	must(t, err)
	keys := map[string]bool{}
	for _, r := range recs {
		if keys[recKey(r)] {
			t.Errorf("two records of %s", recKey(r))
		}
		keys[recKey(r)] = true
		if r.NS != nil && r.NS.Name == "blue" || r.Op == "rule" || r.Op == "etc" || r.Op == "shared_sysctl" {
			t.Errorf("the journal still holds %+v", r)
		}
	}

	if len(warns) > 0 {
		t.Errorf("warnings: %q", warns)
	}
	down(t, w, before, labEtc...)
}

// TestDown: a lab that a run made and kept (Close) comes down whole,
// with the changes to the user's devices put back; a second down finds
// nothing to do.
func TestDown(t *testing.T) {
	w, j, before := openLab(t, labEtc...)
	buildLab(t, j)
	foreignChanges(t, j)
	must(t, j.Close())
	if labs, err := Labs(); err != nil || !slices.Equal(labs, []string{"lab"}) {
		t.Fatalf("labs: %v %v", labs, err)
	}
	down(t, w, before, labEtc...)
	if n, errs := Down(w.k, "lab", nil); n != 0 || len(errs) > 0 {
		t.Errorf("second down: %d changes, %v", n, errs)
	}
}

// TestLegacyLab: a lab that an older nsscript made and journaled (with "old")
// is re-run by this one, which reads what it meant: the re-run finds its
// namespace and bridge and the forwarding it set, prunes at Commit all
// it no longer declares (the bridge's MAC, the changes to the user's
// devices; a moved device returns with what it had), and rewrites the
// journal in the fields of now. Down then puts the model back as it was.
func TestLegacyLab(t *testing.T) {
	inTempDir(t)
	w := newUserWorld(t)
	m, host := w.k, w.k.Host()
	before := observe(t, m)

	// What the older nsscript did, and journaled before each change.
	var lines []string
	ref := func(ns *kernel.NS) string {
		if ns.Host {
			return fmt.Sprintf(`{"host":true,"inode":%d,"cookie":%d}`, ns.Inode, ns.Inode)
		}
		return fmt.Sprintf(`{"name":%q,"inode":%d,"cookie":%d}`, ns.Name, ns.Inode, ns.Inode)
	}
	dev := func(ns *kernel.NS, name string) (*kernel.LinkInfo, string) {
		li, err := m.LinkByName(ns, name)
		must(t, err)
		return li, fmt.Sprintf(`"ns":%s,"name":%q,"index":%d,"mac":%q`, ref(ns), name, li.Index, li.MAC)
	}
	journal := func(format string, args ...any) { lines = append(lines, fmt.Sprintf(format, args...)) }
	red, _, err := m.CreateNamed("red", kernel.NetnsSetup{Lo: true}, nil)
	must(t, err)
	journal(`{"op":"netns","ns":%s}`, ref(red))
	journal(`{"op":"link","kind":"bridge","ns":%s,"name":"br0","mac":"02:aa:00:00:00:01"}`, ref(host))
	must(t, m.AddBridge(host, "br0", kernel.LinkOpts{MAC: mac("02:aa:00:00:00:01")}))
	journal(`{"op":"ident","ns":%s,"name":"br0","mac":"02:aa:00:00:00:02","old":"02:aa:00:00:00:01"}`, ref(host))
	must(t, m.SetMAC(host, index(t, m, host, "br0"), mac("02:aa:00:00:00:02")))
	nic, id := dev(host, "nic0")
	journal(`{"op":"mtu",%s,"old":"1500"}`, id)
	must(t, m.SetMTU(host, nic.Index, 1400))
	journal(`{"op":"mac",%s,"old":%q}`, id, nic.MAC)
	must(t, m.SetMAC(host, nic.Index, mac("02:aa:00:00:00:03")))
	_, id = dev(host, "nic0")
	journal(`{"op":"master",%s}`, id)
	must(t, m.SetMaster(host, nic.Index, index(t, m, host, "ubr")))
	ubr, uid := dev(host, "ubr")
	journal(`{"op":"addr",%s,"old":"10.7.0.1/24"}`, uid)
	must(t, m.AddAddr(host, ubr.Index, cidr("10.7.0.1/24")))
	journal(`{"op":"addr_del",%s,"old":"192.168.7.1/24"}`, id)
	must(t, m.DelAddr(host, nic.Index, cidr("192.168.7.1/24")))
	uv, _ := dev(host, "uv0")
	journal(`{"op":"rename","ns":%s,"name":"uvx","old":"uv0","index":%d,"mac":%q}`, ref(host), uv.Index, uv.MAC)
	must(t, m.SetName(host, uv.Index, "uvx"))
	_, vid := dev(host, "uvx")
	journal(`{"op":"up",%s,"old":"0"}`, vid)
	must(t, m.SetUp(host, uv.Index, true))
	journal(`{"op":"sysctl","ns":%s,"name":"net.ipv4.ip_forward","old":"0"}`, ref(red))
	_, err = m.WriteSysctl(red, "net.ipv4.ip_forward", "1")
	must(t, err)
	as, err := m.Addrs(host, nic.Index)
	must(t, err)
	addrs, _ := json.Marshal(as)
	journal(`{"op":"move","ns":%s,"to":%s,"name":"nic0","index":%d,"mac":"02:aa:00:00:00:03","old":"1","master":"ubr","addrs":%s}`, ref(host), ref(red), nic.Index, addrs)
	must(t, m.Move(host, nic.Index, red))
	must(t, os.MkdirAll(filepath.Join(Dir, "lab"), 0o700))
	must(t, os.WriteFile(filepath.Join(Dir, "lab", "journal"), []byte(strings.Join(lines, "\n")+"\n"), 0o600))

	// The re-run: only the namespace, the bridge and red's forwarding.
	j, err := Open(m, "lab")
	must(t, err)
	if len(j.Problems) > 0 {
		t.Fatalf("the legacy journal was not read whole: %v", j.Problems)
	}
	if _, created, err := j.CreateNamed("red", kernel.NetnsSetup{Lo: true}, nil); err != nil || created {
		t.Fatalf("red: made again %v, %v", created, err)
	}
	if err := j.AddBridge(host, "br0", kernel.LinkOpts{}); err != kernel.ErrExist {
		t.Fatalf("bridge made again: %v", err)
	}
	if _, err := j.WriteSysctl(red, "net.ipv4.ip_forward", "1"); err != nil {
		t.Fatal(err)
	}
	var warns warnings
	if errs := j.Commit(warns.undoer(m)); len(errs) > 0 {
		t.Fatalf("commit: %v", errs)
	}
	must(t, j.Close())
	now := strings.Join(observe(t, m), "\n")
	for _, want := range []string{"named red user", "link host/br0 bridge mac 02:aa:00:00:00:01", "sysctl red net.ipv4.ip_forward=1",
		`link host/nic0 dummy mac 02:5e:00:00:00:02 mtu 1500 up true master "" addrs [192.168.6.1/24 192.168.7.1/24 2001:db8:6::1/64]`,
		`link host/uv0 veth mac 02:5e:00:00:00:03 mtu 1500 up false`, `link host/ubr bridge mac 02:5e:00:00:00:01 mtu 1500 up true master "" addrs [192.168.5.1/24 2001:db8:5::1/64]`} {
		if !strings.Contains(now, want) {
			t.Errorf("after the re-run, no %q in\n%s", want, now)
		}
	}
	b, err := os.ReadFile(filepath.Join(Dir, "lab", "journal"))
	must(t, err)
	if strings.Contains(string(b), `"old":`) || !strings.Contains(string(b), `"old_value":"0"`) {
		t.Errorf("the journal is not rewritten in the fields of now:\n%s", b)
	}

	if len(warns) > 0 {
		t.Errorf("warnings: %q", warns)
	}
	down(t, w, before)
}

// TestForgetDeleted: a run that makes a namespace (with a veth to the
// host, an address on each end and a route) and deletes it again, over
// and over, keeps no more in memory after fifty times than after one,
// and its Commit leaves no record of them; a namespace it started a
// process in is not forgotten (the process may keep it alive). Down
// then puts the model back as it was.
func TestForgetDeleted(t *testing.T) {
	w, j, before := openLab(t)
	host := w.k.Host()
	cycle := func(i int, proc bool) {
		t.Helper()
		ns, _, err := j.CreateNamed("cycle", kernel.NetnsSetup{Lo: true}, nil)
		must(t, err)
		eth, _, err := j.AddVeth(ns, "eth0", host, "cycle-br", kernel.LinkOpts{})
		must(t, err)
		must(t, j.AddAddr(ns, eth, cidr("10.7.0.2/24")))
		must(t, j.SetUp(ns, eth, true))
		br := index(t, j, host, "cycle-br")
		must(t, j.AddAddr(host, br, cidr("10.7.0.1/24")))
		must(t, j.SetUp(host, br, true))
		must(t, j.ReplaceRoute(ns, kernel.RouteInfo{Via: net.ParseIP("10.7.0.1").To4()}))
		if proc {
			// The model starts nothing, but the journal has
			// written down the run's first start in ns before.
			_, _ = j.Start(ns, []string{"sleep", "1"}, nil, kernel.Stdio{})
		}
		must(t, j.DeleteNamed(ns))
	}
	sizes := func() string {
		return fmt.Sprint(len(j.thisRun), len(j.thisKeys), len(j.declared), len(j.createdNS), len(j.madeNS), len(j.createdLinks),
			len(j.origins), len(j.where), len(j.ownedIdx), len(j.wants), len(j.wantIdx), len(j.thisMACs))
	}
	cycle(0, false)
	one := sizes()
	for i := 1; i < 50; i++ {
		cycle(i, false)
	}
	if fifty := sizes(); fifty != one {
		t.Errorf("after 50 namespaces made and deleted the run holds %s, after one %s", fifty, one)
	}
	n := len(j.thisRun)
	cycle(50, true)
	if len(j.thisRun) <= n {
		t.Errorf("a namespace with a process of the run's was forgotten (%d records, %d before)", len(j.thisRun), n)
	}
	var warns warnings
	if errs := j.Commit(warns.undoer(w.k)); len(errs) > 0 {
		t.Fatalf("commit: %v", errs)
	}
	must(t, j.Close())
	recs, _, err := readRecords(filepath.Join(Dir, "lab", "journal"))
	must(t, err)
	netns := 0
	for _, r := range recs {
		if r.Op == "netns" {
			netns++
		}
	}
	if netns != 1 {
		t.Errorf("the journal holds %d namespace records, want the one with a process:\n%v", netns, recs)
	}
	down(t, w, before)
}
