package main

import (
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestHarness runs `nsscript test` on testdata/harness: one line per test
// with ok/FAIL/skip, the failure's FILE:LINE:COL and message, the closing
// count line, and exit 1 when a test fails.
func TestHarness(t *testing.T) {
	dir, _ := filepath.Abs("../../testdata/harness")
	junit := filepath.Join(t.TempDir(), "junit.xml")
	r := nsscript(t, dir, "test", "-parallel", "2", "--junit", junit)
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{
		`(?m)^ok   demo_test.star test_reach \(\d+\.\d\ds\)$`,
		`(?m)^ok   demo_test.star test_firewall_denies \(\d+\.\d\ds\)$`,
		`(?m)^FAIL demo_test.star test_fails \(\d+\.\d\ds\)\n    demo_test.star:22:14: assert.eq: "red" != "blue"$`,
		`(?m)^skip demo_test.star test_skipped \(\d+\.\d\ds\): not on this kernel$`,
		`(?m)\n2 passed, 1 failed, 1 skipped\n$`,
	} {
		if !regexp.MustCompile(want).MatchString(r.stdout) {
			t.Errorf("output does not match %s:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "helper_not_a_test") {
		t.Errorf("a function not named test_* was run:\n%s", r.stdout)
	}
	b, err := os.ReadFile(junit)
	if err != nil {
		t.Fatal(err)
	}
	var suites struct {
		Suites []struct {
			Tests    int `xml:"tests,attr"`
			Failures int `xml:"failures,attr"`
			Skipped  int `xml:"skipped,attr"`
			Cases    []struct {
				Name    string `xml:"name,attr"`
				Failure *struct {
					Message string `xml:"message,attr"`
				} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(b, &suites); err != nil {
		t.Fatalf("junit XML: %v\n%s", err, b)
	}
	if len(suites.Suites) != 1 || suites.Suites[0].Tests != 4 || suites.Suites[0].Failures != 1 || suites.Suites[0].Skipped != 1 {
		t.Fatalf("junit counts wrong:\n%s", b)
	}
	for _, c := range suites.Suites[0].Cases {
		if (c.Failure != nil) != (c.Name == "test_fails") {
			t.Errorf("junit case %s: failure = %v", c.Name, c.Failure)
		}
		if c.Failure != nil && !strings.HasPrefix(c.Failure.Message, "demo_test.star:22:14: assert.eq:") {
			t.Errorf("junit failure message %q", c.Failure.Message)
		}
	}
}

// TestHarnessRunJSON selects tests with -run and prints one JSON object
// per test; all passing gives exit 0.
func TestHarnessRunJSON(t *testing.T) {
	dir, _ := filepath.Abs("../../testdata/harness")
	r := nsscript(t, dir, "test", "-run", "reach|denies", "--json", "demo_test.star")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 JSON lines, got:\n%s", r.stdout)
	}
	for i, name := range []string{"test_reach", "test_firewall_denies"} {
		var res struct{ File, Name, Status string }
		if err := json.Unmarshal([]byte(lines[i]), &res); err != nil {
			t.Fatalf("line %d: %v: %s", i, err, lines[i])
		}
		if res.Name != name || res.Status != "pass" || res.File != "demo_test.star" {
			t.Errorf("line %d = %+v", i, res)
		}
	}
	if !strings.Contains(r.stderr, "2 passed, 0 failed") {
		t.Errorf("stderr lacks the count line: %q", r.stderr)
	}
}

// TestExampleTests runs every *_test.star under scripts/ with the harness.
func TestExampleTests(t *testing.T) {
	dir, _ := filepath.Abs("../../scripts")
	r := nsscript(t, dir, "test")
	if r.code != 0 || !regexp.MustCompile(`(?m)^[1-9]\d* passed, 0 failed$`).MatchString(r.stdout) {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// TestHarnessNoTests: a test run that finds nothing to run fails (a CI
// job with a misnamed file or function must not pass).
func TestHarnessNoTests(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "misnamed_test.star"), []byte("def check_it():\n    pass\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "empty.star"), []byte("x = 1\n"), 0o644)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"test", "."}, "no test_* functions under ."},
		{[]string{"test", "-run", "nothing", "."}, "no test_* functions matching -run nothing"},
		{[]string{"test", "empty.star"}, "no test_* functions"},
	} {
		r := nsscript(t, dir, c.args...)
		if r.code != 1 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("nsscript %v: exit %d, want 1 and %q in:\n%s%s", c.args, r.code, c.want, r.stdout, r.stderr)
		}
	}
	sub := filepath.Join(dir, "sub")
	os.Mkdir(sub, 0o755)
	if r := nsscript(t, sub, "test"); r.code != 1 || !strings.Contains(r.stderr, "no *_test.star files under .") {
		t.Errorf("nsscript test in an empty directory: exit %d\n%s", r.code, r.stderr)
	}
}
