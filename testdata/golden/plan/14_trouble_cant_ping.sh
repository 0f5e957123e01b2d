#!/bin/sh
# nsscript plan scripts/tutorial/14_trouble_cant_ping.star (lab 14_trouble_cant_ping): the commands that build what the script builds.
# Made against a model of a fresh host (as under --sandbox), without root and
# without changing anything. In a plan, exec runs nothing: each command is
# recorded below (to the script its output was empty, and with check=False
# it failed); background commands get $pidN. ping, assert.reachable and
# assert.unreachable send no packets, and a check that failed on what the
# plan cannot know is kept as a comment.
set -e
ip netns add internet
ip -n internet link set lo up
ip link add eth0 type veth peer name eth0 netns internet
ip addr add 203.0.113.1/24 dev eth0
ip link set eth0 up
ip -n internet addr add 203.0.113.8/24 dev eth0
ip -n internet link set eth0 up
ip link add br0 type bridge
ip addr add 10.0.0.1/24 dev br0
ip link set br0 up
ip netns add ns1
ip -n ns1 link set lo up
ip link add veth0 type veth peer name veth1 netns ns1
sysctl -w net.ipv6.conf.veth0.disable_ipv6=1
ip link set veth0 master br0
ip link set veth0 up
ip -n ns1 addr add 10.0.0.2/24 dev veth1
ip -n ns1 link set veth1 up
ip netns exec ns1 iptables -t filter -A OUTPUT -p icmp -j DROP -m comment --comment nsscript:14_trouble_cant_ping

# == the symptom: ip netns exec ns1 ping 203.0.113.8
# not checked in a plan (no packets are sent): assert.unreachable(ns1, "203.0.113.8")
# not checked in a plan (no packets are sent): assert.reachable(host, "203.0.113.8")
#   no answer (the host itself gets an answer)

# == 1. check routes
#   ns1: routing table (route)
#     Destination  Gateway  Iface
#     10.0.0.0/24  *        veth1
#   $ ip netns exec ns1 ip route get 203.0.113.8
ip netns exec ns1 ip route get 203.0.113.8 || true
#     not run: nsscript plan runs no command
#   -> no default route. Fix: ip netns exec ns1 ip route add default via 10.0.0.1
ip -n ns1 route replace default via 10.0.0.1
# not checked in a plan (no packets are sent): assert.unreachable(ns1, "203.0.113.8")

# == 2. check firewall
#   $ ip netns exec ns1 iptables -L OUTPUT -n -v
ip netns exec ns1 iptables -L OUTPUT -n -v || true
# not checked in a plan: assert.contains: "DROP" not in ""
#   -> ns1 drops its own ICMP on the way out. Fix: delete the rule
ip netns exec ns1 iptables -t filter -D OUTPUT -p icmp -j DROP -m comment --comment nsscript:14_trouble_cant_ping
# not checked in a plan (no packets are sent): assert.unreachable(ns1, "203.0.113.8")

# == 3. check host forwarding
#   $ cat /proc/sys/net/ipv4/ip_forward
cat /proc/sys/net/ipv4/ip_forward || true
#   -> 0: the host drops what it should route. Fix: sysctl -w net.ipv4.ip_forward=1
sysctl -w net.ipv4.ip_forward=1
# not checked in a plan (no packets are sent): assert.unreachable(ns1, "203.0.113.8")

# == 4. check host NAT
#   $ iptables -t nat -L POSTROUTING -n -v
iptables -t nat -L POSTROUTING -n -v || true
#   $ ip netns exec internet ip route get 10.0.0.2
ip netns exec internet ip route get 10.0.0.2 || true
#     not run: nsscript plan runs no command
#   -> no masquerade, and the internet cannot answer 10.0.0.2.
#      Fix: iptables -t nat -A POSTROUTING -s 10.0.0.0/24 ! -o br0 -j MASQUERADE
iptables -t nat -A POSTROUTING -s 10.0.0.0/24 ! -o br0 -j MASQUERADE -m comment --comment nsscript:14_trouble_cant_ping

# == fixed
# not checked in a plan (no packets are sent): assert.reachable(ns1, "203.0.113.8")
#   ip netns exec ns1 ping 203.0.113.8: answered

# == each fix undone alone breaks it again
ip netns exec ns1 ip route del default || true
# not checked in a plan (no packets are sent): assert.unreachable(ns1, "203.0.113.8")
ip -n ns1 route replace default via 10.0.0.1
# not checked in a plan (no packets are sent): assert.reachable(ns1, "203.0.113.8")
#   without the default route: no answer
ip netns exec ns1 iptables -t filter -A OUTPUT -p icmp -j DROP -m comment --comment nsscript:14_trouble_cant_ping
# not checked in a plan (no packets are sent): assert.unreachable(ns1, "203.0.113.8")
ip netns exec ns1 iptables -t filter -D OUTPUT -p icmp -j DROP -m comment --comment nsscript:14_trouble_cant_ping
# not checked in a plan (no packets are sent): assert.reachable(ns1, "203.0.113.8")
#   without an ICMP-free firewall: no answer
sysctl -w net.ipv4.ip_forward=0
# not checked in a plan (no packets are sent): assert.unreachable(ns1, "203.0.113.8")
sysctl -w net.ipv4.ip_forward=1
# not checked in a plan (no packets are sent): assert.reachable(ns1, "203.0.113.8")
#   without forwarding: no answer
iptables -t nat -D POSTROUTING -s 10.0.0.0/24 ! -o br0 -j MASQUERADE -m comment --comment nsscript:14_trouble_cant_ping
# not checked in a plan (no packets are sent): assert.unreachable(ns1, "203.0.113.8")
iptables -t nat -A POSTROUTING -s 10.0.0.0/24 ! -o br0 -j MASQUERADE -m comment --comment nsscript:14_trouble_cant_ping
# not checked in a plan (no packets are sent): assert.reachable(ns1, "203.0.113.8")
#   without masquerade: no answer

# ok: routes, firewall, forwarding and NAT checked and fixed; ns1 pings the internet
--- stderr (exit 0)
