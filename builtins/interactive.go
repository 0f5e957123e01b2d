package builtins

import (
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/term"

	"github.com/nsscript/nsscript/builtins/kernel"
)

// UserShell is the command of an interactive shell: $SHELL, else /bin/sh.
func UserShell() []string {
	if sh := os.Getenv("SHELL"); sh != "" {
		return []string{sh}
	}
	return []string{"/bin/sh"}
}

// Interactive runs argv in ns with stdio and waits for it, the way a
// command runs at a shell prompt: when stdio.In is a terminal nsscript has
// in its foreground, the command takes it (stdio.Terminal) until it ends,
// and the terminal's modes are put back after it (a shell killed in raw
// mode leaves them so). Signals nsscript gets meanwhile are passed on to
// the command's process group. It returns the command's exit code, 128+N
// for a command that signal N ended. (nsscript shell and exec, and the
// REPL's shell().)
func Interactive(k kernel.Writer, ns *kernel.NS, argv, env []string, stdio kernel.Stdio) (int, error) {
	if _, err := kernel.LookPath(argv[0], env); err != nil {
		return -1, err
	}
	var saved *term.State
	if stdio.In != nil && kernel.InForeground(stdio.In) {
		stdio.Terminal = stdio.In
		saved, _ = term.GetState(int(stdio.In.Fd()))
	}
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT)
	defer signal.Stop(sigs)
	cmd, err := k.Start(ns, argv, env, stdio)
	if err != nil {
		return -1, unwrapExec(err)
	}
	done := make(chan struct{})
	go func() {
		for {
			select {
			case s := <-sigs:
				_ = k.Signal(-cmd.Process.Pid, s.(syscall.Signal))
			case <-done:
				return
			}
		}
	}()
	err = cmd.Wait()
	close(done)
	if stdio.Terminal != nil {
		kernel.ReclaimTerminal(stdio.Terminal)
		if saved != nil {
			_ = term.Restore(int(stdio.Terminal.Fd()), saved)
		}
	}
	return exitCode(cmd, err), nil
}
