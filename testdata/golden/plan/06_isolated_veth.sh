#!/bin/sh
# nsscript plan scripts/tutorial/06_isolated_veth.star (lab 06_isolated_veth): the commands that build what the script builds.
# Made against a model of a fresh host (as under --sandbox), without root and
# without changing anything. In a plan, exec runs nothing: each command is
# recorded below (to the script its output was empty, and with check=False
# it failed); background commands get $pidN. ping, assert.reachable and
# assert.unreachable send no packets, and a check that failed on what the
# plan cannot know is kept as a comment.
set -e

# == the default namespace: /proc/1/ns/net and /proc/$$/ns/net
#   $ readlink /proc/1/ns/net /proc/$$/ns/net
sh -c 'readlink /proc/1/ns/net /proc/$$/ns/net' || true
# not checked in a plan: assert.eq: "" != "net:[4026531840]\nnet:[4026531840]\n"
#   both are net:[4026531840]: the same namespace, host.inode in nsscript
ip netns add isolated
ip -n isolated link set lo up

# == ip netns list
#   isolated

# == ip netns exec isolated ...
#   $ ip netns exec isolated readlink /proc/$$/ns/net
ip netns exec isolated sh -c 'readlink /proc/$$/ns/net' || true
# not checked in a plan: assert.eq: "" != "net:[4026531841]"
#   $ ip netns exec isolated ip -brief addr
ip netns exec isolated ip -brief addr || true
ip link add veth0 type veth peer name veth1 netns isolated
ip addr add 10.0.0.1/24 dev veth0
ip link set veth0 up
ip -n isolated addr add 10.0.0.2/24 dev veth1
ip -n isolated link set veth1 up

# == after the veth pair
#   host: links (ip link / ip addr)
#     #  name   kind      state  addresses
#     1  lo     loopback  UP     127.0.0.1/8 ::1/128
#     2  veth0  veth      UP     10.0.0.1/24          peer veth1 in isolated
#   host: routing table (route)
#     Destination  Gateway  Iface
#     10.0.0.0/24  *        veth0
#   host: ARP cache (arp): no entries
#   isolated: links (ip link / ip addr)
#     #  name   kind      state  addresses
#     1  lo     loopback  UP     127.0.0.1/8 ::1/128
#     3  veth1  veth      UP     10.0.0.2/24          peer veth0 in host
#   isolated: routing table (route)
#     Destination  Gateway  Iface
#     10.0.0.0/24  *        veth1
#   isolated: ARP cache (arp): no entries
# not checked in a plan (no packets are sent): assert.reachable(host, "10.0.0.2")
# not checked in a plan (no packets are sent): assert.reachable(isolated, "10.0.0.1")

#   ping 10.0.0.2 from the host and 10.0.0.1 from isolated: both answer

# == ip netns delete isolated
ip -n isolated link del veth1
ip netns del isolated
# not checked in a plan (no packets are sent): assert.unreachable(host, "10.0.0.2")
#   isolated is gone, and veth0 with it

# ok: a veth pair joins the host (10.0.0.1) and isolated (10.0.0.2)
--- stderr (exit 0)
