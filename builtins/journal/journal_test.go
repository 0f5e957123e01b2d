package journal

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nsscript/nsscript/builtins/kernel"
	"github.com/nsscript/nsscript/builtins/plan"
)

// goodLines are records of every kind a journal holds.
var goodLines = []string{
	`{"op":"netns","ns":{"name":"red","inode":4026532001,"cookie":4026532001},"placeholder":7}`,
	`{"op":"adopt","ns":{"name":"blue","inode":4026532002,"cookie":4026532002}}`,
	`{"op":"link","kind":"veth","ns":{"host":true,"inode":4026531840,"cookie":4026531840},"name":"a","mac":"02:00:00:00:00:01","peer_ns":{"name":"red","inode":4026532001,"cookie":4026532001},"peer":"b","peer_mac":"02:00:00:00:00:02"}`,
	`{"op":"link","kind":"bridge","ns":{"host":true,"inode":4026531840,"cookie":4026531840},"name":"br0","mac":"02:00:00:00:00:03"}`,
	`{"op":"ident","ns":{"host":true,"inode":4026531840,"cookie":4026531840},"name":"br0","mac":"02:00:00:00:00:04","old":"02:00:00:00:00:03"}`,
	`{"op":"up","ns":{"host":true,"inode":4026531840,"cookie":4026531840},"name":"lo","old":"0","index":1,"mac":"00:00:00:00:00:00","kind":"loopback"}`,
	`{"op":"mtu","ns":{"host":true,"inode":4026531840,"cookie":4026531840},"name":"eth0","old":"1500","index":2,"mac":"02:00:00:00:00:09"}`,
	`{"op":"rename","ns":{"host":true,"inode":4026531840,"cookie":4026531840},"name":"new","old":"eth0","index":2}`,
	`{"op":"move","ns":{"host":true,"inode":4026531840,"cookie":4026531840},"to":{"name":"red","inode":4026532001,"cookie":4026532001},"name":"eth1","old":"1","mac":"02:00:00:00:00:08","addrs":["10.0.0.1/24"]}`,
	`{"op":"addr","ns":{"host":true,"inode":4026531840,"cookie":4026531840},"name":"eth0","old":"10.0.0.1/24","index":2}`,
	`{"op":"route","ns":{"host":true,"inode":4026531840,"cookie":4026531840},"route":{"dst":"10.1.0.0/24","via":"10.0.0.2"}}`,
	`{"op":"sysctl","ns":{"name":"red","inode":4026532001,"cookie":4026532001},"name":"net.ipv4.ip_forward","old":"0"}`,
	`{"op":"rule","ns":{"host":true,"inode":4026531840,"cookie":4026531840},"table":"nat","chain":"POSTROUTING","spec":["-s","10.0.0.0/24","-j","MASQUERADE"]}`,
	`{"op":"etc","name":"red","file":"hosts","sum":"00","has":true,"data":"eA=="}`,
	`{"op":"etc_dir","name":"red"}`,
	`{"op":"proc","ns":{"host":true},"pid":1234,"start":99,"argv":["sleep","1"],"token":"lab:00"}`,
	`{"op":"cgroup","name":"/nsscript-00.lab"}`,
}

func writeJournal(t *testing.T, data []byte) string {
	p := filepath.Join(t.TempDir(), "journal")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestReadGoodLines(t *testing.T) {
	recs, probs, err := readRecords(writeJournal(t, []byte(strings.Join(goodLines, "\n")+"\n")))
	if err != nil || len(probs) > 0 || len(recs) != len(goodLines) {
		t.Fatalf("%d records of %d, problems %v, %v", len(recs), len(goodLines), probs, err)
	}
}

// A line a kill cut short (no newline) runs into the next run's first
// record: the record is still read, and the torn part is reported with
// its line number.
func TestTornLine(t *testing.T) {
	torn := goodLines[2][:40]
	data := goodLines[0] + "\n" + torn + goodLines[3] + "\n" + goodLines[1] + "\n"
	recs, probs, err := readRecords(writeJournal(t, []byte(data)))
	if err != nil {
		t.Fatal(err)
	}
	var ops []string
	for _, r := range recs {
		ops = append(ops, r.Op+":"+r.Kind)
	}
	if strings.Join(ops, " ") != "netns: link:bridge adopt:" {
		t.Errorf("records %v, want the netns, the bridge after the torn line, and the adopt", ops)
	}
	if len(probs) != 1 || probs[0].Line != 2 || !strings.Contains(probs[0].Error(), ":2: skipped: ") {
		t.Errorf("problems %v, want line 2", probs)
	}
}

// Records that name paths or kernel objects badly are refused, whatever
// else they hold: nothing outside the lab's reach is ever undone.
func TestBadRecords(t *testing.T) {
	for _, l := range []string{
		`{"op":"netns"}`, `{"op":"netns","ns":{"name":"../etc"}}`, `{"op":"netns","ns":{}}`,
		`{"op":"link","ns":{"host":true},"name":"a/b"}`, `{"op":"link","ns":{"host":true},"name":"ab\u0000c"}`,
		`{"op":"link","ns":{"host":true},"name":"a","peer":"b"}`,
		`{"op":"etc","name":"/etc/passwd"}`, `{"op":"etc","name":"red","file":"../passwd"}`, `{"op":"etc_dir","name":"/etc"}`,
		`{"op":"sysctl","ns":{"host":true},"name":"kernel.hostname"}`, `{"op":"shared_sysctl","ns":{"host":true},"name":"net.ipv4.ip_forward","lab":".."}`,
		`{"op":"cgroup","name":"/"}`, `{"op":"cgroup","name":"/user.slice"}`, `{"op":"cgroup","name":"/a/../nsscript-x"}`,
		`{"op":"rule","ns":{"host":true}}`, `{"op":"route","ns":{"host":true}}`, `{"op":"addr","ns":{"host":true},"name":"lo","old":"x"}`,
		`{"op":"move","ns":{"host":true},"name":"eth0"}`, `{"op":"proc","ns":{"host":true}}`, `{"op":"rm -rf /"}`,
		`{"op":"netns","ns":{"path":"relative/path"}}`, `null`, `[]`, `"x"`, `{`,
	} {
		recs, probs, _ := readRecords(writeJournal(t, []byte(l+"\n")))
		if len(recs) != 0 || len(probs) != 1 {
			t.Errorf("%s: %d records, problems %v; want it refused", l, len(recs), probs)
		}
	}
}

// FuzzRead: no journal, however torn or corrupt, makes the reader panic;
// every record it returns passes the checks; and a valid record written
// after any garbage on the same line (a torn write) is still read.
func FuzzRead(f *testing.F) {
	for _, l := range goodLines {
		f.Add([]byte(l + "\n"))
		f.Add([]byte(l[:len(l)/2]))
	}
	f.Add([]byte(`{"op":"netns"}` + "\n" + `{"op":"link","ns":{"host":true},"name":"x"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		recs, _, err := readRecords(writeJournal(t, data))
		if err != nil {
			return // a line over the scanner's limit
		}
		for _, r := range recs {
			if err := r.check(); err != nil {
				t.Fatalf("returned a record that fails its check: %+v: %v", r, err)
			}
		}
		line := strings.ReplaceAll(string(data), "\n", "")
		good := goodLines[3]
		recs, _, err = readRecords(writeJournal(t, []byte(line+good+"\n")))
		if err == nil && !slices.ContainsFunc(recs, func(r Record) bool { return r.Op == "link" && r.Name == "br0" }) {
			t.Fatalf("the record after %q was lost", line)
		}
	})
}

// userWorld is a model host holding what a user made, not the lab: a
// bridge, a stand-in NIC, a namespace with a veth into it.
type userWorld struct {
	k     *plan.Model
	macs  []string // of the user's devices
	inode uint64   // of the user's namespace
}

func newUserWorld(t *testing.T) *userWorld {
	k := plan.NewModel()
	host := k.Host()
	w := &userWorld{k: k}
	mk := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	mk(k.AddBridge(host, "ubr", kernel.LinkOpts{}))
	mk(k.AddDummy(host, "nic0", kernel.LinkOpts{}))
	un, _, err := k.CreateNamed("user", true, nil)
	mk(err)
	_, err = k.AddVeth(host, "uv0", un, "uv1", kernel.LinkOpts{})
	mk(err)
	w.inode = un.Inode
	for _, ns := range []*kernel.NS{host, un} {
		links, err := k.Links(ns)
		mk(err)
		for _, l := range links {
			if l.Kind != "loopback" {
				w.macs = append(w.macs, l.MAC)
			}
		}
	}
	return w
}

// macs lists the MACs of every device in the model.
func (w *userWorld) present() map[string]bool {
	out := map[string]bool{}
	for _, ns := range w.k.Namespaces() {
		if links, err := w.k.Links(ns); err == nil {
			for _, l := range links {
				out[l.MAC] = true
			}
		}
	}
	return out
}

// FuzzUndo: a journal of any content, undone against a model host, never
// deletes a device or namespace the journal does not identify (by the
// MAC nsscript gave the device, by the namespace's inode and cookie),
// and never crashes. (Records that act on files, cgroups or processes
// are left out: the model has none, and this test must not touch the
// machine's.)
func FuzzUndo(f *testing.F) {
	for _, l := range goodLines {
		f.Add([]byte(l + "\n"))
	}
	f.Add([]byte(`{"op":"link","kind":"bridge","ns":{"host":true,"inode":4026531840,"cookie":4026531840},"name":"ubr","mac":"02:5e:00:00:00:09"}` + "\n" +
		`{"op":"netns","ns":{"name":"user","inode":4026532000,"cookie":4026532001}}` + "\n" +
		`{"op":"link","kind":"veth","ns":{"host":true,"inode":4026531840,"cookie":4026531840},"name":"uv0","mac":"02:00:00:00:00:05"}` + "\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		Dir = t.TempDir()
		if err := os.MkdirAll(filepath.Join(Dir, "fuzz"), 0o755); err != nil {
			t.Fatal(err)
		}
		recs, _, err := readRecords(writeJournal(t, data))
		if err != nil {
			return
		}
		recs = slices.DeleteFunc(recs, func(r Record) bool {
			return slices.Contains([]string{"etc", "etc_dir", "cgroup", "proc", "spawn", "netns_dir"}, r.Op)
		})
		w := newUserWorld(t)
		u := &Undoer{K: w.k, Lab: "fuzz"}
		for _, err := range u.Undo(recs) {
			if strings.Contains(err.Error(), "internal error") {
				t.Fatal(err)
			}
		}
		// What the journal identifies: MACs of devices the lab made, and
		// namespaces by inode and cookie.
		named := map[string]bool{}
		var claims []uint64
		for _, r := range recs {
			if r.Op == "link" || r.Op == "ident" {
				named[r.MAC], named[r.PeerMAC] = true, true
			}
			if (r.Op == "netns" || r.Op == "adopt") && r.NS.Cookie == r.NS.Inode {
				claims = append(claims, r.NS.Inode)
			}
		}
		have := w.present()
		for _, mac := range w.macs {
			if !have[mac] && !named[mac] && !slices.Contains(claims, w.inode) {
				b, _ := json.Marshal(recs)
				t.Fatalf("device %s of the user's was deleted by %s", mac, b)
			}
		}
		if _, err := w.k.OpenNamed("user"); err != nil && !slices.Contains(claims, w.inode) {
			t.Fatalf("the user's namespace was deleted")
		}
	})
}
