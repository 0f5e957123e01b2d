// Package names is the one validator of every user-supplied name that
// becomes a path or a kernel name: lab names (directories in
// /run/nsscript), namespace names (files in /run/netns, directories in
// /etc/netns), interface names, iptables chain names, /etc/netns file
// names and sysctl keys; and the paths of files a script has nsscript
// write (OutputFile).
// Commands, builtins, the journal reader and the kernel package all check
// names here, so a name that passes one of them passes all of them and
// can never climb out of the directory it is meant for.
//
// It imports nothing of nsscript's, so every package may use it.
package names

import (
	"fmt"
	"path"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/sys/unix"
)

// Limits.
const (
	MaxLab    = 64  // a lab name, in bytes
	MaxNetns  = 255 // a namespace name: one file name
	MaxIfName = 15  // IFNAMSIZ - 1
	MaxFile   = 255 // an /etc/netns file name
	MaxChain  = 28  // an iptables chain name (XT_EXTENSION_MAXNAMELEN - 1)
)

// bad finds what no name may hold: bytes that are not UTF-8 (the journal
// is JSON, which would change them), NUL (the kernel cuts a name there),
// other control characters (a newline splits a listing) and whitespace.
// It returns "" when there is none.
func bad(s string) string {
	if !utf8.ValidString(s) {
		return "bytes that are not UTF-8"
	}
	for _, r := range s {
		switch {
		case r == 0:
			return "a NUL byte"
		case unicode.IsControl(r):
			return fmt.Sprintf("the control character %q", r)
		case unicode.IsSpace(r):
			return fmt.Sprintf("whitespace (%q)", r)
		}
	}
	return ""
}

// plain reports whether s is letters, digits, '_', '-' and '.' (ASCII)
// starting with a letter, digit or '_'.
func plain(s string) bool {
	for i, r := range s {
		ok := r < utf8.RuneSelf && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' ||
			i > 0 && (r == '-' || r == '.'))
		if !ok {
			return false
		}
	}
	return true
}

// Lab checks a lab name: one path component of safe characters (letters,
// digits, '_', '-', '.'), starting with a letter, digit or '_', at most
// MaxLab bytes. A lab is a directory in /run/nsscript and the mark on the
// lab's iptables rules, so nothing else is accepted.
func Lab(s string) error {
	if s == "" {
		return fmt.Errorf("lab name is empty (an unset variable?): give a lab name like \"topo\"; nsscript ls lists the labs")
	}
	if !plain(s) {
		return fmt.Errorf("lab name %q is not allowed: a lab name is one path component of letters, digits, '_', '-' and '.', starting with a letter, digit or '_' (like \"topo\" or \"my-lab.2\")", s)
	}
	if len(s) > MaxLab {
		return fmt.Errorf("lab name %q is %d bytes, %d too many (at most %d); shorten it", s, len(s), len(s)-MaxLab, MaxLab)
	}
	return nil
}

// Netns checks a namespace name: one file name in /run/netns (and a
// directory in /etc/netns), at most MaxNetns bytes.
func Netns(s string) error {
	switch {
	case s == "":
		return fmt.Errorf("namespace name is empty: give a name like \"red\"")
	case s == "." || s == "..":
		return fmt.Errorf("namespace name %q is not allowed: it must be a single path component (a file name in /run/netns); choose a name like \"red\"", s)
	case strings.ContainsRune(s, '/'):
		return fmt.Errorf("namespace name %q contains '/': it must be a single path component (a file name in /run/netns); choose a name without '/'", s)
	case len(s) > MaxNetns:
		return fmt.Errorf("namespace name is %d bytes, %d too many: a file name has at most %d; shorten it", len(s), len(s)-MaxNetns, MaxNetns)
	}
	if b := bad(s); b != "" {
		return fmt.Errorf("namespace name %q contains %s: remove it; give a name like \"red\"", s, b)
	}
	return nil
}

// IfName checks an interface name as the kernel's dev_valid_name does
// (1 to 15 bytes, not "." or "..", no '/', ':' or whitespace), and also
// refuses control characters, NUL among them, which the kernel would cut
// the name at, and bytes that are not UTF-8.
func IfName(s string) error {
	switch {
	case s == "":
		return fmt.Errorf("interface name is empty: give 1 to 15 bytes")
	case len(s) > MaxIfName:
		return fmt.Errorf("interface name %q is %d bytes, %d too many: Linux allows at most 15 (IFNAMSIZ); shorten it", s, len(s), len(s)-MaxIfName)
	case s == "." || s == "..":
		return fmt.Errorf("interface name %q is not allowed (the kernel reserves \".\" and \"..\"): choose another name", s)
	}
	for _, r := range s {
		if r == '/' || r == ':' || unicode.IsSpace(r) {
			return fmt.Errorf("interface name %q contains %q: Linux forbids '/', ':' and whitespace in interface names; choose a name without them (e.g. with '-')", s, r)
		}
	}
	if b := bad(s); b != "" {
		return fmt.Errorf("interface name %q contains %s: remove it (the kernel would cut the name there, or show it garbled)", s, b)
	}
	if strings.ContainsRune(s, '%') {
		// "eth%d" asks the kernel to choose: the device would not have the
		// name the script (and the journal) know it by.
		return fmt.Errorf("interface name %q contains '%%': the kernel reads %%d as \"pick a number\", so the device would get another name; give the name itself, like \"eth0\"", s)
	}
	return nil
}

// Chain checks the name of an iptables chain of the user's (-N NAME):
// 1 to MaxChain bytes of letters, digits, '_', '-' and '.', starting with
// a letter, digit or '_' (iptables would read a leading '-' or '!' as an
// option), and not a verdict (ACCEPT, DROP, QUEUE, RETURN), which -j
// would take instead of the chain.
func Chain(s string) error {
	if s == "" {
		return fmt.Errorf("chain name is empty: give a name like \"WEB\"")
	}
	if !plain(s) {
		return fmt.Errorf("chain name %q is not allowed: give letters, digits, '_', '-' and '.', starting with a letter, digit or '_' (like \"WEB\" or \"lab-in\")", s)
	}
	if len(s) > MaxChain {
		return fmt.Errorf("chain name %q is %d bytes, %d too many: iptables allows at most %d; shorten it", s, len(s), len(s)-MaxChain, MaxChain)
	}
	switch s {
	case "ACCEPT", "DROP", "QUEUE", "RETURN":
		return fmt.Errorf("chain name %q is a verdict of iptables (-j %s): choose another name", s, s)
	}
	return nil
}

// EtcFile checks the name of a file in /etc/netns/NAME/: one file name.
func EtcFile(s string) error {
	if s == "" || s == "." || s == ".." || strings.ContainsRune(s, '/') {
		return fmt.Errorf("%q is not a file name in /etc: give one name like \"hosts\" or \"resolv.conf\"", s)
	}
	if len(s) > MaxFile {
		return fmt.Errorf("file name is %d bytes, %d too many (at most %d); shorten it", len(s), len(s)-MaxFile, MaxFile)
	}
	if b := bad(s); b != "" {
		return fmt.Errorf("file name %q contains %s: give one name like \"hosts\" or \"resolv.conf\"", s, b)
	}
	return nil
}

// SysctlKey checks a sysctl key and returns its file under /proc/sys.
// Only keys the kernel keeps per network namespace are allowed: those
// under net. The key is dotted (net.ipv4.ip_forward; as for sysctl(8), a
// '/' inside a dotted key stands for a '.' in a name, as in
// net.ipv4.conf.eth0/100.rp_filter) or slashed (net/ipv4/ip_forward).
func SysctlKey(key string) (string, error) {
	if key == "" {
		return "", fmt.Errorf("sysctl key is empty: give a key like \"net.ipv4.ip_forward\"")
	}
	if b := bad(key); b != "" {
		return "", fmt.Errorf("sysctl key %q contains %s: give a key like \"net.ipv4.ip_forward\"", key, b)
	}
	var parts []string
	if strings.HasPrefix(key, "net/") {
		parts = strings.Split(key, "/")
	} else {
		parts = strings.Split(key, ".")
		for i, p := range parts {
			parts[i] = strings.ReplaceAll(p, "/", ".")
		}
	}
	if parts[0] != "net" {
		return "", fmt.Errorf("sysctl key %q is not under net.: only a network namespace's own keys (net.*, like \"net.ipv4.ip_forward\") can be set per namespace; %q would change the whole machine", key, key)
	}
	if len(parts) < 2 {
		return "", fmt.Errorf("sysctl key %q names no setting: give a key like \"net.ipv4.ip_forward\"", key)
	}
	for _, p := range parts {
		if p == "" || p == "." || p == ".." {
			return "", fmt.Errorf("sysctl key %q has an empty, \".\" or \"..\" part: give a key like \"net.ipv4.ip_forward\"", key)
		}
	}
	p := path.Join(append([]string{"/proc/sys"}, parts...)...)
	if !strings.HasPrefix(p, "/proc/sys/net/") {
		return "", fmt.Errorf("sysctl key %q does not name a file under /proc/sys/net", key)
	}
	return p, nil
}

// reserved are the directories no file a script names may be in:
// nsscript's own state, the namespaces' files, and the kernel's
// pseudo-filesystems, where writing changes the system instead of
// making a file.
var reserved = []string{"/run/nsscript", "/run/netns", "/etc/netns", "/proc", "/sys", "/dev"}

// OutputFile checks the path of a file that nsscript writes where a
// script says (a capture's file=), absolute and clean, its links
// resolved: no byte a path cannot hold or a listing would garble
// (spaces are fine), and not in a reserved directory.
func OutputFile(p string) error {
	if !path.IsAbs(p) || path.Clean(p) != p {
		return fmt.Errorf("%q is not an absolute, clean path", p)
	}
	if !utf8.ValidString(p) {
		return fmt.Errorf("path %q holds bytes that are not UTF-8: name the file in UTF-8", p)
	}
	for _, r := range p {
		if r == 0 || unicode.IsControl(r) {
			return fmt.Errorf("path %q contains the control character %q: name the file without it", p, r)
		}
	}
	for _, dir := range reserved {
		if p == dir || strings.HasPrefix(p, dir+"/") {
			return fmt.Errorf("%s is under %s, which is not for a script's files: write it elsewhere, e.g. /tmp/%s", p, dir, path.Base(p))
		}
	}
	return nil
}

// kernelFS are the kernel's pseudo-filesystems, by statfs magic: a file
// there is the kernel's (a sysctl, a trigger, a cgroup's control), and
// writing it changes the system instead of making a file.
var kernelFS = map[uint32]string{
	unix.PROC_SUPER_MAGIC: "proc", unix.SYSFS_MAGIC: "sysfs", unix.CGROUP_SUPER_MAGIC: "cgroup",
	unix.CGROUP2_SUPER_MAGIC: "cgroup2", unix.DEBUGFS_MAGIC: "debugfs", unix.TRACEFS_MAGIC: "tracefs",
	unix.SECURITYFS_MAGIC: "securityfs", unix.BPF_FS_MAGIC: "bpf", unix.EFIVARFS_MAGIC: "efivarfs",
	unix.PSTOREFS_MAGIC: "pstore", unix.NSFS_MAGIC: "nsfs", unix.DEVPTS_SUPER_MAGIC: "devpts",
	unix.SELINUX_MAGIC: "selinuxfs", unix.SMACK_MAGIC: "smackfs",
}

// OutputDir checks the directory a file of OutputFile is made in, as it
// is mounted: not on one of the kernel's pseudo-filesystems, wherever it
// is mounted (OutputFile refuses /proc and /sys by name; a proc mounted
// at /mnt/p is refused here).
func OutputDir(dir string) error {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return nil // (what opens the file there says why not)
	}
	if fs, ok := kernelFS[uint32(st.Type)]; ok {
		return fmt.Errorf("%s is on a %s filesystem, the kernel's, where writing changes the system instead of making a file: write it elsewhere, e.g. in /tmp", dir, fs)
	}
	return nil
}
