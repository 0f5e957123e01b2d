package builtins

import (
	"reflect"
	"strings"
	"testing"
)

// A rule string is split as sh splits a simple command, and refused where
// sh would drop or reinterpret part of it (issue: `--comment web&api -j
// ACCEPT` became `--comment web`).
func TestSplitWords(t *testing.T) {
	for in, want := range map[string][]string{
		"-p tcp --dport 80 -j ACCEPT":   {"-p", "tcp", "--dport", "80", "-j", "ACCEPT"},
		"--comment 'web&api' -j ACCEPT": {"--comment", "web&api", "-j", "ACCEPT"},
		`--comment "a b\"c" -j X`:       {"--comment", `a b"c`, "-j", "X"},
		`! -o v-net-0`:                  {"!", "-o", "v-net-0"},
		`a\ b`:                          {"a b"},
		`x'' y`:                         {"x", "y"},
		`--comment a#b`:                 {"--comment", "a#b"},
		"  -s\t10.0.0.0/8\n":            {"-s", "10.0.0.0/8"},
	} {
		got, err := splitWords(in)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("splitWords(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for in, what := range map[string]string{
		"--comment web&api -j ACCEPT": "'&' at byte 14",
		"-j ACCEPT; rm -rf /":         "';' at byte 10",
		"-j ACCEPT | cat":             "'|'",
		"-j LOG > /tmp/x":             "'>'",
		"--comment 'x":                "quote ' at byte 11 is not closed",
		`--comment "x`:                `quote " at byte 11 is not closed`,
		"-j ACCEPT #note":             "'#'",
		"--comment $(id)":             "'$'",
		"--comment `id`":              "'`'",
		"--comment a*":                "'*'",
		`--comment "$HOME"`:           "substitution",
	} {
		got, err := splitWords(in)
		if err == nil {
			t.Errorf("splitWords(%q) = %q, want an error", in, got)
		} else if !strings.Contains(err.Error(), what) || !strings.Contains(err.Error(), "list") {
			t.Errorf("splitWords(%q): %v; want it to name %s and say to pass a list", in, err, what)
		}
	}
}
