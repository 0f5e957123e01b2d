package builtins

import (
	"net"
	"os/exec"

	"github.com/nsscript/nsscript/builtins/kernel"
)

// Kernel is everything the builtins ask of the kernel. *kernel.Linux is
// the real one; anything else that implements it (a recorder for
// `nsscript plan`, a fake for argument tests) can stand in.
type Kernel interface {
	// Namespaces: ip netns add/del/list/identify/pids.
	Host() *kernel.NS
	CreateNamed(name string) (*kernel.NS, bool, error)
	OpenNamed(name string) (*kernel.NS, error)
	OpenPath(path string) (*kernel.NS, error)
	DeleteNamed(ns *kernel.NS) error
	ListNamed() ([]string, error)
	Identify(pid int) (*kernel.NS, error)
	Pids(ns *kernel.NS) ([]int, error)
	NetnsID(ns, other *kernel.NS) (int, error)
	Sysctl(ns *kernel.NS, key string, value *string) (string, error)

	// Devices: ip link.
	LinkByName(ns *kernel.NS, name string) (*kernel.LinkInfo, error)
	LinkByIndex(ns *kernel.NS, index int) (*kernel.LinkInfo, error)
	Links(ns *kernel.NS) ([]*kernel.LinkInfo, error)
	AddVeth(ns *kernel.NS, name string, peerNS *kernel.NS, peer string, mtu int) error
	AddBridge(ns *kernel.NS, name string) error
	SetBridgeSTP(ns *kernel.NS, index int, on bool) error
	AddDummy(ns *kernel.NS, name string) error
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
	ICMPConn(ns *kernel.NS, v6 bool) (net.PacketConn, error)
	DialTCP(ns *kernel.NS, addr string, timeout float64) error
	WriteEtc(name, file string, content []byte) (string, error)

	// iptables, inside a namespace.
	RuleExists(ns *kernel.NS, table, chain string, spec []string) (bool, error)
	AppendRule(ns *kernel.NS, table, chain string, spec []string) error
	DeleteRule(ns *kernel.NS, table, chain string, spec []string) error
}

var _ Kernel = (*kernel.Linux)(nil)
