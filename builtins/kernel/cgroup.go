package kernel

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// A lab's processes are started inside a cgroup of its own (cgroup v2,
// where the machine has it and nsscript may write it), joined at fork
// (clone3 with CLONE_INTO_CGROUP), so that everything they start stays
// there however it leaves its parent, its process group, its session or
// its environment: `env -i setsid daemon &` included. Undo kills what is
// in the cgroup and removes it. Where cgroup v2 cannot be used, ownership
// falls back to what needs no cgroup (the process tree, the environment
// mark, and every process inside a namespace the lab created).

// CgroupPrefix begins the name of every cgroup nsscript makes.
const CgroupPrefix = "nsscript-"

// cgroup2 finds the cgroup v2 mount and this process's cgroup in it.
func cgroup2() (mount, own string, ok bool) {
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return "", "", false
	}
	for _, l := range strings.Split(string(b), "\n") {
		if p, found := strings.CutPrefix(l, "0::"); found {
			own = p
		}
	}
	if own == "" || strings.Contains(own, " (deleted)") {
		return "", "", false
	}
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return "", "", false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS ... - FSTYPE SOURCE OPTS
		l := sc.Text()
		pre, post, found := strings.Cut(l, " - ")
		fs := strings.Fields(pre)
		if !found || len(fs) < 5 || !strings.HasPrefix(post, "cgroup2 ") || fs[3] != "/" {
			continue
		}
		mount = unescapeMount(fs[4])
	}
	return mount, own, mount != ""
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// CgroupFor is where a cgroup named leaf (CgroupPrefix + something) would
// be made for this process: a path relative to the cgroup v2 root, for
// the journal to hold before it exists. ok is false where cgroup v2 is
// not mounted.
func CgroupFor(leaf string) (rel string, ok bool) {
	_, own, ok := cgroup2()
	if !ok {
		return "", false
	}
	return path.Join(own, leaf), true
}

// cgroupDir checks a cgroup path from a journal: relative to the cgroup v2
// root, clean, and ending in a directory nsscript names.
func cgroupDir(rel string) (string, error) {
	mount, _, ok := cgroup2()
	if !ok {
		return "", errors.New("cgroup v2 is not mounted")
	}
	if !strings.HasPrefix(rel, "/") || path.Clean(rel) != rel || !strings.HasPrefix(path.Base(rel), CgroupPrefix) {
		return "", fmt.Errorf("%q is not a cgroup nsscript makes", rel)
	}
	return filepath.Join(mount, rel), nil
}

// MakeCgroup creates the cgroup rel (see CgroupFor) and opens it for
// starting processes into it.
func MakeCgroup(rel string) (*os.File, error) {
	dir, err := cgroupDir(rel)
	if err != nil {
		return nil, err
	}
	if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return nil, err
	}
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	var sfs unix.Statfs_t
	if err := unix.Fstatfs(fd, &sfs); err != nil || sfs.Type != unix.CGROUP2_SUPER_MAGIC {
		unix.Close(fd)
		return nil, fmt.Errorf("%s is not a cgroup", dir)
	}
	return os.NewFile(uintptr(fd), dir), nil
}

// CgroupPids lists the processes in a cgroup nsscript made (none when it
// is gone).
func CgroupPids(rel string) ([]int, error) {
	dir, err := cgroupDir(rel)
	if err != nil {
		return nil, err
	}
	return readPids(filepath.Join(dir, "cgroup.procs"))
}

func readPids(file string) ([]int, error) {
	b, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []int
	for _, f := range strings.Fields(string(b)) {
		if p, err := strconv.Atoi(f); err == nil && p > 0 {
			out = append(out, p)
		}
	}
	return out, nil
}

// EndCgroup stops every process in a cgroup nsscript made, TERM first
// and KILL after two seconds, and removes the cgroup.
func EndCgroup(rel string) error {
	dir, err := cgroupDir(rel)
	if err != nil {
		return err
	}
	procs := filepath.Join(dir, "cgroup.procs")
	others := func() ([]int, error) {
		pids, err := readPids(procs)
		return slices.DeleteFunc(pids, func(p int) bool { return p == os.Getpid() }), err
	}
	pids, err := readPids(procs)
	if err != nil {
		return err
	}
	self := false
	if slices.Contains(pids, os.Getpid()) {
		// A down that a process of the lab's started runs in the cgroup
		// too: it steps out to the parent first, so that it stops the
		// rest, not itself.
		_ = os.WriteFile(filepath.Join(filepath.Dir(dir), "cgroup.procs"), []byte(strconv.Itoa(os.Getpid())), 0)
		now, _ := readPids(procs)
		self = slices.Contains(now, os.Getpid()) // it could not
	}
	pids, _ = others()
	for _, p := range pids {
		_ = syscall.Kill(p, syscall.SIGTERM)
	}
	empty := func(d time.Duration) bool {
		for deadline := time.Now().Add(d); ; time.Sleep(10 * time.Millisecond) {
			if pids, err := others(); err != nil || len(pids) == 0 {
				return true
			}
			if time.Now().After(deadline) {
				return false
			}
		}
	}
	if len(pids) > 0 && !empty(2*time.Second) {
		if self || os.WriteFile(filepath.Join(dir, "cgroup.kill"), []byte("1"), 0) != nil {
			pids, _ := others()
			for _, p := range pids {
				_ = syscall.Kill(p, syscall.SIGKILL)
			}
		}
		empty(2 * time.Second)
	}
	if self {
		return nil // removed by a later down
	}
	return RemoveCgroupTree(dir)
}

// RemoveCgroupTree removes a cgroup directory and the cgroups under it,
// deepest first (a cgroup goes with rmdir once it holds no process; its
// files go with it), waiting up to a second for the last processes to
// leave.
func RemoveCgroupTree(dir string) error { return removeCgroupTree(dir, 100) }

func removeCgroupTree(dir string, tries int) error {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range ents {
		if e.IsDir() {
			if err := removeCgroupTree(filepath.Join(dir, e.Name()), tries); err != nil {
				return err
			}
		}
	}
	var rerr error
	for i := 0; i < tries; i++ {
		if rerr = unix.Rmdir(dir); rerr == nil || errors.Is(rerr, unix.ENOENT) {
			return nil
		}
		if !errors.Is(rerr, unix.EBUSY) {
			break
		}
		if i+1 < tries {
			time.Sleep(10 * time.Millisecond)
		}
	}
	return fmt.Errorf("remove cgroup %s: %w", dir, rerr)
}
