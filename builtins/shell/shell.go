// Package shell quotes words for sh: the one quoter behind every command
// nsscript shows (plans, traces, messages).
package shell

import "strings"

// safe are the characters a word may hold and still need no quotes.
const safe = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=,+@%^"

// Plain reports whether s is made only of characters that need no quotes.
func Plain(s string) bool { return s != "" && strings.Trim(s, safe) == "" }

// Quote quotes a word for sh when it needs it.
func Quote(w string) string {
	if w == "!" {
		return w // a word of its own is no history expansion, nor a pipeline's negation
	}
	if Plain(w) {
		return w
	}
	return "'" + strings.ReplaceAll(w, "'", `'\''`) + "'"
}

// Join quotes each word and joins them with blanks.
func Join(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = Quote(w)
	}
	return strings.Join(q, " ")
}
