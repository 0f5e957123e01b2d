#!/bin/sh
# nsscript plan scripts/tutorial/42_ipv6_gateway.star (lab 42_ipv6_gateway): the commands that build what the script builds.
# Made against a model of a fresh host (as under --sandbox), without root and
# without changing anything. In a plan, exec runs nothing: each command is
# recorded below (to the script its output was empty, and with check=False
# it failed); background commands get $pidN. ping, assert.reachable and
# assert.unreachable send no packets, and a check that failed on what the
# plan cannot know is kept as a comment.
set -e
python3 -c 'import sys; print(sys.executable)' || true
ip netns add red
ip -n red link set lo up
ip netns add blue
ip -n blue link set lo up
ip netns add internet
ip -n internet link set lo up
sysctl -w net.ipv6.conf.default.accept_dad=0
ip netns exec red sysctl -w net.ipv6.conf.default.accept_dad=0
ip netns exec blue sysctl -w net.ipv6.conf.default.accept_dad=0
ip netns exec internet sysctl -w net.ipv6.conf.default.accept_dad=0
ip link add v-net-0 type bridge
ip addr add fd15::5/64 dev v-net-0
ip link set v-net-0 up
ip -n red link add veth-red type veth peer name veth-red-br netns $$
ip -n red addr add fd15::1/64 dev veth-red
ip -n red link set veth-red up
ip link set veth-red-br master v-net-0
ip link set veth-red-br up
ip -n red -6 route replace default via fd15::5
ip -n blue link add veth-blue type veth peer name veth-blue-br netns $$
ip -n blue addr add fd15::2/64 dev veth-blue
ip -n blue link set veth-blue up
ip link set veth-blue-br master v-net-0
ip link set veth-blue-br up
ip -n blue -6 route replace default via fd15::5
ip link add wan0 type veth peer name eth0 netns internet
ip addr add 2001:db8:113::1/64 dev wan0
ip link set wan0 up
ip -n internet addr add 2001:db8:113::8/64 dev eth0
ip -n internet link set eth0 up
ip -6 addr show tentative || true
ip netns exec red ip -6 addr show tentative || true
ip netns exec blue ip -6 addr show tentative || true
ip netns exec internet ip -6 addr show tentative || true
ip netns exec internet python3 -I -S -u -c '
import socket, sys
s = socket.socket(socket.AF_INET6)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(16)
print("listening", flush = True)
while True:
    c, peer = s.accept()
    c.sendall((peer[0] + "\n").encode())
    c.close()
' 2001:db8:113::8 80 >/dev/null 2>&1 &
pid1=$!
# not checked in a plan: fail: gave up waiting for the server in internet

# == the host does not forward IPv6 (net.ipv4.ip_forward would not help)
sysctl -w net.ipv4.ip_forward=1
# not sent in a plan, taken as answered: ping(blue, "fd15::5")
# not checked in a plan (no packets are sent): assert.unreachable(blue, "2001:db8:113::8")
#   $ sysctl net.ipv4.ip_forward net.ipv6.conf.all.forwarding
sysctl net.ipv4.ip_forward net.ipv6.conf.all.forwarding || true

# == forwarding(family="ipv6"): out, but no way back
sysctl -w net.ipv6.conf.all.forwarding=1
ip netns exec blue python3 -I -S -c '
import socket, sys
try:
    c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout = float(sys.argv[3]))
    print(c.recv(100).decode().strip())
except OSError as e:
    sys.exit(str(e))
' 2001:db8:113::8 80 0.5 || true
#   the internet answers fd15::2, a network it has no route to

# == nat.masquerade("fd15::/64"): ip6tables' nat table
ip6tables -t nat -A POSTROUTING -s fd15::/64 -o wan0 -j MASQUERADE -m comment --comment nsscript:42_ipv6_gateway
#   $ ip6tables -t nat -S POSTROUTING
ip6tables -t nat -S POSTROUTING || true
ip netns exec blue python3 -I -S -c '
import socket, sys
try:
    c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout = float(sys.argv[3]))
    print(c.recv(100).decode().strip())
except OSError as e:
    sys.exit(str(e))
' 2001:db8:113::8 80 2 || true
# not checked in a plan: assert.eq: None != "2001:db8:113::1"
ip netns exec red python3 -I -S -c '
import socket, sys
try:
    c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout = float(sys.argv[3]))
    print(c.recv(100).decode().strip())
except OSError as e:
    sys.exit(str(e))
' 2001:db8:113::8 80 2 || true
# not checked in a plan: assert.eq: None != "2001:db8:113::1"
# not checked in a plan (no packets are sent): assert.reachable(blue, "2001:db8:113::8")
#   the internet sees the host's address, 2001:db8:113::1

# == no pings out: ip6tables, not iptables
ip6tables -t filter -A FORWARD -p icmpv6 --icmpv6-type echo-request -j DROP -m comment --comment nsscript:42_ipv6_gateway
#   $ ip6tables -S FORWARD
ip6tables -S FORWARD || true
# not checked in a plan (no packets are sent): assert.unreachable(blue, "2001:db8:113::8")
ip netns exec blue python3 -I -S -c '
import socket, sys
try:
    c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout = float(sys.argv[3]))
    print(c.recv(100).decode().strip())
except OSError as e:
    sys.exit(str(e))
' 2001:db8:113::8 80 2 || true
# not checked in a plan: assert.eq: None != "2001:db8:113::1"
# not sent in a plan, taken as answered: ping(blue, "fd15::5")
iptables -S || true

# ok: IPv6 forwarded, masqueraded and filtered, each by its own IPv6 setting
--- stderr (exit 0)
