package capture

import (
	"net"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// TestDecode: each kind of frame a lab sees becomes the fields a script
// asserts on and a line like tcpdump's.
func TestDecode(t *testing.T) {
	unreach := func() []byte {
		inner := udpFrame(t, "192.168.15.1", 40000, "203.0.113.9", 9, "x")[14 : 14+29] // no Ethernet padding
		return serialize(t, eth(layers.EthernetTypeIPv4), ip4("192.168.15.5", "192.168.15.1", layers.IPProtocolICMPv4),
			&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(layers.ICMPv4TypeDestinationUnreachable, 3)}, gopacket.Payload(inner))
	}()
	ns6 := func() []byte {
		ip := &layers.IPv6{Version: 6, HopLimit: 255, NextHeader: layers.IPProtocolICMPv6, SrcIP: net.ParseIP("fe80::1"), DstIP: net.ParseIP("ff02::1:ff00:2")}
		icmp := &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(layers.ICMPv6TypeNeighborSolicitation, 0)}
		_ = icmp.SetNetworkLayerForChecksum(ip)
		return serialize(t, eth(layers.EthernetTypeIPv6), ip, icmp, &layers.ICMPv6NeighborSolicitation{TargetAddress: net.ParseIP("fe80::2")})
	}()
	syn := tcpFrame(t, "192.168.15.1", 43210, "203.0.113.2", 80, true, false, "")
	for _, c := range []struct {
		name  string
		data  []byte
		cut   int // bytes captured, as snaplen leaves them (0: all)
		want  Packet
		lt    layers.LinkType
		noLen bool
	}{
		{name: "icmp request", data: icmpEcho(t, "192.168.15.1", "203.0.113.2", false, 7, 1), want: Packet{Src: "192.168.15.1", Dst: "203.0.113.2", Proto: "icmp", Sport: -1, Dport: -1,
			Line: "IP 192.168.15.1 > 203.0.113.2: ICMP echo request, id 7, seq 1, length 21"}},
		{name: "icmp reply", data: icmpEcho(t, "203.0.113.2", "203.0.113.1", true, 7, 1), want: Packet{Src: "203.0.113.2", Dst: "203.0.113.1", Proto: "icmp", Sport: -1, Dport: -1,
			Line: "IP 203.0.113.2 > 203.0.113.1: ICMP echo reply, id 7, seq 1, length 21"}},
		{name: "tcp syn", data: syn, want: Packet{Src: "192.168.15.1", Dst: "203.0.113.2", Proto: "tcp", Sport: 43210, Dport: 80,
			Line: "IP 192.168.15.1.43210 > 203.0.113.2.80: Flags [S], seq 1000, win 64240, length 0"}},
		{name: "tcp data", data: tcpFrame(t, "203.0.113.2", 80, "203.0.113.1", 43210, false, true, "hello"), want: Packet{Src: "203.0.113.2", Dst: "203.0.113.1", Proto: "tcp", Sport: 80, Dport: 43210,
			Line: "IP 203.0.113.2.80 > 203.0.113.1.43210: Flags [P.], seq 1000:1005, ack 2000, win 64240, length 5"}},
		{name: "udp", data: udpFrame(t, "10.0.0.1", 5353, "10.0.0.2", 53, "abc"), want: Packet{Src: "10.0.0.1", Dst: "10.0.0.2", Proto: "udp", Sport: 5353, Dport: 53,
			Line: "IP 10.0.0.1.5353 > 10.0.0.2.53: UDP, length 3"}},
		{name: "arp request", data: arpFrame(t, layers.ARPRequest, "10.0.0.1", "10.0.0.2"), want: Packet{Src: "10.0.0.1", Dst: "10.0.0.2", Proto: "arp", Sport: -1, Dport: -1,
			Line: "ARP, Request who-has 10.0.0.2 tell 10.0.0.1, length 28"}},
		{name: "arp reply", data: arpFrame(t, layers.ARPReply, "10.0.0.2", "10.0.0.1"), want: Packet{Src: "10.0.0.2", Dst: "10.0.0.1", Proto: "arp", Sport: -1, Dport: -1,
			Line: "ARP, Reply 10.0.0.2 is-at 02:00:00:00:00:0a, length 28"}},
		{name: "port unreachable", data: unreach, want: Packet{Src: "192.168.15.5", Dst: "192.168.15.1", Proto: "icmp", Sport: -1, Dport: -1,
			Line: "IP 192.168.15.5 > 192.168.15.1: ICMP 203.0.113.9 udp port 9 unreachable, length 37"}},
		{name: "neighbor solicitation", data: ns6, want: Packet{Src: "fe80::1", Dst: "ff02::1:ff00:2", Proto: "icmp6", Sport: -1, Dport: -1,
			Line: "IP6 fe80::1 > ff02::1:ff00:2: ICMP6, neighbor solicitation, who has fe80::2, length 24"}},
		{name: "cut by snaplen", data: syn, cut: 40, want: Packet{Src: "192.168.15.1", Dst: "203.0.113.2", Proto: "tcp", Sport: -1, Dport: -1,
			Line: "IP 192.168.15.1 > 203.0.113.2: [|tcp]"}},
		{name: "raw ip", data: udpFrame(t, "10.9.0.1", 51820, "10.9.0.2", 51820, "wg")[14:], lt: layers.LinkTypeRaw, want: Packet{Src: "10.9.0.1", Dst: "10.9.0.2", Proto: "udp", Sport: 51820, Dport: 51820,
			Line: "IP 10.9.0.1.51820 > 10.9.0.2.51820: UDP, length 2"}},
		{name: "lldp", data: serialize(t, eth(layers.EthernetTypeLinkLayerDiscovery), gopacket.Payload("...")), want: Packet{Src: "02:00:00:00:00:0a", Dst: "02:00:00:00:00:0b", Proto: "ethertype-0x88cc", Sport: -1, Dport: -1,
			Line: "ethertype 0x88cc, length 60"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			data := c.data
			if c.cut > 0 {
				data = data[:c.cut]
			}
			lt := c.lt
			if lt == 0 {
				lt = layers.LinkTypeEthernet
			}
			got := Decode(lt, data, len(c.data))
			c.want.Length = len(c.data)
			if got != c.want {
				t.Errorf("Decode:\n got %+v\nwant %+v", got, c.want)
			}
		})
	}
}
