package capture

import (
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/nsscript/nsscript/builtins/kernel"
)

// Frames for the tests, made with gopacket's serializers: what a veth
// would give a packet socket.

var (
	macA = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x0a}
	macB = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x0b}
)

func serialize(t *testing.T, ls ...gopacket.SerializableLayer) []byte {
	t.Helper()
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		t.Fatal(err)
	}
	return append([]byte(nil), buf.Bytes()...)
}

func eth(typ layers.EthernetType) *layers.Ethernet {
	return &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: typ}
}

func ip4(src, dst string, proto layers.IPProtocol) *layers.IPv4 {
	return &layers.IPv4{Version: 4, TTL: 64, Protocol: proto, SrcIP: net.ParseIP(src).To4(), DstIP: net.ParseIP(dst).To4()}
}

func icmpEcho(t *testing.T, src, dst string, reply bool, id, seq uint16) []byte {
	typ := uint8(layers.ICMPv4TypeEchoRequest)
	if reply {
		typ = layers.ICMPv4TypeEchoReply
	}
	return serialize(t, eth(layers.EthernetTypeIPv4), ip4(src, dst, layers.IPProtocolICMPv4),
		&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(typ, 0), Id: id, Seq: seq}, gopacket.Payload("nsscript-ping"))
}

func tcpFrame(t *testing.T, src string, sport int, dst string, dport int, syn, ack bool, payload string) []byte {
	ip := ip4(src, dst, layers.IPProtocolTCP)
	tcp := &layers.TCP{SrcPort: layers.TCPPort(sport), DstPort: layers.TCPPort(dport), Seq: 1000, Ack: 2000, SYN: syn, ACK: ack, PSH: payload != "", Window: 64240}
	_ = tcp.SetNetworkLayerForChecksum(ip)
	return serialize(t, eth(layers.EthernetTypeIPv4), ip, tcp, gopacket.Payload(payload))
}

func udpFrame(t *testing.T, src string, sport int, dst string, dport int, payload string) []byte {
	ip := ip4(src, dst, layers.IPProtocolUDP)
	udp := &layers.UDP{SrcPort: layers.UDPPort(sport), DstPort: layers.UDPPort(dport)}
	_ = udp.SetNetworkLayerForChecksum(ip)
	return serialize(t, eth(layers.EthernetTypeIPv4), ip, udp, gopacket.Payload(payload))
}

func arpFrame(t *testing.T, op uint16, sender, target string) []byte {
	return serialize(t, eth(layers.EthernetTypeARP), &layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4,
		HwAddressSize: 6, ProtAddressSize: 4, Operation: op, SourceHwAddress: macA, SourceProtAddress: net.ParseIP(sender).To4(),
		DstHwAddress: make([]byte, 6), DstProtAddress: net.ParseIP(target).To4()})
}

// fakeFrame is a frame a fakeSource gives.
type fakeFrame struct {
	data     []byte
	index    int
	hatype   uint16
	outgoing bool
}

// fakeSource gives its frames, then blocks until it is closed.
type fakeSource struct {
	frames chan fakeFrame
	names  map[int]string
	done   chan struct{}
	once   sync.Once
}

func newFakeSource(names map[int]string, frames ...fakeFrame) *fakeSource {
	f := &fakeSource{frames: make(chan fakeFrame, len(frames)+16), names: names, done: make(chan struct{})}
	for _, fr := range frames {
		f.frames <- fr
	}
	return f
}

func (f *fakeSource) Read(buf []byte) (kernel.PacketInfo, error) {
	select {
	case fr := <-f.frames:
		n := copy(buf, fr.data)
		return kernel.PacketInfo{Time: time.Now(), Index: fr.index, HAType: fr.hatype, Outgoing: fr.outgoing,
			Length: len(fr.data), Captured: n}, nil
	case <-f.done:
		return kernel.PacketInfo{}, os.ErrClosed
	}
}

func (f *fakeSource) IfName(index int) string { return f.names[index] }

func (f *fakeSource) Close() error {
	f.once.Do(func() { close(f.done) })
	return nil
}
