package journal

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/nsscript/nsscript/builtins"
)

// Labs lists the labs that hold something, sorted.
func Labs() ([]string, error) {
	ents, err := os.ReadDir(Dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var labs []string
	for _, e := range ents {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") { // not .sysctl (see shared.go)
			labs = append(labs, e.Name())
		}
	}
	sort.Strings(labs)
	return labs, nil
}

// Down undoes everything a lab made, newest first, and forgets the lab.
// It reports how many changes it undid (0: nothing to do).
func Down(inner builtins.Kernel, lab string, log func(string)) (int, []error) {
	dir := filepath.Join(Dir, lab)
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	lock, err := takeLock(dir, lab)
	if err != nil {
		return 0, []error{err}
	}
	defer lock.Close()
	recs, err := readRecords(filepath.Join(dir, "journal"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return 0, []error{err}
	}
	errs := (&Undoer{K: inner, Log: log}).Undo(recs)
	if len(errs) > 0 {
		// Keep the journal: a second down tries again.
		return len(recs), errs
	}
	os.RemoveAll(dir)
	os.Remove(Dir) // only when no other lab is there
	return len(recs), nil
}

// Proc is a process a lab started.
type Proc struct {
	Pid     int      `json:"pid"`
	NS      string   `json:"ns"`
	Argv    []string `json:"argv"`
	Running bool     `json:"running"`
}

// Summary is what `nsscript ls` shows of a lab.
type Summary struct {
	Lab        string   `json:"lab"`
	Owner      string   `json:"owner,omitempty"`
	Namespaces []string `json:"namespaces"`
	Links      []string `json:"links"`
	Rules      []string `json:"rules"`
	Processes  []Proc   `json:"processes"`
	Changes    int      `json:"changes"`
}

// Summarize reads a lab's journal.
func Summarize(lab string) (*Summary, error) {
	dir := filepath.Join(Dir, lab)
	recs, err := readRecords(filepath.Join(dir, "journal"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	s := &Summary{Lab: lab, Namespaces: []string{}, Links: []string{}, Rules: []string{}, Processes: []Proc{}, Changes: len(recs)}
	if busy(dir) {
		b, _ := os.ReadFile(filepath.Join(dir, "owner"))
		s.Owner = "running: " + strings.TrimSpace(string(b))
	}
	var marked map[string][]procID
	listed := map[int]bool{}
	var tokens []string
	nsNames := map[uint64]string{} // by inode, for the processes found by token
	for _, r := range recs {
		if r.NS != nil && r.NS.Inode != 0 {
			nsNames[r.NS.Inode] = r.NS.String()
		}
		switch r.Op {
		case "netns":
			s.Namespaces = append(s.Namespaces, r.NS.Name)
		case "link":
			l := fmt.Sprintf("%s %s/%s", r.Kind, r.NS, r.Name)
			if r.Peer != "" {
				l += fmt.Sprintf(" <-> %s/%s", r.PeerNS, r.Peer)
			}
			s.Links = append(s.Links, l)
		case "rule":
			s.Rules = append(s.Rules, fmt.Sprintf("%s: iptables -t %s -A %s %s", r.NS, r.Table, r.Chain, strings.Join(r.Spec, " ")))
		case "proc":
			// The live ones (a command that ended is history), and what
			// they started that lives on, a daemon that left them included.
			if st := startTime(r.Pid); st != 0 && st == r.Start && !zombie(r.Pid) {
				s.Processes = append(s.Processes, Proc{Pid: r.Pid, NS: r.NS.String(), Argv: r.Argv, Running: true})
				listed[r.Pid] = true
			}
			if r.Token != "" && !slices.Contains(tokens, r.Token) {
				tokens = append(tokens, r.Token)
			}
		}
	}
	for _, tok := range tokens {
		if marked == nil {
			marked = markedProcesses()
		}
		for _, p := range marked[tok] {
			if !listed[p.pid] && startTime(p.pid) == p.start && !zombie(p.pid) {
				s.Processes = append(s.Processes, Proc{Pid: p.pid, NS: procNS(p.pid, nsNames), Argv: cmdline(p.pid), Running: true})
				listed[p.pid] = true
			}
		}
	}
	return s, nil
}

// procNS names the network namespace a process is in.
func procNS(pid int, names map[uint64]string) string {
	l, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/net", pid))
	if err != nil {
		return "?"
	}
	var inode uint64
	if _, err := fmt.Sscanf(l, "net:[%d]", &inode); err == nil && names[inode] != "" {
		return names[inode]
	}
	return l
}

// cmdline is a process's argv.
func cmdline(pid int) []string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
}

// busy reports whether a run holds the lab now.
func busy(dir string) bool {
	f, err := os.Open(filepath.Join(dir, "lock"))
	if err != nil {
		return false
	}
	defer f.Close()
	if unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB) != nil {
		return true
	}
	return false
}
