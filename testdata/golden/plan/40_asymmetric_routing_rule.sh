#!/bin/sh
# nsscript plan scripts/tutorial/40_asymmetric_routing_rule.star (lab 40_asymmetric_routing_rule): the commands that build what the script builds.
# Made against a model of a fresh host (as under --sandbox), without root and
# without changing anything. In a plan, exec runs nothing: each command is
# recorded below (to the script its output was empty, and with check=False
# it failed); background commands get $pidN. ping, assert.reachable and
# assert.unreachable send no packets, and a check that failed on what the
# plan cannot know is kept as a comment.
set -e
python3 -c 'import sys; print(sys.executable)' || true
ip netns add server
ip -n server link set lo up
ip netns add router
ip -n router link set lo up
ip netns add pc
ip -n pc link set lo up
ip -n router link add lan type bridge
ip -n router addr add 10.0.0.1/24 dev lan
ip -n router link set lan up
ip -n server link add eth0 type veth peer name sw0 netns router
ip -n server addr add 10.0.0.10/24 dev eth0
ip -n server link set eth0 up
ip -n router link set sw0 master lan
ip -n router link set sw0 up
ip -n server link add eth1 type veth peer name sw1 netns router
ip -n server addr add 10.0.0.11/24 dev eth1
ip -n server link set eth1 up
ip -n router link set sw1 master lan
ip -n router link set sw1 up
ip -n pc link add eth0 type veth peer name r-pc netns router
ip -n pc addr add 10.9.0.5/24 dev eth0
ip -n pc link set eth0 up
ip -n router addr add 10.9.0.1/24 dev r-pc
ip -n router link set r-pc up
ip -n pc route replace default via 10.9.0.1
ip -n server route replace default via 10.0.0.1 dev eth0
ip netns exec router sysctl -w net.ipv4.ip_forward=1
ip netns exec server sysctl -w net.ipv4.conf.all.arp_ignore=1
ip netns exec server iptables -t mangle -A POSTROUTING -s 10.0.0.11 -o eth0 -m comment --comment nsscript:40_asymmetric_routing_rule
ip netns exec server iptables -t mangle -A POSTROUTING -s 10.0.0.11 -o eth1 -m comment --comment nsscript:40_asymmetric_routing_rule
ip netns exec server python3 -I -S -u -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(64)
print("listening on %s:%s" % (sys.argv[1], sys.argv[2]), flush = True)
while True:
    c, peer = s.accept()
    print("connection from %s:%d" % peer, flush = True)
    c.sendall((peer[0] + "\n").encode())
    c.close()
' 10.0.0.10 80 >/dev/null 2>&1 &
pid1=$!
# not checked in a plan: fail: gave up waiting for the TCP server on 10.0.0.10:80
ip netns exec server python3 -I -S -u -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(64)
print("listening on %s:%s" % (sys.argv[1], sys.argv[2]), flush = True)
while True:
    c, peer = s.accept()
    print("connection from %s:%d" % peer, flush = True)
    c.sendall((peer[0] + "\n").encode())
    c.close()
' 10.0.0.11 22 >/dev/null 2>&1 &
pid2=$!
# not checked in a plan: fail: gave up waiting for the TCP server on 10.0.0.11:22

# == one routing table, rp_filter=1: requests to 10.0.0.11 are dropped
ip netns exec server sysctl -w net.ipv4.conf.all.rp_filter=1
ip netns exec server sysctl -w net.ipv4.conf.eth0.rp_filter=1
ip netns exec server sysctl -w net.ipv4.conf.eth1.rp_filter=1
#   server: routing table (route)
#     Destination  Gateway   Iface
#     default      10.0.0.1  eth0
#     10.0.0.0/24  *         eth0
#     10.0.0.0/24  *         eth1
#   $ ip netns exec server ip route get 10.9.0.5 from 10.0.0.11
ip netns exec server ip route get 10.9.0.5 from 10.0.0.11 || true
# not checked in a plan: assert.contains: "dev eth0" not in ""
#   $ ip netns exec server ip route get 10.0.0.11 from 10.9.0.5 iif eth1
ip netns exec server ip route get 10.0.0.11 from 10.9.0.5 iif eth1 || true
#     not run: nsscript plan runs no command
# not checked in a plan (no packets are sent): assert.reachable(pc, "10.0.0.10")
ip netns exec pc python3 -I -S -c '
import socket, sys
try:
    c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout = float(sys.argv[3]))
    print(c.recv(100).decode().strip())
except OSError as e:
    sys.exit(str(e))
' 10.0.0.10 80 2 || true
# not checked in a plan: assert.eq: None != "10.9.0.5"
# not checked in a plan (no packets are sent): assert.unreachable(pc, "10.0.0.11")
ip netns exec pc python3 -I -S -c '
import socket, sys
try:
    c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout = float(sys.argv[3]))
    print(c.recv(100).decode().strip())
except OSError as e:
    sys.exit(str(e))
' 10.0.0.11 22 1 || true
ip netns exec server iptables -t mangle -S POSTROUTING -v || true
ip netns exec server iptables -t mangle -Z POSTROUTING || true
#   answers from 10.0.0.11: 0 left by eth0, 0 by eth1
#   -> the answer would leave by eth0, so a request arriving on eth1 is taken for spoofed

# == rp_filter=2 (loose): answers from 10.0.0.11 leave by eth0
ip netns exec server sysctl -w net.ipv4.conf.all.rp_filter=2
ip netns exec server sysctl -w net.ipv4.conf.eth0.rp_filter=2
ip netns exec server sysctl -w net.ipv4.conf.eth1.rp_filter=2
#   $ ip netns exec server ip route get 10.0.0.11 from 10.9.0.5 iif eth1
ip netns exec server ip route get 10.0.0.11 from 10.9.0.5 iif eth1 || true
#     not run: nsscript plan runs no command
# not checked in a plan: assert.true: False is false, want true
# not checked in a plan (no packets are sent): assert.reachable(pc, "10.0.0.11")
ip netns exec pc python3 -I -S -c '
import socket, sys
try:
    c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout = float(sys.argv[3]))
    print(c.recv(100).decode().strip())
except OSError as e:
    sys.exit(str(e))
' 10.0.0.11 22 2 || true
# not checked in a plan: assert.eq: None != "10.9.0.5"
ip netns exec server iptables -t mangle -S POSTROUTING -v || true
ip netns exec server iptables -t mangle -Z POSTROUTING || true
#   answers from 10.0.0.11: 0 left by eth0, 0 by eth1
# not checked in a plan: assert.true: False is false, want true
#   -> requests come in by eth1, answers go out by eth0: asymmetric routing

# == table 11 for eth1, and `ip rule add from 10.0.0.11 table 11`
ip -n server route replace 10.0.0.0/24 dev eth1 table 11
ip -n server route replace default via 10.0.0.1 dev eth1 table 11
ip -n server rule add from 10.0.0.11/32 table 11 priority 100
#   $ ip netns exec server ip rule show
ip netns exec server ip rule show || true
# not checked in a plan: assert.contains: "100:\tfrom 10.0.0.11 lookup 11" not in ""
#   $ ip netns exec server ip route show table 11
ip netns exec server ip route show table 11 || true
#   $ ip netns exec server ip route get 10.9.0.5 from 10.0.0.11
ip netns exec server ip route get 10.9.0.5 from 10.0.0.11 || true
# not checked in a plan: assert.contains: "dev eth1" not in ""
#   $ ip netns exec server ip route get 10.9.0.5 from 10.0.0.10
ip netns exec server ip route get 10.9.0.5 from 10.0.0.10 || true
# not checked in a plan: assert.contains: "dev eth0" not in ""
ip netns exec server sysctl -w net.ipv4.conf.all.rp_filter=1
ip netns exec server sysctl -w net.ipv4.conf.eth0.rp_filter=1
ip netns exec server sysctl -w net.ipv4.conf.eth1.rp_filter=1
#   $ ip netns exec server ip route get 10.0.0.11 from 10.9.0.5 iif eth1
ip netns exec server ip route get 10.0.0.11 from 10.9.0.5 iif eth1 || true
#     not run: nsscript plan runs no command
# not checked in a plan: assert.true: False is false, want true
# not checked in a plan (no packets are sent): assert.reachable(pc, "10.0.0.11")
ip netns exec pc python3 -I -S -c '
import socket, sys
try:
    c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout = float(sys.argv[3]))
    print(c.recv(100).decode().strip())
except OSError as e:
    sys.exit(str(e))
' 10.0.0.11 22 2 || true
# not checked in a plan: assert.eq: None != "10.9.0.5"
ip netns exec server iptables -t mangle -S POSTROUTING -v || true
ip netns exec server iptables -t mangle -Z POSTROUTING || true
#   answers from 10.0.0.11: 0 left by eth0, 0 by eth1
# not checked in a plan: assert.true: False is false, want true
ip netns exec pc python3 -I -S -c '
import socket, sys
try:
    c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout = float(sys.argv[3]))
    print(c.recv(100).decode().strip())
except OSError as e:
    sys.exit(str(e))
' 10.0.0.10 80 2 || true
# not checked in a plan: assert.eq: None != "10.9.0.5"
ip netns exec server iptables -t mangle -S POSTROUTING -v || true
ip netns exec server iptables -t mangle -Z POSTROUTING || true
ip netns exec server ip rule show || true
# not checked in a plan: assert.eq: 0 != 1

# ok: with a table per interface, answers leave the way the requests came, and rp_filter=1 holds
--- stderr (exit 0)
