package kernel

import "golang.org/x/sys/unix"

// OutputClosed reports whether this process's standard output or error
// is a pipe or socket whose reading end is gone (`nsscript ... | head`
// after head exited): what a SIGPIPE means for nsscript itself, rather
// than for a pipe to a command it started.
func OutputClosed() bool {
	fds := []unix.PollFd{{Fd: 1}, {Fd: 2}} // no events asked: errors only
	if n, err := unix.Poll(fds, 0); err != nil || n == 0 {
		return false
	}
	for _, f := range fds {
		if f.Revents&unix.POLLERR != 0 {
			return true
		}
	}
	return false
}
