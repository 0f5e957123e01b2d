package runtime

import (
	"fmt"
	"io"

	"github.com/nsscript/nsscript/builtins/kernel"
	"github.com/nsscript/nsscript/runtime/doctor"
)

// Doctor is `nsscript doctor [--json]`: what on this machine changes how
// labs behave; exit 0 when nothing blocks labs, 1 when something does.
func Doctor(words []string, asJSON bool, stdout, stderr io.Writer) int {
	k, err := kernel.New()
	if err != nil {
		fmt.Fprintf(stderr, "nsscript doctor: %v\n", err)
		return ExitError
	}
	return doctor.Command(doctor.Machine{K: k}, words, asJSON, stdout, stderr)
}
