package main

// The seed documents' examples that TestSeedExamples runs (see seeds_test.go).

var seedExamples = []seedExample{
	{
		name: "002_red_blue_veth",
		build: `
# Seed 002 never brings lo up in red or blue: lo=False keeps it down, as
# the document's commands leave it.
red = namespace("red", lo = False)
blue = namespace("blue", lo = False)
veth("veth-red", "veth-blue", ns = red, peer_ns = blue,
     addr = "192.168.15.1/24", peer_addr = "192.168.15.2/24")
`,
		teardown: `
red.delete()
blue.delete()
`,
		ip: `
ip netns add red
ip netns add blue
ip link add veth-red type veth peer name veth-blue
ip link set veth-red netns red
ip link set veth-blue netns blue
ip -n red addr add 192.168.15.1/24 dev veth-red
ip -n blue addr add 192.168.15.2/24 dev veth-blue
ip -n red link set veth-red up
ip -n blue link set veth-blue up
`,
		// $ ip netns exec red ping 192.168.15.2
		check: `
assert.reachable(ns["red"], "192.168.15.2")
assert.reachable(ns["blue"], "192.168.15.1")
`,
		must: []string{
			"ns blue forwarding=0",
			"ns red forwarding=0",
			"link red/lo kind=loopback up=false",
			"link blue/lo kind=loopback up=false",
			"link red/veth-red kind=veth up=true master=- peer=blue/veth-blue",
			"link blue/veth-blue kind=veth up=true master=- peer=red/veth-red",
			"addr red/veth-red inet 192.168.15.1/24 ",
			"addr blue/veth-blue inet 192.168.15.2/24 ",
			"route red table=main type=unicast dst=192.168.15.0/24 gateway=- dev=veth-red ",
		},
	},
	{
		name: "002_red_blue_bridge",
		build: `
# lo=False: seed 002 never brings lo up in red or blue.
red = namespace("red", lo = False)
blue = namespace("blue", lo = False)
sw = bridge("v-net-0", addr = "192.168.15.5/24")
veth("veth-red", "veth-red-br", ns = red, addr = "192.168.15.1/24", peer_master = sw)
veth("veth-blue", "veth-blue-br", ns = blue, addr = "192.168.15.2/24", peer_master = sw)
route(blue, "192.168.1.0/24", via = "192.168.15.5")
route(blue, "default", via = "192.168.15.5")
`,
		teardown: `
red.delete()   # takes veth-red, and so veth-red-br, with it
blue.delete()
sw.delete()
`,
		// The document never sets veth-red-br and veth-blue-br up, yet
		// says "Now you can ping red namespace in our Localhost": its
		// intent is a working switch, which needs its ports up, and that
		// is what veth(up=True) does. The two marked lines are the only
		// ones not in the document. Its iptables lines are not part of
		// this state (nat is another issue).
		ip: `
ip netns add red
ip netns add blue
ip link add v-net-0 type bridge
ip link set dev v-net-0 up
ip link add veth-red type veth peer name veth-red-br
ip link add veth-blue type veth peer name veth-blue-br
ip link set veth-red netns red
ip link set veth-red-br master v-net-0
ip link set veth-blue netns blue
ip link set veth-blue-br master v-net-0
ip link set veth-red-br up
ip link set veth-blue-br up
ip -n red addr add 192.168.15.1/24 dev veth-red
ip -n blue addr add 192.168.15.2/24 dev veth-blue
ip -n red link set veth-red up
ip -n blue link set veth-blue up
ip addr add 192.168.15.5/24 dev v-net-0
ip netns exec blue ip route add 192.168.1.0/24 via 192.168.15.5
ip netns exec blue ip route add default via 192.168.15.5
`,
		check: `
assert.reachable(ns["red"], "192.168.15.2")
assert.reachable(host, "192.168.15.1")
assert.reachable(ns["blue"], "192.168.15.5")
`,
		must: []string{
			"ns host forwarding=0",
			"link host/v-net-0 kind=bridge up=true master=- peer=-",
			"link host/veth-red-br kind=veth up=true master=v-net-0 peer=red/veth-red",
			"link host/veth-blue-br kind=veth up=true master=v-net-0 peer=blue/veth-blue",
			"link red/veth-red kind=veth up=true master=- peer=host/veth-red-br",
			"link blue/veth-blue kind=veth up=true master=- peer=host/veth-blue-br",
			"link red/lo kind=loopback up=false",
			"addr host/v-net-0 inet 192.168.15.5/24 ",
			"addr red/veth-red inet 192.168.15.1/24 ",
			"addr blue/veth-blue inet 192.168.15.2/24 ",
			"route blue table=main type=unicast dst=default gateway=192.168.15.5 dev=veth-blue ",
			"route blue table=main type=unicast dst=192.168.1.0/24 gateway=192.168.15.5 dev=veth-blue ",
		},
	},
	{
		name: "000_isolated",
		build: `
iso = namespace("isolated")   # the document sets lo up in isolated
veth("veth0", "veth1", peer_ns = iso, addr = "10.0.0.1/24", peer_addr = "10.0.0.2/24")
`,
		teardown: `
iso.delete()
`,
		ip: `
ip netns add isolated
ip link add veth0 type veth peer name veth1
ip link set veth1 netns isolated
ip addr add 10.0.0.1/24 dev veth0
ip link set veth0 up
ip netns exec isolated ip addr add 10.0.0.2/24 dev veth1
ip netns exec isolated ip link set veth1 up
ip netns exec isolated ip link set lo up
`,
		// # Test connectivity: ping 10.0.0.2; ip netns exec isolated ping 10.0.0.1
		check: `
assert.reachable(host, "10.0.0.2")
assert.reachable(ns["isolated"], "10.0.0.1")
`,
		must: []string{
			"ns isolated forwarding=",
			"link host/veth0 kind=veth up=true master=- peer=isolated/veth1",
			"link isolated/veth1 kind=veth up=true master=- peer=host/veth0",
			"link isolated/lo kind=loopback up=true",
			"addr host/veth0 inet 10.0.0.1/24 ",
			"addr isolated/veth1 inet 10.0.0.2/24 ",
			"addr isolated/lo inet 127.0.0.1/8 ",
		},
	},
	{
		name: "000_br0_ns1_ns3",
		build: `
br0 = bridge("br0", addr = "10.0.0.1/24")
spaces = []
for i in range(1, 4):
    ns = namespace("ns%d" % i)   # the document sets lo up in each
    veth("veth%d" % (2 * i - 2), "veth%d" % (2 * i - 1), peer_ns = ns,
         master = br0, peer_addr = "10.0.0.%d/24" % (i + 1))
    route(ns, "default", via = "10.0.0.1")
    spaces.append(ns)
`,
		teardown: `
for ns in spaces:
    ns.delete()
br0.delete()
`,
		// The document spells out ns1; ns2 and ns3 are the same commands
		// with the diagram's names (veth2/veth3, veth4/veth5).
		ip: `
ip link add br0 type bridge
ip link set br0 up
ip addr add 10.0.0.1/24 dev br0
` + forEach([][]string{{"ns1", "veth0", "veth1", "10.0.0.2"}, {"ns2", "veth2", "veth3", "10.0.0.3"}, {"ns3", "veth4", "veth5", "10.0.0.4"}}, `
ip netns add $0
ip link add $1 type veth peer name $2
ip link set $1 master br0
ip link set $1 up
ip link set $2 netns $0
ip netns exec $0 ip addr add $3/24 dev $2
ip netns exec $0 ip link set $2 up
ip netns exec $0 ip link set lo up
ip netns exec $0 ip route add default via 10.0.0.1
`),
		check: `
assert.reachable(ns["ns1"], "10.0.0.4")
assert.reachable(ns["ns3"], "10.0.0.1")
assert.reachable(host, "10.0.0.3")
`,
		must: []string{
			"link host/br0 kind=bridge up=true master=- peer=-",
			"link host/veth0 kind=veth up=true master=br0 peer=ns1/veth1",
			"link host/veth2 kind=veth up=true master=br0 peer=ns2/veth3",
			"link host/veth4 kind=veth up=true master=br0 peer=ns3/veth5",
			"link ns3/veth5 kind=veth up=true master=- peer=host/veth4",
			"link ns2/lo kind=loopback up=true",
			"addr host/br0 inet 10.0.0.1/24 ",
			"addr ns2/veth3 inet 10.0.0.3/24 ",
			"route ns1 table=main type=unicast dst=default gateway=10.0.0.1 dev=veth1 ",
			"route ns3 table=main type=unicast dst=default gateway=10.0.0.1 dev=veth5 ",
		},
	},
	{
		name: "000_docker",
		build: `
docker0 = bridge("docker0", addr = "172.17.0.1/16")
containers = []
for i, hostside in enumerate(["veth1234", "veth5678", "veth9abc"]):
    c = namespace("container%d" % (i + 1))
    veth(hostside, "eth0", peer_ns = c, master = docker0, peer_addr = "172.17.0.%d/16" % (i + 2))
    route(c, "default", via = "172.17.0.1")
    containers.append(c)
forwarding()
`,
		teardown: `
for c in containers:
    c.delete()
docker0.delete()
forwarding(on = False)
`,
		// Seed 000 draws Docker's model without commands; these are the
		// ip commands that build it (what Docker does with netlink: a
		// veth whose container end is created in the container's
		// namespace as eth0, the host end on docker0, lo up, a default
		// route via the bridge, forwarding on). The diagram's NAT line is
		// iptables, not part of this state.
		ip: `
ip link add docker0 type bridge
ip addr add 172.17.0.1/16 dev docker0
ip link set docker0 up
` + forEach([][]string{{"container1", "veth1234", "172.17.0.2"}, {"container2", "veth5678", "172.17.0.3"}, {"container3", "veth9abc", "172.17.0.4"}}, `
ip netns add $0
ip link add $1 type veth peer name eth0 netns $0
ip link set $1 master docker0
ip link set $1 up
ip -n $0 addr add $2/16 dev eth0
ip -n $0 link set eth0 up
ip -n $0 link set lo up
ip -n $0 route add default via 172.17.0.1
`) + `
sysctl -w net.ipv4.ip_forward=1
`,
		check: `
assert.reachable(ns["container1"], "172.17.0.4")
assert.reachable(ns["container3"], "172.17.0.1")
`,
		must: []string{
			"ns host forwarding=1",
			"link host/docker0 kind=bridge up=true master=- peer=-",
			"link host/veth1234 kind=veth up=true master=docker0 peer=container1/eth0",
			"link host/veth5678 kind=veth up=true master=docker0 peer=container2/eth0",
			"link host/veth9abc kind=veth up=true master=docker0 peer=container3/eth0",
			"link container2/eth0 kind=veth up=true master=- peer=host/veth5678",
			"link container3/lo kind=loopback up=true",
			"addr host/docker0 inet 172.17.0.1/16 ",
			"addr container1/eth0 inet 172.17.0.2/16 ",
			"addr container3/eth0 inet 172.17.0.4/16 ",
			"route container2 table=main type=unicast dst=default gateway=172.17.0.1 dev=eth0 ",
		},
	},
	{
		name: "001_ns1_ns2_eth1",
		build: `
# eth1 is the machine's NIC in the document; dummy() stands in for it.
eth1 = dummy("eth1")
ns1 = namespace("ns1")
# The document never brings ns2's lo up (ip netns exec ns2 ip link shows
# it DOWN): lo=False. It does set ns1's lo up.
ns2 = namespace("ns2", lo = False)
eth1.move(ns1)   # the kernel sets a moved device down
eth1.set_up()
eth1.addr("192.168.1.123/24")
route(ns1, "default", via = "192.168.1.1", dev = eth1)
veth("veth1", "veth2", ns = ns1, peer_ns = ns2, addr = "1.1.1.1/10", peer_addr = "1.1.1.2/10")
`,
		teardown: `
eth1.delete()
ns1.delete()
ns2.delete()
`,
		ip: standInNIC + `
ip netns add ns1
ip netns add ns2
ip link set eth1 netns ns1
ip netns exec ns1 ip link set lo up
ip netns exec ns1 ip link set eth1 up
ip netns exec ns1 ip addr add 192.168.1.123/24 dev eth1
ip netns exec ns1 ip route add default via 192.168.1.1 dev eth1
ip netns exec ns1 ip link add name veth1 type veth peer name veth2
ip netns exec ns1 ip link set dev veth2 netns ns2
ip netns exec ns1 ip addr add 1.1.1.1/10 dev veth1
ip netns exec ns2 ip addr add 1.1.1.2/10 dev veth2
ip netns exec ns1 ip link set veth1 up
ip netns exec ns2 ip link set veth2 up
`,
		// $ ip netns exec ns1 ping -c2 1.1.1.2 (the 8.8.8.8 ping is not
		// made: no traffic leaves the sandbox)
		check: `
assert.reachable(ns["ns1"], "1.1.1.2")
assert.reachable(ns["ns2"], "1.1.1.1")
`,
		must: []string{
			"link ns1/eth1 kind=STAND-IN up=true master=- peer=-",
			"link ns1/veth1 kind=veth up=true master=- peer=ns2/veth2",
			"link ns2/veth2 kind=veth up=true master=- peer=ns1/veth1",
			"link ns1/lo kind=loopback up=true",
			"link ns2/lo kind=loopback up=false",
			"addr ns1/eth1 inet 192.168.1.123/24 ",
			"addr ns1/veth1 inet 1.1.1.1/10 ",
			"addr ns2/veth2 inet 1.1.1.2/10 ",
			"route ns1 table=main type=unicast dst=default gateway=192.168.1.1 dev=eth1 ",
			"route ns1 table=main type=unicast dst=1.0.0.0/10 gateway=- dev=veth1 ",
		},
	},
}
