package kernel

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"
)

// What `why` reads of a namespace besides links, addresses and routes:
// the kernel's own route lookup (with policy rules), the firewall as
// iptables-save prints it, nftables tables, listening sockets and the
// state of bridge ports. All of it only reads.

// RouteQuery is what `ip route get` is asked.
type RouteQuery struct {
	Dst net.IP
	// Src is the packet's source: for a packet sent from the namespace
	// (Iif 0), the address it is sent from (nil: the kernel picks one);
	// for a packet arriving (Iif set), where it comes from.
	Src net.IP
	// Iif is the device the packet arrives on: the lookup is then the
	// one for a packet received there (forwarding, the source check of
	// rp_filter), as `ip route get DST from SRC iif DEV`.
	Iif int
}

// RouteLookup is the kernel's answer to a RouteQuery.
type RouteLookup struct {
	// Type is the route's type: "unicast", "local", "broadcast",
	// "multicast", "blackhole", "unreachable", "prohibit", ...
	Type     string
	DevIndex int
	Via      net.IP // the gateway; nil when the destination is on the link
	PrefSrc  net.IP // the source address the kernel picks (nil when it picks none)
	Table    int    // the table the route is in: which policy rule chose it, PolicyRules says
}

// OpenBrief opens a namespace for a moment: a name in /run/netns
// (NetnsDir/NAME, checked as OpenNamed checks it) or another namespace
// file (/proc/PID/ns/net, a container's). release lets go of it again,
// unless it was open before (a value of the run's holds it): held
// longer, it would keep alive a namespace that `ip netns del` or its last
// process meant to end.
func (k *Linux) OpenBrief(path string) (*NS, func(), error) {
	open := func() (*NS, error) {
		if filepath.Dir(path) == NetnsDir {
			return k.OpenNamed(filepath.Base(path))
		}
		return k.OpenPath(path)
	}
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err == nil && k.Lookup(st.Ino) != nil {
		ns, err := open()
		return ns, func() {}, err
	}
	ns, err := open()
	if err != nil {
		return nil, func() {}, err
	}
	return ns, func() { k.Close(ns) }, nil
}

var routeTypes = map[int]string{
	unix.RTN_UNICAST: "unicast", unix.RTN_LOCAL: "local", unix.RTN_BROADCAST: "broadcast",
	unix.RTN_ANYCAST: "anycast", unix.RTN_MULTICAST: "multicast", unix.RTN_BLACKHOLE: "blackhole",
	unix.RTN_UNREACHABLE: "unreachable", unix.RTN_PROHIBIT: "prohibit", unix.RTN_THROW: "throw",
	unix.RTN_NAT: "nat",
}

// RouteGet is `ip -n NS route get DST [from SRC] [iif DEV]`: the route the
// kernel would take, with its policy rules. A destination it cannot reach
// is the kernel's error (unix.ENETUNREACH, unix.EHOSTUNREACH for a router
// that does not forward, unix.EINVAL for a source the router refuses).
func (k *Linux) RouteGet(ns *NS, q RouteQuery) (RouteLookup, error) {
	h, err := k.Handle(ns)
	if err != nil {
		return RouteLookup{}, err
	}
	rs, err := h.RouteGetWithOptions(q.Dst, &netlink.RouteGetOptions{SrcAddr: q.Src, IifIndex: q.Iif})
	if err != nil {
		return RouteLookup{}, err
	}
	if len(rs) == 0 {
		return RouteLookup{}, unix.ENETUNREACH
	}
	r := rs[0]
	t := routeTypes[r.Type]
	if t == "" {
		t = strconv.Itoa(r.Type)
	}
	return RouteLookup{Type: t, DevIndex: r.LinkIndex, Via: r.Gw, PrefSrc: r.Src, Table: r.Table}, nil
}

// PortState is the STP state of a bridge port: "disabled", "listening",
// "learning", "forwarding" or "blocking" (as `bridge link` prints it); ""
// for a device that is no bridge port.
func (k *Linux) PortState(ns *NS, index int) (string, error) {
	var state string
	err := k.Do(ns, func() error {
		req := nl.NewNetlinkRequest(unix.RTM_GETLINK, unix.NLM_F_REQUEST)
		msg := nl.NewIfInfomsg(unix.AF_UNSPEC)
		msg.Index = int32(index)
		req.AddData(msg)
		msgs, err := req.Execute(unix.NETLINK_ROUTE, unix.RTM_NEWLINK)
		if err != nil {
			return err
		}
		for _, m := range msgs {
			if len(m) < unix.SizeofIfInfomsg {
				continue
			}
			state = portState(m[unix.SizeofIfInfomsg:])
		}
		return nil
	})
	return state, err
}

var stpStates = []string{"disabled", "listening", "learning", "forwarding", "blocking"}

// portState finds IFLA_LINKINFO / IFLA_INFO_SLAVE_DATA / IFLA_BRPORT_STATE
// in a link message's attributes.
func portState(b []byte) string {
	attrs, err := nl.ParseRouteAttr(b)
	if err != nil {
		return ""
	}
	for _, a := range attrs {
		if a.Attr.Type&nl.NLA_TYPE_MASK != unix.IFLA_LINKINFO {
			continue
		}
		info, err := nl.ParseRouteAttr(a.Value)
		if err != nil {
			return ""
		}
		bridgePort := false
		var data []byte
		for _, i := range info {
			switch i.Attr.Type & nl.NLA_TYPE_MASK {
			case unix.IFLA_INFO_SLAVE_KIND:
				bridgePort = string(bytes.TrimRight(i.Value, "\x00")) == "bridge"
			case unix.IFLA_INFO_SLAVE_DATA:
				data = i.Value
			}
		}
		if !bridgePort {
			return ""
		}
		port, err := nl.ParseRouteAttr(data)
		if err != nil {
			return ""
		}
		for _, p := range port {
			if p.Attr.Type&nl.NLA_TYPE_MASK == unix.IFLA_BRPORT_STATE && len(p.Value) > 0 {
				if int(p.Value[0]) < len(stpStates) {
					return stpStates[p.Value[0]]
				}
				return strconv.Itoa(int(p.Value[0]))
			}
		}
	}
	return ""
}

// IptablesSave is `ip netns exec NS iptables-save -c` (ip6tables-save with
// v6): every table the namespace has, with the counters. It reads only:
// a table the namespace does not have is not made. ErrNoIptables when
// iptables is not installed.
func (k *Linux) IptablesSave(ns *NS, v6 bool) (string, error) {
	name := "iptables-save"
	if v6 {
		name = "ip6tables-save"
	}
	bin, err := exec.LookPath(name)
	if err != nil {
		return "", ErrNoIptables
	}
	return k.output(ns, bin, "-c")
}

// NftTables lists the namespace's nftables tables as "FAMILY NAME" (`nft
// list tables`), nil when nft is not installed.
func (k *Linux) NftTables(ns *NS) ([]string, error) {
	bin, err := exec.LookPath("nft")
	if err != nil {
		return nil, nil
	}
	out, err := k.output(ns, bin, "list", "tables")
	if err != nil {
		return nil, err
	}
	var tables []string
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "table" {
			tables = append(tables, f[1]+" "+f[2])
		}
	}
	return tables, nil
}

// output runs a reading command inside ns and returns its stdout.
func (k *Linux) output(ns *NS, bin string, args ...string) (string, error) {
	var stdout, stderr bytes.Buffer
	err := k.Do(ns, func() error {
		c := exec.Command(bin, args...)
		c.Stdout, c.Stderr = &stdout, &stderr
		c.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C"}
		return c.Run()
	})
	if err != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return "", fmt.Errorf("%s in namespace %s: %s", bin, ns, msg)
		}
		return "", fmt.Errorf("%s in namespace %s: %w", bin, ns, err)
	}
	return stdout.String(), nil
}

// Socket is a listening TCP socket or a bound UDP socket.
type Socket struct {
	Proto string // "tcp" or "udp"
	IP    net.IP // 0.0.0.0 or :: for every address
	Port  int
}

// Sockets lists the namespace's listening TCP and bound UDP sockets, as
// `ss -ltun` does (from /proc/net/{tcp,udp}{,6} seen inside it).
func (k *Linux) Sockets(ns *NS) ([]Socket, error) {
	var out []Socket
	err := k.Do(ns, func() error {
		for _, f := range []struct{ file, proto, state string }{
			{"tcp", "tcp", "0A"}, {"tcp6", "tcp", "0A"}, {"udp", "udp", "07"}, {"udp6", "udp", "07"},
		} {
			data, err := os.ReadFile("/proc/thread-self/net/" + f.file)
			if errors.Is(err, os.ErrNotExist) {
				continue // no IPv6
			}
			if err != nil {
				return err
			}
			out = append(out, parseSockets(data, f.proto, f.state)...)
		}
		return nil
	})
	return out, err
}

// parseSockets reads /proc/net/tcp lines: "sl local_address rem_address st ...",
// local_address as hex IP (in host byte order, per 32-bit word) and port.
func parseSockets(data []byte, proto, state string) []Socket {
	var out []Socket
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Scan() // the header
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || f[3] != state {
			continue
		}
		addr, port, ok := strings.Cut(f[1], ":")
		if !ok {
			continue
		}
		raw, err := hex.DecodeString(addr)
		if err != nil || len(raw)%4 != 0 {
			continue
		}
		ip := make(net.IP, len(raw))
		for i := 0; i < len(raw); i += 4 {
			binary.BigEndian.PutUint32(ip[i:], binary.NativeEndian.Uint32(raw[i:]))
		}
		p, err := strconv.ParseUint(port, 16, 16)
		if err != nil {
			continue
		}
		out = append(out, Socket{Proto: proto, IP: ip, Port: int(p)})
	}
	return out
}

// NeighStats is the kernel's neighbour table (ARP, or NDP): one for every
// namespace of the machine, with one limit.
type NeighStats struct {
	Entries int    // entries now, in all namespaces
	Limit   int    // gc_thresh3: beyond it new entries are refused
	Fulls   uint64 // times an entry was refused since boot ("neighbor table overflow")
}

// NeighTable reads /proc/net/stat/arp_cache (ndisc_cache with v6) and
// gc_thresh3, which only the machine's first namespace shows:
// os.ErrNotExist where nsscript runs in another (a sandbox).
func (k *Linux) NeighTable(v6 bool) (NeighStats, error) {
	file, fam := "arp_cache", "ipv4"
	if v6 {
		file, fam = "ndisc_cache", "ipv6"
	}
	b, err := os.ReadFile("/proc/net/stat/" + file)
	if err != nil {
		return NeighStats{}, err
	}
	st, err := parseNeighStat(b)
	if err != nil {
		return st, err
	}
	t, err := os.ReadFile("/proc/sys/net/" + fam + "/neigh/default/gc_thresh3")
	if err != nil {
		return st, err
	}
	st.Limit, err = strconv.Atoi(strings.TrimSpace(string(t)))
	return st, err
}

// parseNeighStat reads /proc/net/stat/arp_cache: a header, then a line
// per CPU of hex numbers; entries (the first) is the table's, the others
// count per CPU.
func parseNeighStat(b []byte) (NeighStats, error) {
	var st NeighStats
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) < 2 {
		return st, fmt.Errorf("neighbour table statistics: %d lines", len(lines))
	}
	head := strings.Fields(lines[0])
	full := slices.Index(head, "table_fulls")
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		if len(f) != len(head) {
			continue
		}
		if n, err := strconv.ParseUint(f[0], 16, 32); err == nil {
			st.Entries = int(n)
		}
		if full >= 0 {
			if n, err := strconv.ParseUint(f[full], 16, 64); err == nil {
				st.Fulls += n
			}
		}
	}
	return st, nil
}
