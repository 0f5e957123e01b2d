package runtime

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/nsscript/nsscript/builtins"
	"github.com/nsscript/nsscript/builtins/journal"
	"github.com/nsscript/nsscript/builtins/kernel"
	"github.com/nsscript/nsscript/builtins/names"
)

// `nsscript shell` and `nsscript exec` go into a namespace of a lab from
// outside it: a lab of this host's (its journal names its namespaces) or
// one running in a sandbox (its init names the lab, see kernel.Sandboxes;
// the sandbox's own /run/netns names its namespaces). A lab word is LAB,
// LAB@PID (the lab in sandbox PID, when several sandboxes run one of that
// name) or LAB@host (this host's, when a sandbox runs one of that name
// too).

// labSel is a lab word taken apart: the lab's name, and which of those of
// that name ("" any, "host", or a sandbox's pid).
type labSel struct {
	lab, sel string
}

// parseLabSel checks a lab word; a bad one is a usage error.
func parseLabSel(word string) (labSel, error) {
	lab, sel, _ := strings.Cut(word, "@")
	if err := names.Lab(lab); err != nil {
		return labSel{}, err
	}
	if sel != "" && sel != "host" {
		pid, err := strconv.Atoi(sel)
		if err != nil || pid <= 1 {
			return labSel{}, fmt.Errorf("%q: after the lab name, @ takes the pid of its sandbox (nsscript ls shows it) or host, like %s@host", word, lab)
		}
		sel = strconv.Itoa(pid) // the pid as ls shows it: 0123 and +123 are 123
	}
	return labSel{lab, sel}, nil
}

func (s labSel) host() bool { return s.sel == "" || s.sel == "host" }

func (s labSel) sandbox(info kernel.SandboxInfo) bool {
	return info.Lab == s.lab && (s.sel == "" || s.sel == strconv.Itoa(info.Pid))
}

// matches reports whether the lab word means p.
func (s labSel) matches(p place) bool {
	if p.sandbox == nil {
		return p.lab == s.lab && s.host()
	}
	return s.sandbox(*p.sandbox)
}

// place is a lab a command can go into: this host's or a sandbox's.
type place struct {
	lab     string
	sandbox *kernel.SandboxInfo // nil: this host's
	missing string              // the pid of a LAB@PID that runs in no sandbox (see chosenPlaces)
}

func (p place) String() string {
	if p.sandbox == nil {
		return p.lab + "@host"
	}
	return fmt.Sprintf("%s@%d", p.lab, p.sandbox.Pid)
}

// namespaces opens the place's namespaces, "host" first (the host's own,
// or the sandbox's), then its named ones; close releases what was opened.
func (p place) namespaces(k kernel.Kernel) (nss map[string]*kernel.NS, close func(), err error) {
	nss = map[string]*kernel.NS{}
	if p.sandbox == nil {
		named, _, err := journal.Namespaces(k, p.lab)
		if err != nil {
			return nil, nil, err
		}
		for n, ns := range named {
			nss[n] = ns
		}
		nss["host"] = k.Host()
		return nss, func() {}, nil
	}
	sb, err := k.OpenSandbox(*p.sandbox)
	if err != nil {
		return nil, nil, err
	}
	named, err := sb.ListNamed()
	for _, n := range named {
		if ns, err := sb.OpenNamed(n); err == nil {
			nss[n] = ns
		}
	}
	nss["host"] = sb.Host()
	return nss, sb.Close, err
}

// places lists the labs a lab word may mean, on this host and in the
// running sandboxes; with no word, every lab.
func places(k kernel.Reader, want *labSel) ([]place, error) {
	var out []place
	labs, err := journal.Labs()
	if err != nil {
		return nil, err
	}
	for _, lab := range labs {
		if p := (place{lab: lab}); want == nil || want.matches(p) {
			out = append(out, p)
		}
	}
	sbs, err := k.Sandboxes()
	if err != nil {
		return nil, err
	}
	for i := range sbs {
		if p := (place{lab: sbs[i].Lab, sandbox: &sbs[i]}); want == nil || want.matches(p) {
			out = append(out, p)
		}
	}
	return out, nil
}

// errAmbiguous: a lab word names several labs (see ambiguous).
var errAmbiguous = errors.New("several labs have that name")

type ambiguousError struct{ msg string }

func (e *ambiguousError) Error() string   { return e.msg }
func (e *ambiguousError) Is(t error) bool { return t == errAmbiguous }

// ambiguous says that ps, all of the one name, are several, and how to
// pick one.
func ambiguous(ps []place) error {
	var which []string
	for _, p := range ps {
		which = append(which, p.String())
	}
	return &ambiguousError{fmt.Sprintf("%d labs are named %s (%s): name one of them (nsscript ls lists them)",
		len(ps), ps[0].lab, strings.Join(which, ", "))}
}

// chosenPlaces is what down does with its lab words: each the one lab it
// names (several is an error, before anything is done), or this host's
// when there is none, or a missing sandbox of LAB@PID; with no words,
// every lab.
func chosenPlaces(k kernel.Reader, sels []labSel) ([]place, error) {
	if len(sels) == 0 {
		return places(k, nil)
	}
	var out []place
	var errs []error
	for _, sel := range sels {
		ps, err := places(k, &sel)
		switch {
		case err != nil:
			return nil, err
		case len(ps) > 1 && sel.sel == "":
			errs = append(errs, ambiguous(ps))
		case len(ps) == 0 && sel.host():
			out = append(out, place{lab: sel.lab})
		case len(ps) == 0:
			out = append(out, place{lab: sel.lab, missing: sel.sel})
		default:
			out = append(out, ps...)
		}
	}
	return out, errors.Join(errs...)
}

// Into runs argv (nil: the user's shell, interactively) in a namespace of
// a lab and returns its exit code. words are [LAB] NS; without LAB, the
// lab is the one that has NS. what is the subcommand, for messages. A
// bad word, or a lab or namespace that is not there, is a usage error,
// found before anything runs.
func Into(what string, words, argv []string, stdin *os.File, stdout, stderr io.Writer) int {
	fail := func(code int, format string, args ...any) int {
		fmt.Fprintf(stderr, "nsscript %s: "+format+"\n", append([]any{what}, args...)...)
		return code
	}
	if len(words) < 1 || len(words) > 2 {
		cmd := ""
		if argv != nil {
			cmd = " -- CMD [ARG ...]"
		}
		return fail(ExitUsage, "which namespace? nsscript %s [LAB] NS%s (NS: a namespace of the lab's, or host)", what, cmd)
	}
	lab, ns := "", words[len(words)-1]
	var want *labSel
	if len(words) == 2 {
		lab = words[0]
		sel, err := parseLabSel(lab)
		if err != nil {
			return fail(ExitUsage, "%v", err)
		}
		want = &sel
	}
	if ns != "host" {
		if err := names.Netns(ns); err != nil {
			return fail(ExitUsage, "%v", err)
		}
	}
	k, err := hostKernel(nil)
	if err != nil {
		return fail(ExitError, "%v", err)
	}
	cands, err := places(k, want)
	if err != nil {
		return fail(ExitError, "%v", err)
	}
	// The candidates that have the namespace.
	var (
		found    []place
		target   *kernel.NS
		closeAll []func()
		has      []string
	)
	defer func() {
		for _, c := range closeAll {
			c()
		}
	}()
	privileged, rootsLabs := kernel.Privileged(), false
	for _, p := range cands {
		if p.sandbox == nil && !privileged {
			// This host's: root's to go into.
			if want != nil {
				cmd := ""
				if argv != nil {
					cmd = " -- " + strings.Join(argv, " ")
				}
				return fail(ExitError, "lab %s is on this host, and going into its namespaces needs root: sudo nsscript %s %s %s%s (a lab run with --sandbox, which needs no root, is yours to go into)", p.lab, what, p.lab, ns, cmd)
			}
			rootsLabs = true
			continue
		}
		nss, closeFn, err := p.namespaces(k)
		if err != nil {
			if want != nil {
				return fail(ExitError, "lab %s: %v", p, err)
			}
			continue
		}
		closeAll = append(closeAll, closeFn)
		if t, ok := nss[ns]; ok {
			found, target = append(found, p), t
		}
		for n := range nss {
			if !slices.Contains(has, n) {
				has = append(has, n)
			}
		}
	}
	slices.Sort(has)
	switch {
	case len(cands) == 0 && want != nil:
		return fail(ExitUsage, "there is no lab %q on this host, nor in a running sandbox: nsscript ls lists the labs", lab)
	case len(cands) == 0:
		return fail(ExitUsage, "there is no lab on this host, nor in a running sandbox: run a script first (nsscript ls lists the labs)")
	case len(found) == 0 && want != nil:
		return fail(ExitUsage, "lab %s has no namespace %q: it has %s", lab, ns, strings.Join(has, ", "))
	case len(found) == 0 && rootsLabs:
		return fail(ExitUsage, "no lab of yours has a namespace %q (the labs on this host are root's: sudo nsscript %s ...); nsscript ls lists the labs", ns, what)
	case len(found) == 0:
		if sel, err := parseLabSel(ns); err == nil {
			if ps, _ := places(k, &sel); len(ps) > 0 {
				// The one word was a lab's name: the namespace is missing.
				return fail(ExitUsage, "%s is a lab: name one of its namespaces too, as in nsscript %s %s host (nsscript ls %s lists them)", ns, what, ns, sel.lab)
			}
		}
		return fail(ExitUsage, "no lab has a namespace %q: name the lab (nsscript %s LAB NS); nsscript ls lists the labs", ns, what)
	case len(found) > 1 && want != nil:
		return fail(ExitUsage, "%v", ambiguous(found))
	case len(found) > 1:
		var which []string
		for _, p := range found {
			which = append(which, p.String())
		}
		return fail(ExitUsage, "%d labs have a namespace %q (%s): name one of them, as in nsscript %s %s %s (nsscript ls lists them)",
			len(found), ns, strings.Join(which, ", "), what, found[0], ns)
	}
	p := found[0]
	switch {
	case p.sandbox != nil && p.sandbox.Rootless && kernel.EnteredUserns():
		return fail(ExitError, "lab %s: in the user namespace of its sandbox, and still outside it", p)
	case p.sandbox != nil && p.sandbox.Rootless:
		// A sandbox made without root: in its user namespace first,
		// where this runs again (see kernel.EnterSandboxUserns).
		args := []string{what, p.String(), ns}
		if argv != nil {
			args = append(append(args, "--"), argv...)
		}
		return fail(ExitError, "lab %s: %v", p, kernel.EnterSandboxUserns(*p.sandbox, args))
	}
	if argv == nil {
		argv = builtins.UserShell()
		where := "on this host"
		if p.sandbox != nil {
			where = fmt.Sprintf("in sandbox %d", p.sandbox.Pid)
		}
		fmt.Fprintf(stderr, "nsscript: %s in namespace %s of lab %s (%s); exit leaves it\n", argv[0], ns, p.lab, where)
	}
	out, doneOut, err := fileOf(stdout)
	if err != nil {
		return fail(ExitError, "%v", err)
	}
	defer doneOut()
	errf, doneErr, err := fileOf(stderr)
	if err != nil {
		return fail(ExitError, "%v", err)
	}
	defer doneErr()
	code, err := builtins.Interactive(k, target, argv, os.Environ(), kernel.Stdio{In: stdin, Out: out, Err: errf})
	if err != nil {
		// As env and chroot: 127 when there is no such command, 126
		// when it cannot be run.
		code := 126
		if errors.Is(err, exec.ErrNotFound) || errors.Is(err, fs.ErrNotExist) {
			code = 127
		}
		return fail(code, "cannot run %q in namespace %s of lab %s: %v", argv[0], ns, p, err)
	}
	return code
}

// fileOf is w as a file a command can write to: w itself, or a pipe
// copied to w until done is called.
func fileOf(w io.Writer) (f *os.File, done func(), err error) {
	if f, ok := w.(*os.File); ok {
		return f, func() {}, nil
	}
	r, pw, err := os.Pipe()
	if err != nil {
		return nil, nil, err
	}
	copied := make(chan struct{})
	go func() {
		_, _ = io.Copy(w, r)
		r.Close()
		close(copied)
	}()
	return pw, func() { pw.Close(); <-copied }, nil
}

// holdSignals are the signals that end a held sandbox (see hold), caught
// from the start of the run: one that comes while the script runs
// interrupts the script and ends the hold as well. nil when not held.
func holdSignals(held bool) chan os.Signal {
	if !held {
		return nil
	}
	c := make(chan os.Signal, 1)
	signal.Notify(c, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT)
	return c
}

// hold keeps a sandbox alive after its script (--sandbox --keep): it says
// how to go in and how to end it, and waits for Ctrl-C, SIGTERM or SIGHUP
// (nsscript down LAB sends the sandbox SIGTERM), unless one came already.
func hold(k kernel.Reader, opts Options, held chan os.Signal) {
	// One Ctrl-C reaches this process more than once (from the terminal,
	// and passed on by the sandbox's init and the nsscript outside it):
	// once it has ended the hold, the copies that follow must not kill
	// the exit (128+SIGINT instead of 0).
	defer signal.Ignore(os.Interrupt, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT)
	select {
	case <-held:
		return
	default:
	}
	nss, _ := k.ListNamed()
	ns := "host"
	if len(nss) > 0 {
		ns = nss[0]
	}
	lab, which := opts.Lab, ""
	if pid := kernel.SandboxPid(); pid != 0 {
		which = fmt.Sprintf(" in sandbox %d (%s@%d names it if another lab is named %s too)", pid, lab, pid, lab)
	}
	fmt.Fprintf(opts.Stderr, "nsscript: --keep: the sandbox stays, with lab %s%s; its namespaces: %s\n",
		lab, which, strings.Join(append([]string{"host"}, nss...), ", "))
	fmt.Fprintf(opts.Stderr, "nsscript: a shell in one:     nsscript shell %s %s\n", lab, ns)
	fmt.Fprintf(opts.Stderr, "nsscript: a command in one:   nsscript exec %s %s -- CMD [ARG ...]\n", lab, ns)
	fmt.Fprintf(opts.Stderr, "nsscript: end it:             Ctrl-C here, or nsscript down %s\n", lab)
	<-held
}
