package journal

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/nsscript/nsscript/builtins/kernel"
)

// TestShapeRuns: link shaping through the journal, run after run, on a
// device of the user's (whose shaping before the lab was none) and on a
// device of the lab's: a run that asks for what is there writes nothing;
// a rollback puts back the earlier run's shaping; a run that no longer
// asks for it takes it away when it ends; down leaves the user's device
// as it was.
func TestShapeRuns(t *testing.T) {
	w, j, before := openLab(t)
	m, host := w.k, w.k.Host()
	ubr := index(t, m, host, "ubr")
	rate := &kernel.Shaping{Rate: 10e6}
	delay := &kernel.Shaping{Rate: 10e6, Delay: 20 * time.Millisecond, Loss: 10, Limit: kernel.NetemLimit}
	var warns warnings
	shaped := func(when string, want *kernel.Shaping) {
		t.Helper()
		s, err := m.Shaping(host, ubr)
		must(t, err)
		if !s.Equal(want) {
			t.Errorf("%s: ubr is shaped %v, want %v", when, s, want)
		}
	}
	run := func(s *kernel.Shaping, commit bool) *Kernel {
		t.Helper()
		j, err := Open(m, "lab")
		must(t, err)
		if s != nil {
			must(t, j.SetShaping(host, ubr, s))
		}
		if commit {
			if errs := j.Commit(warns.undoer(m)); len(errs) > 0 {
				t.Fatalf("commit: %v", errs)
			}
			must(t, j.Close())
		}
		return j
	}

	must(t, j.AddDummy(host, "d0", kernel.LinkOpts{}))
	must(t, j.SetShaping(host, index(t, j, host, "d0"), delay))
	must(t, j.SetShaping(host, ubr, rate))
	if errs := j.Commit(warns.undoer(m)); len(errs) > 0 {
		t.Fatal(errs)
	}
	must(t, j.Close())
	shaped("after the first run", rate)

	j = run(nil, false)
	must(t, j.SetShaping(host, ubr, rate))
	if j.n != 0 {
		t.Errorf("a re-run that asks for the shaping there wrote %d records", j.n)
	}
	if errs := j.Commit(warns.undoer(m)); len(errs) > 0 {
		t.Fatal(errs)
	}
	must(t, j.Close())
	shaped("after the same run again", rate)

	j = run(delay, false)
	shaped("during a run that changes it", delay)
	if errs := j.Rollback(warns.undoer(m)); len(errs) > 0 {
		t.Fatal(errs)
	}
	must(t, j.Close())
	shaped("after its rollback", rate)

	run(delay, true)
	shaped("after a run that changes it", delay)
	recs, _, err := readRecords(filepath.Join(Dir, "lab", "journal"))
	must(t, err)
	n := 0
	for _, r := range recs {
		if r.Op == "shape" && r.Name == "ubr" {
			n++
			if r.PrevShape != nil {
				t.Errorf("the journal puts back %v, not none (from before the lab)", r.PrevShape)
			}
		}
	}
	if n != 1 {
		t.Errorf("%d shape records of ubr, want 1", n)
	}

	run(nil, true)
	shaped("after a run that no longer shapes it", nil)

	run(rate, true)
	if len(warns) > 0 {
		t.Errorf("warnings: %q", warns)
	}
	down(t, w, before)
	shaped("after down", nil)
}

// TestShapeRecordChecked: a shape record undo could not give the kernel
// is refused when the journal is read.
func TestShapeRecordChecked(t *testing.T) {
	for _, line := range []string{
		`{"op":"shape","ns":{"host":true},"name":"eth0","index":2,"shape":{"loss":150}}`,
		`{"op":"shape","ns":{"host":true},"name":"eth0","index":2,"prev_shape":{"tap":"../x"}}`,
		`{"op":"shape","ns":{"host":true},"name":"a/b","index":2}`,
	} {
		if recs, bad := parseLine([]byte(line)); len(recs) != 0 || len(bad) != 1 {
			t.Errorf("%s: read as %v, %v", line, recs, bad)
		}
	}
	if recs, bad := parseLine([]byte(`{"op":"shape","ns":{"host":true},"name":"eth0","index":2,"shape":{"rate":10000000,"tap":"nsfwd12"}}`)); len(recs) != 1 || len(bad) != 0 {
		t.Errorf("a good record: %v, %v", recs, bad)
	}
}
