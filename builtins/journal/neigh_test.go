package journal

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nsscript/nsscript/builtins/kernel"
)

// The user's static neighbours on nic0 (a device of the user's): one the
// lab replaces, one it deletes.
var userNeighs = []kernel.NeighInfo{
	{IP: net.ParseIP("192.168.6.9"), MAC: "02:00:00:00:06:09"},
	{IP: net.ParseIP("192.168.6.8"), MAC: "02:00:00:00:06:08"},
}

// neighWorld is a userWorld with the user's static neighbours, and the
// lab opened over it.
func neighWorld(t *testing.T) (w *userWorld, j *Kernel, before []string) {
	t.Helper()
	inTempDir(t)
	w = newUserWorld(t)
	nic := index(t, w.k, w.k.Host(), "nic0")
	for _, n := range userNeighs {
		n.DevIndex = nic
		must(t, w.k.ReplaceNeigh(w.k.Host(), n))
	}
	before = observe(t, w.k)
	j, err := Open(w.k, "lab")
	must(t, err)
	return w, j, before
}

// buildDevices makes, through j, the new kinds of device and static
// neighbours: in a namespace of the lab's, a VXLAN over a veth from the
// host, a static entry on that veth and a macvlan of the user's nic0;
// in the host, a tap, a static entry on the user's bridge, the user's
// entry on nic0 replaced and the other deleted.
func buildDevices(t *testing.T, j *Kernel) {
	t.Helper()
	host := j.Host()
	m1, _, err := j.CreateNamed("m1", kernel.NetnsSetup{Lo: true}, nil)
	must(t, err)
	_, _, err = j.AddVeth(host, "u0", m1, "eth0", kernel.LinkOpts{})
	must(t, err)
	eth0 := index(t, j, m1, "eth0")
	must(t, j.AddDevice(m1, "vx0", kernel.Device{Kind: "vxlan", VNI: 42, Remote: net.ParseIP("192.0.2.2"), Link: eth0, Port: 4789}, kernel.LinkOpts{}))
	must(t, j.ReplaceNeigh(m1, kernel.NeighInfo{IP: net.ParseIP("192.0.2.2"), MAC: "02:00:00:00:02:02", DevIndex: eth0}))
	nic := index(t, j, host, "nic0")
	must(t, j.AddDevice(m1, "mv0", kernel.Device{Kind: "macvlan", Mode: "bridge", Link: nic, LinkNS: host}, kernel.LinkOpts{}))
	must(t, j.AddDevice(host, "tap0", kernel.Device{Kind: "tap"}, kernel.LinkOpts{}))
	ubr := index(t, j, host, "ubr")
	must(t, j.ReplaceNeigh(host, kernel.NeighInfo{IP: net.ParseIP("192.168.5.7"), MAC: "02:00:00:00:05:07", DevIndex: ubr}))
	must(t, j.ReplaceNeigh(host, kernel.NeighInfo{IP: userNeighs[0].IP, MAC: "02:00:00:00:99:09", DevIndex: nic}))
	must(t, j.DeleteNeigh(host, kernel.NeighInfo{IP: userNeighs[1].IP, DevIndex: nic}))
}

// TestDevicesRollback: a run's devices of the new kinds and its static
// neighbours go, and the user's static entries it replaced or deleted
// come back, by rollback and by down.
func TestDevicesRollback(t *testing.T) {
	w, j, before := neighWorld(t)
	buildDevices(t, j)
	now := strings.Join(observe(t, w.k), "\n")
	for _, want := range []string{"link m1/vx0 vxlan", "link m1/mv0 macvlan", "link host/tap0 tap",
		"neigh m1 192.0.2.2 lladdr 02:00:00:00:02:02 dev eth0 PERMANENT", "neigh host 192.168.5.7 lladdr 02:00:00:00:05:07 dev ubr",
		"neigh host 192.168.6.9 lladdr 02:00:00:00:99:09 dev nic0"} {
		if !strings.Contains(now, want) {
			t.Errorf("after the run, no %q in\n%s", want, now)
		}
	}
	if strings.Contains(now, "192.168.6.8") {
		t.Errorf("the user's entry was not deleted:\n%s", now)
	}
	rollBack(t, j, w, before)

	j, err := Open(w.k, "lab")
	must(t, err)
	buildDevices(t, j)
	must(t, j.Close())
	down(t, w, before)
}

// TestNeighRerun: a re-run that makes the same static entries writes no
// record and changes nothing; one that no longer makes them removes the
// lab's and puts back the user's it replaced or deleted; down then has
// nothing of them to undo.
func TestNeighRerun(t *testing.T) {
	w, j, before := neighWorld(t)
	m := w.k
	var warns warnings
	buildDevices(t, j)
	if errs := j.Commit(warns.undoer(m)); len(errs) > 0 {
		t.Fatal(errs)
	}
	must(t, j.Close())
	built := observe(t, m)
	journal := filepath.Join(Dir, "lab", "journal")
	size := func() int64 {
		st, err := os.Stat(journal)
		must(t, err)
		return st.Size()
	}
	first := size()

	// The same run again: the devices are found (ErrExist), the entries
	// are as asked.
	j, err := Open(m, "lab")
	must(t, err)
	host := j.Host()
	m1, created, err := j.CreateNamed("m1", kernel.NetnsSetup{Lo: true}, nil)
	must(t, err)
	if created {
		t.Fatal("m1 made again")
	}
	if _, _, err := j.AddVeth(host, "u0", m1, "eth0", kernel.LinkOpts{}); err != kernel.ErrExist {
		t.Fatalf("veth: %v", err)
	}
	eth0 := index(t, j, m1, "eth0")
	if err := j.AddDevice(m1, "vx0", kernel.Device{Kind: "vxlan", VNI: 42, Link: eth0, Port: 4789}, kernel.LinkOpts{}); err != kernel.ErrExist {
		t.Fatalf("vxlan: %v", err)
	}
	if err := j.AddDevice(host, "tap0", kernel.Device{Kind: "tap"}, kernel.LinkOpts{}); err != kernel.ErrExist {
		t.Fatalf("tap: %v", err)
	}
	if err := j.AddDevice(m1, "mv0", kernel.Device{Kind: "macvlan", Mode: "bridge", Link: index(t, j, host, "nic0"), LinkNS: host}, kernel.LinkOpts{}); err != kernel.ErrExist {
		t.Fatalf("macvlan: %v", err)
	}
	must(t, j.ReplaceNeigh(m1, kernel.NeighInfo{IP: net.ParseIP("192.0.2.2"), MAC: "02:00:00:00:02:02", DevIndex: eth0}))
	must(t, j.ReplaceNeigh(host, kernel.NeighInfo{IP: net.ParseIP("192.168.5.7"), MAC: "02:00:00:00:05:07", DevIndex: index(t, j, host, "ubr")}))
	must(t, j.ReplaceNeigh(host, kernel.NeighInfo{IP: userNeighs[0].IP, MAC: "02:00:00:00:99:09", DevIndex: index(t, j, host, "nic0")}))
	if err := j.DeleteNeigh(host, kernel.NeighInfo{IP: userNeighs[1].IP, DevIndex: index(t, j, host, "nic0")}); !errors.Is(err, unix.ENOENT) {
		t.Fatalf("the entry deleted before: %v", err)
	}
	if errs := j.Commit(warns.undoer(m)); len(errs) > 0 {
		t.Fatal(errs)
	}
	must(t, j.Close())
	sameState(t, "after the same run again", built, observe(t, m))
	if size() != first {
		t.Errorf("the same run again rewrote the journal: %d bytes, was %d", size(), first)
	}

	// A run that makes only m1 and its veth: the rest is pruned.
	j, err = Open(m, "lab")
	must(t, err)
	m1, _, err = j.CreateNamed("m1", kernel.NetnsSetup{Lo: true}, nil)
	must(t, err)
	if _, _, err := j.AddVeth(host, "u0", m1, "eth0", kernel.LinkOpts{}); err != kernel.ErrExist {
		t.Fatalf("veth: %v", err)
	}
	if errs := j.Commit(warns.undoer(m)); len(errs) > 0 {
		t.Fatal(errs)
	}
	must(t, j.Close())
	now := strings.Join(observe(t, m), "\n")
	for _, gone := range []string{"vx0", "mv0", "tap0", "neigh m1", "192.168.5.7", "02:00:00:00:99:09"} {
		if strings.Contains(now, gone) {
			t.Errorf("after the pruning run, %q is left:\n%s", gone, now)
		}
	}
	for _, back := range []string{"neigh host 192.168.6.9 lladdr 02:00:00:00:06:09 dev nic0", "neigh host 192.168.6.8 lladdr 02:00:00:00:06:08 dev nic0"} {
		if !strings.Contains(now, back) {
			t.Errorf("after the pruning run, the user's %q is not back:\n%s", back, now)
		}
	}
	if len(warns) > 0 {
		t.Errorf("warnings: %q", warns)
	}
	down(t, w, before)
}

// TestNeighIdentity: down leaves alone a static entry the user has set
// anew since the run (another lladdr), and one the user set again where
// the lab had deleted the user's; an entry gone since (flushed with its
// device going down) is nothing to undo.
func TestNeighIdentity(t *testing.T) {
	w, j, _ := neighWorld(t)
	m := w.k
	host := m.Host()
	buildDevices(t, j)
	must(t, j.Close())
	nic, ubr := index(t, m, host, "nic0"), index(t, m, host, "ubr")
	must(t, m.ReplaceNeigh(host, kernel.NeighInfo{IP: userNeighs[0].IP, MAC: "02:00:00:00:77:77", DevIndex: nic}))
	must(t, m.ReplaceNeigh(host, kernel.NeighInfo{IP: userNeighs[1].IP, MAC: "02:00:00:00:88:88", DevIndex: nic}))
	must(t, m.DeleteNeigh(host, kernel.NeighInfo{IP: net.ParseIP("192.168.5.7"), DevIndex: ubr}))
	var warns warnings
	if _, errs := Down(m, "lab", warns.add); len(errs) > 0 {
		t.Fatal(errs)
	}
	now := strings.Join(observe(t, m), "\n")
	for _, kept := range []string{"neigh host 192.168.6.9 lladdr 02:00:00:00:77:77", "neigh host 192.168.6.8 lladdr 02:00:00:00:88:88"} {
		if !strings.Contains(now, kept) {
			t.Errorf("down changed the user's %q:\n%s", kept, now)
		}
	}
	if !warns.contains("left alone", "192.168.6.9", "02:00:00:00:77:77") || !warns.contains("left alone", "192.168.6.8", "02:00:00:00:88:88") {
		t.Errorf("warnings: %q", warns)
	}
	if warns.contains("192.168.5.7") {
		t.Errorf("a warning of the entry gone since: %q", warns)
	}
}

// TestNeighRecords: what a neigh record must hold to be undone.
func TestNeighRecords(t *testing.T) {
	dev := func(r Record) Record {
		r.NS, r.Name = &NSRef{Host: true}, "eth0"
		return r
	}
	for _, c := range []struct {
		r    Record
		want string
	}{
		{dev(Record{Op: "neigh"}), "without its entry"},
		{dev(Record{Op: "neigh_del", Neigh: &Neigh{IP: "10.0.0.1"}}), "without its entry"},
		{dev(Record{Op: "neigh", Neigh: &Neigh{IP: "10.0.0.300", LLAddr: "02:00:00:00:00:01"}}), "not an address"},
		{dev(Record{Op: "neigh", Neigh: &Neigh{IP: "10.0.0.1", LLAddr: "zz"}}), "not a MAC address"},
		{Record{Op: "neigh", NS: &NSRef{Host: true}, Name: "a/b", Neigh: &Neigh{IP: "10.0.0.1"}}, "'/'"},
		{dev(Record{Op: "neigh", Neigh: &Neigh{IP: "10.0.0.1", LLAddr: "02:00:00:00:00:01"}}), ""},
	} {
		err := c.r.check()
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%+v: %v, want %q", c.r, err, c.want)
		}
	}
}

// TestMACRerun: a re-run that gives the lab's veth another MAC (veth(...,
// mac=) edited) follows it: the run after finds the pair, not makes it
// again; a failed run puts the MAC back; down leaves nothing.
func TestMACRerun(t *testing.T) {
	w, j, before := openLab(t)
	m := w.k
	var warns warnings
	run := func(mac string, fail bool) {
		t.Helper()
		red, _, err := j.CreateNamed("red", kernel.NetnsSetup{Lo: true}, nil)
		must(t, err)
		_, _, err = j.AddVeth(red, "a0", red, "b0", kernel.LinkOpts{MAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, MACChosen: true})
		if err != nil && err != kernel.ErrExist {
			t.Fatal(err)
		}
		if created := err == nil; created != (mac == "") {
			t.Fatalf("the veth made again: %v (mac %q)", created, mac)
		}
		if mac != "" { // both ends (veth(..., mac=, peer_mac=))
			must(t, j.SetMAC(red, index(t, j, red, "a0"), mustMAC(mac)))
			must(t, j.SetMAC(red, index(t, j, red, "b0"), mustMAC(mac[:len(mac)-1]+"f")))
		}
		if fail {
			if errs := j.Rollback(warns.undoer(m)); len(errs) > 0 {
				t.Fatal(errs)
			}
		} else if errs := j.Commit(warns.undoer(m)); len(errs) > 0 {
			t.Fatal(errs)
		}
		must(t, j.Close())
		var err2 error
		j, err2 = Open(m, "lab")
		must(t, err2)
	}
	macOf := func() string {
		red, err := m.OpenNamed("red")
		must(t, err)
		li, err := m.LinkByName(red, "a0")
		must(t, err)
		return li.MAC
	}
	run("", false)
	run("02:00:00:00:00:02", false)
	run("02:00:00:00:00:02", false)
	if macOf() != "02:00:00:00:00:02" {
		t.Errorf("mac %s", macOf())
	}
	run("02:00:00:00:00:03", true)
	if macOf() != "02:00:00:00:00:02" {
		t.Errorf("after a failed run, mac %s", macOf())
	}
	run("02:00:00:00:00:02", false)
	must(t, j.Close())
	if len(warns) > 0 {
		t.Errorf("warnings: %q", warns)
	}
	down(t, w, before)
}

func mustMAC(s string) net.HardwareAddr {
	m, err := net.ParseMAC(s)
	if err != nil {
		panic(err)
	}
	return m
}

// TestFlushedNeighsBack: the kernel flushes a device's static entries
// when its MAC changes or it goes down; undoing that puts them back.
func TestFlushedNeighsBack(t *testing.T) {
	w, j, before := neighWorld(t)
	host := j.Host()
	nic := index(t, j, host, "nic0")
	must(t, j.SetMAC(host, nic, mustMAC("02:00:00:00:00:aa")))
	must(t, j.SetUp(host, nic, false))
	if now := strings.Join(observe(t, w.k), "\n"); strings.Contains(now, "neigh host") {
		t.Fatalf("the model kept static entries of a device whose MAC changed:\n%s", now)
	}
	rollBack(t, j, w, before)
}
