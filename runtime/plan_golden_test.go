package runtime

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPlanGolden: `nsscript plan` of every tutorial, example and bench
// script, as a shell script and as JSON, is what testdata/golden/plan
// holds (NSSCRIPT_WRITE_GOLDEN=1 rewrites it). It pins what the plan
// prints while the code behind it changes.
func TestPlanGolden(t *testing.T) {
	t.Chdir("..") // the scripts' names as a user at the top of a clone gives them
	root := "."
	var files []string
	for _, g := range []string{"scripts/tutorial/*.star", "scripts/examples/*.star", "scripts/bench/*.star"} {
		m, _ := filepath.Glob(filepath.Join(root, g))
		files = append(files, m...)
	}
	if len(files) < 20 {
		t.Fatalf("only %d scripts found", len(files))
	}
	for _, f := range files {
		rel, _ := filepath.Rel(root, f)
		for _, asJSON := range []bool{false, true} {
			var out, errb bytes.Buffer
			code := Plan(rel, nil, LabName(rel), asJSON, &out, &errb)
			got := out.String() + "--- stderr (exit " + string(rune('0'+code)) + ")\n" + errb.String()
			name := strings.TrimSuffix(filepath.Base(rel), ".star") + map[bool]string{false: ".sh", true: ".json"}[asJSON]
			golden := filepath.Join(root, "testdata", "golden", "plan", name)
			if os.Getenv("NSSCRIPT_WRITE_GOLDEN") == "1" {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("plan of %s (json=%v) differs from %s", rel, asJSON, golden)
			}
		}
	}
}
