#!/bin/sh
# nsscript plan scripts/tutorial/02_red_blue_veth.star (lab 02_red_blue_veth): the commands that build what the script builds.
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
ip -n red link add veth-red type veth peer name veth-blue netns blue
ip -n red addr add 192.168.15.1/24 dev veth-red
ip -n red link set veth-red up
ip -n blue addr add 192.168.15.2/24 dev veth-blue
ip -n blue link set veth-blue up

# == before any packet: each namespace has its veth end and a connected route, no ARP entry
#   red: links (ip link / ip addr)
#     #  name      kind      state  addresses
#     1  lo        loopback  UP     127.0.0.1/8 ::1/128
#     2  veth-red  veth      UP     192.168.15.1/24      peer veth-blue in blue
#   red: routing table (route)
#     Destination      Gateway  Iface
#     192.168.15.0/24  *        veth-red
#   red: ARP cache (arp): no entries
#   blue: links (ip link / ip addr)
#     #  name       kind      state  addresses
#     1  lo         loopback  UP     127.0.0.1/8 ::1/128
#     3  veth-blue  veth      UP     192.168.15.2/24      peer veth-red in red
#   blue: routing table (route)
#     Destination      Gateway  Iface
#     192.168.15.0/24  *        veth-blue
#   blue: ARP cache (arp): no entries

# == ip netns exec red ping 192.168.15.2
# not checked in a plan (no packets are sent): assert.reachable(red, "192.168.15.2")
# not checked in a plan (no packets are sent): assert.reachable(blue, "192.168.15.1")
#   192.168.15.2 answers red, and 192.168.15.1 answers blue

# == the ARP tables after the ping
#   red: ARP cache (arp): no entries
# not checked in a plan: assert.contains: ("192.168.15.2", "02:5e:00:00:00:02", "veth-red") not in []
#   blue: ARP cache (arp): no entries
# not checked in a plan: assert.contains: ("192.168.15.1", "02:5e:00:00:00:01", "veth-blue") not in []
#   $ ip netns exec red ip neigh
ip netns exec red ip neigh || true

# == ip -n red link del veth-red
ip -n red link del veth-red
#   red: links (ip link / ip addr)
#     #  name  kind      state  addresses
#     1  lo    loopback  UP     127.0.0.1/8 ::1/128
#   red: routing table (route): empty
#   red: ARP cache (arp): no entries
#   blue: links (ip link / ip addr)
#     #  name  kind      state  addresses
#     1  lo    loopback  UP     127.0.0.1/8 ::1/128
#   blue: routing table (route): empty
#   blue: ARP cache (arp): no entries
# not checked in a plan (no packets are sent): assert.unreachable(red, "192.168.15.2")

# ok: a veth pair joins red and blue; deleting one end deletes both
--- stderr (exit 0)
