#!/bin/sh
# nsscript plan scripts/tutorial/20_bridge_lan.star (lab 20_bridge_lan): the commands that build what the script builds.
# Made against a model of a fresh host (as under --sandbox), without root and
# without changing anything. In a plan, exec runs nothing: each command is
# recorded below (to the script its output was empty, and with check=False
# it failed); background commands get $pidN. ping, assert.reachable and
# assert.unreachable send no packets, and a check that failed on what the
# plan cannot know is kept as a comment.
set -e
ip netns add ns1
ip -n ns1 link set lo up
ip netns add ns2
ip -n ns2 link set lo up
ip -n ns1 link add veth1 type veth peer name veth2 netns ns2
ip -n ns1 addr add 1.1.1.1/10 dev veth1
ip -n ns1 link set veth1 up
ip -n ns2 addr add 1.1.1.2/10 dev veth2
ip -n ns2 link set veth2 up
ip netns add lan
ip -n lan link set lo up
ip link add eth0 type veth peer name eth0 netns lan
ip addr add 192.168.56.130/24 dev eth0
ip link set eth0 up
ip -n lan addr add 192.168.56.1/24 dev eth0
ip -n lan link set eth0 up
# not checked in a plan (no packets are sent): assert.reachable(host, "192.168.56.1")

# == ip netns exec ns1 ip link delete veth1: veth2 goes with it
ip -n ns1 link del veth1
#   ns1 and ns2 have only lo left
ip link add veth1 type veth peer name veth2

# == ip link; ip -f inet addr show eth0
#   host: links (ip link / ip addr)
#     #  name   kind      state  addresses
#     1  lo     loopback  UP     127.0.0.1/8 ::1/128
#     4  eth0   veth      UP     192.168.56.130/24    peer eth0 in lan
#     6  veth1  veth      DOWN   -                    peer veth2
#     7  veth2  veth      DOWN   -                    peer veth1
ip addr del 192.168.56.130/24 dev eth0
ip link add br0 type bridge
ip addr add 192.168.56.130/24 dev br0
ip link set br0 up
ip link set eth0 master br0
ip link set veth1 master br0

# == brctl show
#   bridge br0 ports: eth0, veth1
# not checked in a plan (no packets are sent): assert.reachable(host, "192.168.56.1")
ip link set veth2 netns ns1
ip -n ns1 addr add 192.168.56.131/24 dev veth2
ip -n ns1 link set veth2 up

# == as written: veth2 is up, but has no carrier
#   $ ip netns exec ns1 ip link show veth2
ip netns exec ns1 ip link show veth2 || true
# not checked in a plan: assert.contains: "NO-CARRIER" not in ""
# not checked in a plan: assert.contains: "state LOWERLAYERDOWN" not in ""
# not checked in a plan (no packets are sent): assert.unreachable(ns1, "192.168.56.1")
#   ping 192.168.56.1 from ns1: no answer (veth1 is DOWN)

# == ip link set veth1 up: the step the listing leaves out
ip link set veth1 up
#   $ ip netns exec ns1 ip link show veth2
ip netns exec ns1 ip link show veth2 || true
# not checked in a plan: assert.contains: "state UP" not in ""
# not checked in a plan (no packets are sent): assert.reachable(ns1, "192.168.56.1")
# not checked in a plan (no packets are sent): assert.reachable(ns1, "192.168.56.130")
# not checked in a plan (no packets are sent): assert.reachable(lan, "192.168.56.131")

# == the LAN machine's ARP cache: the host and ns1, two MAC addresses
#   lan: ARP cache (arp): no entries
# not checked in a plan: assert.eq: None != "02:5e:00:00:00:06"
# not checked in a plan: assert.eq: None != "02:5e:00:00:00:07"

# ok: br0 puts ns1 on the host's LAN, once both ends of its veth pair are up
--- stderr (exit 0)
