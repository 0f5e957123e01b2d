#!/bin/sh
# nsscript plan scripts/tutorial/31_static_neighbors.star (lab 31_static_neighbors): the commands that build what the script builds.
# Made against a model of a fresh host (as under --sandbox), without root and
# without changing anything. In a plan, exec runs nothing: each command is
# recorded below (to the script its output was empty, and with check=False
# it failed); background commands get $pidN. ping, assert.reachable and
# assert.unreachable send no packets, and a check that failed on what the
# plan cannot know is kept as a comment.
set -e
ip netns add switches
ip -n switches link set lo up
ip netns add h1
ip -n h1 link set lo up
ip netns add h2
ip -n h2 link set lo up
ip netns add h3
ip -n h3 link set lo up
ip netns add h4
ip -n h4 link set lo up
ip -n switches link add s1 type bridge
ip -n switches link set s1 up
ip -n h1 link add h1-eth0 type veth peer name s1-eth1 netns switches
ip -n h1 addr add 10.0.0.1/8 dev h1-eth0
ip -n h1 link set h1-eth0 up
ip -n switches link set s1-eth1 master s1
ip -n switches link set s1-eth1 up
ip -n h2 link add h2-eth0 type veth peer name s1-eth2 netns switches
ip -n h2 addr add 10.0.0.2/8 dev h2-eth0
ip -n h2 link set h2-eth0 up
ip -n switches link set s1-eth2 master s1
ip -n switches link set s1-eth2 up
ip -n h3 link add h3-eth0 type veth peer name s1-eth3 netns switches
ip -n h3 addr add 10.0.0.3/8 dev h3-eth0
ip -n h3 link set h3-eth0 up
ip -n switches link set s1-eth3 master s1
ip -n switches link set s1-eth3 up
ip -n h4 link add h4-eth0 type veth peer name s1-eth4 netns switches
ip -n h4 addr add 10.0.0.4/8 dev h4-eth0
ip -n h4 link set h4-eth0 up
ip -n switches link set s1-eth4 master s1
ip -n switches link set s1-eth4 up
ip -n h1 link set h1-eth0 address 00:00:00:00:00:01
ip -n h2 link set h2-eth0 address 00:00:00:00:00:02
ip -n h3 link set h3-eth0 address 00:00:00:00:00:03
ip -n h4 link set h4-eth0 address 00:00:00:00:00:04
ip -n h1 neigh replace 10.0.0.2 lladdr 00:00:00:00:00:02 dev h1-eth0 nud permanent
ip -n h1 neigh replace 10.0.0.3 lladdr 00:00:00:00:00:03 dev h1-eth0 nud permanent
ip -n h1 neigh replace 10.0.0.4 lladdr 00:00:00:00:00:04 dev h1-eth0 nud permanent
ip -n h2 neigh replace 10.0.0.1 lladdr 00:00:00:00:00:01 dev h2-eth0 nud permanent
ip -n h2 neigh replace 10.0.0.3 lladdr 00:00:00:00:00:03 dev h2-eth0 nud permanent
ip -n h2 neigh replace 10.0.0.4 lladdr 00:00:00:00:00:04 dev h2-eth0 nud permanent
ip -n h3 neigh replace 10.0.0.1 lladdr 00:00:00:00:00:01 dev h3-eth0 nud permanent
ip -n h3 neigh replace 10.0.0.2 lladdr 00:00:00:00:00:02 dev h3-eth0 nud permanent
ip -n h3 neigh replace 10.0.0.4 lladdr 00:00:00:00:00:04 dev h3-eth0 nud permanent
ip -n h4 neigh replace 10.0.0.1 lladdr 00:00:00:00:00:01 dev h4-eth0 nud permanent
ip -n h4 neigh replace 10.0.0.2 lladdr 00:00:00:00:00:02 dev h4-eth0 nud permanent
ip -n h4 neigh replace 10.0.0.3 lladdr 00:00:00:00:00:03 dev h4-eth0 nud permanent

# == h1's ARP cache before any packet (ip neigh / arp -n)
#   h1: ARP cache (arp)
#     Address   HWaddress          State      Iface
#     10.0.0.2  00:00:00:00:00:02  PERMANENT  h1-eth0
#     10.0.0.3  00:00:00:00:00:03  PERMANENT  h1-eth0
#     10.0.0.4  00:00:00:00:00:04  PERMANENT  h1-eth0

# == no host answers ARP (sysctl net.ipv4.conf.all.arp_ignore=8): pingall
ip netns exec h1 sysctl -w net.ipv4.conf.all.arp_ignore=8
ip netns exec h2 sysctl -w net.ipv4.conf.all.arp_ignore=8
ip netns exec h3 sysctl -w net.ipv4.conf.all.arp_ignore=8
ip netns exec h4 sysctl -w net.ipv4.conf.all.arp_ignore=8
# *** Ping: testing ping reachability
# not sent in a plan, taken as answered: reachability of 4 nodes
# h1 -> h2 h3 h4
# h2 -> h1 h3 h4
# h3 -> h1 h2 h4
# h4 -> h1 h2 h3
# *** Results: 0% dropped (12/12 received) (a plan sends nothing: taken as answered)

# == ip neigh del 10.0.0.2 dev h1-eth0: h1 must ask, and nobody answers
ip -n h1 neigh del 10.0.0.2 dev h1-eth0
# not checked in a plan (no packets are sent): assert.unreachable(h1, "10.0.0.2")
#   h1 -> h2: no answer (h1's ARP request goes unanswered)
# not checked in a plan (no packets are sent): assert.unreachable(h2, "10.0.0.1")
#   h2 -> h1: no answer either: h2 knows h1's MAC, but h1's reply needs h2's
# not checked in a plan (no packets are sent): assert.reachable(h1, "10.0.0.3")
#   h1 -> h3: answered: only the pair without an entry is cut off
ip -n h1 neigh replace 10.0.0.2 lladdr 00:00:00:00:00:02 dev h1-eth0 nud permanent
# not checked in a plan (no packets are sent): assert.reachable(h1, "10.0.0.2")

# == a static entry with a MAC nobody has: a black hole
ip -n h1 neigh replace 10.0.0.3 lladdr 00:00:00:00:00:99 dev h1-eth0 nud permanent
#   h1: ARP cache (arp)
#     Address   HWaddress          State      Iface
#     10.0.0.3  00:00:00:00:00:99  PERMANENT  h1-eth0
#     10.0.0.4  00:00:00:00:00:04  PERMANENT  h1-eth0
#     10.0.0.2  00:00:00:00:00:02  PERMANENT  h1-eth0
# not checked in a plan (no packets are sent): assert.unreachable(h1, "10.0.0.3")
#   h1 -> h3: lost. The switch floods frames for 00:00:00:00:00:99, no host takes them,
#   and a PERMANENT entry is never checked again: nothing tells h1
ip -n h1 neigh replace 10.0.0.3 lladdr 00:00:00:00:00:03 dev h1-eth0 nud permanent
# not checked in a plan (no packets are sent): assert.reachable(h1, "10.0.0.3")
#   with h3's real MAC again: answered

# ok: static neighbours replace ARP entirely, for better and (when stale) for worse
--- stderr (exit 0)
