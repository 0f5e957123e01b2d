#!/bin/sh
# nsscript plan scripts/tutorial/03_red_blue_bridge.star (lab 03_red_blue_bridge): the commands that build what the script builds.
# Made against a model of a fresh host (as under --sandbox), without root and
# without changing anything. In a plan, exec runs nothing: each command is
# recorded below (to the script its output was empty, and with check=False
# it failed); background commands get $pidN. ping, assert.reachable and
# assert.unreachable send no packets, and a check that failed on what the
# plan cannot know is kept as a comment.
set -e
ip netns add red
ip -n red link set lo up
ip netns add blue
ip -n blue link set lo up
ip link add v-net-0 type bridge
ip addr add 192.168.15.5/24 dev v-net-0
ip link set v-net-0 up
ip -n red link add veth-red type veth peer name veth-red-br netns $$
sysctl -w net.ipv6.conf.veth-red-br.disable_ipv6=1
ip -n red addr add 192.168.15.1/24 dev veth-red
ip -n red link set veth-red up
ip link set veth-red-br master v-net-0
ip link set veth-red-br up
ip -n blue link add veth-blue type veth peer name veth-blue-br netns $$
sysctl -w net.ipv6.conf.veth-blue-br.disable_ipv6=1
ip -n blue addr add 192.168.15.2/24 dev veth-blue
ip -n blue link set veth-blue up
ip link set veth-blue-br master v-net-0
ip link set veth-blue-br up

# == the host: v-net-0 is just another interface, with the two -br ports
#   host: links (ip link / ip addr)
#     #  name          kind      state  addresses
#     1  lo            loopback  UP     127.0.0.1/8 ::1/128
#     2  v-net-0       bridge    UP     192.168.15.5/24
#     4  veth-red-br   veth      UP     -                    master v-net-0, peer veth-red in red
#     6  veth-blue-br  veth      UP     -                    master v-net-0, peer veth-blue in blue
#   host: routing table (route)
#     Destination      Gateway  Iface
#     192.168.15.0/24  *        v-net-0
#   bridge v-net-0 ports (bridge link): veth-blue-br, veth-red-br
# not checked in a plan (no packets are sent): assert.reachable(red, "192.168.15.2")
# not checked in a plan (no packets are sent): assert.reachable(blue, "192.168.15.1")
# not checked in a plan (no packets are sent): assert.reachable(host, "192.168.15.1")
# not checked in a plan (no packets are sent): assert.reachable(host, "192.168.15.2")
# not checked in a plan (no packets are sent): assert.reachable(red, "192.168.15.5")
ip link set veth-red-br down
# not checked in a plan (no packets are sent): assert.unreachable(red, "192.168.15.2")
# not checked in a plan (no packets are sent): assert.unreachable(host, "192.168.15.1")
ip link set veth-red-br up
# not checked in a plan (no packets are sent): assert.reachable(red, "192.168.15.2")
# not checked in a plan (no packets are sent): assert.reachable(host, "192.168.15.1")

# == Check ARP and Route
#   red: links (ip link / ip addr)
#     #  name      kind      state  addresses
#     1  lo        loopback  UP     127.0.0.1/8 ::1/128
#     3  veth-red  veth      UP     192.168.15.1/24      peer veth-red-br in host
#   red: routing table (route)
#     Destination      Gateway  Iface
#     192.168.15.0/24  *        veth-red
#   red: ARP cache (arp): no entries
# not checked in a plan: assert.true: the pings filled red's ARP cache: False is false, want true
#   blue: links (ip link / ip addr)
#     #  name       kind      state  addresses
#     1  lo         loopback  UP     127.0.0.1/8 ::1/128
#     5  veth-blue  veth      UP     192.168.15.2/24      peer veth-blue-br in host
#   blue: routing table (route)
#     Destination      Gateway  Iface
#     192.168.15.0/24  *        veth-blue
#   blue: ARP cache (arp): no entries
# not checked in a plan: assert.true: the pings filled blue's ARP cache: False is false, want true
#   host: ARP cache (arp): no entries
# not checked in a plan: assert.contains: ("192.168.15.1", "02:5e:00:00:00:02", "v-net-0") not in []
# not checked in a plan: assert.contains: ("192.168.15.2", "02:5e:00:00:00:04", "v-net-0") not in []

# ok: red and blue reach each other and the host through v-net-0
--- stderr (exit 0)
