package kernel

import (
	"os"
	"os/signal"

	"golang.org/x/sys/unix"
)

// InForeground reports whether tty is a terminal whose foreground process
// group is nsscript's own: only then may a command take it (Stdio.Terminal).
// A group outside nsscript's PID namespace has no number there (0), and
// could not be named to take the terminal back: that is no.
func InForeground(tty *os.File) bool {
	if tty == nil {
		return false
	}
	fg, err := unix.IoctlGetInt(int(tty.Fd()), unix.TIOCGPGRP)
	return err == nil && fg > 0 && fg == unix.Getpgrp()
}

// ReclaimTerminal makes nsscript's process group the foreground one of tty
// again, after a command that took it (Stdio.Terminal) has ended. From a
// background group the kernel answers that with SIGTTOU, which would stop
// nsscript: it is ignored meanwhile.
func ReclaimTerminal(tty *os.File) {
	if tty == nil || InForeground(tty) {
		return
	}
	signal.Ignore(unix.SIGTTOU)
	defer signal.Reset(unix.SIGTTOU)
	_ = unix.IoctlSetPointerInt(int(tty.Fd()), unix.TIOCSPGRP, unix.Getpgrp())
}
