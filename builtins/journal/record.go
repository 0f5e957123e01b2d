package journal

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/nsscript/nsscript/builtins/kernel"
	"github.com/nsscript/nsscript/builtins/names"
)

// NSRef names a namespace in a way another process can find it again,
// and tells it from a later namespace of the same name: the kernel reuses
// a namespace's inode once it is gone, never its cookie.
type NSRef struct {
	Host   bool   `json:"host,omitempty"`
	Name   string `json:"name,omitempty"`
	Path   string `json:"path,omitempty"`
	Inode  uint64 `json:"inode,omitempty"`
	Cookie uint64 `json:"cookie,omitempty"`
}

func (r *NSRef) String() string {
	switch {
	case r == nil:
		return "?"
	case r.Host:
		return "host"
	case r.Name != "":
		return r.Name
	}
	return r.Path
}

// Route is a route as the journal keeps it (devices by name).
type Route struct {
	Dst    string `json:"dst"` // "" for default
	Via    string `json:"via,omitempty"`
	Dev    string `json:"dev,omitempty"`
	Metric int    `json:"metric,omitempty"`
	Table  int    `json:"table,omitempty"`
}

// PRule is a routing policy rule (ip rule) as the journal keeps it.
type PRule struct {
	V6       bool   `json:"v6,omitempty"`
	Priority int    `json:"priority"`
	From     string `json:"from,omitempty"` // a prefix; "" for any
	To       string `json:"to,omitempty"`
	IIF      string `json:"iif,omitempty"`
	OIF      string `json:"oif,omitempty"`
	Mark     uint32 `json:"mark,omitempty"`
	Mask     uint32 `json:"mask,omitempty"` // 0: no fwmark match
	Table    int    `json:"table"`
}

func pruleOf(r kernel.PolicyRule) *PRule {
	p := &PRule{V6: r.V6, Priority: r.Priority, IIF: r.IIF, OIF: r.OIF, Mark: r.Mark, Mask: r.Mask, Table: r.Table}
	if r.Src != nil {
		p.From = r.Src.String()
	}
	if r.Dst != nil {
		p.To = r.Dst.String()
	}
	return p
}

// kernel is the rule, for the kernel (the journal's check has passed).
func (p *PRule) kernel() kernel.PolicyRule {
	r := kernel.PolicyRule{V6: p.V6, Priority: p.Priority, IIF: p.IIF, OIF: p.OIF, Mark: p.Mark, Mask: p.Mask, Table: p.Table}
	if p.From != "" {
		_, r.Src, _ = net.ParseCIDR(p.From)
	}
	if p.To != "" {
		_, r.Dst, _ = net.ParseCIDR(p.To)
	}
	return r
}

// check refuses a rule undo could not give the kernel exactly: undo
// deletes only the rule at that priority with all of it the same.
func (p *PRule) check() error {
	if p.Priority <= 0 || p.Table <= 0 {
		return fmt.Errorf("ip rule with priority %d, table %d", p.Priority, p.Table)
	}
	return errors.Join(optional(p.From, checkCIDR), optional(p.To, checkCIDR), optional(p.IIF, names.IfName), optional(p.OIF, names.IfName))
}

// Record is one change, what undoes it, and what the changed object is:
// undo first checks that the object is still the one recorded (the
// namespace by inode and cookie, a device by index or by the MAC address
// nsscript gave it, a file by the checksum of what nsscript wrote) and
// leaves anything else alone.
//
// Each field holds one thing, of its own type; which records use it is
// said beside it. (An older nsscript kept what was there before in one
// string, "old", whatever it was: the reader maps it into these fields,
// see legacyOld, so that a lab made before an upgrade still comes down.)
type Record struct {
	Op     string   `json:"op"`
	NS     *NSRef   `json:"ns,omitempty"`
	Name   string   `json:"name,omitempty"` // device, namespace, sysctl key, cgroup
	Kind   string   `json:"kind,omitempty"`
	Peer   string   `json:"peer,omitempty"`
	PeerNS *NSRef   `json:"peer_ns,omitempty"`
	To     *NSRef   `json:"to,omitempty"`
	Addr   string   `json:"addr,omitempty"` // addr, addr_del: the address, as a CIDR (10.0.0.1/24)
	Has    bool     `json:"has,omitempty"`
	Data   []byte   `json:"data,omitempty"`
	Route  *Route   `json:"route,omitempty"`
	Prev   *Route   `json:"prev,omitempty"`
	Table  string   `json:"table,omitempty"` // rule, rule_del, chain: the iptables table
	Chain  string   `json:"chain,omitempty"`
	Spec   []string `json:"spec,omitempty"`
	V6     bool     `json:"v6,omitempty"` // rule, rule_del, chain: of ip6tables
	// PRule: ip_rule: the routing policy rule.
	PRule *PRule   `json:"ip_rule,omitempty"`
	Pid   int      `json:"pid,omitempty"`
	Start uint64   `json:"start,omitempty"`
	Argv  []string `json:"argv,omitempty"`
	Token string   `json:"token,omitempty"` // OwnerEnv's value in a started process
	Lab   string   `json:"lab,omitempty"`   // shared_sysctl: the lab among its users

	// What was there before the change, which undo puts back.
	OldValue string `json:"old_value,omitempty"` // sysctl, shared_sysctl: the value
	OldMTU   int    `json:"old_mtu,omitempty"`   // mtu
	OldMAC   string `json:"old_mac,omitempty"`   // mac, ident ("" on ident: none to put back)
	OldName  string `json:"old_name,omitempty"`  // rename: the name before (Name is the new one)
	// WasUp: on up, whether the device was up. On move, whether a device
	// of another's was up before it left; nil on a move of the lab's own
	// device, which has nothing to be given back (see givesBack).
	WasUp *bool `json:"was_up,omitempty"`
	// OldMaster is the bridge the device was in ("": none): master, and
	// move of a device of another's.
	OldMaster string `json:"old_master,omitempty"`
	// What the kernel takes from a device with the change, to put back:
	// its IPv6 addresses when it goes down or below an MTU of 1280 (up,
	// mtu), 127.0.0.1/8 or none on loopback (up), everything on a move
	// of a device of another's (move), and the routes through it (up,
	// move).
	Addrs  []string `json:"addrs,omitempty"`
	Routes []Route  `json:"routes,omitempty"`
	// Neighs: the device's static neighbours, which the kernel flushes
	// when it goes down (up) or changes its MAC (ident, mac).
	Neighs []Neigh `json:"neighs,omitempty"`

	// Neigh: neigh, neigh_del: the static neighbour entry (its address;
	// on neigh, the lladdr the lab set). The device it is on is named
	// as an addr record's (Name, Index, MAC). PrevNeigh is the static
	// entry that was there before, which undo puts back: replaced
	// (neigh), or deleted (neigh_del).
	Neigh     *Neigh `json:"neigh,omitempty"`
	PrevNeigh *Neigh `json:"prev_neigh,omitempty"`

	// Identity.
	Index       int    `json:"index,omitempty"`       // a device's index in NS when recorded
	MAC         string `json:"mac,omitempty"`         // a device's MAC (nsscript's pick for one it makes)
	PeerMAC     string `json:"peer_mac,omitempty"`    // a veth peer's MAC
	File        string `json:"file,omitempty"`        // etc: the file's name in /etc/netns/NAME
	Sum         string `json:"sum,omitempty"`         // etc: sha256 of what nsscript wrote
	New         []byte `json:"new,omitempty"`         // etc: what nsscript wrote
	Placeholder uint64 `json:"placeholder,omitempty"` // netns: inode of the file that carries the name

	// Shape, PrevShape: shape: a device's shaping, and what it was
	// before, which undo puts back (nil: none).
	Shape     *kernel.Shaping `json:"shape,omitempty"`
	PrevShape *kernel.Shaping `json:"prev_shape,omitempty"`

	// Want, PeerWant: link: what the creation call wanted of the device
	// (and of a veth's peer), for a re-run to compare (see declare.go).
	Want     *kernel.Want `json:"want,omitempty"`
	PeerWant *kernel.Want `json:"peer_want,omitempty"`

	// Rollback: the record is for the rollback of the run that wrote it
	// only; a run that succeeds drops it (Commit). (A rule it deleted of
	// an earlier run's, what it undid of an earlier run's call.)
	Rollback bool `json:"rollback,omitempty"`

	// Within is the key of the lab's namespace or device that holds the
	// change: when that goes, the change goes with it.
	Within string `json:"within,omitempty"`

	// A process started with background=True: what a later run compares
	// to adopt it instead of starting it again, and where its output is.
	Bg bool `json:"bg,omitempty"`
	// Seq tells apart identical background commands of one run: the Nth
	// of them is N (0, in older journals, is 1).
	Seq    int      `json:"seq,omitempty"`
	Env    []string `json:"env,omitempty"` // what the script added to the environment
	Cwd    string   `json:"cwd,omitempty"`
	Stdout string   `json:"stdout,omitempty"`
	Stderr string   `json:"stderr,omitempty"`
}

// chain is the iptables chain of a rule, rule_del or chain record.
func (r *Record) chain() kernel.Chain { return kernel.Chain{V6: r.V6, Table: r.Table, Name: r.Chain} }

// givesBack reports whether a move record is of a device of another's,
// which undo gives back what it had (WasUp, OldMaster, Addrs, Routes)
// when it returns.
func (r *Record) givesBack() bool { return r.Op == "move" && r.WasUp != nil }

// UnmarshalJSON reads a record, and maps the "old" of a journal an older
// nsscript wrote into the field it meant for the record's op
// (legacyOld).
func (r *Record) UnmarshalJSON(b []byte) error {
	type plain Record // without this method
	var v struct {
		plain
		Old *string `json:"old"`
		// Master: where an older nsscript kept a move's OldMaster.
		Master *string `json:"master"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*r = Record(v.plain)
	if v.Master != nil && r.Op == "move" {
		if r.OldMaster != "" {
			return fmt.Errorf("both %q and %q", "master", "old_master")
		}
		r.OldMaster = *v.Master
	}
	if v.Old != nil {
		return r.legacyOld(*v.Old)
	}
	return nil
}

// legacyOld puts the "old" of a record an older nsscript wrote where
// this one keeps it: the sysctl value (OldValue), "1" or "0" for a
// device's up state (WasUp; on a move, absent for the lab's own device),
// the MTU (OldMTU), the MAC (OldMAC), the master's or the old name
// (OldMaster, OldName), and the address of an addr record itself (Addr).
// An "old" that does not parse as what it stood for is an error; on the
// records that had none it is ignored, as it was.
func (r *Record) legacyOld(old string) error {
	set := func(dst *string, field string) error {
		if *dst != "" {
			return fmt.Errorf("both %q and %q", "old", field)
		}
		*dst = old
		return nil
	}
	switch r.Op {
	case "sysctl", "shared_sysctl":
		return set(&r.OldValue, "old_value")
	case "up", "move":
		if r.WasUp != nil {
			return fmt.Errorf("both %q and %q", "old", "was_up")
		}
		if old == "" && r.Op == "move" {
			return nil // the lab's own device
		}
		if old != "1" && old != "0" {
			return fmt.Errorf("up state %q is not 1 or 0", old)
		}
		r.WasUp = new(old == "1")
	case "mtu":
		mtu, err := strconv.Atoi(old)
		if err != nil {
			return fmt.Errorf("mtu %q is not a number", old)
		}
		if r.OldMTU != 0 {
			return fmt.Errorf("both %q and %q", "old", "old_mtu")
		}
		r.OldMTU = mtu
	case "mac", "ident":
		return set(&r.OldMAC, "old_mac")
	case "master":
		return set(&r.OldMaster, "old_master")
	case "rename":
		return set(&r.OldName, "old_name")
	case "addr", "addr_del":
		return set(&r.Addr, "addr")
	}
	return nil
}

// Problem is a journal line that was skipped, and why.
type Problem struct {
	File string
	Line int
	Err  error
}

func (p Problem) Error() string {
	return fmt.Sprintf("%s:%d: skipped: %v", p.File, p.Line, p.Err)
}

// recordStart begins every record: where a torn write (a kill in the
// middle of one) glued the next record to its line, it is found again.
var recordStart = []byte(`{"op":`)

// readRecords reads a journal. A line that is not a complete, valid
// record is reported as a Problem and skipped; the records around it are
// all read, also one that a torn line before it ran into.
func readRecords(file string) ([]Record, []Problem, error) { return readRecordsFrom(file, 0) }

// maxLine is the longest journal line read; a longer one (none that
// nsscript writes: an /etc/netns file it keeps is at most 1 MiB) is
// reported and skipped.
const maxLine = 8 << 20

// readRecordsFrom reads the records that begin at or after offset. The
// journal must be a regular file (a link or a FIFO planted there is not
// read).
func readRecordsFrom(file string, offset int64) ([]Record, []Problem, error) {
	f, err := openRegular(file, os.O_RDONLY)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	if _, err := f.Seek(offset, 0); err != nil {
		return nil, nil, err
	}
	var out []Record
	var probs []Problem
	rd := bufio.NewReaderSize(f, 1<<16)
	for n := 1; ; n++ {
		line, long, err := readLine(rd)
		if long {
			probs = append(probs, Problem{file, n, fmt.Errorf("line longer than %d bytes", maxLine)})
		} else if len(line) > 0 {
			recs, bad := parseLine(line)
			out = append(out, recs...)
			for _, e := range bad {
				probs = append(probs, Problem{file, n, e})
			}
		}
		if err == io.EOF {
			return out, probs, nil
		}
		if err != nil {
			return out, probs, err
		}
	}
}

// readLine reads one line, without its newline; a line over maxLine is
// read to its end and dropped (long).
func readLine(rd *bufio.Reader) (line []byte, long bool, err error) {
	for {
		chunk, err := rd.ReadSlice('\n')
		if !long {
			if len(line)+len(chunk) > maxLine {
				long, line = true, nil
			} else {
				line = append(line, chunk...)
			}
		}
		if err != bufio.ErrBufferFull {
			return bytes.TrimSuffix(line, []byte("\n")), long, err
		}
	}
}

// openRegular opens a file of the lab's: never through a symbolic link,
// and only a regular file (a FIFO would block, a device could act).
func openRegular(file string, flag int) (*os.File, error) {
	f, err := os.OpenFile(file, flag|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, err
	}
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s is not a regular file: nsscript keeps its own files there; remove it", file)
	}
	if err := unix.SetNonblock(int(f.Fd()), false); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// parseLine reads the records on one line: normally one; more when torn
// writes glued records together. What is not a valid record is reported.
func parseLine(line []byte) ([]Record, []error) {
	line = bytes.TrimSpace(line)
	if len(line) == 0 {
		return nil, nil
	}
	var recs []Record
	var bad []error
	for len(line) > 0 {
		// The part up to the next record start, if any, is this record.
		next := bytes.Index(line[1:], recordStart)
		part := line
		if next >= 0 {
			part, line = line[:next+1], line[next+1:]
		} else {
			line = nil
		}
		// (`{"op":` cannot occur inside a record: JSON escapes the
		// quotes of a string.)
		var r Record
		err := json.Unmarshal(part, &r)
		if err == nil {
			err = r.check()
		}
		if err != nil {
			bad = append(bad, fmt.Errorf("%v: %.80q", err, part))
			continue
		}
		recs = append(recs, r)
	}
	return recs, bad
}

// ops are the records a journal may hold.
var ops = map[string]bool{
	"netns": true, "netns_inode": true, "netns_dir": true, "link": true, "ident": true, "up": true, "mtu": true,
	"mac": true, "master": true, "rename": true, "move": true, "addr": true, "addr_del": true, "route": true,
	"sysctl": true, "shared_sysctl": true, "rule": true, "rule_del": true, "chain": true, "ip_rule": true, "etc": true, "etc_dir": true, "spawn": true,
	"proc": true, "cgroup": true, "adopt": true, "shape": true, "neigh": true, "neigh_del": true,
}

func (n *NSRef) check(what string) error {
	switch {
	case n == nil:
		return fmt.Errorf("no %s", what)
	case n.Host:
		return nil
	case n.Name != "":
		return names.Netns(n.Name)
	case n.Path != "":
		if !path.IsAbs(n.Path) || path.Clean(n.Path) != n.Path {
			return fmt.Errorf("%s path %q is not a clean absolute path", what, n.Path)
		}
		return nil
	}
	return fmt.Errorf("%s has no name", what)
}

// check refuses a record that undo could not act on safely: every name
// goes through the one validator, every field undo uses is there.
func (r *Record) check() error {
	if !ops[r.Op] {
		return fmt.Errorf("unknown record %q", r.Op)
	}
	need := func(errs ...error) error {
		var msgs []string
		for _, e := range errs {
			if e != nil {
				msgs = append(msgs, e.Error())
			}
		}
		if len(msgs) == 0 {
			return nil
		}
		return errors.New(strings.Join(msgs, "; "))
	}
	dev := func() error { return need(r.NS.check("namespace"), names.IfName(r.Name)) }
	switch r.Op {
	case "netns", "netns_inode", "adopt":
		if err := r.NS.check("namespace"); err != nil {
			return err
		}
		if r.NS.Name == "" {
			return errors.New("namespace record without a name")
		}
	case "link":
		if err := need(dev(), checkWant(r.Want), checkWant(r.PeerWant)); err != nil {
			return err
		}
		if r.Peer != "" {
			return need(r.PeerNS.check("peer namespace"), names.IfName(r.Peer))
		}
	case "ident":
		return need(dev(), nonEmpty("mac", r.MAC), optional(r.OldMAC, checkMAC), checkNeighs(r.Neighs))
	case "up":
		if r.WasUp == nil {
			return need(dev(), errors.New("up record without the state before"))
		}
		return need(dev(), checkAddrs(r.Addrs), checkRoutes(r.Routes), checkNeighs(r.Neighs))
	case "mtu":
		if r.OldMTU <= 0 {
			return need(dev(), fmt.Errorf("mtu %d", r.OldMTU))
		}
		return need(dev(), checkAddrs(r.Addrs))
	case "mac":
		return need(dev(), checkMAC(r.OldMAC), checkNeighs(r.Neighs))
	case "master":
		return need(dev(), optional(r.OldMaster, names.IfName))
	case "rename":
		return need(dev(), names.IfName(r.OldName))
	case "move":
		return need(dev(), r.To.check("target namespace"), optional(r.OldMaster, names.IfName), checkAddrs(r.Addrs), checkRoutes(r.Routes))
	case "addr", "addr_del":
		return need(dev(), checkCIDR(r.Addr))
	case "shape":
		return need(dev(), checkShape(r.Shape), checkShape(r.PrevShape))
	case "neigh", "neigh_del":
		if r.Neigh == nil || r.Op == "neigh_del" && r.PrevNeigh == nil {
			return fmt.Errorf("%s record without its entry", r.Op)
		}
		return need(dev(), r.Neigh.check(), optional(r.PrevNeigh, (*Neigh).check))
	case "route":
		if r.Route == nil {
			return errors.New("route record without a route")
		}
		return need(r.NS.check("namespace"), r.Route.check(), optional(r.Prev, (*Route).check))
	case "sysctl", "shared_sysctl":
		_, err := names.SysctlKey(r.Name)
		if r.Op == "shared_sysctl" {
			err = need(err, names.Lab(r.Lab))
		}
		return need(r.NS.check("namespace"), err)
	case "rule", "rule_del":
		if r.Table == "" || r.Chain == "" || len(r.Spec) == 0 {
			return errors.New("rule record without its table, chain and rule")
		}
		return r.NS.check("namespace")
	case "chain":
		if r.Table == "" {
			return errors.New("chain record without its table")
		}
		return need(r.NS.check("namespace"), names.Chain(r.Chain))
	case "ip_rule":
		if r.PRule == nil {
			return errors.New("ip_rule record without the rule")
		}
		return need(r.NS.check("namespace"), r.PRule.check())
	case "etc":
		ns, file, err := r.etcName()
		if err != nil {
			return err
		}
		return need(names.Netns(ns), names.EtcFile(file))
	case "etc_dir":
		_, err := r.etcDir()
		return err
	case "proc", "spawn":
		if r.Pid < 0 {
			return fmt.Errorf("pid %d", r.Pid)
		}
		if r.Pid == 0 && r.Token == "" {
			return errors.New("process record without a pid or token")
		}
		return r.NS.check("namespace")
	case "cgroup":
		if !strings.HasPrefix(path.Base(r.Name), kernel.CgroupPrefix) || !path.IsAbs(r.Name) || path.Clean(r.Name) != r.Name {
			return fmt.Errorf("%q is not a cgroup nsscript makes", r.Name)
		}
	}
	return nil
}

// checkWant checks what a link record says its creation call wanted.
func checkWant(w *kernel.Want) error {
	if w == nil {
		return nil
	}
	if w.MTU < 0 {
		return fmt.Errorf("wanted mtu %d", w.MTU)
	}
	if err := optional(w.Master, names.IfName); err != nil {
		return err
	}
	return optional(w.Addr, checkCIDR)
}

// optional checks v unless it is the zero value (not there).
func optional[T comparable](v T, check func(T) error) error {
	var zero T
	if v == zero {
		return nil
	}
	return check(v)
}

func checkCIDR(s string) error {
	if _, _, err := net.ParseCIDR(s); err != nil {
		return fmt.Errorf("%q is not an address", s)
	}
	return nil
}

func checkAddrs(as []string) error {
	for _, a := range as {
		if err := checkCIDR(a); err != nil {
			return err
		}
	}
	return nil
}

func checkMAC(s string) error {
	if _, err := net.ParseMAC(s); err != nil {
		return fmt.Errorf("%q is not a MAC address", s)
	}
	return nil
}

// check refuses a route undo could not give the kernel: a destination
// that is not a network, a gateway that is not an address, a device
// that is not an interface name.
func (rt *Route) check() error {
	if rt.Dst != "" {
		if err := checkCIDR(rt.Dst); err != nil {
			return fmt.Errorf("route to %w", err)
		}
	}
	if rt.Via != "" && net.ParseIP(rt.Via) == nil {
		return fmt.Errorf("gateway %q is not an address", rt.Via)
	}
	return optional(rt.Dev, names.IfName)
}

func checkRoutes(rs []Route) error {
	for i := range rs {
		if err := rs[i].check(); err != nil {
			return err
		}
	}
	return nil
}

func nonEmpty(what, s string) error {
	if s == "" {
		return fmt.Errorf("no %s", what)
	}
	return nil
}

// etcName is the namespace and file of an etc record. (A journal written
// by nsscript before 0.2 holds the path in Name.)
func (r *Record) etcName() (ns, file string, err error) {
	if r.File != "" {
		return r.Name, r.File, nil
	}
	rest, ok := strings.CutPrefix(r.Name, kernel.EtcNetnsDir+"/")
	ns, file, ok2 := strings.Cut(rest, "/")
	if !ok || !ok2 {
		return "", "", fmt.Errorf("%q is not a file in %s/NAME/", r.Name, kernel.EtcNetnsDir)
	}
	return ns, file, nil
}

// etcDir is the namespace of an etc_dir record ("" for /etc/netns itself).
func (r *Record) etcDir() (string, error) {
	n := r.Name
	if n == kernel.EtcNetnsDir || n == "" {
		return "", nil
	}
	n = strings.TrimPrefix(n, kernel.EtcNetnsDir+"/")
	return n, names.Netns(n)
}
