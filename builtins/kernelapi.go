package builtins

import (
	"time"

	"github.com/nsscript/nsscript/builtins/kernel"
)

// The builtins talk to a kernel.Kernel (the real one, or the plan's
// model, with the journal and the tracer between): see kernel/api.go.
// What a lab made, which the kernel cannot know, they ask of Ownership.

// Ownership is what the lab knows of what it made (the journal): a
// script deletes only the lab's, finds the lab's devices where earlier
// runs left them, and adopts the lab's daemons instead of starting them
// again.
type Ownership interface {
	// Mine reports whether the lab made the device name in ns (or the
	// namespace itself, with name ""): a script deletes only that.
	Mine(ns *kernel.NS, name string) bool
	// Locate says where a device the lab made (or moved) as name in ns is
	// now: moved, renamed. Anything else is where it is asked for.
	Locate(ns *kernel.NS, name string) (*kernel.NS, string)
	// Replaceable reports whether the device is the lab's, made by an
	// earlier run and not met yet by this one: a re-run of an edited
	// script may make it again the way the script wants it now.
	Replaceable(ns *kernel.NS, name string) bool
	// Declare tells the lab what a creation call wants of its device,
	// asked for as name in ns and found at index in at: made now
	// (fresh), or made by an earlier run. It reports whether to configure
	// the device now: not when an earlier run moved it away from ns (a
	// run from nothing would make it in ns, where a move would take all
	// that from it): the lab then configures it when the run ends, if the
	// run no longer moves it. For an earlier run's device it undoes first
	// what that run's call wanted and this one does not (a bridge, an
	// MTU, up).
	Declare(ns *kernel.NS, name string, at *kernel.NS, index int, fresh bool, w kernel.Want) (now bool, err error)
	// FindProcess finds a running background command the lab started
	// before with that argv and environment, to adopt instead of starting
	// it again.
	FindProcess(ns *kernel.NS, argv, env []string) (kernel.ProcInfo, bool)
}

// NoLab is the Ownership of a run without a journal (a plan, a test of
// the builtins): everything there is the script's, where it was made,
// and nothing is adopted or replaced.
type NoLab struct{}

func (NoLab) Mine(*kernel.NS, string) bool                           { return true }
func (NoLab) Locate(ns *kernel.NS, name string) (*kernel.NS, string) { return ns, name }
func (NoLab) Replaceable(*kernel.NS, string) bool                    { return false }
func (NoLab) Declare(*kernel.NS, string, *kernel.NS, int, bool, kernel.Want) (bool, error) {
	return true, nil
}
func (NoLab) FindProcess(*kernel.NS, []string, []string) (kernel.ProcInfo, bool) {
	return kernel.ProcInfo{}, false
}

// Planner stands in for what a plan cannot do on its model of the kernel
// (`nsscript plan`): nothing runs and no packet is sent. The builtins
// that observe the network or processes ask it instead:
//   - exec runs nothing: a command gives an empty, successful Result
//     (with check=False a failed one: code 1, since the script is ready
//     for that), and a background command a Process that runs until it
//     is killed;
//   - ping and assert.reachable/unreachable succeed without effect;
//   - a check that fails (assert.*, fail) is recorded instead of stopping
//     the script, since what it looked at may be a command's output;
//   - sleep takes no time.
//
// Each of these leaves a comment in the plan.
type Planner interface {
	// Note records a comment: a check that was not evaluated.
	Note(text string)
	// Exec records a command started in ns (argv, the environment the
	// script added, its stdin) and returns the pid of the (pretend)
	// process.
	Exec(ns *kernel.NS, argv, env []string, stdin []byte, background, check bool) int
	// Kill records a signal sent to a process Exec started; it ends it
	// unless the signal is STOP or CONT ("": it ended on its own).
	Kill(pid int, signal string)
	// Alive reports whether a process Exec started still runs in the plan
	// (a command like `kill PID` may have ended it).
	Alive(pid int) bool
	// Sleep advances the plan's clock; it fails when a script has waited
	// so long that it is likely polling for something a plan cannot see.
	Sleep(d time.Duration) error
	// Checkpoint marks the state; calling what it returns undoes every
	// change recorded since (for assert.fails, whose call a plan cannot
	// always see fail).
	Checkpoint() (restore func())
}
