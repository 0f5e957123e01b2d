#!/bin/sh
# nsscript plan scripts/tutorial/07_bridge_ns1_ns3.star (lab 07_bridge_ns1_ns3): the commands that build what the script builds.
# Made against a model of a fresh host (as under --sandbox), without root and
# without changing anything. In a plan, exec runs nothing: each command is
# recorded below (to the script its output was empty, and with check=False
# it failed); background commands get $pidN. ping, assert.reachable and
# assert.unreachable send no packets, and a check that failed on what the
# plan cannot know is kept as a comment.
set -e
ip link add br0 type bridge
ip addr add 10.0.0.1/24 dev br0
ip link set br0 up
ip link add eth0 type dummy 2>/dev/null ||
    { ip link add eth0 type ifb && ip link set eth0 alias nsscript:dummy; }  # no dummy driver: an ifb device, as nsscript does
ip addr add 198.51.100.1/24 dev eth0
ip link set eth0 up
ip netns add ns1
ip -n ns1 link set lo up
ip link add veth0 type veth peer name veth1 netns ns1
sysctl -w net.ipv6.conf.veth0.disable_ipv6=1
ip link set veth0 master br0
ip link set veth0 up
ip -n ns1 addr add 10.0.0.2/24 dev veth1
ip -n ns1 link set veth1 up
ip netns add ns2
ip -n ns2 link set lo up
ip link add veth2 type veth peer name veth3 netns ns2
sysctl -w net.ipv6.conf.veth2.disable_ipv6=1
ip link set veth2 master br0
ip link set veth2 up
ip -n ns2 addr add 10.0.0.3/24 dev veth3
ip -n ns2 link set veth3 up
ip netns add ns3
ip -n ns3 link set lo up
ip link add veth4 type veth peer name veth5 netns ns3
sysctl -w net.ipv6.conf.veth4.disable_ipv6=1
ip link set veth4 master br0
ip link set veth4 up
ip -n ns3 addr add 10.0.0.4/24 dev veth5
ip -n ns3 link set veth5 up

# == the host: br0 and its three ports
#   host: links (ip link / ip addr)
#     #  name   kind      state  addresses
#     1  lo     loopback  UP     127.0.0.1/8 ::1/128
#     2  br0    bridge    UP     10.0.0.1/24
#     3  eth0   dummy     UP     198.51.100.1/24
#     4  veth0  veth      UP     -                    master br0, peer veth1 in ns1
#     6  veth2  veth      UP     -                    master br0, peer veth3 in ns2
#     8  veth4  veth      UP     -                    master br0, peer veth5 in ns3
# not checked in a plan (no packets are sent): assert.reachable(ns1, "10.0.0.1")
# not checked in a plan (no packets are sent): assert.reachable(ns1, "10.0.0.2")
# not checked in a plan (no packets are sent): assert.reachable(ns1, "10.0.0.3")
# not checked in a plan (no packets are sent): assert.reachable(ns1, "10.0.0.4")
# not checked in a plan (no packets are sent): assert.reachable(ns2, "10.0.0.1")
# not checked in a plan (no packets are sent): assert.reachable(ns2, "10.0.0.2")
# not checked in a plan (no packets are sent): assert.reachable(ns2, "10.0.0.3")
# not checked in a plan (no packets are sent): assert.reachable(ns2, "10.0.0.4")
# not checked in a plan (no packets are sent): assert.reachable(ns3, "10.0.0.1")
# not checked in a plan (no packets are sent): assert.reachable(ns3, "10.0.0.2")
# not checked in a plan (no packets are sent): assert.reachable(ns3, "10.0.0.3")
# not checked in a plan (no packets are sent): assert.reachable(ns3, "10.0.0.4")

#   ns1, ns2 and ns3 reach 10.0.0.1 and each other across br0
# not checked in a plan (no packets are sent): assert.unreachable(ns1, "198.51.100.1")
ip -n ns1 route replace default via 10.0.0.1
ip -n ns2 route replace default via 10.0.0.1
ip -n ns3 route replace default via 10.0.0.1
# not checked in a plan (no packets are sent): assert.reachable(ns1, "198.51.100.1")
# not checked in a plan (no packets are sent): assert.reachable(ns2, "198.51.100.1")
# not checked in a plan (no packets are sent): assert.reachable(ns3, "198.51.100.1")

# == what ns1 sees
#   ns1: links (ip link / ip addr)
#     #  name   kind      state  addresses
#     1  lo     loopback  UP     127.0.0.1/8 ::1/128
#     5  veth1  veth      UP     10.0.0.2/24          peer veth0 in host
#   ns1: routing table (route)
#     Destination  Gateway   Iface
#     default      10.0.0.1  veth1
#     10.0.0.0/24  *         veth1
#   ns1: ARP cache (arp): no entries

# ok: three namespaces on br0, with the host as their default gateway
--- stderr (exit 0)
