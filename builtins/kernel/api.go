package kernel

import (
	"net"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// The kernel stack. A run's builtins talk to a Kernel; *Linux is the real
// one, and what stands between (the journal, the recorder behind --trace)
// or in its place (the plan's model) implements the same interface:
//
//	builtins → journal → recorder (--trace) → Linux
//	builtins → recorder (plan) → model
//
// The interface is split in two. A wrapper embeds the Reader of what it
// wraps and implements every method of the Writer itself: a change that a
// wrapper does not journal (or record) does not compile, rather than
// passing through unseen. Nothing is optional: what undo needs (releasing
// a namespace, one scan of the processes) is in the interface.

// Reader is what the kernel is asked; it changes nothing.
type Reader interface {
	// Namespaces: ip netns list/identify/pids.
	Host() *NS
	OpenNamed(name string) (*NS, error)
	OpenPath(path string) (*NS, error)
	ListNamed() ([]string, error)
	// HasNetnsDir reports whether /run/netns exists (the first `ip netns
	// add` on a machine makes it).
	HasNetnsDir() bool
	Identify(pid int) (*NS, error)
	Pids(ns *NS) ([]int, error)
	// PidsByNetns lists every process by its namespace's inode: one pass
	// over /proc for many namespaces.
	PidsByNetns() (map[uint64][]int, error)
	NetnsID(ns, other *NS) (int, error)
	// Cookie identifies a namespace for as long as the machine runs (its
	// inode, the kernel reuses).
	Cookie(ns *NS) uint64
	ReadSysctl(ns *NS, key string) (string, error)

	// Devices, addresses, routes, neighbours: ip link/addr/route/neigh.
	LinkByName(ns *NS, name string) (*LinkInfo, error)
	LinkByIndex(ns *NS, index int) (*LinkInfo, error)
	Links(ns *NS) ([]*LinkInfo, error)
	// DummyKind is what dummy() makes here: "dummy", "ifb" (the stand-in
	// on a kernel without the dummy driver), or "" when not known yet.
	DummyKind() string
	// Sync reads a device back, which makes the kernel apply a pending
	// carrier change to it now (see Linux.Sync).
	Sync(ns *NS, index int)
	Addrs(ns *NS, index int) ([]string, error)
	Routes(ns *NS, table int) ([]RouteInfo, error)
	Neighbors(ns *NS) ([]NeighInfo, error)

	// PolicyRules lists the routing policy rules of one family: ip rule.
	PolicyRules(ns *NS, v6 bool) ([]PolicyRule, error)
	// FindPolicyRule finds the rule r matches (see PolicyRule.Matches).
	FindPolicyRule(ns *NS, r PolicyRule) (PolicyRule, bool, error)

	// iptables (ip6tables for a Chain with V6), inside a namespace:
	// iptables -C.
	RuleExists(ns *NS, c Chain, spec []string) (bool, error)
	// ListRules is iptables -S CHAIN: "-A CHAIN RULE..." lines.
	ListRules(ns *NS, c Chain) ([]string, error)
	// ChainExists reports whether the table has the chain (iptables -S).
	ChainExists(ns *NS, c Chain) (bool, error)
	// What `why` reads besides: the kernel's route lookup (ip route
	// get, policy rules included), a bridge port's STP state, the
	// firewall (iptables-save -c, nft list tables) and the listening
	// sockets (ss -ltun).
	RouteGet(ns *NS, q RouteQuery) (RouteLookup, error)
	// OpenBrief opens a namespace (a name in /run/netns, or a namespace
	// file) until release is called (see Linux.OpenBrief).
	OpenBrief(path string) (ns *NS, release func(), err error)
	PortState(ns *NS, index int) (string, error)
	IptablesSave(ns *NS, v6 bool) (string, error)
	NftTables(ns *NS) ([]string, error)
	Sockets(ns *NS) ([]Socket, error)
	// NeighTable is the machine's one neighbour table, how full it is.
	NeighTable(v6 bool) (NeighStats, error)
	// EtcState is what a write of /etc/netns/NAME/FILE would change.
	EtcState(name, file string) (EtcState, error)

	// Processes, cgroups, sockets.
	// Processes reads every process but nsscript itself, in one pass.
	Processes() ([]Proc, error)
	// Process reads one (without its Argv); false when it is gone.
	Process(pid int) (Proc, bool)
	// CgroupFor is where a cgroup named leaf would be made (relative to
	// the cgroup v2 root); false where cgroup v2 is not there.
	CgroupFor(leaf string) (string, bool)
	CgroupPids(rel string) ([]int, error)
	ICMPConn(ns *NS, v6 bool) (net.PacketConn, error)
	DialTCP(ns *NS, addr string, timeout float64) error
	// PacketConn opens an AF_PACKET socket that sees the frames of device
	// c.Index in ns (of all its devices for 0), through filter c.Prog
	// when it is not empty: what capture() reads, as tcpdump -i DEV would.
	PacketConn(ns *NS, c CaptureSpec) (*PacketConn, error)

	// Running sandboxes (see sandboxes.go): those made from here that run
	// a lab, and one opened, whose namespaces Start enters with the rest.
	Sandboxes() ([]SandboxInfo, error)
	OpenSandbox(info SandboxInfo) (*Sandbox, error)
	// ConnectTCP and ListenTCP are TCP sockets made inside ns, usable
	// from anywhere (throughput measures with them).
	ConnectTCP(ns *NS, addr string, timeout time.Duration) (net.Conn, error)
	ListenTCP(ns *NS, addr string) (net.Listener, error)

	// Link shaping: tc qdisc/filter show (see shape.go).
	// ShapeSupport is what the kernel has of what shaping needs.
	ShapeSupport() ShapeSupport
	// Shaping is what nsscript set on a device's egress (nil: nothing).
	Shaping(ns *NS, index int) (*Shaping, error)
}

// NetnsSetup is what CreateNamed does in a namespace it makes, before
// the namespace has its name (a namespace it only opens is left as it is).
type NetnsSetup struct {
	// Lo sets the loopback device up: ip -n NAME link set lo up.
	Lo bool
	// NoIPv6 turns IPv6 off for every device of the namespace, lo
	// included, before any is up: ip netns exec NAME sysctl -w
	// net.ipv6.conf.all.disable_ipv6=1 (which sets .default too).
	NoIPv6 bool
}

// DisableIPv6Key is the sysctl that NetnsSetup.NoIPv6 sets to 1; the
// kernel sets DefaultDisableIPv6Key (what new devices get) with it.
const (
	DisableIPv6Key        = "net.ipv6.conf.all.disable_ipv6"
	DefaultDisableIPv6Key = "net.ipv6.conf.default.disable_ipv6"
)

// Writer is every change.
type Writer interface {
	// Namespaces: ip netns add/del.
	// CreateNamed creates (or opens, reporting false) /run/netns/NAME,
	// set up as setup says; claim (which may be nil) is told what
	// identifies a namespace it creates before the name appears.
	CreateNamed(name string, setup NetnsSetup, claim func(NetnsClaim) error) (*NS, bool, error)
	// ReleaseClaimed undoes CreateNamed for a namespace known only by its
	// claim; ErrNotOurs when the name is something else's now.
	ReleaseClaimed(name string, c NetnsClaim) error
	DeleteNamed(ns *NS) error
	// RemoveNetnsDir removes /run/netns when it is empty.
	RemoveNetnsDir() error
	// WriteSysctl sets key in ns and returns the value before.
	WriteSysctl(ns *NS, key, value string) (string, error)

	// Devices: ip link.
	// AddVeth returns the indexes of name in ns and of peer in peerNS
	// when it knows them, else 0.
	AddVeth(ns *NS, name string, peerNS *NS, peer string, o LinkOpts) (index, peerIndex int, err error)
	AddBridge(ns *NS, name string, o LinkOpts) error
	AddDummy(ns *NS, name string, o LinkOpts) error
	// AddDevice makes a vxlan, tap, vlan or macvlan (see Device).
	AddDevice(ns *NS, name string, d Device, o LinkOpts) error
	SetBridgeSTP(ns *NS, index int, on bool) error
	SetUp(ns *NS, index int, up bool) error
	SetUpByName(ns *NS, name string) error
	SetMTU(ns *NS, index, mtu int) error
	SetMAC(ns *NS, index int, mac net.HardwareAddr) error
	SetName(ns *NS, index int, name string) error
	SetMaster(ns *NS, index, master int) error
	Move(ns *NS, index int, target *NS) error
	DeleteLink(ns *NS, index int) error

	// SetShaping makes a device's egress shaped as s says (nil: not at
	// all): tc qdisc and tc filter (see shape.go).
	SetShaping(ns *NS, index int, s *Shaping) error

	// Addresses and routes: ip addr, ip route.
	// Addresses, routes and neighbours: ip addr, ip route, ip neigh.
	AddAddr(ns *NS, index int, cidr *net.IPNet) error
	DelAddr(ns *NS, index int, cidr *net.IPNet) error
	ReplaceRoute(ns *NS, r RouteInfo) error
	DeleteRoute(ns *NS, r RouteInfo) error
	// Routing policy rules: ip rule add/del.
	AddPolicyRule(ns *NS, r PolicyRule) error
	DeletePolicyRule(ns *NS, r PolicyRule) error
	// Neighbours: ip neigh replace ... nud permanent, ip neigh del.
	ReplaceNeigh(ns *NS, n NeighInfo) error
	DeleteNeigh(ns *NS, n NeighInfo) error

	// iptables (ip6tables for a Chain with V6), inside a namespace.
	// AddRule appends (-A), or with pos > 0 inserts at pos (-I CHAIN POS).
	AddRule(ns *NS, c Chain, pos int, spec []string) error
	DeleteRule(ns *NS, c Chain, spec []string) error
	// NewChain and DeleteChain are -N and -X: a chain of the user's.
	NewChain(ns *NS, c Chain) error
	DeleteChain(ns *NS, c Chain) error

	// /etc/netns files.
	WriteEtc(name, file string, content []byte) (string, error)
	// UndoEtc puts a file nsscript wrote back as it was (see UndoEtc).
	UndoEtc(name, file, sum string, wrote []byte, had bool, old []byte) error
	// RemoveEtcDir removes /etc/netns/NAME (/etc/netns for "") if empty.
	RemoveEtcDir(name string) error

	// Processes and cgroups.
	Start(ns *NS, argv, env []string, stdio Stdio) (*exec.Cmd, error)
	// Signal is kill(2): sig to a process, or with a negative pid to a
	// process group (a run's own processes: process.kill, timeouts).
	Signal(pid int, sig syscall.Signal) error
	// StopProcesses sends TERM, waits up to two seconds, then KILL.
	StopProcesses(pids []int)
	MakeCgroup(rel string) (*os.File, error)
	// EndCgroup stops what is in a cgroup nsscript made and removes it.
	EndCgroup(rel string) error
	// EndSandbox ends a running sandbox and everything in it (see
	// Linux.EndSandbox).
	EndSandbox(info SandboxInfo) error
}

// Kernel is the whole of it.
type Kernel interface {
	Reader
	Writer
}

var _ Kernel = (*Linux)(nil)

// EtcState is an /etc/netns file before a write: whether /etc/netns and
// /etc/netns/NAME exist, and the file's contents if it does.
type EtcState struct {
	TopExists, DirExists bool
	Old                  []byte
	Had                  bool
}

// Proc is a process, as one scan of /proc sees it.
type Proc struct {
	Pid, PPid int
	Start     uint64 // clock ticks after boot: tells it from a later process with its pid
	Zombie    bool
	Netns     uint64   // its network namespace's inode
	Owner     string   // OwnerEnv's value in its environment, if any
	Cgroup    string   // its cgroup v2 path
	Argv      []string // its command line
}

// OwnerEnv marks the environment of every process a run starts with the
// run's token (LAB:RUN). Children inherit it, also those that leave their
// parent and process group (a daemon that double-forks), so undo finds
// the whole tree. (One token per run, not per process: every command of
// a run sees the same environment.)
const OwnerEnv = "NSSCRIPT_OWNER"

// LoopbackIndex is the index of every namespace's loopback device
// (LOOPBACK_IFINDEX): a new namespace's lo needs no lookup.
const LoopbackIndex = 1

// VethsFirst are the veths of ns to delete before the namespace goes,
// one per pair (of a pair inside the namespace, the first); none when
// processes keep the namespace alive (it then lives on with its devices,
// as after ip netns del). The kernel tears a namespace's devices down
// only after its last reference is gone, and a veth's peer in another
// namespace would outlive the namespace's name by tens of milliseconds,
// so that a script making that veth again would find it there. This is
// the rule of Linux.DeleteNamed, of its trace, and of the plan's model.
func VethsFirst(k Reader, ns *NS) []*LinkInfo {
	if pids, err := k.Pids(ns); err != nil || len(pids) > 0 {
		return nil
	}
	links, err := k.Links(ns)
	if err != nil {
		return nil
	}
	var out []*LinkInfo
	gone := map[int]bool{}
	for _, l := range links {
		if l.Kind == "veth" && !gone[l.Index] {
			out = append(out, l)
			if l.PeerNetnsID < 0 {
				gone[l.PeerIndex] = true
			}
		}
	}
	return out
}
