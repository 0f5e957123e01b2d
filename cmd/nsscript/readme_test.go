package main

import (
	"os"
	"strings"
	"testing"

	"github.com/nsscript/nsscript/builtins"
)

const (
	refBegin = "<!-- reference: made by TestReadmeReference from the help tables; NSSCRIPT_WRITE_README=1 go test ./cmd/nsscript -run TestReadmeReference rewrites it -->\n"
	refEnd   = "<!-- end of reference -->\n"
)

// reference is the README's reference section: the command line, then
// every builtin, module function, value and method, as help() knows them.
func reference() string {
	var b strings.Builder
	b.WriteString(refBegin)
	b.WriteString("#### Command line\n\n```\n" + usage + "```\n\n")
	b.WriteString("#### Names every script sees besides the builtins\n\n" +
		"| name | what it is |\n|---|---|\n" +
		"| `args` | the command line's `key=value` arguments, a dict of str |\n" +
		"| `print(*args)` | writes a line to stdout |\n" +
		"| `fail(*args)` | stops the script with an error (exit 1, and a rollback) |\n" +
		"| `load(\"lib.star\", \"name\", ...)` | a module, relative to the loading file, never outside the main script's directory tree; `\"@nsscript/topo.star\"` is a library built into nsscript |\n" +
		"| `struct(**fields)` | a value with the fields as attributes: `struct(a = 1).a` |\n" +
		"| `topo` | in a `-c` program: Mininet's topologies, as `load(\"@nsscript/topo.star\", \"topo\")` gives them |\n" +
		"| `show(x, ...)` | prints values as the REPL shows them: a namespace as `ip -br addr` and its routes |\n" +
		"| `skip(reason)` | in a test function (`nsscript test`): skips the test |\n" +
		"| `help(x)`, `save(path)`, `shell(ns)` | in the REPL: how to call x; write the session as a script; an interactive shell in ns on the terminal, until it exits |\n\n")
	b.WriteString(builtins.Reference())
	b.WriteString(refEnd)
	return b.String()
}

// TestReadmeReference: the README's reference is the one made from the
// table of builtins (builtins/table.go), as help() is.
func TestReadmeReference(t *testing.T) {
	const path = "../../README.md"
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i, j := strings.Index(s, refBegin), strings.Index(s, refEnd)
	if i < 0 || j < i {
		t.Fatalf("README.md has no reference section (%q ... %q)", refBegin, refEnd)
	}
	want := reference()
	if s[i:j+len(refEnd)] == want {
		return
	}
	if os.Getenv("NSSCRIPT_WRITE_README") == "1" {
		if err := os.WriteFile(path, []byte(s[:i]+want+s[j+len(refEnd):]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("README.md's reference differs from the table of builtins: run NSSCRIPT_WRITE_README=1 go test ./cmd/nsscript -run TestReadmeReference")
}
