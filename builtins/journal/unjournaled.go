package journal

import (
	"fmt"
	"os"
	"syscall"

	"github.com/nsscript/nsscript/builtins/kernel"
)

// The changes below write no record of their own. Each says why: most
// are undo's own steps (what undo runs passes through the journal too,
// when a run prunes what earlier runs made), the rest change only what a
// record already covers.

var _ kernel.Kernel = (*Kernel)(nil)

// ReleaseClaimed is undo's deletion of a namespace known by its record.
func (k *Kernel) ReleaseClaimed(name string, c kernel.NetnsClaim) error {
	return k.in.ReleaseClaimed(name, c)
}

// RemoveNetnsDir is undo's removal of /run/netns (its netns_dir record).
func (k *Kernel) RemoveNetnsDir() error { return k.in.RemoveNetnsDir() }

// SetBridgeSTP changes a bridge the lab made (it goes whole); one of
// another's is refused, since the kernel does not tell nsscript what to
// put back.
func (k *Kernel) SetBridgeSTP(ns *kernel.NS, index int, on bool) error {
	if !k.indexOwned(ns, index) {
		li, err := k.linkName(ns, index)
		if err != nil {
			return err
		}
		if !k.linkOwned(ns, li.Name) {
			return fmt.Errorf("bridge %q in %s was not made by this lab: nsscript sets STP only on bridges it made, since it could not put the old state back; set it yourself (ip link set %s type bridge stp_state 1) if you mean to", li.Name, ns, li.Name)
		}
	}
	return k.in.SetBridgeSTP(ns, index, on)
}

// DeleteRoute is undo's: a script replaces routes (ReplaceRoute keeps
// what it replaced) and never deletes one.
func (k *Kernel) DeleteRoute(ns *kernel.NS, r kernel.RouteInfo) error {
	return k.in.DeleteRoute(ns, r)
}

// UndoEtc is undo's (of an etc record).
func (k *Kernel) UndoEtc(name, file, sum string, wrote []byte, had bool, old []byte) error {
	return k.in.UndoEtc(name, file, sum, wrote, had, old)
}

// RemoveEtcDir is undo's (of an etc_dir record).
func (k *Kernel) RemoveEtcDir(name string) error { return k.in.RemoveEtcDir(name) }

// Signal signals a process the run started (its proc record's undo finds
// it ended, or ends it).
func (k *Kernel) Signal(pid int, sig syscall.Signal) error { return k.in.Signal(pid, sig) }

// StopProcesses is undo's (of a proc record).
func (k *Kernel) StopProcesses(pids []int) { k.in.StopProcesses(pids) }

// MakeCgroup makes the cgroup whose record Start wrote first.
func (k *Kernel) MakeCgroup(rel string) (*os.File, error) { return k.in.MakeCgroup(rel) }

// EndCgroup is undo's (of a cgroup record).
func (k *Kernel) EndCgroup(rel string) error { return k.in.EndCgroup(rel) }

// PacketConn passes through (it is a read, like ICMPConn): a capture's
// socket changes nothing in the kernel that undo would put back, and it
// goes when the run closes it or ends.
func (k *Kernel) PacketConn(ns *kernel.NS, c kernel.CaptureSpec) (*kernel.PacketConn, error) {
	return k.Reader.PacketConn(ns, c)
}

// EndSandbox is down's: a running sandbox is no object of a lab's (all of
// it vanishes with it), and no run makes one through the journal.
func (k *Kernel) EndSandbox(info kernel.SandboxInfo) error { return k.in.EndSandbox(info) }
