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

	"github.com/nsscript/nsscript/builtins/kernel"
	"github.com/nsscript/nsscript/builtins/names"
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
		// Not .sysctl (see shared.go), nor anything not named like a lab.
		if e.IsDir() && names.Lab(e.Name()) == nil {
			labs = append(labs, e.Name())
		}
	}
	sort.Strings(labs)
	return labs, nil
}

// Down undoes everything a lab made, newest first, and forgets the lab.
// It reports how many changes it undid (0: nothing to do). What is no
// longer the lab's, and journal lines it cannot read, it tells warn of
// and leaves alone. A down that is interrupted (kill -9) leaves the
// journal, and the next down finishes the work.
func Down(inner kernel.Kernel, lab string, warn func(string)) (int, []error) {
	if err := names.Lab(lab); err != nil {
		return 0, []error{err}
	}
	dir := filepath.Join(Dir, lab)
	if st, err := os.Lstat(dir); errors.Is(err, os.ErrNotExist) {
		return 0, nil
	} else if err != nil {
		return 0, []error{err}
	} else if !st.IsDir() {
		return 0, []error{fmt.Errorf("%s is not a lab's directory (a link?): remove it", dir)}
	}
	lock, err := takeLock(dir, lab)
	if err != nil {
		return 0, []error{err}
	}
	defer lock.Close()
	recs, probs, err := readRecords(filepath.Join(dir, "journal"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return 0, []error{err}
	}
	u := &Undoer{K: inner, Lab: lab, Warn: warn}
	for _, p := range probs {
		u.warn("%v", p)
	}
	errs := u.Undo(recs)
	if len(errs) > 0 {
		// Keep the journal: a second down tries again.
		return len(recs), errs
	}
	removeLab(dir, false)
	return len(recs), nil
}

// Proc is a process a lab started.
type Proc struct {
	Pid     int      `json:"pid"`
	NS      string   `json:"ns"`
	Argv    []string `json:"argv"`
	Running bool     `json:"running"`
}

// LinkSummary is a device of a lab's, where it is now.
type LinkSummary struct {
	Namespace string `json:"namespace"` // "host", a name, or a path
	Name      string `json:"name"`
	Kind      string `json:"kind"`
	// Detail is what a vxlan, vlan or macvlan is of its kind: "vni 42
	// remote 10.0.0.2 dev eth0 dstport 4789" (kernel.Device.Summary).
	Detail string   `json:"detail,omitempty"`
	Peer   string   `json:"peer,omitempty"` // a veth's other end, "NAMESPACE/NAME"
	Master string   `json:"master,omitempty"`
	Addrs  []string `json:"addrs"`
	Up     bool     `json:"up"`
	// Gone: the journal holds it, the kernel no longer does.
	Gone bool `json:"gone,omitempty"`
}

func (l LinkSummary) String() string {
	s := fmt.Sprintf("%s %s/%s", l.Kind, l.Namespace, l.Name)
	if l.Peer != "" {
		s += " <-> " + l.Peer
	}
	var facts []string
	switch {
	case l.Gone:
		facts = append(facts, "gone")
	case l.Up:
		facts = append(facts, "up")
	default:
		facts = append(facts, "down")
	}
	if l.Detail != "" {
		facts = append(facts, l.Detail)
	}
	if l.Master != "" {
		facts = append(facts, "master "+l.Master)
	}
	facts = append(facts, l.Addrs...)
	return s + " (" + strings.Join(facts, ", ") + ")"
}

// Summary is what `nsscript ls` shows of a lab.
type Summary struct {
	Lab        string        `json:"lab"`
	Sandbox    int           `json:"sandbox,omitempty"` // the pid of the sandbox the lab runs in; 0: this host's
	Owner      string        `json:"owner,omitempty"`
	Namespaces []string      `json:"namespaces"`
	Links      []LinkSummary `json:"links"`
	Rules      []string      `json:"rules"`
	// Neighbors are the static neighbour entries the lab holds:
	// "NAMESPACE: IP lladdr MAC dev DEV".
	Neighbors []string `json:"neighbors,omitempty"`
	Processes []Proc   `json:"processes"`
	Changes   int      `json:"changes"`
	// Problems are the journal lines that could not be read.
	Problems []string `json:"problems,omitempty"`
	// Captures are the files capture() wrote in the lab's directory.
	Captures []string `json:"captures,omitempty"`
}

// CapturesDir is the directory of a lab's directory that capture()
// writes its files to when a script names none; down removes it.
const CapturesDir = "captures"

// Summarize reads a lab's journal, and finds the lab's live processes:
// those it started, what they started (by process tree, environment mark
// and cgroup), and every process inside a namespace the lab made.
func Summarize(k kernel.Reader, lab string) (*Summary, error) {
	if err := names.Lab(lab); err != nil {
		return nil, err
	}
	dir := filepath.Join(Dir, lab)
	if st, err := os.Lstat(dir); err == nil && !st.IsDir() {
		return nil, fmt.Errorf("%s is not a lab's directory (a link?): remove it", dir)
	}
	recs, probs, err := readRecords(filepath.Join(dir, "journal"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	s := &Summary{Lab: lab, Namespaces: []string{}, Links: []LinkSummary{}, Rules: []string{}, Processes: []Proc{}, Changes: len(recs)}
	if ents, err := os.ReadDir(filepath.Join(dir, CapturesDir)); err == nil {
		for _, e := range ents {
			s.Captures = append(s.Captures, filepath.Join(dir, CapturesDir, e.Name()))
		}
	}
	for _, p := range probs {
		s.Problems = append(s.Problems, p.Error())
	}
	if busy(dir) {
		b, _ := os.ReadFile(filepath.Join(dir, "owner"))
		s.Owner = "running: " + strings.TrimSpace(string(b))
	}
	listed := map[int]bool{}
	add := func(pid int, ns string, argv []string) {
		if !listed[pid] && pid != os.Getpid() {
			s.Processes = append(s.Processes, Proc{Pid: pid, NS: ns, Argv: argv, Running: true})
			listed[pid] = true
		}
	}
	var tokens, cgroups []string
	nsNames := map[uint64]string{} // by inode, for the processes found otherwise
	var labNS []*kernel.NS
	for _, r := range recs {
		if r.NS != nil && r.NS.Inode != 0 {
			nsNames[r.NS.Inode] = r.NS.String()
		}
		switch r.Op {
		case "netns":
			s.Namespaces = append(s.Namespaces, r.NS.Name)
			if r.NS.Inode != 0 && k != nil {
				if ns, err := openNS(k, r.NS); err == nil {
					labNS = append(labNS, ns)
				}
			}
		case "rule":
			s.Rules = append(s.Rules, fmt.Sprintf("%s: %s", r.NS, r.chain().Command("-A", 0, r.Spec)))
		case "chain":
			s.Rules = append(s.Rules, fmt.Sprintf("%s: %s", r.NS, r.chain().Command("-N", 0, nil)))
		case "ip_rule":
			six := ""
			if r.PRule.V6 {
				six = "-6 "
			}
			s.Rules = append(s.Rules, fmt.Sprintf("%s: ip %srule add %s", r.NS, six, r.PRule.kernel().Selector()))
		case "cgroup":
			cgroups = append(cgroups, r.Name)
		case "proc":
			if r.Token != "" && !slices.Contains(tokens, r.Token) {
				tokens = append(tokens, r.Token)
			}
		}
	}
	if k == nil {
		return s, nil
	}
	// The live ones (a command that ended is history), and what they
	// started that lives on, a daemon that left them included: by pid
	// and start time, by their mark, by cgroup, by namespace.
	procs, _ := k.Processes()
	byPid := map[int]kernel.Proc{}
	for _, p := range procs {
		if !p.Zombie {
			byPid[p.Pid] = p
		}
	}
	nsName := func(p kernel.Proc) string {
		if n := nsNames[p.Netns]; n != "" {
			return n
		}
		return fmt.Sprintf("net:[%d]", p.Netns)
	}
	inCgroup := func(p kernel.Proc) bool {
		for _, c := range cgroups {
			if p.Cgroup != "" && (p.Cgroup == c || strings.HasPrefix(p.Cgroup, c+"/")) {
				return true
			}
		}
		return false
	}
	// (A process at a recorded pid and start time is the lab's only if
	// it carries the run's mark or is in the lab's cgroup: anyone can
	// read a pid's start time and write it in a journal.)
	for _, r := range recs {
		if p, ok := byPid[r.Pid]; r.Op == "proc" && ok && r.Start != 0 && p.Start == r.Start && (r.Token != "" && p.Owner == r.Token || inCgroup(p)) {
			add(p.Pid, r.NS.String(), r.Argv)
		}
	}
	inLabNS := map[uint64]bool{}
	for _, ns := range labNS {
		inLabNS[ns.Inode] = true
	}
	for _, p := range procs {
		if !p.Zombie && (p.Owner != "" && slices.Contains(tokens, p.Owner) || inCgroup(p) || inLabNS[p.Netns]) {
			add(p.Pid, nsName(p), p.Argv)
		}
	}
	sort.Slice(s.Processes, func(i, j int) bool { return s.Processes[i].Pid < s.Processes[j].Pid })
	s.Links = summarizeLinks(k, recs, labNS)
	for _, n := range liveNeighs(k, recs, labNS) {
		s.Neighbors = append(s.Neighbors, fmt.Sprintf("%s: %s lladdr %s dev %s", n[0], n[2], n[3], n[1]))
	}
	return s, nil
}

// summarizeLinks lists the lab's devices as they are now: every device
// in the lab's namespaces (but loopback), and the devices it made
// elsewhere, wherever they went since (moves, renames).
func summarizeLinks(k kernel.Reader, recs []Record, labNS []*kernel.NS) []LinkSummary {
	t := &Kernel{Reader: k, createdNS: map[uint64]bool{}, createdLinks: map[linkKey]string{}, ownedIdx: map[idxKey]ownedDev{},
		where: map[string]place{}, origins: map[linkKey]origin{}}
	for _, r := range recs {
		t.note(r)
	}
	cands := append([]*kernel.NS{k.Host()}, labNS...)
	for _, r := range recs {
		if r.Op == "adopt" { // where the lab's veths may end
			if ns, err := openNS(k, r.NS); err == nil {
				cands = append(cands, ns)
			}
		}
	}
	label := (*kernel.NS).Label
	describe := func(ns *kernel.NS, li *kernel.LinkInfo) LinkSummary {
		l := LinkSummary{Namespace: label(ns), Name: li.Name, Kind: li.Kind, Up: li.Up, Addrs: []string{}}
		if li.MasterIndex != 0 {
			if m, err := k.LinkByIndex(ns, li.MasterIndex); err == nil {
				l.Master = m.Name
			}
		}
		if as, err := k.Addrs(ns, li.Index); err == nil {
			l.Addrs = append(l.Addrs, as...)
		}
		if d := li.Device; d != nil {
			lower := ""
			if p, err := k.LinkByIndex(ns, d.Link); d.Link != 0 && err == nil {
				lower = p.Name
			}
			l.Detail = d.Summary(lower)
		}
		if li.Kind == "veth" && li.PeerIndex != 0 {
			for _, c := range cands {
				same := li.PeerNetnsID < 0 && c == ns
				if !same && li.PeerNetnsID >= 0 && c != ns {
					id, err := k.NetnsID(ns, c)
					same = err == nil && id == li.PeerNetnsID
				}
				if same {
					if p, err := k.LinkByIndex(c, li.PeerIndex); err == nil {
						l.Peer = label(c) + "/" + p.Name
					}
					break
				}
			}
		}
		return l
	}
	out := []LinkSummary{}
	inLab := map[uint64]bool{}
	for _, ns := range labNS {
		inLab[ns.Inode] = true
		links, err := k.Links(ns)
		if err != nil {
			continue
		}
		for _, li := range links {
			if li.Kind != "loopback" {
				out = append(out, describe(ns, li))
			}
		}
	}
	seen := map[string]bool{}
	for _, r := range recs {
		if r.Op != "link" {
			continue
		}
		for _, end := range []struct {
			ns   *NSRef
			name string
			mac  string
			kind string
		}{{r.NS, r.Name, r.MAC, r.Kind}, {r.PeerNS, r.Peer, r.PeerMAC, r.Kind}} {
			if end.ns == nil || end.name == "" || seen[end.mac] {
				continue
			}
			seen[end.mac] = true
			p, ok := t.where[end.mac]
			if !ok {
				p = place{end.ns, end.name}
			}
			ns, ok := t.openRef(p.ns)
			if ok && inLab[ns.Inode] {
				continue // listed with its namespace
			}
			var li *kernel.LinkInfo
			if ok {
				li, _ = k.LinkByName(ns, p.name)
			}
			if li == nil || end.mac != "" && li.MAC != end.mac {
				out = append(out, LinkSummary{Namespace: p.ns.String(), Name: p.name, Kind: end.kind, Addrs: []string{}, Gone: true})
				continue
			}
			out = append(out, describe(ns, li))
		}
	}
	return out
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

// Namespaces are the named namespaces of a lab's, by name: those its runs
// made or adopted that are still there and still the ones its journal
// names (another namespace with the name since is not the lab's). ok is
// false when there is no lab of that name.
func Namespaces(k kernel.Reader, lab string) (nss map[string]*kernel.NS, ok bool, err error) {
	if err := names.Lab(lab); err != nil {
		return nil, false, err
	}
	dir := filepath.Join(Dir, lab)
	if st, err := os.Lstat(dir); err != nil || !st.IsDir() {
		return nil, false, nil
	}
	recs, _, err := readRecords(filepath.Join(dir, "journal"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, true, err
	}
	nss = map[string]*kernel.NS{}
	for _, r := range recs {
		if (r.Op == "netns" || r.Op == "adopt") && r.NS != nil && r.NS.Name != "" {
			if ns, err := openNS(k, r.NS); err == nil {
				nss[r.NS.Name] = ns
			}
		}
	}
	return nss, true, nil
}
