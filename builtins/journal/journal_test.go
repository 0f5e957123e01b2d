package journal

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

const (
	hostRef = `{"host":true,"inode":4026531840,"cookie":4026531840}`
	redRef  = `{"name":"red","inode":4026532001,"cookie":4026532001}`
)

// goodLines are records of every kind a journal holds, as nsscript
// writes them.
var goodLines = []string{
	`{"op":"netns","ns":` + redRef + `,"placeholder":7}`,
	`{"op":"adopt","ns":{"name":"blue","inode":4026532002,"cookie":4026532002}}`,
	`{"op":"link","kind":"veth","ns":` + hostRef + `,"name":"a","mac":"02:00:00:00:00:01","peer_ns":` + redRef + `,"peer":"b","peer_mac":"02:00:00:00:00:02"}`,
	`{"op":"link","kind":"bridge","ns":` + hostRef + `,"name":"br0","mac":"02:00:00:00:00:03"}`,
	`{"op":"ident","ns":` + hostRef + `,"name":"br0","mac":"02:00:00:00:00:04","old_mac":"02:00:00:00:00:03"}`,
	`{"op":"up","ns":` + hostRef + `,"name":"lo","was_up":false,"index":1,"mac":"00:00:00:00:00:00","kind":"loopback"}`,
	`{"op":"up","ns":` + hostRef + `,"name":"eth0","was_up":true,"index":2,"mac":"02:00:00:00:00:09","addrs":["2001:db8::1/64"],"routes":[{"dst":"10.2.0.0/16","via":"10.0.0.2","dev":"eth0","table":254}]}`,
	`{"op":"mtu","ns":` + hostRef + `,"name":"eth0","old_mtu":1500,"index":2,"mac":"02:00:00:00:00:09","addrs":["2001:db8::1/64"]}`,
	`{"op":"mac","ns":` + hostRef + `,"name":"eth0","old_mac":"02:00:00:00:00:09","index":2,"mac":"02:00:00:00:00:09"}`,
	`{"op":"master","ns":` + hostRef + `,"name":"eth0","old_master":"br1","index":2,"mac":"02:00:00:00:00:09"}`,
	`{"op":"master","ns":` + hostRef + `,"name":"eth1","index":3,"mac":"02:00:00:00:00:08"}`,
	`{"op":"rename","ns":` + hostRef + `,"name":"new","old_name":"eth0","index":2}`,
	`{"op":"move","ns":` + hostRef + `,"to":` + redRef + `,"name":"eth1","was_up":true,"old_master":"br1","mac":"02:00:00:00:00:08","addrs":["10.0.0.1/24"],"routes":[{"dst":"","via":"10.0.0.254","table":254}]}`,
	`{"op":"move","ns":` + hostRef + `,"to":` + redRef + `,"name":"a","mac":"02:00:00:00:00:01"}`,
	`{"op":"addr","ns":` + hostRef + `,"name":"eth0","addr":"10.0.0.1/24","index":2}`,
	`{"op":"addr_del","ns":` + hostRef + `,"name":"eth0","addr":"2001:db8::1/64","index":2,"mac":"02:00:00:00:00:09"}`,
	`{"op":"route","ns":` + hostRef + `,"route":{"dst":"10.1.0.0/24","via":"10.0.0.2"},"prev":{"dst":"10.1.0.0/24","dev":"eth0","table":254}}`,
	`{"op":"sysctl","ns":` + redRef + `,"name":"net.ipv4.ip_forward","old_value":"0"}`,
	`{"op":"shared_sysctl","ns":` + hostRef + `,"name":"net.ipv4.ip_forward","old_value":"0","lab":"lab"}`,
	`{"op":"rule","ns":` + hostRef + `,"table":"nat","chain":"POSTROUTING","spec":["-s","10.0.0.0/24","-j","MASQUERADE"]}`,
	`{"op":"etc","name":"red","file":"hosts","sum":"00","has":true,"data":"eA=="}`,
	`{"op":"etc_dir","name":"red"}`,
	`{"op":"proc","ns":{"host":true},"pid":1234,"start":99,"argv":["sleep","1"],"token":"lab:00"}`,
	`{"op":"cgroup","name":"/nsscript-00.lab"}`,
}

// legacyLines are records as an older nsscript wrote them, with
// what was there before in "old" (and a move's bridge in "master"), each
// with the line that says the same in the fields of now.
var legacyLines = [][2]string{
	{`{"op":"ident","ns":` + hostRef + `,"name":"br0","mac":"02:00:00:00:00:04","old":"02:00:00:00:00:03"}`, goodLines[4]},
	{`{"op":"up","ns":` + hostRef + `,"name":"lo","old":"0","index":1,"mac":"00:00:00:00:00:00","kind":"loopback"}`, goodLines[5]},
	{`{"op":"up","ns":` + hostRef + `,"name":"eth0","old":"1","index":2,"mac":"02:00:00:00:00:09","addrs":["2001:db8::1/64"],"routes":[{"dst":"10.2.0.0/16","via":"10.0.0.2","dev":"eth0","table":254}]}`, goodLines[6]},
	{`{"op":"mtu","ns":` + hostRef + `,"name":"eth0","old":"1500","index":2,"mac":"02:00:00:00:00:09","addrs":["2001:db8::1/64"]}`, goodLines[7]},
	{`{"op":"mac","ns":` + hostRef + `,"name":"eth0","old":"02:00:00:00:00:09","index":2,"mac":"02:00:00:00:00:09"}`, goodLines[8]},
	{`{"op":"master","ns":` + hostRef + `,"name":"eth0","old":"br1","index":2,"mac":"02:00:00:00:00:09"}`, goodLines[9]},
	{`{"op":"rename","ns":` + hostRef + `,"name":"new","old":"eth0","index":2}`, goodLines[11]},
	{`{"op":"move","ns":` + hostRef + `,"to":` + redRef + `,"name":"eth1","old":"1","master":"br1","mac":"02:00:00:00:00:08","addrs":["10.0.0.1/24"],"routes":[{"dst":"","via":"10.0.0.254","table":254}]}`, goodLines[12]},
	{`{"op":"move","ns":` + hostRef + `,"to":` + redRef + `,"name":"eth1","old":"0","mac":"02:00:00:00:00:08"}`,
		`{"op":"move","ns":` + hostRef + `,"to":` + redRef + `,"name":"eth1","was_up":false,"mac":"02:00:00:00:00:08"}`},
	{`{"op":"addr","ns":` + hostRef + `,"name":"eth0","old":"10.0.0.1/24","index":2}`, goodLines[14]},
	{`{"op":"addr_del","ns":` + hostRef + `,"name":"eth0","old":"2001:db8::1/64","index":2,"mac":"02:00:00:00:00:09"}`, goodLines[15]},
	{`{"op":"sysctl","ns":` + redRef + `,"name":"net.ipv4.ip_forward","old":"0"}`, goodLines[17]},
	{`{"op":"shared_sysctl","ns":` + hostRef + `,"name":"net.ipv4.ip_forward","old":"0","lab":"lab"}`, goodLines[18]},
	// An "old" where no record had one was ignored, and still is.
	{`{"op":"rule","ns":` + hostRef + `,"table":"nat","chain":"POSTROUTING","spec":["-s","10.0.0.0/24","-j","MASQUERADE"],"old":"x"}`, goodLines[19]},
}

// worldLines are records about the devices of userWorld, by their
// identity there, in the fields of now and as an older nsscript wrote them:
// undo acts on them.
var worldLines = [][2]string{
	{`{"op":"mtu","ns":` + worldHost + `,"name":"nic0","old":"1400","index":3,"mac":"02:5e:00:00:00:02","addrs":["2001:db8:6::1/64"]}`,
		`{"op":"mtu","ns":` + worldHost + `,"name":"nic0","old_mtu":1400,"index":3,"mac":"02:5e:00:00:00:02","addrs":["2001:db8:6::1/64"]}`},
	{`{"op":"mac","ns":` + worldHost + `,"name":"ubr","old":"02:00:00:00:00:77","index":2}`,
		`{"op":"mac","ns":` + worldHost + `,"name":"ubr","old_mac":"02:00:00:00:00:77","index":2}`},
	{`{"op":"master","ns":` + worldHost + `,"name":"nic0","old":"ubr","index":3,"mac":"02:5e:00:00:00:02"}`,
		`{"op":"master","ns":` + worldHost + `,"name":"nic0","old_master":"ubr","index":3,"mac":"02:5e:00:00:00:02"}`},
	{`{"op":"up","ns":` + worldHost + `,"name":"ubr","old":"0","index":2,"mac":"02:5e:00:00:00:01"}`,
		`{"op":"up","ns":` + worldHost + `,"name":"ubr","was_up":false,"index":2,"mac":"02:5e:00:00:00:01"}`},
	{`{"op":"rename","ns":` + worldHost + `,"name":"nic0","old":"eth9","index":3}`,
		`{"op":"rename","ns":` + worldHost + `,"name":"nic0","old_name":"eth9","index":3}`},
	{`{"op":"addr","ns":` + worldHost + `,"name":"ubr","old":"192.168.5.1/24","index":2,"mac":"02:5e:00:00:00:01"}`,
		`{"op":"addr","ns":` + worldHost + `,"name":"ubr","addr":"192.168.5.1/24","index":2,"mac":"02:5e:00:00:00:01"}`},
	{`{"op":"addr_del","ns":` + worldHost + `,"name":"nic0","old":"10.9.9.9/24","index":3,"mac":"02:5e:00:00:00:02"}`,
		`{"op":"addr_del","ns":` + worldHost + `,"name":"nic0","addr":"10.9.9.9/24","index":3,"mac":"02:5e:00:00:00:02"}`},
	{`{"op":"move","ns":` + worldHost + `,"to":` + worldUser + `,"name":"uv1","old":"1","master":"ubr","mac":"02:5e:00:00:00:04","addrs":["10.0.0.1/24"],"routes":[{"dst":"10.3.0.0/16","via":"10.0.0.254","table":254}]}`,
		`{"op":"move","ns":` + worldHost + `,"to":` + worldUser + `,"name":"uv1","was_up":true,"old_master":"ubr","mac":"02:5e:00:00:00:04","addrs":["10.0.0.1/24"],"routes":[{"dst":"10.3.0.0/16","via":"10.0.0.254","table":254}]}`},
	{`{"op":"sysctl","ns":` + worldUser + `,"name":"net.ipv4.ip_forward","old":"1"}`,
		`{"op":"sysctl","ns":` + worldUser + `,"name":"net.ipv4.ip_forward","old_value":"1"}`},
}

const (
	worldHost = `{"host":true,"inode":4026531840,"cookie":4026531840}`
	worldUser = `{"name":"user","inode":4026531841,"cookie":4026531841}`
)

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
	// What nsscript writes of a record, it reads back the same.
	for i, r := range recs {
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		again, bad := parseLine(b)
		if len(bad) > 0 || len(again) != 1 || !reflect.DeepEqual(again[0], r) {
			t.Errorf("line %d: %s reads back as %+v, %v", i, b, again, bad)
		}
	}
}

// TestLegacyLines: a journal an older nsscript wrote is read
// as what it meant: each legacy line gives the record its line of now
// gives, and is written back in the fields of now.
func TestLegacyLines(t *testing.T) {
	for _, l := range append(legacyLines, worldLines...) {
		old, bad := parseLine([]byte(l[0]))
		now, bad2 := parseLine([]byte(l[1]))
		if len(bad)+len(bad2) > 0 || len(old) != 1 || len(now) != 1 {
			t.Errorf("%s: %v %v", l[0], bad, bad2)
			continue
		}
		if !reflect.DeepEqual(old[0], now[0]) {
			t.Errorf("%s\nreads as %+v\nnot as   %+v", l[0], old[0], now[0])
		}
		b, err := json.Marshal(old[0])
		if err != nil || strings.Contains(string(b), `"old":`) || strings.Contains(string(b), `"master":`) {
			t.Errorf("%s is written back as %s (%v)", l[0], b, err)
		}
	}
	// A move of the lab's own device had no "old": nothing to give back.
	recs, bad := parseLine([]byte(`{"op":"move","ns":` + hostRef + `,"to":` + redRef + `,"name":"a","mac":"02:00:00:00:00:01"}`))
	if len(bad) > 0 || len(recs) != 1 || recs[0].givesBack() {
		t.Errorf("a move of the lab's own device reads as %+v, %v", recs, bad)
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
		// What a field of its own holds must parse as what it is.
		`{"op":"addr","ns":{"host":true},"name":"lo","addr":"10.0.0.1"}`, `{"op":"addr_del","ns":{"host":true},"name":"lo"}`,
		`{"op":"mtu","ns":{"host":true},"name":"eth0","old":"abc"}`, `{"op":"mtu","ns":{"host":true},"name":"eth0","old_mtu":-1}`,
		`{"op":"mtu","ns":{"host":true},"name":"eth0"}`, `{"op":"mtu","ns":{"host":true},"name":"eth0","old_mtu":"1500"}`,
		`{"op":"mac","ns":{"host":true},"name":"eth0","old_mac":"zz"}`, `{"op":"mac","ns":{"host":true},"name":"eth0"}`,
		`{"op":"ident","ns":{"host":true},"name":"eth0","mac":"02:00:00:00:00:01","old_mac":"nope"}`,
		`{"op":"up","ns":{"host":true},"name":"eth0"}`, `{"op":"up","ns":{"host":true},"name":"eth0","old":"yes"}`,
		`{"op":"up","ns":{"host":true},"name":"eth0","was_up":"1"}`, `{"op":"up","ns":{"host":true},"name":"eth0","old":"1","was_up":true}`,
		`{"op":"up","ns":{"host":true},"name":"eth0","was_up":true,"addrs":["::1"]}`,
		`{"op":"rename","ns":{"host":true},"name":"eth0"}`, `{"op":"rename","ns":{"host":true},"name":"eth0","old_name":"a/b"}`,
		`{"op":"master","ns":{"host":true},"name":"eth0","old_master":"../x"}`,
		`{"op":"move","ns":{"host":true},"to":{"host":true},"name":"eth0","was_up":true,"addrs":["x"]}`,
		`{"op":"move","ns":{"host":true},"to":{"host":true},"name":"eth0","old":"1","master":"../x"}`,
		`{"op":"move","ns":{"host":true},"to":{"host":true},"name":"eth0","old":"up"}`,
		`{"op":"move","ns":{"host":true},"to":{"host":true},"name":"eth0","was_up":false,"routes":[{"via":"x"}]}`,
		`{"op":"sysctl","ns":{"host":true},"name":"net.ipv4.ip_forward","old":"1","old_value":"0"}`,
		`{"op":"route","ns":{"host":true},"route":{"dst":"x"}}`, `{"op":"route","ns":{"host":true},"route":{"via":"nope"}}`,
		`{"op":"route","ns":{"host":true},"route":{},"prev":{"dev":"a/b"}}`,
		`{"op":"move","ns":{"host":true},"name":"eth0"}`, `{"op":"proc","ns":{"host":true}}`, `{"op":"rm -rf /"}`,
		`{"op":"netns","ns":{"path":"relative/path"}}`, `null`, `[]`, `"x"`, `{`,
	} {
		recs, probs, _ := readRecords(writeJournal(t, []byte(l+"\n")))
		if len(recs) != 0 || len(probs) != 1 {
			t.Errorf("%s: %d records, problems %v; want it refused", l, len(recs), probs)
		}
	}
}

// TestLegacyUndo: a journal as an older nsscript wrote it is undone as the
// same journal written now: the model ends the same.
func TestLegacyUndo(t *testing.T) {
	var ends [2][]string
	for i := range ends {
		inTempDir(t)
		var lines []string
		for _, l := range worldLines {
			lines = append(lines, l[i])
		}
		recs, probs, err := readRecords(writeJournal(t, []byte(strings.Join(lines, "\n")+"\n")))
		if err != nil || len(probs) > 0 || len(recs) != len(lines) {
			t.Fatalf("%d records of %d, problems %v, %v", len(recs), len(lines), probs, err)
		}
		w := newUserWorld(t)
		before := observe(t, w.k)
		var warns warnings
		if errs := warns.undoer(w.k).Undo(recs); len(errs) > 0 || len(warns) > 0 {
			t.Fatalf("undo: %v %q", errs, warns)
		}
		ends[i] = observe(t, w.k)
		if slices.Equal(ends[i], before) {
			t.Fatal("the undo changed nothing")
		}
	}
	sameState(t, "legacy and now", ends[1], ends[0])
	// The move was undone: uv1 came back to the host with what it had.
	back := `link host/uv1 veth mac 02:5e:00:00:00:04 mtu 1500 up true master "ubr" addrs [10.0.0.1/24]`
	if !slices.Contains(ends[0], back) {
		t.Errorf("no %s in\n%s", back, strings.Join(ends[0], "\n"))
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
	for _, l := range append(legacyLines, worldLines...) {
		f.Add([]byte(l[0] + "\n"))
		f.Add([]byte(l[0][:len(l[0])/2] + l[1] + "\n")) // a torn legacy line, then one of now
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
	for _, l := range append(legacyLines, worldLines...) {
		f.Add([]byte(l[0] + "\n"))
	}
	// A whole journal about the user's devices, as written now and as
	// an older nsscript wrote it.
	var legacy, now []string
	for _, l := range worldLines {
		legacy, now = append(legacy, l[0]), append(now, l[1])
	}
	f.Add([]byte(strings.Join(legacy, "\n") + "\n"))
	f.Add([]byte(strings.Join(now, "\n") + "\n"))
	f.Add([]byte(`{"op":"link","kind":"bridge","ns":{"host":true,"inode":4026531840,"cookie":4026531840},"name":"ubr","mac":"02:5e:00:00:00:09"}` + "\n" +
		`{"op":"netns","ns":{"name":"user","inode":4026532000,"cookie":4026532001}}` + "\n" +
		`{"op":"link","kind":"veth","ns":{"host":true,"inode":4026531840,"cookie":4026531840},"name":"uv0","mac":"02:00:00:00:00:05"}` + "\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		inTempDir(t)
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
		for _, d := range w.gone() {
			if !named[d.MAC] && !slices.Contains(claims, w.inode) {
				b, _ := json.Marshal(recs)
				t.Fatalf("device %s (%s) of the user's was deleted by %s", d.Name, d.MAC, b)
			}
		}
		if _, err := w.k.OpenNamed("user"); err != nil && !slices.Contains(claims, w.inode) {
			t.Fatalf("the user's namespace was deleted")
		}
	})
}
