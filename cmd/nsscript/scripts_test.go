package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestScripts runs every script under scripts/ in its own sandbox: each
// one checks itself with assert, so exit 0 means it did what it teaches.
func TestScripts(t *testing.T) {
	root, err := filepath.Abs("../../scripts")
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		if err == nil && strings.HasSuffix(p, ".star") && !strings.HasSuffix(p, "_test.star") {
			files = append(files, p)
		}
		return nil
	})
	if len(files) == 0 {
		t.Fatal("no scripts found under scripts/")
	}
	for _, f := range files {
		rel, _ := filepath.Rel(root, f)
		t.Run(rel, func(t *testing.T) {
			r := nsscript(t, filepath.Dir(f), "--sandbox", filepath.Base(f))
			if r.code != 0 {
				t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
			}
		})
	}
}
