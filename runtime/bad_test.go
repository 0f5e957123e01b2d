package runtime

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestBadInputPlan runs the bad-input cases of testdata/bad (see its
// README) without root: against the plan's model of the kernel, which
// needs no privilege and changes nothing. A bad call must fail there with
// the same message as on the real kernel (where cmd/nsscript's
// TestBadInput runs every case in a sandbox, the final word). A case
// whose check needs the real kernel (a program's absence, a packet, a
// device of the machine) says so with a line `# plan: real kernel only:
// WHY`.
func TestBadInputPlan(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "testdata", "bad", "*.star"))
	if err != nil || len(files) < 40 {
		t.Fatalf("found %d cases (%v), want the whole set", len(files), err)
	}
	want := regexp.MustCompile(`(?m)^# want: (\d+): (.+)$`)
	realOnly := regexp.MustCompile(`(?m)^# plan: real kernel only: \S`)
	planned := 0
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(strings.TrimSuffix(name, ".star"), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			m := want.FindSubmatch(b)
			if m == nil {
				t.Fatalf("%s: no `# want: LINE: REGEXP` line", name)
			}
			if realOnly.Match(b) {
				t.Skipf("%s needs the real kernel (its `# plan:` line says why); cmd/nsscript's TestBadInput runs it", name)
			}
			planned++
			line, _ := strconv.Atoi(string(m[1]))
			re := regexp.MustCompile("^" + name + ":" + strconv.Itoa(line) + `:\d+: (?:` + string(m[2]) + ")")
			_, perr := PlanRun(f, nil, "bad")
			if perr == nil {
				t.Fatalf("the plan of %s ran without an error; want line %d: %s", name, line, m[2])
			}
			first, _, _ := strings.Cut(FormatError(perr), "\n")
			if !re.MatchString(strings.TrimPrefix(first, filepath.Dir(f)+"/")) {
				t.Errorf("the plan of %s failed with\n  %s\nwant line %d matching\n  %s", name, first, line, m[2])
			}
		})
	}
}
