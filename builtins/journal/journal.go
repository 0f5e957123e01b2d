// Package journal makes nsscript know exactly what it made. It wraps the
// builtins' Kernel: before each change a run makes, it appends a record
// of how to undo it to /run/nsscript/LAB/journal, so that `nsscript down
// LAB` (even after kill -9) or a failed run's rollback can undo exactly
// that, in reverse order, and never touch what it did not make.
//
// Records are plain write(2)s to a file in /run (a tmpfs): a killed
// process loses nothing it wrote, and no fsync sits on the hot path.
package journal

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/nsscript/nsscript/builtins/kernel"
	"github.com/nsscript/nsscript/builtins/names"
)

// Dir holds one directory per lab. (A variable only so that the
// journal's own tests can work in a directory of theirs.)
var Dir = "/run/nsscript"

// OwnerEnv marks the processes a run starts (see kernel.OwnerEnv).
const OwnerEnv = kernel.OwnerEnv

// ErrBusy is returned when another run holds the lab.
var ErrBusy = errors.New("lab is in use")

type linkKey struct {
	ns   uint64 // nsKey of its namespace
	name string
}

// Kernel is a kernel.Kernel that journals every change before making it.
// It reads through the kernel it wraps (the embedded Reader) and writes
// only through methods of its own: every method of kernel.Writer is here,
// each saying what it journals or why it needs no record, so a change the
// journal does not know of cannot compile through it. It is also the
// builtins' Ownership: what the lab made.
type Kernel struct {
	kernel.Reader
	in  kernel.Kernel // what it wraps
	Lab string
	// Accumulate: the lab's runs add to it (the REPL's sessions); nothing
	// of an earlier run is replaced. (Nor pruned: such a run does not
	// Commit.)
	Accumulate bool
	// Problems are the lines of the lab's journal that Open skipped.
	Problems []Problem

	dir     string
	lock    *os.File
	file    *os.File
	start   int64  // where this run's records begin
	n       int    // records written by this run
	token   string // OwnerEnv's value in the processes this run starts
	spawned bool   // the token is journaled
	cgroup  *os.File

	createdNS map[uint64]bool // by nsKey
	// createdLinks: the devices the lab made in namespaces it did not
	// make, with the MAC that tells them apart from a later namesake.
	createdLinks map[linkKey]string
	// ownedIdx: devices of the lab's, by index, as lookups meet them, so
	// that a change to one needs no lookup to know it needs no record
	// (the kernel does not reuse an index in a namespace soon); with the
	// device's name and, for one the lab made outside its namespaces, the
	// key of its record.
	ownedIdx map[idxKey]ownedDev

	// The apply (see apply.go).
	earlier      []Record           // what earlier runs of the lab made
	earlierKeys  map[string]bool    // their keys
	declared     map[string]bool    // what this run declared
	thisRun      []Record           // what this run wrote
	thisKeys     map[string]bool    // their keys
	dups         bool               // this run wrote a key that was there
	madeNS       map[uint64]bool    // namespaces this run made (nothing was there before)
	claimSeq     int                // creation calls so far
	claimedAt    map[string]int     // the creation call that first met a device of an earlier run
	bgSeen       map[string]int     // background commands started (or adopted) so far, by key without Seq
	pendingSeq   int                // the Seq FindProcess gave the command it did not find
	wants        map[string]*wanted // by MAC: what this run's creation calls want (declare.go)
	wantIdx      map[idxKey]string  // the MACs of wants by where the device is
	thisMACs     map[string]bool    // of the devices this run made
	rollbackOnly bool               // what is written now is for a rollback only
	superseded   map[string]bool    // keys of earlier records this run replaced: neither kept nor undone
	ipv6Switched map[uint64]bool    // the lab's namespaces with a record of an IPv6 switch (switchIPv6) left by a killed run
	where        map[string]place
	origins      map[linkKey]origin
}

type ownedDev struct {
	name string
	key  string // the device's link record, if it is outside the lab's namespaces
	mac  string // its MAC when met, if known
}

type idxKey struct {
	ns    uint64
	index int
}

// Open returns the journaling kernel for a lab. It changes nothing: a new
// lab's directory and lock are taken at the first change (so a script that
// only looks makes no lab), an existing lab's at once; a lab another run
// holds is refused then, before anything is made.
func Open(inner kernel.Kernel, lab string) (*Kernel, error) {
	if err := names.Lab(lab); err != nil {
		return nil, err
	}
	k := &Kernel{Reader: inner, in: inner, Lab: lab, dir: filepath.Join(Dir, lab),
		createdNS: map[uint64]bool{}, createdLinks: map[linkKey]string{}, ownedIdx: map[idxKey]ownedDev{},
		earlierKeys: map[string]bool{}, declared: map[string]bool{}, thisKeys: map[string]bool{}, madeNS: map[uint64]bool{}, claimedAt: map[string]int{}, bgSeen: map[string]int{}, wants: map[string]*wanted{}, wantIdx: map[idxKey]string{}, thisMACs: map[string]bool{},
		where: map[string]place{}, origins: map[linkKey]origin{}, superseded: map[string]bool{}, ipv6Switched: map[uint64]bool{}}
	var id [8]byte
	if _, err := rand.Read(id[:]); err != nil {
		return nil, err
	}
	k.token = lab + ":" + hex.EncodeToString(id[:])
	// What earlier runs of the lab made counts as made by the lab.
	recs, probs, err := readRecords(filepath.Join(k.dir, "journal"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	k.Problems = probs
	k.earlier = recs
	for _, r := range recs {
		k.note(r)
		k.earlierKeys[recKey(r)] = true
		if r.Op == "sysctl" && sysctlFile(r.Name) == sysctlFile(kernel.DisableIPv6Key) {
			k.ipv6Switched[refKey(r.NS)] = true
		}
	}
	if len(recs) > 0 || len(probs) > 0 {
		// The lab exists: take it now, so that a second run of a lab
		// another run holds is refused before its script does anything.
		if err := k.begin(); err != nil {
			return nil, err
		}
	}
	return k, nil
}

// begin takes the lab and opens its journal for this run's records.
func (k *Kernel) begin() error {
	if k.file != nil {
		return nil
	}
	if err := labDir(k.dir); err != nil {
		return err
	}
	lock, err := takeLock(k.dir, k.Lab)
	if err != nil {
		return err
	}
	f, err := openRegular(filepath.Join(k.dir, "journal"), os.O_RDWR|os.O_CREATE|os.O_APPEND)
	if err != nil {
		lock.Close()
		return err
	}
	st, err := f.Stat()
	if err == nil && st.Size() > 0 {
		// A run killed in the middle of a write left a torn last line:
		// end it, so that this run's first record starts a line of its own.
		last := make([]byte, 1)
		if _, err = f.ReadAt(last, st.Size()-1); err == nil && last[0] != '\n' {
			if _, err = f.Write([]byte{'\n'}); err == nil {
				st, err = f.Stat()
			}
		}
	}
	if err != nil {
		f.Close()
		lock.Close()
		return err
	}
	k.lock, k.file, k.start = lock, f, st.Size()
	return nil
}

// takeLock holds the lab for this process; the kernel drops it if the
// process dies, so a kill -9 never leaves a lab locked.
func takeLock(dir, lab string) (*os.File, error) {
	lock, err := openRegular(filepath.Join(dir, "lock"), os.O_RDWR|os.O_CREATE)
	if err != nil {
		return nil, err
	}
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		b, _ := os.ReadFile(filepath.Join(dir, "owner"))
		lock.Close()
		who := strings.TrimSpace(string(b))
		if who == "" {
			who = "another nsscript"
		}
		return nil, fmt.Errorf("%w: lab %q is held by %s; wait for it to finish, or give this run another lab with --lab NAME", ErrBusy, lab, who)
	}
	if f, err := openRegular(filepath.Join(dir, "owner"), os.O_WRONLY|os.O_CREATE|os.O_TRUNC); err == nil {
		fmt.Fprintf(f, "pid %d (%s)\n", os.Getpid(), strings.Join(os.Args, " "))
		f.Close()
	}
	return lock, nil
}

// labDir makes a lab's directory, readable by root only (a journal keeps
// the old contents of the files a lab replaced), or checks the one there:
// a directory, not a link to one.
func labDir(dir string) error {
	if err := os.MkdirAll(Dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", Dir, err)
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	if st, err := os.Lstat(dir); err != nil || !st.IsDir() {
		return fmt.Errorf("%s is not a directory (a link?): nsscript keeps its labs' journals there; remove it", dir)
	}
	return os.Chmod(dir, 0o700)
}

func (k *Kernel) write(r Record) error {
	if err := k.begin(); err != nil {
		return err
	}
	r.Rollback = r.Rollback || k.rollbackOnly
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if _, err := k.file.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	k.n++
	k.note(r)
	key := recKey(r)
	if k.declare(key) || k.thisKeys[key] {
		k.dups = true
	}
	k.thisKeys[key] = true
	k.thisRun = append(k.thisRun, r)
	if r.Op == "link" {
		k.thisMACs[r.MAC], k.thisMACs[r.PeerMAC] = true, r.PeerMAC != ""
	}
	return nil
}

// mark is where the journal ends now, for takeBack.
func (k *Kernel) mark() (int64, error) {
	if err := k.begin(); err != nil {
		return 0, err
	}
	st, err := k.file.Stat()
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}

// takeBack removes the records written since mark (n of them): what they
// announced did not happen, and undo must not act on it. forget undoes
// what note learnt from them.
func (k *Kernel) takeBack(mark int64, n int, forget func()) error {
	if err := k.file.Truncate(mark); err != nil {
		return err
	}
	k.n -= n
	forget()
	return nil
}

// Records is this lab's journal so far.
func (k *Kernel) Records() ([]Record, error) {
	recs, _, err := readRecords(filepath.Join(k.dir, "journal"))
	return recs, err
}

// Close ends the run, keeping what it made. A lab that holds nothing
// leaves no directory behind.
func (k *Kernel) Close() error {
	if k.file == nil {
		return nil
	}
	st, err := k.file.Stat()
	empty := err == nil && st.Size() == 0
	k.file.Close()
	if k.cgroup != nil {
		k.cgroup.Close()
	}
	if empty {
		removeLab(k.dir, true)
	}
	return k.lock.Close()
}

// Rollback undoes what this run made, newest first, and forgets it.
func (k *Kernel) Rollback(u *Undoer) []error {
	if k.file == nil {
		return nil
	}
	u.Lab = k.Lab
	mine, probs, err := readRecordsFrom(k.file.Name(), k.start)
	if err != nil {
		return []error{err}
	}
	for _, p := range probs {
		u.warn("%v", p)
	}
	errs := u.Undo(mine)
	if err := k.file.Truncate(k.start); err != nil {
		errs = append(errs, err)
	}
	return errs
}

// removeLab removes a lab's directory: the files nsscript keeps there
// (captures written there too, unless keepCaptures: a run that leaves
// nothing, or failed and was undone, keeps what it captured, until
// down) and then the directory, if that left it empty; then Dir, if no
// lab is left.
func removeLab(dir string, keepCaptures bool) {
	files := []string{"journal", "owner", "logs", "lock"}
	if !keepCaptures {
		files = append(files, CapturesDir)
	}
	for _, f := range files {
		_ = os.RemoveAll(filepath.Join(dir, f))
	}
	_ = os.Remove(filepath.Join(dir, CapturesDir)) // if empty
	_ = os.Remove(dir)
	_ = os.Remove(Dir)
}
