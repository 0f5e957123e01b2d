package kernel

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// What *Linux adds to the package's functions to be a whole Kernel: the
// same operations as methods, so that the stack above (journal, tracer)
// sees and wraps them.

// CgroupFor is where a cgroup named leaf would be made (see CgroupFor).
func (k *Linux) CgroupFor(leaf string) (string, bool) { return CgroupFor(leaf) }

// CgroupPids lists the processes in a cgroup nsscript made.
func (k *Linux) CgroupPids(rel string) ([]int, error) { return CgroupPids(rel) }

// MakeCgroup creates a cgroup nsscript names and opens it.
func (k *Linux) MakeCgroup(rel string) (*os.File, error) { return MakeCgroup(rel) }

// EndCgroup stops what is in a cgroup nsscript made and removes it.
func (k *Linux) EndCgroup(rel string) error { return EndCgroup(rel) }

// DummyKind is what dummy() makes on this kernel: "dummy", or "ifb" once
// a creation found no dummy driver ("" before the first creation).
func (k *Linux) DummyKind() string {
	k.mu.Lock()
	defer k.mu.Unlock()
	switch {
	case k.dummyMissing:
		return "ifb"
	case k.dummyMade:
		return "dummy"
	}
	return ""
}

// HasNetnsDir reports whether /run/netns exists.
func (k *Linux) HasNetnsDir() bool {
	_, err := os.Stat(NetnsDir)
	return !errors.Is(err, os.ErrNotExist)
}

// RemoveNetnsDir removes /run/netns (and the mount iproute2 makes of it)
// when no namespace name is left in it: the undo of the first `ip netns
// add` on a machine.
func (k *Linux) RemoveNetnsDir() error {
	ents, err := os.ReadDir(NetnsDir)
	if err != nil || len(ents) > 0 {
		return nil
	}
	for unix.Unmount(NetnsDir, unix.MNT_DETACH) == nil {
	}
	k.mu.Lock()
	k.netnsOK = false
	k.mu.Unlock()
	if err := os.Remove(NetnsDir); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}
