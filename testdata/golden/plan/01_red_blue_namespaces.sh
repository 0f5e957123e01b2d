#!/bin/sh
# nsscript plan scripts/tutorial/01_red_blue_namespaces.star (lab 01_red_blue_namespaces): the commands that build what the script builds.
# Made against a model of a fresh host (as under --sandbox), without root and
# without changing anything. In a plan, exec runs nothing: each command is
# recorded below (to the script its output was empty, and with check=False
# it failed); background commands get $pidN. ping, assert.reachable and
# assert.unreachable send no packets, and a check that failed on what the
# plan cannot know is kept as a comment.
set -e
ip link add enp0s3 type dummy 2>/dev/null ||
    { ip link add enp0s3 type ifb && ip link set enp0s3 alias nsscript:dummy; }  # no dummy driver: an ifb device, as nsscript does
ip addr add 10.0.2.15/24 dev enp0s3
ip link set enp0s3 up
ip netns add red
ip netns add blue

# == ip netns: the named namespaces
#   blue, red

# == the host sees its own interfaces and routes
#   host: links (ip link / ip addr)
#     #  name    kind      state  addresses
#     1  lo      loopback  UP     127.0.0.1/8 ::1/128
#     2  enp0s3  dummy     UP     10.0.2.15/24
#   host: routing table (route)
#     Destination  Gateway  Iface
#     10.0.2.0/24  *        enp0s3

# == inside red and blue: only a loopback, DOWN; no routes; no ARP entries
#   red: links (ip link / ip addr)
#     #  name  kind      state  addresses
#     1  lo    loopback  DOWN   -
#   red: routing table (route): empty
#   red: ARP cache (arp): no entries
#   blue: links (ip link / ip addr)
#     #  name  kind      state  addresses
#     1  lo    loopback  DOWN   -
#   blue: routing table (route): empty
#   blue: ARP cache (arp): no entries

# == the same, as ip sees it inside red
#   $ ip netns exec red ip link
ip netns exec red ip link || true
# not checked in a plan: assert.true: False is false, want true
# not checked in a plan: assert.contains: "state DOWN" not in ""
#   $ ip netns exec red ip route
ip netns exec red ip route || true
#   $ ip netns exec red ip neigh
ip netns exec red ip neigh || true
# not checked in a plan (no packets are sent): assert.unreachable(red, "10.0.2.15")
# not checked in a plan (no packets are sent): assert.unreachable(red, "127.0.0.1")
# not checked in a plan (no packets are sent): assert.reachable(host, "10.0.2.15")
ip -n red link set lo up
# not checked in a plan (no packets are sent): assert.reachable(red, "127.0.0.1")
# not checked in a plan (no packets are sent): assert.unreachable(red, "10.0.2.15")

# == red after `ip -n red link set lo up`
#   red: links (ip link / ip addr)
#     #  name  kind      state  addresses
#     1  lo    loopback  UP     127.0.0.1/8 ::1/128

# ok: red and blue are isolated: only their own loopback, no routes, no ARP entries
--- stderr (exit 0)
