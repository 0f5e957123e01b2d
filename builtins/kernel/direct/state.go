package direct

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// State describes the calling process's namespace and every namespace in
// /run/netns: devices (name, kind, master, up), their addresses (not
// IPv6 link-local) and IPv4 routes, and ip_forward; sorted, without what
// the kernel numbers (indexes, MACs). Two builds of one topology give the
// same State.
func State() (string, error) {
	var b strings.Builder
	h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		return "", err
	}
	defer h.Close()
	if err := describe(&b, "host", h); err != nil {
		return "", err
	}
	fwd, _ := os.ReadFile("/proc/sys/net/ipv4/ip_forward")
	fmt.Fprintf(&b, "host ip_forward %s", fwd)
	ents, _ := os.ReadDir(netnsDir)
	for _, e := range ents {
		nh, err := handleAt(filepath.Join(netnsDir, e.Name()))
		if err != nil {
			return "", err
		}
		err = describe(&b, e.Name(), nh)
		nh.Close()
		if err != nil {
			return "", err
		}
	}
	return b.String(), nil
}

func handleAt(path string) (h *netlink.Handle, err error) {
	err = inside(path, func() (err error) {
		h, err = netlink.NewHandle(unix.NETLINK_ROUTE)
		return err
	})
	return h, err
}

// describe writes one namespace's state; a dump the kernel interrupts
// (the tables changed while being read: IPv6 addresses still settling on
// a thousand devices, say) is read again.
func describe(b *strings.Builder, ns string, h *netlink.Handle) error {
	var err error
	for range 500 {
		var sb strings.Builder
		if err = describeOnce(&sb, ns, h); !errors.Is(err, netlink.ErrDumpInterrupted) {
			b.WriteString(sb.String())
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
	return err
}

func describeOnce(b *strings.Builder, ns string, h *netlink.Handle) error {
	links, err := h.LinkList()
	if err != nil {
		return fmt.Errorf("%s: %w", ns, err)
	}
	names := map[int]string{}
	for _, l := range links {
		names[l.Attrs().Index] = l.Attrs().Name
	}
	addrs, err := h.AddrList(nil, netlink.FAMILY_ALL) // one dump for all devices
	if err != nil {
		return err
	}
	byLink := map[int][]string{}
	for _, ad := range addrs {
		if !ad.IP.IsLinkLocalUnicast() {
			byLink[ad.LinkIndex] = append(byLink[ad.LinkIndex], ad.IPNet.String())
		}
	}
	var lines []string
	for _, l := range links {
		a := l.Attrs()
		as := byLink[a.Index]
		sort.Strings(as)
		line := fmt.Sprintf("%s link %s %s up=%v master=%s", ns, a.Name, l.Type(), a.Flags&net.FlagUp != 0, names[a.MasterIndex])
		for _, ad := range as {
			line += " " + ad
		}
		lines = append(lines, line)
	}
	routes, err := h.RouteList(nil, netlink.FAMILY_V4)
	if err != nil {
		return err
	}
	for _, r := range routes {
		lines = append(lines, fmt.Sprintf("%s route %v via %v dev %s scope %v", ns, r.Dst, r.Gw, names[r.LinkIndex], r.Scope))
	}
	sort.Strings(lines)
	for _, l := range lines {
		b.WriteString(l + "\n")
	}
	return nil
}
