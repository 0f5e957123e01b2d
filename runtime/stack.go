package runtime

import (
	"io"

	"github.com/nsscript/nsscript/builtins"
	"github.com/nsscript/nsscript/builtins/journal"
	"github.com/nsscript/nsscript/builtins/kernel"
	"github.com/nsscript/nsscript/builtins/plan"
)

// The kernel stacks, built here and nowhere else. A run's builtins talk
// to the journal, which records each change before it is made; under
// --trace a tracer between the journal and the kernel prints each change
// that reaches the kernel (the run's, its rollback's, its prune's):
//
//	builtins → journal → [tracer] → kernel.Linux
//
// A plan's builtins talk to a recorder over a kernel in memory, and ask
// the plan for what it cannot do (run commands, send packets):
//
//	builtins → recorder → model        (plan.New)
//
// `down` undoes through [tracer] → kernel.Linux; ls, graph and plan
// --diff read kernel.Linux.

// hostKernel is the real kernel, with the tracer above it when trace is
// set: what undo works through.
func hostKernel(trace io.Writer) (kernel.Kernel, error) {
	k, err := kernel.New()
	if err != nil {
		return nil, err
	}
	if trace != nil {
		return plan.NewTracer(k, trace), nil
	}
	return k, nil
}

// hostReader is the real kernel, for what only reads it (ls, graph of a
// lab, plan --diff).
func hostReader() (kernel.Reader, error) { return kernel.New() }

// runStack builds a run's stack for lab: the builtins' Env, the journal,
// and the kernel under the journal (for undo).
func runStack(lab string, trace io.Writer) (*builtins.Env, *journal.Kernel, kernel.Kernel, error) {
	under, err := hostKernel(trace)
	if err != nil {
		return nil, nil, nil, err
	}
	j, err := journal.Open(under, lab)
	if err != nil {
		return nil, nil, nil, err
	}
	return builtins.NewEnv(lab, j, j, nil), j, under, nil
}

// planStack builds a plan's stack: the builtins' Env over plan p.
func planStack(lab string) (*builtins.Env, *plan.Plan) {
	p := plan.New()
	return builtins.NewEnv(lab, p, nil, p), p
}
