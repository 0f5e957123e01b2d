// Package quietlog silences the standard logger while packages
// initialize: go.starlark.net logs a warning at start-up when it cannot
// reserve address space for its small integers (under `ulimit -v`),
// which is no concern of nsscript's users. Go initializes the packages
// of a program in the order of their import paths, when their own
// imports are ready, so this one (which imports only the standard
// library, and whose path sorts before go.starlark.net) runs first.
// main calls Restore.
package quietlog

import (
	"io"
	"log"
	"os"
)

func init() { log.SetOutput(io.Discard) }

// Restore gives the standard logger its output back.
func Restore() { log.SetOutput(os.Stderr) }
