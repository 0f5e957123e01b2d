#!/bin/sh
# nsscript plan scripts/tutorial/22_admin_network.star (lab 22_admin_network): the commands that build what the script builds.
# Made against a model of a fresh host (as under --sandbox), without root and
# without changing anything. In a plan, exec runs nothing: each command is
# recorded below (to the script its output was empty, and with check=False
# it failed); background commands get $pidN. ping, assert.reachable and
# assert.unreachable send no packets, and a check that failed on what the
# plan cannot know is kept as a comment.
set -e
python3 -c 'import sys; print(sys.executable)' || true
ip netns add router
ip -n router link set lo up
ip netns add adminpc
ip -n adminpc link set lo up
ip link add eth0 type veth peer name prod0 netns router
ip addr add 10.1.0.10/24 dev eth0
ip link set eth0 up
ip -n router addr add 10.1.0.1/24 dev prod0
ip -n router link set prod0 up
ip link add eth1 type veth peer name adm0 netns router
ip addr add 10.2.0.10/24 dev eth1
ip link set eth1 up
ip -n router addr add 10.2.0.1/24 dev adm0
ip -n router link set adm0 up
ip -n adminpc link add eth0 type veth peer name cli0 netns router
ip -n adminpc addr add 10.3.0.5/24 dev eth0
ip -n adminpc link set eth0 up
ip -n router addr add 10.3.0.1/24 dev cli0
ip -n router link set cli0 up
ip -n adminpc route replace default via 10.3.0.1
ip route replace default via 10.1.0.1
ip netns exec router sysctl -w net.ipv4.ip_forward=1
ip netns exec router sysctl -w net.ipv4.conf.all.rp_filter=1
ip netns exec router iptables -t raw -A PREROUTING -i prod0 -s 10.2.0.10 -m comment --comment nsscript:22_admin_network
ip netns exec router iptables -t raw -A PREROUTING -i adm0 -s 10.2.0.10 -m comment --comment nsscript:22_admin_network
python3 -I -S -u -c '
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
' 10.1.0.10 80 >/dev/null 2>&1 &
pid1=$!
# not checked in a plan: fail: gave up waiting for the TCP server on 10.1.0.10:80
python3 -I -S -u -c '
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
' 10.2.0.10 22 >/dev/null 2>&1 &
pid2=$!
# not checked in a plan: fail: gave up waiting for the TCP server on 10.2.0.10:22
# not checked in a plan (no packets are sent): assert.reachable(host, "10.1.0.1")

# == one routing table: the answer to the admin's PC leaves through eth0
#   host: routing table (route)
#     Destination  Gateway   Iface
#     default      10.1.0.1  eth0
#     10.1.0.0/24  *         eth0
#     10.2.0.0/24  *         eth1
#   $ ip route get 10.3.0.5 from 10.2.0.10
ip route get 10.3.0.5 from 10.2.0.10 || true
# not checked in a plan: assert.contains: "via 10.1.0.1 dev eth0" not in ""
# not checked in a plan (no packets are sent): assert.unreachable(adminpc, "10.2.0.10")
ip netns exec adminpc python3 -I -S -c '
import socket, sys
try:
    c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout = float(sys.argv[3]))
    print(c.recv(100).decode().strip())
except OSError as e:
    sys.exit(str(e))
' 10.2.0.10 22 0.5 || true
ip netns exec router iptables -t raw -S PREROUTING -v || true
#   answers from 10.2.0.10 seen by the router: on prod0 0, on adm0 0
# not checked in a plan: assert.true: False is false, want true
ip netns exec adminpc python3 -I -S -c '
import socket, sys
try:
    c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout = float(sys.argv[3]))
    print(c.recv(100).decode().strip())
except OSError as e:
    sys.exit(str(e))
' 10.1.0.10 80 2 || true
# not checked in a plan: assert.eq: None != "10.3.0.5"

# == eth1 in the namespace admin, with a routing table of its own
kill -TERM "$pid2" || true
ip netns add admin
ip -n admin link set lo up
ip link set eth1 netns admin
ip -n admin link set eth1 up
ip -n admin addr add 10.2.0.10/24 dev eth1
ip -n admin route replace default via 10.2.0.1
ip netns exec admin python3 -I -S -u -c '
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
' 10.2.0.10 22 >/dev/null 2>&1 &
pid3=$!
# not checked in a plan: fail: gave up waiting for the TCP server on 10.2.0.10:22
#   admin: links (ip link / ip addr)
#     #  name  kind      state  addresses
#     1  lo    loopback  UP     127.0.0.1/8 ::1/128
#     4  eth1  veth      UP     10.2.0.10/24         peer adm0 in router
#   admin: routing table (route)
#     Destination  Gateway   Iface
#     default      10.2.0.1  eth1
#     10.2.0.0/24  *         eth1
#   admin: ARP cache (arp): no entries
#   $ ip netns exec admin ip route get 10.3.0.5
ip netns exec admin ip route get 10.3.0.5 || true
# not checked in a plan: assert.contains: "via 10.2.0.1 dev eth1" not in ""
#   host: routing table (route)
#     Destination  Gateway   Iface
#     default      10.1.0.1  eth0
#     10.1.0.0/24  *         eth0
ip netns exec router iptables -t raw -Z PREROUTING || true
# not checked in a plan (no packets are sent): assert.reachable(adminpc, "10.2.0.10")
ip netns exec adminpc python3 -I -S -c '
import socket, sys
try:
    c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout = float(sys.argv[3]))
    print(c.recv(100).decode().strip())
except OSError as e:
    sys.exit(str(e))
' 10.2.0.10 22 2 || true
# not checked in a plan: assert.eq: None != "10.3.0.5"
ip netns exec router iptables -t raw -S PREROUTING -v || true
#   answers from 10.2.0.10 seen by the router: on prod0 0, on adm0 0
# not checked in a plan: assert.true: False is false, want true
ip netns exec adminpc python3 -I -S -c '
import socket, sys
try:
    c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout = float(sys.argv[3]))
    print(c.recv(100).decode().strip())
except OSError as e:
    sys.exit(str(e))
' 10.1.0.10 80 2 || true
# not checked in a plan: assert.eq: None != "10.3.0.5"

# ok: in its own namespace the admin interface answers the way the request came
--- stderr (exit 0)
