#!/bin/sh
# nsscript plan scripts/tutorial/17_ns1_eth1.star (lab 17_ns1_eth1): the commands that build what the script builds.
# Made against a model of a fresh host (as under --sandbox), without root and
# without changing anything. In a plan, exec runs nothing: each command is
# recorded below (to the script its output was empty, and with check=False
# it failed); background commands get $pidN. ping, assert.reachable and
# assert.unreachable send no packets, and a check that failed on what the
# plan cannot know is kept as a comment.
set -e
ip netns add router
ip -n router link set lo up
ip netns add internet
ip -n internet link set lo up
ip -n router link add wan0 type veth peer name eth0 netns internet
ip -n router addr add 203.0.113.1/24 dev wan0
ip -n router link set wan0 up
ip -n internet addr add 203.0.113.8/24 dev eth0
ip -n internet link set eth0 up
ip netns exec router sysctl -w net.ipv4.ip_forward=1
ip netns exec router iptables -t nat -A POSTROUTING -s 192.168.1.0/24 -o wan0 -j MASQUERADE -m comment --comment nsscript:17_ns1_eth1
ip link add eth0 type dummy 2>/dev/null ||
    { ip link add eth0 type ifb && ip link set eth0 alias nsscript:dummy; }  # no dummy driver: an ifb device, as nsscript does
ip addr add 192.168.56.130/24 dev eth0
ip link set eth0 up
ip link add eth1 type veth peer name lan0 netns router
ip -n router addr add 192.168.1.1/24 dev lan0
ip -n router link set lan0 up

# == before: the host has both cards
#   host: links (ip link / ip addr)
#     #  name  kind      state  addresses
#     1  lo    loopback  UP     127.0.0.1/8 ::1/128
#     4  eth0  dummy     UP     192.168.56.130/24
#     5  eth1  veth      DOWN   -                    peer lan0 in router
ip netns add ns1
ip link set eth1 netns ns1

# == ip link set eth1 netns ns1
#   host: links (ip link / ip addr)
#     #  name  kind      state  addresses
#     1  lo    loopback  UP     127.0.0.1/8 ::1/128
#     4  eth0  dummy     UP     192.168.56.130/24
#   ns1: links (ip link / ip addr)
#     #  name  kind      state  addresses
#     1  lo    loopback  DOWN   -
#     5  eth1  veth      DOWN   -          peer lan0 in router

# == tree /sys/class/net, from the host and from ns1
#   $ ls /sys/class/net
ls /sys/class/net || true
# not checked in a plan: assert.eq: [] != ["eth0", "lo"]
#   $ ip netns exec ns1 ls /sys/class/net
ip netns exec ns1 ls /sys/class/net || true
# not checked in a plan: assert.eq: [] != ["eth1", "lo"]
ip -n ns1 link set lo up
ip -n ns1 link set eth1 up
ip -n ns1 addr add 192.168.1.123/24 dev eth1

# == ip netns exec ns1 ip -f inet addr show
#   $ ip netns exec ns1 ip -f inet addr show
ip netns exec ns1 ip -f inet addr show || true
# not checked in a plan: assert.contains: "inet 192.168.1.123/24" not in ""
# not checked in a plan: assert.contains: "inet 127.0.0.1/8" not in ""
# not checked in a plan (no packets are sent): assert.unreachable(ns1, "203.0.113.8")
ip -n ns1 route replace default via 192.168.1.1 dev eth1

# == ns1 after Listing 4
#   ns1: links (ip link / ip addr)
#     #  name  kind      state  addresses
#     1  lo    loopback  UP     127.0.0.1/8 ::1/128
#     5  eth1  veth      UP     192.168.1.123/24     peer lan0 in router
#   ns1: routing table (route)
#     Destination     Gateway      Iface
#     default         192.168.1.1  eth1
#     192.168.1.0/24  *            eth1
#   ns1: ARP cache (arp): no entries
# not checked in a plan (no packets are sent): assert.reachable(ns1, "192.168.1.1")
# not checked in a plan (no packets are sent): assert.reachable(ns1, "203.0.113.8")

#   ip netns exec ns1 ping 203.0.113.8: answered
# not checked in a plan (no packets are sent): assert.unreachable(host, "192.168.1.1")

# ok: eth1 belongs to ns1 alone, with its own address and default route
--- stderr (exit 0)
