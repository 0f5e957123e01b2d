package kernel

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/nsscript/nsscript/builtins/names"
)

// EtcNetnsDir holds per-namespace /etc files, as for `ip netns exec`.
const EtcNetnsDir = "/etc/netns"

// Files under /etc/netns are opened one path component at a time, none
// of them followed if it is a symbolic link, and a file is only written
// or removed when it is a regular file with one link: a link planted
// there (to /etc/shadow, or a directory elsewhere) makes nsscript refuse,
// never write or delete through it.

// ErrLink is returned for a symbolic link (or a hard-linked file) where
// nsscript expects its own file or directory.
var ErrLink = errors.New("a link")

func linkError(p string, err error) error {
	if errors.Is(err, unix.ELOOP) || errors.Is(err, unix.ENOTDIR) {
		return fmt.Errorf("%s is %w (or not a directory): nsscript does not write through links; remove it and run again", p, ErrLink)
	}
	return fmt.Errorf("%s: %w", p, err)
}

// openEtcDir opens /etc/netns (name "") or /etc/netns/NAME as a directory
// without following links, creating it when create is set; made reports
// whether it did.
func openEtcDir(name string, create bool) (fd int, made bool, err error) {
	open := func(at int, p, full string) (int, bool, error) {
		fd, err := unix.Openat(at, p, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if errors.Is(err, unix.ENOENT) && create {
			if err := unix.Mkdirat(at, p, 0o755); err != nil && !errors.Is(err, unix.EEXIST) {
				return -1, false, fmt.Errorf("create %s: %w", full, err)
			}
			fd, err = unix.Openat(at, p, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
			if err == nil {
				return fd, true, nil
			}
		}
		if err != nil {
			if errors.Is(err, unix.ENOENT) {
				return -1, false, err
			}
			return -1, false, linkError(full, err)
		}
		return fd, false, nil
	}
	top, madeTop, err := open(unix.AT_FDCWD, EtcNetnsDir, EtcNetnsDir)
	if err != nil || name == "" {
		return top, madeTop, err
	}
	defer unix.Close(top)
	if err := names.Netns(name); err != nil {
		return -1, false, err
	}
	fd, made, err = open(top, name, filepath.Join(EtcNetnsDir, name))
	return fd, made || madeTop, err
}

// etcFile checks that FILE in the directory dir is a regular file with a
// single link, if it exists.
func etcFile(dir int, file, full string) (exists bool, err error) {
	var st unix.Stat_t
	err = unix.Fstatat(dir, file, &st, unix.AT_SYMLINK_NOFOLLOW)
	switch {
	case errors.Is(err, unix.ENOENT):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("%s: %w", full, err)
	case st.Mode&unix.S_IFMT == unix.S_IFLNK:
		return true, fmt.Errorf("%s is %w: nsscript does not write or remove through links; remove it and run again", full, ErrLink)
	case st.Mode&unix.S_IFMT != unix.S_IFREG:
		return true, fmt.Errorf("%s is not a regular file: remove it and run again", full)
	case st.Nlink > 1:
		return true, fmt.Errorf("%s has %d hard links (%w to another file): nsscript does not write through it; remove it and run again", full, st.Nlink, ErrLink)
	}
	return true, nil
}

// EtcState reads what a write of /etc/netns/NAME/FILE would change.
// Links are errors (ErrLink), as for WriteEtc.
func (k *Linux) EtcState(name, file string) (EtcState, error) {
	top, dir, old, had, err := etcState(name, file)
	return EtcState{TopExists: top, DirExists: dir, Old: old, Had: had}, err
}

func etcState(name, file string) (topExists, dirExists bool, old []byte, had bool, err error) {
	if err := names.EtcFile(file); err != nil {
		return false, false, nil, false, err
	}
	top, _, err := openEtcDir("", false)
	if errors.Is(err, unix.ENOENT) {
		return false, false, nil, false, nil
	}
	if err != nil {
		return false, false, nil, false, err
	}
	unix.Close(top)
	dir, _, err := openEtcDir(name, false)
	if errors.Is(err, unix.ENOENT) {
		return true, false, nil, false, nil
	}
	if err != nil {
		return true, false, nil, false, err
	}
	defer unix.Close(dir)
	full := filepath.Join(EtcNetnsDir, name, file)
	old, had, err = readEtc(dir, file, full)
	if err == nil && len(old) > MaxEtc {
		err = fmt.Errorf("%s holds %d bytes: nsscript keeps what it replaces in its journal, up to %d bytes; move it away first", full, len(old), MaxEtc)
	}
	return true, true, old, had, err
}

func readEtc(dir int, file, full string) ([]byte, bool, error) {
	exists, err := etcFile(dir, file, full)
	if err != nil || !exists {
		return nil, false, err
	}
	fd, err := unix.Openat(dir, file, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, false, linkError(full, err)
	}
	f := os.NewFile(uintptr(fd), full)
	defer f.Close()
	b, err := io.ReadAll(f)
	return b, true, err
}

// EtcSum is how the journal knows a file is still what nsscript wrote.
func EtcSum(content []byte) string {
	s := sha256.Sum256(content)
	return hex.EncodeToString(s[:])
}

// WriteEtc writes /etc/netns/NAME/FILE, which exec in NAME sees as /etc/FILE.
// Like `ip netns exec`, exec binds the file over /etc/FILE, which must
// already be there (a bind mount needs an existing target of the same
// type): a file no process could see is refused here, where the script
// names it, instead of a warning in every later command's stderr.
func (k *Linux) WriteEtc(name, file string, content []byte) (string, error) {
	if err := names.Netns(name); err != nil {
		return "", err
	}
	if err := names.EtcFile(file); err != nil {
		return "", err
	}
	p := filepath.Join(EtcNetnsDir, name, file)
	if err := EtcTarget(name, file); err != nil {
		return "", err
	}
	dir, _, err := openEtcDir(name, true)
	if err != nil {
		return "", err
	}
	defer unix.Close(dir)
	return p, writeEtc(dir, file, p, content, true)
}

// EtcTarget checks that /etc/FILE is a file, which exec can bind
// /etc/netns/NAME/FILE over (the rule of WriteEtc, and of the plan's model).
func EtcTarget(name, file string) error {
	p := filepath.Join(EtcNetnsDir, name, file)
	etc := filepath.Join("/etc", file)
	if st, err := os.Stat(etc); errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%s does not exist, so no process in namespace %q would see %s (exec binds it over %s, as ip netns exec does); create %s first, or use a file that /etc has", etc, name, p, etc, etc)
	} else if err != nil {
		return err
	} else if st.IsDir() {
		return fmt.Errorf("%s is a directory: etc() writes one file, like \"hosts\" or \"resolv.conf\"", etc)
	}
	return nil
}

// MaxEtc is the most an /etc/netns file nsscript writes (or replaces) may
// hold: the journal keeps what it replaces, and these are configuration
// files (hosts, resolv.conf).
const MaxEtc = 1 << 20

// etcTemp is the file an undo writes first, in the same directory; a
// rename then puts it in place, so that a kill never leaves a file half
// written. exec binds no file whose name starts with ".nsscript.".
func etcTemp(file string) string { return ".nsscript." + file + ".tmp" }

// writeEtc writes a file of /etc/netns/NAME. A run writes it in place, as
// `tee` would: a process already running in the namespace has it bound
// over /etc/FILE and sees the new contents at once (a kill mid-write
// leaves a prefix of them, which undo knows as the lab's). An undo
// replaces it whole (inPlace false), by a rename.
func writeEtc(dir int, file, full string, content []byte, inPlace bool) error {
	if len(content) > MaxEtc {
		return fmt.Errorf("%d bytes for %s: nsscript writes at most %d bytes to an /etc/netns file", len(content), full, MaxEtc)
	}
	exists, err := etcFile(dir, file, full)
	if err != nil {
		return err
	}
	if inPlace {
		flags := unix.O_WRONLY | unix.O_NOFOLLOW | unix.O_NONBLOCK | unix.O_CLOEXEC
		if !exists {
			flags |= unix.O_CREAT | unix.O_EXCL
		}
		fd, err := unix.Openat(dir, file, flags, 0o644)
		if err != nil {
			return linkError(full, err)
		}
		f := os.NewFile(uintptr(fd), full)
		defer f.Close()
		if _, err := etcFile(dir, file, full); err != nil { // not swapped since
			return err
		}
		if err := f.Truncate(0); err != nil {
			return err
		}
		_, err = f.Write(content)
		return err
	}
	tmp := etcTemp(file)
	_ = unix.Unlinkat(dir, tmp, 0) // one a kill left (unlink follows no link)
	fd, err := unix.Openat(dir, tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return linkError(full, err)
	}
	f := os.NewFile(uintptr(fd), full)
	_, err = f.Write(content)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = unix.Renameat(dir, tmp, dir, file)
	}
	if err != nil {
		_ = unix.Unlinkat(dir, tmp, 0)
		return fmt.Errorf("write %s: %w", full, err)
	}
	return nil
}

// UndoEtc puts /etc/netns/NAME/FILE back as it was before nsscript wrote
// the contents whose EtcSum is sum (wrote: the contents themselves, when
// known): the old contents when it had some (had), else no file. It does
// so only while the file still holds what nsscript wrote, or a beginning
// of it (a write a kill cut short): a file changed since is left alone
// (ErrNotOurs). A file that is gone is nothing to undo.
func (k *Linux) UndoEtc(name, file, sum string, wrote []byte, had bool, old []byte) error {
	if err := names.EtcFile(file); err != nil {
		return err
	}
	full := filepath.Join(EtcNetnsDir, name, file)
	dir, _, err := openEtcDir(name, false)
	if errors.Is(err, unix.ENOENT) {
		return nil
	}
	if err != nil {
		return err
	}
	defer unix.Close(dir)
	_ = unix.Unlinkat(dir, etcTemp(file), 0) // a write a kill cut short
	cur, exists, err := readEtc(dir, file, full)
	switch {
	case err != nil:
		return fmt.Errorf("%w: %w", ErrNotOurs, err)
	case !exists:
		return nil
	case EtcSum(cur) != sum && (wrote == nil || !bytes.HasPrefix(wrote, cur)):
		return fmt.Errorf("%w: %s was changed since nsscript wrote it; it is left as it is", ErrNotOurs, full)
	case had:
		return writeEtc(dir, file, full, old, false)
	}
	if err := unix.Unlinkat(dir, file, 0); err != nil && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("remove %s: %w", full, err)
	}
	return nil
}

// RemoveEtcDir removes /etc/netns/NAME (name "": /etc/netns) when it is
// an empty directory; a link there is never followed.
func (k *Linux) RemoveEtcDir(name string) error {
	at, p := unix.AT_FDCWD, EtcNetnsDir
	if name != "" {
		if err := names.Netns(name); err != nil {
			return err
		}
		top, _, err := openEtcDir("", false)
		if errors.Is(err, unix.ENOENT) {
			return nil
		}
		if err != nil {
			return err
		}
		defer unix.Close(top)
		at, p = top, name
	}
	err := unix.Unlinkat(at, p, unix.AT_REMOVEDIR)
	switch {
	case err == nil, errors.Is(err, unix.ENOENT), errors.Is(err, unix.ENOTEMPTY), errors.Is(err, unix.EEXIST), errors.Is(err, unix.EBUSY):
		return nil
	case errors.Is(err, unix.ENOTDIR):
		return fmt.Errorf("%w: %s is not a directory nsscript made", ErrNotOurs, filepath.Join(EtcNetnsDir, name))
	}
	return err
}
