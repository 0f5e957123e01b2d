package runtime

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/nsscript/nsscript/builtins"
	"github.com/nsscript/nsscript/builtins/plan"
)

// printRecorder turns what a planned script prints into comments of the
// plan.
type printRecorder struct{ rec *plan.Recorder }

func (p printRecorder) Write(b []byte) (int, error) {
	p.rec.Print(strings.TrimSuffix(string(b), "\n"))
	return len(b), nil
}

// PlanRun runs a script against the recording backend: no kernel change,
// no root needed. It returns the recorder (what the script made, and how)
// and the script's error, if it stopped on one.
func PlanRun(file string, args map[string]string, lab string) (*plan.Recorder, error) {
	if st, err := os.Stat(file); err != nil {
		return nil, err
	} else if st.IsDir() {
		return nil, fmt.Errorf("%s is a directory, not a script", file)
	}
	rec := plan.NewRecorder(lab)
	env := builtins.NewEnvWith(rec, lab)
	out := printRecorder{rec}
	env.Stdout = out
	pre := env.Predeclared()
	pre["args"] = argsDict(args)
	in := &Interp{Env: env, Predeclared: pre, stdout: out, modules: map[string]*module{}}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	_, err := in.ExecFile(ctx, file, nil)
	return rec, err
}

// Plan prints the shell script (or, asJSON, the operations) equivalent to
// a script: `nsscript plan FILE.star [key=value ...]`. A script that stops
// on an error gets the plan up to there, and exit code 1.
func Plan(file string, args map[string]string, lab string, asJSON bool, stdout, stderr io.Writer) int {
	rec, err := PlanRun(file, args, lab)
	if rec == nil {
		fmt.Fprintf(stderr, "nsscript plan: %v\n", err)
		return ExitUsage
	}
	ops := rec.Ops()
	if err != nil {
		msg := FormatError(err)
		fmt.Fprintln(stderr, msg)
		fmt.Fprintf(stderr, "nsscript plan: the script stopped there; the plan holds what it did until then\n")
		head := strings.SplitN(msg, "\n", 2)[0]
		ops = append(ops, plan.Op{Op: "error", Text: head, Cmd: "# the script stopped here: " + head + "\nexit 1"})
	}
	if asJSON {
		if werr := plan.WriteJSON(stdout, ops); werr != nil {
			return ExitError
		}
	} else if werr := plan.WriteScript(stdout, file, lab, ops); werr != nil {
		return ExitError
	}
	if err != nil {
		return ExitError
	}
	return ExitOK
}

// scriptArgs splits FILE key=value ... for plan and graph.
func scriptArgs(cmd string, words []string, stderr io.Writer) (string, map[string]string, bool) {
	if len(words) == 0 {
		fmt.Fprintf(stderr, "nsscript %s: which script? nsscript %s FILE.star [key=value ...]\n", cmd, cmd)
		return "", nil, false
	}
	args := map[string]string{}
	for _, w := range words[1:] {
		k, v, ok := strings.Cut(w, "=")
		if !ok || k == "" {
			fmt.Fprintf(stderr, "nsscript %s: argument %q is not key=value: a script's arguments are key=value pairs, e.g. hosts=10\n", cmd, w)
			return "", nil, false
		}
		args[k] = v
	}
	return words[0], args, true
}

// PlanCommand is `nsscript plan FILE.star [key=value ...]`.
func PlanCommand(words []string, lab string, asJSON bool, stdout, stderr io.Writer) int {
	file, args, ok := scriptArgs("plan", words, stderr)
	if !ok {
		return ExitUsage
	}
	if lab == "" {
		lab = LabName(file)
	}
	return Plan(file, args, lab, asJSON, stdout, stderr)
}
