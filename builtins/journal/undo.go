package journal

import (
	"errors"
	"fmt"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/nsscript/nsscript/builtins/kernel"
)

// Undoer undoes journal records against the real kernel. Before it
// changes anything it checks that the object is still the one the record
// describes: the namespace by inode and cookie, a device by its index or
// by the MAC address nsscript gave it, an /etc/netns file by the checksum
// of what nsscript wrote. Anything else (the user deleted the device and
// made another of that name, say) is left alone, with a warning.
type Undoer struct {
	K kernel.Kernel
	// Lab is the lab whose records these are.
	Lab string
	// Warn, when set, is told of what undo leaves alone because it is no
	// longer what the lab made, and of journal lines it skipped.
	Warn func(string)
	// Spare are processes undo must not stop, nor what they started: the
	// daemons a run adopted, when it prunes what earlier runs made.
	Spare []int

	procs   []kernel.Proc            // every process, read once (with marked)
	marked  map[string][]kernel.Proc // OwnerEnv token -> processes
	cgroups []string                 // the lab's cgroups among the records undone
	// nsPids: the processes in each namespace, read once for all the
	// namespaces an undo deletes (by then it has stopped its own).
	nsPids map[uint64][]int
	// released: the namespaces this undo released (by name), whose
	// veths' peers elsewhere the kernel takes away.
	released map[string]bool
}

func (u *Undoer) warn(format string, args ...any) {
	if u.Warn != nil {
		u.Warn(fmt.Sprintf(format, args...))
	}
}

// errGone marks what no longer exists: nothing to undo.
var errGone = errors.New("gone")

// notOurs says why undo leaves an object alone.
func notOurs(format string, args ...any) error {
	return fmt.Errorf("%w: %s", kernel.ErrNotOurs, fmt.Sprintf(format, args...))
}

// open opens a namespace a record names, if it is still that namespace.
func (u *Undoer) open(r *NSRef) (*kernel.NS, error) { return openNS(u.K, r) }

// openNS opens a namespace a record names, if it is still that namespace.
func openNS(k kernel.Reader, r *NSRef) (*kernel.NS, error) {
	var ns *kernel.NS
	var err error
	switch {
	case r == nil:
		return nil, errGone
	case r.Host:
		ns = k.Host()
	case r.Name != "":
		ns, err = k.OpenNamed(r.Name)
	default:
		ns, err = k.OpenPath(r.Path)
	}
	if err != nil {
		return nil, errGone
	}
	if r.Inode != 0 && ns.Inode != r.Inode || r.Cookie != k.Cookie(ns) {
		// Another namespace now has that name (or this is another host):
		// what the lab changed in its namesake went with it.
		return nil, errGone
	}
	return ns, nil
}

// Undo undoes records newest first. What is already gone is skipped, and
// what is no longer the lab's is left alone with a warning; other
// failures are collected and the rest still undone.
func (u *Undoer) Undo(recs []Record) []error {
	inodes := map[string]uint64{}
	for _, r := range recs {
		if r.Op == "netns_inode" { // journals of nsscript 0.1
			inodes[r.NS.Name] = r.NS.Inode
		}
	}
	// A veth with an end in a namespace this undo deletes goes with that
	// namespace: the kernel tears the namespaces down in one batch, far
	// faster than deleting each veth (each waits for an RCU grace period).
	// Its other end is then awaited, so nothing lingers once down returns.
	// (Not a namespace another lab uses too: it is left to that lab.)
	doomed := map[string]bool{}
	for _, r := range recs {
		if r.Op == "netns" && !u.usedByOthers(r.NS) {
			doomed[r.NS.Name] = true
		}
	}
	inDoomed := func(ref *NSRef) bool { return ref != nil && ref.Name != "" && doomed[ref.Name] }
	// What goes with a namespace or device this undo removes needs no
	// undo of its own (unless it has something to put back).
	undone := map[string]bool{}
	for _, r := range recs {
		if r.Op != "netns" || doomed[r.NS.Name] { // (not one left to another lab)
			undone[recKey(r)] = true
		}
	}
	goesWith := func(r Record) bool { return r.Within != "" && undone[r.Within] && r.Prev == nil }
	for _, r := range recs {
		if r.Op == "cgroup" {
			u.cgroups = append(u.cgroups, r.Name)
		}
	}
	var await []linkEnd
	var errs []error
	u.released = map[string]bool{}
	for i := len(recs) - 1; i >= 0; i-- {
		r := recs[i]
		if r.Op == "netns" && r.NS.Inode == 0 {
			r.NS.Inode = inodes[r.NS.Name]
		}
		if r.Op == "link" && r.Kind == "veth" && (inDoomed(r.NS) || inDoomed(r.PeerNS)) {
			switch {
			case !inDoomed(r.NS):
				await = append(await, linkEnd{r.NS, r.Name, r.MAC, r.PeerNS.Name})
			case !inDoomed(r.PeerNS):
				await = append(await, linkEnd{r.PeerNS, r.Peer, r.PeerMAC, r.NS.Name})
			}
			continue
		}
		if goesWith(r) {
			continue
		}
		err := u.undoSafely(r)
		if r.Op == "netns" && (err == nil || errors.Is(err, errGone)) {
			u.released[r.NS.Name] = true
		}
		switch {
		case err == nil, errors.Is(err, errGone):
		case errors.Is(err, kernel.ErrNotOurs):
			u.warn("left alone: %v", err)
		default:
			errs = append(errs, fmt.Errorf("undo %s %s: %w", r.Op, r.Name, err))
		}
	}
	u.awaitGone(await)
	return errs
}

// undoSafely is undo that reports, instead of crashing on, whatever a
// record it could not foresee makes it do.
func (u *Undoer) undoSafely(r Record) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("internal error (please report it): %v", p)
		}
	}()
	return u.undo(r)
}

func (u *Undoer) undo(r Record) error {
	switch r.Op {
	case "proc", "spawn":
		return u.stopProcess(r)
	case "cgroup":
		return u.K.EndCgroup(r.Name)
	case "netns", "adopt":
		return u.leaveNetns(r, u.deleteNamespace)
	case "netns_inode":
		return nil // "netns" does it
	case "netns_dir":
		return u.K.RemoveNetnsDir()
	case "link", "ident", "up", "mtu", "mac", "master", "rename", "move":
		return u.undoDevice(r)
	case "addr", "addr_del", "route":
		return u.undoAddrRoute(r)
	case "shape":
		return u.undoShape(r)
	case "neigh", "neigh_del":
		return u.undoNeigh(r)
	case "shared_sysctl":
		return u.undoSharedSysctl(r)
	case "sysctl":
		ns, err := u.open(r.NS)
		if err != nil {
			return err
		}
		_, err = u.K.WriteSysctl(ns, r.Name, r.OldValue)
		return err
	case "rule", "rule_del":
		ns, err := u.open(r.NS)
		if err != nil {
			return err
		}
		if !u.labRule(r.Spec) {
			return notOurs("the rule %q has no comment nsscript:%s: not the lab's", strings.Join(r.Spec, " "), u.Lab)
		}
		if c := r.chain(); !c.Builtin() {
			// A chain of the user's someone removed took the rule with it.
			if ok, err := u.K.ChainExists(ns, c); err != nil || !ok {
				return err
			}
		}
		if r.Op == "rule" {
			return u.deleteRule(ns, r)
		}
		if ok, err := u.K.RuleExists(ns, r.chain(), r.Spec); err != nil || ok {
			return err
		}
		return u.K.AddRule(ns, r.chain(), 0, r.Spec)
	case "chain":
		return u.undoChain(r)
	case "ip_rule":
		// Only the rule at its priority, with all of it as the lab added it.
		ns, err := u.open(r.NS)
		if err != nil {
			return err
		}
		want := r.PRule.kernel()
		if _, there, err := u.K.FindPolicyRule(ns, want); err != nil || !there {
			return err
		}
		return ignoreMissing(u.K.DeletePolicyRule(ns, want))
	case "etc":
		ns, file, err := r.etcName()
		if err != nil {
			return err
		}
		if r.Sum == "" {
			return notOurs("%s/%s/%s was journaled without a checksum (by an older nsscript)", kernel.EtcNetnsDir, ns, file)
		}
		return u.K.UndoEtc(ns, file, r.Sum, r.New, r.Has, r.Data)
	case "etc_dir":
		ns, err := r.etcDir()
		if err != nil {
			return err
		}
		return u.K.RemoveEtcDir(ns)
	}
	return fmt.Errorf("unknown journal record %q", r.Op)
}

// deleteRule deletes a rule of the lab's. One that jumps to a chain that
// is gone is gone too (iptables removes no chain a rule jumps to), though
// iptables -D says the chain does not exist.
func (u *Undoer) deleteRule(ns *kernel.NS, r Record) error {
	err := u.K.DeleteRule(ns, r.chain(), r.Spec)
	var ie *kernel.IptablesError
	if t := kernel.Jumps(r.Spec); errors.As(err, &ie) && t != "" && strings.Contains(ie.Msg, t) {
		to := r.chain()
		to.Name = t
		if ok, cerr := u.K.ChainExists(ns, to); cerr == nil && !ok {
			return nil
		}
	}
	return err
}

// undoChain removes a chain the lab made, when no rule is left in it
// (the lab's rules in it are undone before: they are newer), and no rule
// jumps to it: a rule of another's keeps it.
func (u *Undoer) undoChain(r Record) error {
	ns, err := u.open(r.NS)
	if err != nil {
		return err
	}
	c := r.chain()
	if ok, err := u.K.ChainExists(ns, c); err != nil || !ok {
		return err
	}
	rules, err := u.K.ListRules(ns, c)
	if err != nil {
		return err
	}
	for _, l := range rules {
		if strings.HasPrefix(l, "-A ") {
			return notOurs("%s still holds rules that are not the lab's (%s): left as it is", c.Command("-N", 0, nil), l)
		}
	}
	var ie *kernel.IptablesError
	if err := u.K.DeleteChain(ns, c); errors.As(err, &ie) {
		// (A rule that is not the lab's jumps to it.)
		return notOurs("%s: %s: left as it is", c.Command("-X", 0, nil), ie.Msg)
	} else if err != nil {
		return err
	}
	return nil
}

// labRule reports whether a rule carries the lab's comment, which every
// rule a lab adds does (a rule it found there it never deletes).
func (u *Undoer) labRule(spec []string) bool {
	for i := 0; i+1 < len(spec); i++ {
		if spec[i] == "--comment" && spec[i+1] == "nsscript:"+u.Lab {
			return true
		}
	}
	return false
}

func ignoreMissing(err error) error {
	if errors.Is(err, unix.ESRCH) || errors.Is(err, unix.EADDRNOTAVAIL) || errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENODEV) {
		return nil
	}
	return err
}
