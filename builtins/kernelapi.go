package builtins

import (
	"net"
	"os/exec"
	"time"

	"github.com/nsscript/nsscript/builtins/kernel"
)

// Kernel is everything the builtins ask of the kernel. *kernel.Linux is
// the real one; anything else that implements it (a recorder for
// `nsscript plan`, a fake for argument tests) can stand in.
type Kernel interface {
	// Namespaces: ip netns add/del/list/identify/pids.
	Host() *kernel.NS
	// CreateNamed creates (or opens, reporting false) /run/netns/NAME,
	// with lo up when lo is set; claim (which may be nil) is told what
	// identifies a namespace it creates before the name appears.
	CreateNamed(name string, lo bool, claim func(kernel.NetnsClaim) error) (*kernel.NS, bool, error)
	// ReleaseClaimed undoes CreateNamed for a namespace known only by its
	// claim; kernel.ErrNotOurs when the name is something else's now.
	ReleaseClaimed(name string, c kernel.NetnsClaim) error
	// Cookie identifies a namespace for as long as the machine runs.
	Cookie(ns *kernel.NS) uint64
	// Mine reports whether the lab made the device name in ns (or the
	// namespace itself, with name ""): a script deletes only that.
	Mine(ns *kernel.NS, name string) bool
	OpenNamed(name string) (*kernel.NS, error)
	OpenPath(path string) (*kernel.NS, error)
	DeleteNamed(ns *kernel.NS) error
	ListNamed() ([]string, error)
	Identify(pid int) (*kernel.NS, error)
	Pids(ns *kernel.NS) ([]int, error)
	// PidsByNetns lists every process by its namespace's inode: one pass
	// over /proc for many namespaces.
	PidsByNetns() (map[uint64][]int, error)
	NetnsID(ns, other *kernel.NS) (int, error)
	Sysctl(ns *kernel.NS, key string, value *string) (string, error)

	// Devices: ip link.
	LinkByName(ns *kernel.NS, name string) (*kernel.LinkInfo, error)
	LinkByIndex(ns *kernel.NS, index int) (*kernel.LinkInfo, error)
	Links(ns *kernel.NS) ([]*kernel.LinkInfo, error)
	// AddVeth returns the index of name in ns when it knows it, else 0.
	AddVeth(ns *kernel.NS, name string, peerNS *kernel.NS, peer string, o kernel.LinkOpts) (int, error)
	AddBridge(ns *kernel.NS, name string, o kernel.LinkOpts) error
	SetBridgeSTP(ns *kernel.NS, index int, on bool) error
	AddDummy(ns *kernel.NS, name string, o kernel.LinkOpts) error
	SetUp(ns *kernel.NS, index int, up bool) error
	SetUpByName(ns *kernel.NS, name string) error
	Sync(ns *kernel.NS, index int)
	SetMTU(ns *kernel.NS, index, mtu int) error
	SetMAC(ns *kernel.NS, index int, mac net.HardwareAddr) error
	SetName(ns *kernel.NS, index int, name string) error
	SetMaster(ns *kernel.NS, index, master int) error
	Move(ns *kernel.NS, index int, target *kernel.NS) error
	DeleteLink(ns *kernel.NS, index int) error

	// Addresses, routes, neighbours: ip addr, ip route, ip neigh.
	Addrs(ns *kernel.NS, index int) ([]string, error)
	AddAddr(ns *kernel.NS, index int, cidr *net.IPNet) error
	DelAddr(ns *kernel.NS, index int, cidr *net.IPNet) error
	Routes(ns *kernel.NS, table int) ([]kernel.RouteInfo, error)
	ReplaceRoute(ns *kernel.NS, r kernel.RouteInfo) error
	DeleteRoute(ns *kernel.NS, r kernel.RouteInfo) error
	Neighbors(ns *kernel.NS) ([]kernel.NeighInfo, error)

	// Inside a namespace: processes and sockets.
	Start(ns *kernel.NS, argv, env []string, stdio kernel.Stdio) (*exec.Cmd, error)
	// FindProcess finds a running background command the lab started
	// before with that argv and environment, to adopt instead of starting
	// it again.
	FindProcess(ns *kernel.NS, argv, env []string) (kernel.ProcInfo, bool)
	// Locate says where a device the lab made (or moved) as name in ns is
	// now: moved, renamed. Anything else is where it is asked for.
	Locate(ns *kernel.NS, name string) (*kernel.NS, string)
	// Replaceable reports whether the device is the lab's, made by an
	// earlier run and not met yet by this one: a re-run of an edited
	// script may make it again the way the script wants it now.
	Replaceable(ns *kernel.NS, name string) bool
	ICMPConn(ns *kernel.NS, v6 bool) (net.PacketConn, error)
	DialTCP(ns *kernel.NS, addr string, timeout float64) error
	WriteEtc(name, file string, content []byte) (string, error)

	// iptables, inside a namespace.
	RuleExists(ns *kernel.NS, table, chain string, spec []string) (bool, error)
	AppendRule(ns *kernel.NS, table, chain string, spec []string) error
	DeleteRule(ns *kernel.NS, table, chain string, spec []string) error
}

var _ Kernel = (*kernel.Linux)(nil)

// Planner is a Kernel that only records what a script would do (the
// recorder behind `nsscript plan`): nothing runs and no packet is sent.
// The builtins that observe the network or processes ask it instead:
//   - exec runs nothing: a command gives an empty, successful Result
//     (with check=False a failed one: code 1, since the script is ready
//     for that), and a background command a Process that runs until it
//     is killed;
//   - ping and assert.reachable/unreachable succeed without effect;
//   - a check that fails (assert.*, fail) is recorded instead of stopping
//     the script, since what it looked at may be a command's output;
//   - sleep takes no time.
//
// Each of these leaves a comment in the plan.
type Planner interface {
	Kernel
	// Note records a comment: a check that was not evaluated.
	Note(text string)
	// Exec records a command started in ns (argv, the environment the
	// script added, its stdin) and returns the pid of the (pretend)
	// process.
	Exec(ns *kernel.NS, argv, env []string, stdin []byte, background, check bool) int
	// Signal records a signal sent to a process Exec started; it ends it
	// unless the signal is STOP or CONT ("": it ended on its own).
	Signal(pid int, signal string)
	// Alive reports whether a process Exec started still runs in the plan
	// (a command like `kill PID` may have ended it).
	Alive(pid int) bool
	// Sleep advances the plan's clock; it fails when a script has waited
	// so long that it is likely polling for something a plan cannot see.
	Sleep(d time.Duration) error
	// Checkpoint marks the state; calling what it returns undoes every
	// change recorded since (for assert.fails, whose call a plan cannot
	// always see fail).
	Checkpoint() (restore func())
}

// planner is the run's Planner, or nil on a real kernel.
func (e *Env) planner() Planner {
	p, _ := e.K.(Planner)
	return p
}
