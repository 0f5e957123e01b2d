package capture

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// Packet is one captured frame as a script sees it: where and when it
// went, its addresses, protocol and ports, and a line like tcpdump's.
type Packet struct {
	Time   time.Duration // after the capture started
	Link   string        // the device it went through
	Src    string        // IP addresses (ARP: the sender's and target's); MAC addresses for other frames
	Dst    string
	Proto  string // arp, icmp, icmp6, tcp, udp, another IP protocol, or ethertype-0xNNNN
	Sport  int    // TCP, UDP and SCTP ports; -1 for other protocols
	Dport  int
	Length int    // its length on the wire
	Line   string // what tcpdump prints for it, without time and device
}

// Decode describes a frame of link type lt (Ethernet or raw IP), length
// bytes long on the wire; data may have been cut short (snaplen).
func Decode(lt layers.LinkType, data []byte, length int) Packet {
	p := gopacket.NewPacket(data, lt, gopacket.DecodeOptions{Lazy: true, NoCopy: true})
	d := Packet{Sport: -1, Dport: -1, Length: length}
	if arp, ok := p.Layer(layers.LayerTypeARP).(*layers.ARP); ok {
		d.Proto = "arp"
		d.Src, d.Dst = ipString(arp.SourceProtAddress), ipString(arp.DstProtAddress)
		switch arp.Operation {
		case layers.ARPRequest:
			d.Line = fmt.Sprintf("ARP, Request who-has %s tell %s, length %d", d.Dst, d.Src, len(arp.Contents))
		case layers.ARPReply:
			d.Line = fmt.Sprintf("ARP, Reply %s is-at %s, length %d", d.Src, net.HardwareAddr(arp.SourceHwAddress), len(arp.Contents))
		default:
			d.Line = fmt.Sprintf("ARP, operation %d, length %d", arp.Operation, len(arp.Contents))
		}
		return d
	}
	if ip, ok := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4); ok {
		d.Src, d.Dst = ip.SrcIP.String(), ip.DstIP.String()
		d.transport(p, "IP", ip.Protocol, int(ip.Length)-int(ip.IHL)*4)
		return d
	}
	if ip, ok := p.Layer(layers.LayerTypeIPv6).(*layers.IPv6); ok {
		d.Src, d.Dst = ip.SrcIP.String(), ip.DstIP.String()
		next, n := ip.NextHeader, int(ip.Length)
		// Past the extension headers (an MLD report's hop-by-hop).
		for _, l := range p.Layers() {
			switch e := l.(type) {
			case *layers.IPv6HopByHop:
				next, n = e.NextHeader, n-len(e.Contents)
			case *layers.IPv6Destination:
				next, n = e.NextHeader, n-len(e.Contents)
			case *layers.IPv6Routing:
				next, n = e.NextHeader, n-len(e.Contents)
			case *layers.IPv6Fragment:
				next, n = e.NextHeader, n-len(e.Contents)
			}
		}
		d.transport(p, "IP6", next, n)
		return d
	}
	if eth, ok := p.Layer(layers.LayerTypeEthernet).(*layers.Ethernet); ok {
		d.Src, d.Dst = eth.SrcMAC.String(), eth.DstMAC.String()
		d.Proto = fmt.Sprintf("ethertype-0x%04x", uint16(eth.EthernetType))
		d.Line = fmt.Sprintf("ethertype 0x%04x, length %d", uint16(eth.EthernetType), length)
		return d
	}
	d.Proto = "unknown"
	d.Line = fmt.Sprintf("unknown frame, length %d", length)
	return d
}

// ipString is a 4- or 16-byte address as text ("" when it is neither).
func ipString(b []byte) string {
	if len(b) != 4 && len(b) != 16 {
		return ""
	}
	return net.IP(b).String()
}

// protoNames are the IP protocols known by name; others are ip-proto-N.
var protoNames = map[layers.IPProtocol]string{
	1: "icmp", 2: "igmp", 4: "ipip", 6: "tcp", 17: "udp", 41: "ipv6", 47: "gre", 50: "esp", 51: "ah", 58: "icmp6", 89: "ospf", 132: "sctp",
}

func protoName(p layers.IPProtocol) string {
	if n, ok := protoNames[p]; ok {
		return n
	}
	return "ip-proto-" + strconv.Itoa(int(p))
}

// transport fills in what the IP payload says: the protocol, the ports
// and tcpdump's line after "IP src > dst: " (n is the payload's length by
// the IP header).
func (d *Packet) transport(p gopacket.Packet, family string, proto layers.IPProtocol, n int) {
	d.Proto = protoName(proto)
	hosts := fmt.Sprintf("%s %s > %s: ", family, d.Src, d.Dst)
	l := p.Layer(layerOf[proto])
	if l != nil && len(l.LayerContents()) == 0 {
		l = nil // the decoder met its header cut short
	}
	switch l := l.(type) {
	case *layers.TCP:
		d.Sport, d.Dport = int(l.SrcPort), int(l.DstPort)
		d.Line = fmt.Sprintf("%s %s.%d > %s.%d: %s", family, d.Src, d.Sport, d.Dst, d.Dport, tcpLine(l, n-int(l.DataOffset)*4))
	case *layers.UDP:
		d.Sport, d.Dport = int(l.SrcPort), int(l.DstPort)
		d.Line = fmt.Sprintf("%s %s.%d > %s.%d: UDP, length %d", family, d.Src, d.Sport, d.Dst, d.Dport, int(l.Length)-8)
	case *layers.SCTP:
		d.Sport, d.Dport = int(l.SrcPort), int(l.DstPort)
		d.Line = fmt.Sprintf("%s %s.%d > %s.%d: sctp, length %d", family, d.Src, d.Sport, d.Dst, d.Dport, n)
	case *layers.ICMPv4:
		d.Line = hosts + "ICMP " + icmpLine(l) + fmt.Sprintf(", length %d", n)
	case *layers.ICMPv6:
		d.Line = hosts + "ICMP6, " + icmp6Line(p, l) + fmt.Sprintf(", length %d", n)
	default:
		if _, known := layerOf[proto]; known {
			d.Line = hosts + "[|" + d.Proto + "]" // cut short by snaplen
		} else {
			d.Line = hosts + fmt.Sprintf("%s, length %d", d.Proto, n)
		}
	}
}

// layerOf is the decoder's layer of each IP protocol Decode reads.
var layerOf = map[layers.IPProtocol]gopacket.LayerType{
	layers.IPProtocolTCP: layers.LayerTypeTCP, layers.IPProtocolUDP: layers.LayerTypeUDP,
	layers.IPProtocolSCTP: layers.LayerTypeSCTP, layers.IPProtocolICMPv4: layers.LayerTypeICMPv4,
	layers.IPProtocolICMPv6: layers.LayerTypeICMPv6,
}

// tcpLine is tcpdump's "Flags [S.], seq 1, ack 2, win 3, length 0"
// (sequence numbers as they are on the wire, as with tcpdump -S).
func tcpLine(t *layers.TCP, payload int) string {
	var f strings.Builder
	for _, fl := range []struct {
		on bool
		c  byte
	}{{t.FIN, 'F'}, {t.SYN, 'S'}, {t.RST, 'R'}, {t.PSH, 'P'}, {t.URG, 'U'}, {t.ECE, 'E'}, {t.CWR, 'W'}, {t.ACK, '.'}} {
		if fl.on {
			f.WriteByte(fl.c)
		}
	}
	if f.Len() == 0 {
		f.WriteString("none")
	}
	s := "Flags [" + f.String() + "]"
	switch {
	case payload > 0:
		s += fmt.Sprintf(", seq %d:%d", t.Seq, t.Seq+uint32(payload))
	case t.SYN || t.FIN || t.RST:
		s += fmt.Sprintf(", seq %d", t.Seq)
	}
	if t.ACK {
		s += fmt.Sprintf(", ack %d", t.Ack)
	}
	return s + fmt.Sprintf(", win %d, length %d", t.Window, max(payload, 0))
}

// icmpLine is what tcpdump says of an ICMP message after "ICMP ".
func icmpLine(m *layers.ICMPv4) string {
	typ, code := m.TypeCode.Type(), m.TypeCode.Code()
	switch typ {
	case layers.ICMPv4TypeEchoRequest:
		return fmt.Sprintf("echo request, id %d, seq %d", m.Id, m.Seq)
	case layers.ICMPv4TypeEchoReply:
		return fmt.Sprintf("echo reply, id %d, seq %d", m.Id, m.Seq)
	case layers.ICMPv4TypeTimeExceeded:
		if code == 1 {
			return "ip reassembly time exceeded"
		}
		return "time exceeded in-transit"
	case layers.ICMPv4TypeDestinationUnreachable:
		return unreachable(code, m.Seq, m.Payload)
	case layers.ICMPv4TypeRedirect:
		return "redirect"
	}
	return fmt.Sprintf("type %d, code %d", typ, code)
}

// unreachable says what a destination unreachable message is about,
// from the header it carries of the packet that was refused.
func unreachable(code uint8, mtu uint16, inner []byte) string {
	dst, what := "?", ""
	q := gopacket.NewPacket(inner, layers.LayerTypeIPv4, gopacket.DecodeOptions{Lazy: true, NoCopy: true})
	if ip, ok := q.Layer(layers.LayerTypeIPv4).(*layers.IPv4); ok {
		dst = ip.DstIP.String()
		what = protoName(ip.Protocol)
		if t, ok := q.Layer(layers.LayerTypeTCP).(*layers.TCP); ok {
			what += " port " + strconv.Itoa(int(t.DstPort))
		} else if u, ok := q.Layer(layers.LayerTypeUDP).(*layers.UDP); ok {
			what += " port " + strconv.Itoa(int(u.DstPort))
		}
	}
	switch code {
	case 0:
		return "net " + dst + " unreachable"
	case 1:
		return "host " + dst + " unreachable"
	case 2:
		return dst + " protocol " + what + " unreachable"
	case 3:
		return dst + " " + what + " unreachable"
	case 4:
		return fmt.Sprintf("%s unreachable - need to frag (mtu %d)", dst, mtu)
	case 9, 10, 13:
		return "host " + dst + " unreachable - admin prohibited filter"
	}
	return fmt.Sprintf("%s unreachable, code %d", dst, code)
}

// icmp6Line is what tcpdump says of an ICMPv6 message after "ICMP6, ".
func icmp6Line(p gopacket.Packet, m *layers.ICMPv6) string {
	switch m.TypeCode.Type() {
	case layers.ICMPv6TypeEchoRequest, layers.ICMPv6TypeEchoReply:
		kind := "echo request"
		if m.TypeCode.Type() == layers.ICMPv6TypeEchoReply {
			kind = "echo reply"
		}
		if e, ok := p.Layer(layers.LayerTypeICMPv6Echo).(*layers.ICMPv6Echo); ok {
			return fmt.Sprintf("%s, id %d, seq %d", kind, e.Identifier, e.SeqNumber)
		}
		return kind
	case layers.ICMPv6TypeNeighborSolicitation:
		if ns, ok := p.Layer(layers.LayerTypeICMPv6NeighborSolicitation).(*layers.ICMPv6NeighborSolicitation); ok {
			return "neighbor solicitation, who has " + ns.TargetAddress.String()
		}
		return "neighbor solicitation"
	case layers.ICMPv6TypeNeighborAdvertisement:
		if na, ok := p.Layer(layers.LayerTypeICMPv6NeighborAdvertisement).(*layers.ICMPv6NeighborAdvertisement); ok {
			return "neighbor advertisement, tgt is " + na.TargetAddress.String()
		}
		return "neighbor advertisement"
	case layers.ICMPv6TypeRouterSolicitation:
		return "router solicitation"
	case layers.ICMPv6TypeRouterAdvertisement:
		return "router advertisement"
	case layers.ICMPv6TypeDestinationUnreachable:
		return "destination unreachable"
	case layers.ICMPv6TypeTimeExceeded:
		return "time exceeded in-transit"
	case layers.ICMPv6TypePacketTooBig:
		return "packet too big"
	case 143:
		return "multicast listener report v2"
	}
	return fmt.Sprintf("type %d, code %d", m.TypeCode.Type(), m.TypeCode.Code())
}
