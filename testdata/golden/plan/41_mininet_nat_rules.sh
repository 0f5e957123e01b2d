#!/bin/sh
# nsscript plan scripts/tutorial/41_mininet_nat_rules.star (lab 41_mininet_nat_rules): the commands that build what the script builds.
# Made against a model of a fresh host (as under --sandbox), without root and
# without changing anything. In a plan, exec runs nothing: each command is
# recorded below (to the script its output was empty, and with check=False
# it failed); background commands get $pidN. ping, assert.reachable and
# assert.unreachable send no packets, and a check that failed on what the
# plan cannot know is kept as a comment.
set -e
python3 -c 'import sys; print(sys.executable)' || true
ip netns add h1
ip -n h1 link set lo up
ip netns add h2
ip -n h2 link set lo up
ip netns add nat0
ip -n nat0 link set lo up
ip netns add inet
ip -n inet link set lo up
ip -n h1 link add h1-eth0 type veth peer name nat0-eth0 netns nat0
ip -n h1 addr add 10.0.1.1/24 dev h1-eth0
ip -n h1 link set h1-eth0 up
ip -n nat0 addr add 10.0.1.254/24 dev nat0-eth0
ip -n nat0 link set nat0-eth0 up
ip -n h2 link add h2-eth0 type veth peer name nat0-eth1 netns nat0
ip -n h2 addr add 10.0.2.1/24 dev h2-eth0
ip -n h2 link set h2-eth0 up
ip -n nat0 addr add 10.0.2.254/24 dev nat0-eth1
ip -n nat0 link set nat0-eth1 up
ip -n nat0 link add nat0-eth2 type veth peer name eth0 netns inet
ip -n nat0 addr add 203.0.113.1/24 dev nat0-eth2
ip -n nat0 link set nat0-eth2 up
ip -n inet addr add 203.0.113.2/24 dev eth0
ip -n inet link set eth0 up
ip -n h1 route replace default via 10.0.1.254
ip -n h2 route replace default via 10.0.2.254
ip netns exec nat0 sysctl -w net.ipv4.ip_forward=1
ip netns exec h2 python3 -I -S -u -c '
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
' 10.0.2.1 80 >/dev/null 2>&1 &
pid1=$!
# not checked in a plan: fail: gave up waiting for the TCP server on 10.0.2.1:80
ip netns exec inet python3 -I -S -u -c '
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
' 203.0.113.2 80 >/dev/null 2>&1 &
pid2=$!
# not checked in a plan: fail: gave up waiting for the TCP server on 203.0.113.2:80
ip netns exec h1 python3 -I -S -u -c '
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
' 10.0.1.1 22 >/dev/null 2>&1 &
pid3=$!
# not checked in a plan: fail: gave up waiting for the TCP server on 10.0.1.1:22

# == masquerade -s 10.0.0.0/8: h2 no longer sees who calls
ip netns exec nat0 iptables -t nat -A POSTROUTING -s 10.0.0.0/8 -j MASQUERADE -m comment --comment nsscript:41_mininet_nat_rules
ip netns exec h1 python3 -I -S -c '
import socket, sys
try:
    c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout = float(sys.argv[3]))
    print(c.recv(100).decode().strip())
except OSError as e:
    sys.exit(str(e))
' 203.0.113.2 80 2 || true
# not checked in a plan: assert.eq: None != "203.0.113.1"
ip netns exec h1 python3 -I -S -c '
import socket, sys
try:
    c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout = float(sys.argv[3]))
    print(c.recv(100).decode().strip())
except OSError as e:
    sys.exit(str(e))
' 10.0.2.1 80 2 || true
# not checked in a plan: assert.eq: None != "10.0.2.254"
#   h2 sees h1's connection come from 10.0.2.254: nat0
ip netns exec nat0 iptables -t nat -D POSTROUTING -s 10.0.0.0/8 -j MASQUERADE -m comment --comment nsscript:41_mininet_nat_rules

# == Mininet's rule: -s 10.0.0.0/8 ! -d 10.0.0.0/8
ip netns exec nat0 iptables -t nat -A POSTROUTING -s 10.0.0.0/8 ! -d 10.0.0.0/8 -j MASQUERADE -m comment --comment nsscript:41_mininet_nat_rules
#   $ ip netns exec nat0 iptables -t nat -S POSTROUTING
ip netns exec nat0 iptables -t nat -S POSTROUTING || true
ip netns exec h1 python3 -I -S -c '
import socket, sys
try:
    c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout = float(sys.argv[3]))
    print(c.recv(100).decode().strip())
except OSError as e:
    sys.exit(str(e))
' 203.0.113.2 80 2 || true
# not checked in a plan: assert.eq: None != "203.0.113.1"
ip netns exec h1 python3 -I -S -c '
import socket, sys
try:
    c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout = float(sys.argv[3]))
    print(c.recv(100).decode().strip())
except OSError as e:
    sys.exit(str(e))
' 10.0.2.1 80 2 || true
# not checked in a plan: assert.eq: None != "10.0.1.1"
#   the internet sees 203.0.113.1; h2 sees h1 itself, 10.0.1.1

# == FORWARD: only what 10/8 starts, and its answers
ip -n inet route replace 10.0.0.0/8 via 203.0.113.1
ip netns exec inet python3 -I -S -c '
import socket, sys
try:
    c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout = float(sys.argv[3]))
    print(c.recv(100).decode().strip())
except OSError as e:
    sys.exit(str(e))
' 10.0.1.1 22 2 || true
# not checked in a plan: assert.eq: None != "203.0.113.2"
ip netns exec nat0 iptables -t filter -N MN-NAT
ip netns exec nat0 iptables -t filter -A MN-NAT -s 10.0.0.0/8 -j ACCEPT -m comment --comment nsscript:41_mininet_nat_rules
ip netns exec nat0 iptables -t filter -A MN-NAT -d 10.0.0.0/8 -m state --state ESTABLISHED,RELATED -j ACCEPT -m comment --comment nsscript:41_mininet_nat_rules
ip netns exec nat0 iptables -t filter -A MN-NAT -j DROP -m comment --comment nsscript:41_mininet_nat_rules
ip netns exec nat0 iptables -t filter -A FORWARD -j MN-NAT -m comment --comment nsscript:41_mininet_nat_rules
ip netns exec inet python3 -I -S -c '
import socket, sys
try:
    c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout = float(sys.argv[3]))
    print(c.recv(100).decode().strip())
except OSError as e:
    sys.exit(str(e))
' 10.0.1.1 22 0.5 || true
ip netns exec h1 python3 -I -S -c '
import socket, sys
try:
    c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout = float(sys.argv[3]))
    print(c.recv(100).decode().strip())
except OSError as e:
    sys.exit(str(e))
' 203.0.113.2 80 2 || true
# not checked in a plan: assert.eq: None != "203.0.113.1"
ip netns exec h1 python3 -I -S -c '
import socket, sys
try:
    c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout = float(sys.argv[3]))
    print(c.recv(100).decode().strip())
except OSError as e:
    sys.exit(str(e))
' 10.0.2.1 80 2 || true
# not checked in a plan: assert.eq: None != "10.0.1.1"

# == position=1: h1 may not send mail out
ip netns exec inet python3 -I -S -u -c '
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
' 203.0.113.2 25 >/dev/null 2>&1 &
pid4=$!
# not checked in a plan: fail: gave up waiting for the TCP server on 203.0.113.2:25
ip netns exec nat0 iptables -t filter -A MN-NAT -s 10.0.1.1 -p tcp --dport 25 -j DROP -m comment --comment nsscript:41_mininet_nat_rules
ip netns exec h1 python3 -I -S -c '
import socket, sys
try:
    c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout = float(sys.argv[3]))
    print(c.recv(100).decode().strip())
except OSError as e:
    sys.exit(str(e))
' 203.0.113.2 25 2 || true
# not checked in a plan: assert.eq: None != "203.0.113.1"
ip netns exec nat0 iptables -t filter -D MN-NAT -s 10.0.1.1 -p tcp --dport 25 -j DROP -m comment --comment nsscript:41_mininet_nat_rules
ip netns exec nat0 iptables -t filter -I MN-NAT 1 -s 10.0.1.1 -p tcp --dport 25 -j DROP -m comment --comment nsscript:41_mininet_nat_rules
#   $ ip netns exec nat0 iptables -S
ip netns exec nat0 iptables -S || true
ip netns exec h1 python3 -I -S -c '
import socket, sys
try:
    c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout = float(sys.argv[3]))
    print(c.recv(100).decode().strip())
except OSError as e:
    sys.exit(str(e))
' 203.0.113.2 25 0.5 || true
ip netns exec h2 python3 -I -S -c '
import socket, sys
try:
    c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout = float(sys.argv[3]))
    print(c.recv(100).decode().strip())
except OSError as e:
    sys.exit(str(e))
' 203.0.113.2 25 2 || true
# not checked in a plan: assert.eq: None != "203.0.113.1"
ip netns exec h1 python3 -I -S -c '
import socket, sys
try:
    c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout = float(sys.argv[3]))
    print(c.recv(100).decode().strip())
except OSError as e:
    sys.exit(str(e))
' 203.0.113.2 80 2 || true
# not checked in a plan: assert.eq: None != "203.0.113.1"
#   inserted at the head of MN-NAT, the DROP comes before the ACCEPT of 10/8

# ok: Mininet's NAT, in nsscript's words; `nsscript down` takes MN-NAT away with its rules
--- stderr (exit 0)
