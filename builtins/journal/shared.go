package journal

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/nsscript/nsscript/builtins/kernel"
)

// A sysctl of a namespace no lab created (the host's net.ipv4.ip_forward)
// is one value for every lab that sets it. The first lab that changes it
// keeps the original value in Dir/.sysctl/INODE/KEY with the list of labs
// that rely on it; a lab that finds it already set by another joins the
// list. Undo takes a lab off the list, and only the last one puts the
// original back: one lab's down never turns off what another still uses.
const sharedDir = ".sysctl"

type shared struct {
	Orig  string   `json:"orig"`
	Users []string `json:"users"`
}

// withShared calls f with the entry of (inode, key), nil when there is
// none, holding a lock on Dir, and keeps what f returns (nil: no entry).
func withShared(inode uint64, key string, f func(*shared) (*shared, error)) error {
	d, err := os.Open(Dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := unix.Flock(int(d.Fd()), unix.LOCK_EX); err != nil {
		return err
	}
	dir := filepath.Join(Dir, sharedDir, strconv.FormatUint(inode, 10))
	p := filepath.Join(dir, strings.ReplaceAll(key, "/", "."))
	var cur *shared
	if b, err := os.ReadFile(p); err == nil {
		cur = &shared{}
		if json.Unmarshal(b, cur) != nil {
			cur = nil
		}
	}
	next, ferr := f(cur)
	if next == nil {
		if cur != nil {
			os.Remove(p)
			os.Remove(dir)               // when empty
			os.Remove(filepath.Dir(dir)) // when empty
		}
		return ferr
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	b, err := json.Marshal(next)
	if err != nil {
		return err
	}
	if err := os.WriteFile(p+".tmp", b, 0o644); err != nil {
		return err
	}
	if err := os.Rename(p+".tmp", p); err != nil {
		return err
	}
	return ferr
}

// sharedSysctl sets a sysctl of a namespace the lab did not create, and
// returns the value it had.
func (k *Kernel) sharedSysctl(ns *kernel.NS, key, value string) (string, error) {
	if err := k.begin(); err != nil { // takes the lab, and makes Dir
		return "", err
	}
	var old string
	err := withShared(ns.Inode, key, func(e *shared) (*shared, error) {
		cur, err := k.Kernel.Sysctl(ns, key, nil)
		if err != nil {
			return e, err
		}
		old = cur
		if e == nil && cur == value {
			return nil, nil // as wanted, and no lab changed it: nothing to undo
		}
		entry := e
		if entry == nil {
			entry = &shared{Orig: cur}
		}
		if !slices.Contains(entry.Users, k.Lab) {
			if err := k.write(Record{Op: "shared_sysctl", NS: ref(ns), Name: key, Old: cur, Lab: k.Lab}); err != nil {
				return e, err
			}
			entry.Users = append(entry.Users, k.Lab)
		}
		if cur != value {
			if _, err := k.Kernel.Sysctl(ns, key, &value); err != nil {
				return entry, err
			}
		}
		return entry, nil
	})
	return old, err
}

// undoSharedSysctl takes the record's lab off the users of a sysctl and,
// when it was the last, puts the original value back.
func (u *Undoer) undoSharedSysctl(r Record) error {
	ns, nsErr := u.open(r.NS)
	return withShared(r.NS.Inode, r.Name, func(e *shared) (*shared, error) {
		if e == nil {
			return nil, nil
		}
		var users []string
		for _, l := range e.Users {
			// A lab whose directory is gone can no longer come down.
			if st, err := os.Stat(filepath.Join(Dir, l)); l != r.Lab && err == nil && st.IsDir() {
				users = append(users, l)
			}
		}
		if len(users) > 0 {
			e.Users = users
			return e, nil
		}
		if nsErr != nil {
			return nil, nil // the namespace is gone, and its sysctls with it
		}
		if _, err := u.K.Sysctl(ns, r.Name, &e.Orig); err != nil {
			return e, err
		}
		return nil, nil
	})
}
