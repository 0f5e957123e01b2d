package runtime

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"

	"github.com/nsscript/nsscript/builtins/journal"
	"github.com/nsscript/nsscript/builtins/kernel"
	"github.com/nsscript/nsscript/builtins/plan"
)

// printRecorder turns what a planned script prints into comments of the
// plan.
type printRecorder struct{ rec *plan.Plan }

func (p printRecorder) Write(b []byte) (int, error) {
	p.rec.Print(strings.TrimSuffix(string(b), "\n"))
	return len(b), nil
}

// PlanRun runs a script against the recording backend: no kernel change,
// no root needed. It returns the recorder (what the script made, and how)
// and the script's error, if it stopped on one.
func PlanRun(file string, args map[string]string, lab string) (*plan.Plan, error) {
	if st, err := os.Stat(file); err != nil {
		return nil, err
	} else if st.IsDir() {
		return nil, fmt.Errorf("%s is a directory, not a script", file)
	}
	env, rec := planStack(lab)
	out := printRecorder{rec}
	env.Stdout = out
	pre := env.Predeclared()
	pre["args"] = argsDict(args)
	pre["struct"] = structBuiltin
	in := &Interp{Env: env, Predeclared: pre, stdout: out, modules: map[string]*module{}}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	_, err := in.ExecFile(ctx, file, nil)
	env.StopCaptures() // as a run ends: each tcpdump that stands for one is stopped
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
		ops = append(ops, plan.Stopped(head))
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

// PlanCommand is `nsscript plan FILE.star [key=value ...]`, and with
// diff `nsscript plan --diff LAB FILE.star [key=value ...]`.
func PlanCommand(words []string, lab string, diff, asJSON bool, stdout, stderr io.Writer) int {
	if diff {
		if len(words) < 2 {
			fmt.Fprintf(stderr, "nsscript plan --diff: which lab and script? nsscript plan --diff LAB FILE.star [key=value ...]\n")
			return ExitUsage
		}
		if err := CheckLab(words[0], ""); err != nil {
			fmt.Fprintf(stderr, "nsscript plan --diff: %v\n", err)
			return ExitUsage
		}
		lab, words = words[0], words[1:]
	}
	file, args, ok := scriptArgs("plan", words, stderr)
	if !ok {
		return ExitUsage
	}
	if lab == "" {
		lab = LabName(file)
	}
	if diff {
		return PlanDiff(lab, file, args, asJSON, stdout, stderr)
	}
	return Plan(file, args, lab, asJSON, stdout, stderr)
}

// liveSysctl reports whether item is a sysctl that holds that value now
// (one the lab did not set: the machine had it so), which a run would
// not change.
func liveSysctl(k kernel.Reader, item string) bool {
	f := strings.Fields(item)
	if len(f) != 3 || f[0] != "sysctl" {
		return false
	}
	key, value, _ := strings.Cut(f[2], "=")
	ns := k.Host()
	if f[1] != "host" {
		var err error
		if ns, err = k.OpenNamed(f[1]); err != nil {
			return false
		}
	}
	v, err := k.ReadSysctl(ns, key)
	return err == nil && v == value
}

// PlanDiff prints what a run of the script as lab would add to what the
// lab holds now ("+ ...") and remove from it ("- ..."), object by object.
// The script runs in the plan's model (nothing changes); the lab is read
// from its journal and the live kernel.
func PlanDiff(lab, file string, args map[string]string, asJSON bool, stdout, stderr io.Writer) int {
	rec, err := PlanRun(file, args, lab)
	if rec == nil {
		fmt.Fprintf(stderr, "nsscript plan --diff: %v\n", err)
		return ExitUsage
	}
	if err != nil {
		fmt.Fprintln(stderr, FormatError(err))
		fmt.Fprintf(stderr, "nsscript plan --diff: the script stopped there in the plan's model of a fresh host (which has none of this machine's own devices): no diff\n")
		return ExitError
	}
	k, err := hostReader()
	if err != nil {
		fmt.Fprintf(stderr, "nsscript plan --diff: %v\n", err)
		return ExitError
	}
	have, err := journal.Inventory(k, lab)
	if err != nil {
		fmt.Fprintf(stderr, "nsscript plan --diff: %v\n", rootsJournal(err, "plan --diff "+lab+" "+file, lab))
		return ExitError
	}
	want := rec.Model.Inventory()
	add, remove := []string{}, []string{}
	in := func(xs []string, x string) bool { _, ok := slices.BinarySearch(xs, x); return ok }
	for _, w := range want {
		if !in(have, w) && !liveSysctl(k, w) {
			add = append(add, w)
		}
	}
	for _, h := range have {
		if !in(want, h) {
			remove = append(remove, h)
		}
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(map[string][]string{"add": add, "remove": remove}); err != nil {
			return ExitError
		}
		return ExitOK
	}
	if len(add)+len(remove) == 0 {
		fmt.Fprintf(stdout, "# lab %s holds what %s declares: a run changes nothing\n", lab, file)
		return ExitOK
	}
	fmt.Fprintf(stdout, "# a run of %s as lab %s would add (+) and remove (-):\n", file, lab)
	for _, a := range add {
		fmt.Fprintln(stdout, "+ "+a)
	}
	for _, r := range remove {
		fmt.Fprintln(stdout, "- "+r)
	}
	return ExitOK
}
