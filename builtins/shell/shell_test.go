package shell

import (
	"os/exec"
	"testing"
)

func TestQuote(t *testing.T) {
	for w, want := range map[string]string{
		"":             "''",
		"eth0":         "eth0",
		"!":            "!",
		"a b":          "'a b'",
		"it's":         `'it'\''s'`,
		"10.0.0.1/24":  "10.0.0.1/24",
		"$HOME":        "'$HOME'",
		"a!b":          "'a!b'",
		"--comment=x%": "--comment=x%",
	} {
		if got := Quote(w); got != want {
			t.Errorf("Quote(%q) = %s, want %s", w, got, want)
		}
	}
}

// TestJoinRoundTrip: sh splits a joined line back into the same words.
func TestJoinRoundTrip(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh on PATH to split the line")
	}
	words := []string{"", "a b", "it's", `"q"`, "$x", "`id`", "a\nb", "*", "!", "\\", "é"}
	out, err := exec.Command("sh", "-c", `for w in `+Join(words)+`; do printf '%s\0' "$w"; done`).Output()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	start := 0
	for i, c := range out {
		if c == 0 {
			got = append(got, string(out[start:i]))
			start = i + 1
		}
	}
	if len(got) != len(words) {
		t.Fatalf("sh split %q into %q", Join(words), got)
	}
	for i := range words {
		if got[i] != words[i] {
			t.Errorf("word %d: sh read %q, want %q (line %s)", i, got[i], words[i], Join(words))
		}
	}
}
