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
	"github.com/nsscript/nsscript/builtins/names"
)

// A sysctl of a namespace no lab created (the host's net.ipv4.ip_forward)
// is one value for every lab that sets it. The first lab that changes it
// keeps the original value in Dir/.sysctl/COOKIE/KEY with the list of labs
// that rely on it; a lab that finds it already set by another joins the
// list. Undo takes a lab off the list, and only the last one puts the
// original back: one lab's down never turns off what another still uses.
const sharedDir = ".sysctl"

// A namespace one lab made and another adopted (namespace("shared") in
// both) is used by both: the adopter's devices may live in it. The
// adopter joins the users of the namespace in Dir/.netns/COOKIE/NAME; the
// maker's undo, finding other users, leaves the namespace to them
// (Orphan: what identifies it) instead of deleting it, and the last
// adopter's undo deletes it. Lab names in Users whose directory is gone
// no longer count.
const netnsDir = ".netns"

type shared struct {
	Orig  string   `json:"orig,omitempty"`
	Users []string `json:"users"`
	// Side: other sysctls the kernel changes with this one, as they were.
	Side map[string]string `json:"side,omitempty"`
	// Orphan: a namespace whose maker's lab has gone, left to the users.
	Orphan      *NSRef `json:"orphan,omitempty"`
	Placeholder uint64 `json:"placeholder,omitempty"`
}

// liveUsers are the users but lab whose labs still exist.
func (e *shared) liveUsers(lab string) []string {
	var users []string
	for _, l := range e.Users {
		if st, err := os.Stat(filepath.Join(Dir, l)); l != lab && err == nil && st.IsDir() {
			users = append(users, l)
		}
	}
	return users
}

// sysctlFile is the file name of a sysctl's entry: one per sysctl,
// whichever way the key is written (dotted or with slashes).
func sysctlFile(key string) string {
	p, err := names.SysctlKey(key)
	if err != nil {
		p = key
	}
	return strings.ReplaceAll(strings.TrimPrefix(p, "/proc/sys/"), "/", "%")
}

// withEntry calls f with the entry of (id, key) of the kind (a directory
// of Dir), nil when there is none, holding a lock on Dir, and keeps what
// f returns (nil: no entry).
// The one lock serializes every decision about what several labs share.
func withEntry(kind string, id uint64, key string, f func(*shared) (*shared, error)) error {
	return withEntryThen(kind, id, key, f, nil)
}

// withEntryThen is withEntry that, once the entry f returned is on disk,
// calls then, still under the lock: a change that the entry must be able
// to undo is made only after the entry exists (a kill in between leaves
// an entry that undoes nothing, never a change that no entry undoes).
func withEntryThen(kind string, id uint64, key string, f func(*shared) (*shared, error), then func() error) error {
	d, err := os.Open(Dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := unix.Flock(int(d.Fd()), unix.LOCK_EX); err != nil {
		return err
	}
	dir := filepath.Join(Dir, kind, strconv.FormatUint(id, 10))
	p := filepath.Join(dir, key)
	os.Remove(p + ".tmp") // a write a kill cut short
	var cur *shared
	if f, err := openRegular(p, os.O_RDONLY); err == nil {
		cur = &shared{}
		if json.NewDecoder(f).Decode(cur) != nil {
			cur = nil
		}
		f.Close()
	}
	next, ferr := f(cur)
	if ferr != nil {
		return ferr
	}
	if next == nil {
		// (Also with no entry: a kill between the directory's creation
		// and the entry's left it empty.)
		os.Remove(p)
		os.Remove(dir)               // when empty
		os.Remove(filepath.Dir(dir)) // when empty
	} else {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
		b, err := json.Marshal(next)
		if err != nil {
			return err
		}
		tmp, err := openRegular(p+".tmp", os.O_WRONLY|os.O_CREATE|os.O_EXCL)
		if err != nil {
			return err
		}
		_, err = tmp.Write(b)
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Rename(p+".tmp", p)
		}
		if err != nil {
			return err
		}
	}
	if then != nil {
		return then()
	}
	return nil
}

// adoptNetns makes the lab a user of the namespace name, which another
// (a lab, or the user) made, if the name still holds that namespace; it
// reports false when it no longer does (its maker deleted it meanwhile).
func (k *Kernel) adoptNetns(name string, ns *kernel.NS) (bool, error) {
	if err := k.begin(); err != nil { // takes the lab, and makes Dir
		return false, err
	}
	cookie := k.nsKey(ns)
	still := false
	err := withEntry(netnsDir, cookie, name, func(e *shared) (*shared, error) {
		if cur, err := k.Reader.OpenNamed(name); err != nil || k.nsKey(cur) != cookie {
			return e, nil
		}
		still = true
		if e == nil {
			e = &shared{}
		}
		rec := Record{Op: "adopt", NS: k.ref(ns)}
		if !slices.Contains(e.Users, k.Lab) || !k.declare(recKey(rec)) {
			if err := k.write(rec); err != nil {
				return e, err
			}
			if !slices.Contains(e.Users, k.Lab) {
				e.Users = append(e.Users, k.Lab)
			}
		}
		return e, nil
	})
	return still, err
}

// usedByOthers reports whether labs other than this one use the
// namespace (a look without the lock: leaveNetns decides under it).
func (u *Undoer) usedByOthers(r *NSRef) bool {
	b, err := os.ReadFile(filepath.Join(Dir, netnsDir, strconv.FormatUint(refKey(r), 10), r.Name))
	if err != nil {
		return false
	}
	var e shared
	return json.Unmarshal(b, &e) == nil && len(e.liveUsers(u.Lab)) > 0
}

// leaveNetns is the undo of a namespace by its maker's lab (del) or of an
// adoption: under the lock, it deletes the namespace only when no other
// lab uses it; else it leaves it to them, and the last one deletes it.
func (u *Undoer) leaveNetns(r Record, del func(name string, c kernel.NetnsClaim) error) error {
	var claim *kernel.NetnsClaim
	if r.Op == "netns" {
		claim = &kernel.NetnsClaim{Inode: r.NS.Inode, Cookie: r.NS.Cookie, File: r.Placeholder}
	}
	lab := u.Lab
	return withEntry(netnsDir, refKey(r.NS), r.NS.Name, func(e *shared) (*shared, error) {
		if e == nil {
			if claim == nil {
				return nil, nil
			}
			return nil, del(r.NS.Name, *claim)
		}
		if users := e.liveUsers(lab); len(users) > 0 {
			e.Users = users
			if claim != nil {
				e.Orphan, e.Placeholder = r.NS, r.Placeholder
				u.warn("namespace %q is used by lab %s too: left to it (its down deletes it)", r.NS.Name, strings.Join(users, ", "))
			}
			return e, nil
		}
		if claim == nil && e.Orphan != nil {
			claim = &kernel.NetnsClaim{Inode: e.Orphan.Inode, Cookie: e.Orphan.Cookie, File: e.Placeholder}
		}
		if claim == nil {
			return nil, nil
		}
		return nil, del(r.NS.Name, *claim)
	})
}

// sharedSysctl sets a sysctl of a namespace the lab did not create, and
// returns the value it had.
func (k *Kernel) sharedSysctl(ns *kernel.NS, key, value string) (string, error) {
	if err := k.begin(); err != nil { // takes the lab, and makes Dir
		return "", err
	}
	var old string
	set := false
	err := withEntryThen(sharedDir, k.nsKey(ns), sysctlFile(key), func(e *shared) (*shared, error) {
		cur, err := k.Reader.ReadSysctl(ns, key)
		if err != nil {
			return e, err
		}
		old = cur
		var side map[string]string
		if e == nil || cur == value {
			side = k.sideEffects(ns, key)
		}
		spread := spreads(key, value, side)
		if e == nil && cur == value && !spread {
			return nil, nil // as wanted, and no lab changed it: nothing to undo
		}
		entry := e
		if entry == nil {
			entry = &shared{Orig: cur, Side: side}
		}
		rec := Record{Op: "shared_sysctl", NS: k.ref(ns), Name: key, OldValue: cur, Lab: k.Lab}
		if slices.Contains(entry.Users, k.Lab) && k.declare(recKey(rec)) && cur != value {
			// Set by an earlier run: this run's change is undone by its
			// rollback (to the earlier run's value), and forgotten by a
			// run that succeeds.
			back := Record{Op: "sysctl", NS: k.ref(ns), Name: key, OldValue: cur, Rollback: true}
			if err := k.write(back); err != nil {
				return e, err
			}
		}
		if !slices.Contains(entry.Users, k.Lab) || !k.declare(recKey(rec)) {
			if err := k.write(rec); err != nil {
				return e, err
			}
			if !slices.Contains(entry.Users, k.Lab) {
				entry.Users = append(entry.Users, k.Lab)
			}
		}
		set = cur != value || spread
		return entry, nil
	}, func() error {
		if !set {
			return nil
		}
		_, err := k.in.WriteSysctl(ns, key, value)
		return err
	})
	return old, err
}

// sideEffects are the sysctls the kernel changes when key changes, with
// their values now: turning net.ipv4.ip_forward (or its other name,
// conf.all.forwarding) on or off sets conf.all.accept_redirects and
// every device's conf.forwarding; net.ipv6.conf.all.forwarding sets
// conf.default's and every device's forwarding;
// net.ipv6.conf.all.disable_ipv6 sets conf.default's and every
// device's disable_ipv6. Undo puts them back after the key, so that a
// hardening setting the machine had (or a device the user keeps without
// IPv6) does not come back changed.
func (k *Kernel) sideEffects(ns *kernel.NS, key string) map[string]string {
	var keys []string
	var family, perDevice string
	switch sysctlFile(key) {
	case sysctlFile("net.ipv4.ip_forward"), sysctlFile("net.ipv4.conf.all.forwarding"):
		keys = []string{"net.ipv4.conf.all.accept_redirects", "net.ipv4.conf.default.forwarding"}
		family, perDevice = "ipv4", "forwarding"
	case sysctlFile("net.ipv6.conf.all.forwarding"):
		keys = []string{"net.ipv6.conf.default.forwarding"}
		family, perDevice = "ipv6", "forwarding"
	case sysctlFile(kernel.DisableIPv6Key):
		keys = []string{kernel.DefaultDisableIPv6Key}
		family, perDevice = "ipv6", "disable_ipv6"
	default:
		return nil
	}
	if links, err := k.Reader.Links(ns); err == nil {
		for _, l := range links {
			keys = append(keys, kernel.DevSysctl(family, l.Name, perDevice))
		}
	}
	side := map[string]string{}
	for _, sk := range keys {
		if v, err := k.Reader.ReadSysctl(ns, sk); err == nil {
			side[sk] = v
		}
	}
	return side
}

// spreads reports whether writing value to key, which has that value
// already, would still change one of its side effects: the kernel
// applies net.ipv6.conf.all.disable_ipv6 to .default and every device on
// each write (where net.ipv4.ip_forward acts only when it changes), so
// a namespace with .all at 1 may still have devices with IPv6.
func spreads(key, value string, side map[string]string) bool {
	if sysctlFile(key) != sysctlFile(kernel.DisableIPv6Key) {
		return false
	}
	for _, v := range side {
		if v != value {
			return true
		}
	}
	return false
}

// undoSharedSysctl takes the record's lab off the users of a sysctl and,
// when it was the last, puts the original value back.
func (u *Undoer) undoSharedSysctl(r Record) error {
	ns, nsErr := u.open(r.NS)
	return withEntry(sharedDir, refKey(r.NS), sysctlFile(r.Name), func(e *shared) (*shared, error) {
		if e == nil {
			return nil, nil
		}
		// A lab whose directory is gone can no longer come down.
		users := e.liveUsers(r.Lab)
		if len(users) > 0 {
			e.Users = users
			return e, nil
		}
		if nsErr != nil {
			return nil, nil // the namespace is gone, and its sysctls with it
		}
		if _, err := u.K.WriteSysctl(ns, r.Name, e.Orig); err != nil {
			return e, err
		}
		for sk, v := range e.Side {
			if cur, err := u.K.ReadSysctl(ns, sk); err == nil && cur != v {
				_, _ = u.K.WriteSysctl(ns, sk, v) // (a device gone since has none)
			}
		}
		return nil, nil
	})
}
