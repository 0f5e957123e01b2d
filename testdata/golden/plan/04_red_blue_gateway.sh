#!/bin/sh
# nsscript plan scripts/tutorial/04_red_blue_gateway.star (lab 04_red_blue_gateway): the commands that build what the script builds.
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
ip link add v-net-0 type bridge
ip addr add 192.168.15.5/24 dev v-net-0
ip link set v-net-0 up
ip -n red link add veth-red type veth peer name veth-red-br netns $$
sysctl -w net.ipv6.conf.veth-red-br.disable_ipv6=1
ip -n red addr add 192.168.15.1/24 dev veth-red
ip -n red link set veth-red up
ip link set veth-red-br master v-net-0
ip link set veth-red-br up
ip -n blue link add veth-blue type veth peer name veth-blue-br netns $$
sysctl -w net.ipv6.conf.veth-blue-br.disable_ipv6=1
ip -n blue addr add 192.168.15.2/24 dev veth-blue
ip -n blue link set veth-blue up
ip link set veth-blue-br master v-net-0
ip link set veth-blue-br up
ip netns add otherhost
ip -n otherhost link set lo up
ip netns add internet
ip -n internet link set lo up
ip link add enp0s3 type veth peer name eth0 netns otherhost
ip addr add 192.168.1.2/24 dev enp0s3
ip link set enp0s3 up
ip -n otherhost addr add 192.168.1.3/24 dev eth0
ip -n otherhost link set eth0 up
ip link add wan0 type veth peer name eth0 netns internet
ip addr add 203.0.113.1/24 dev wan0
ip link set wan0 up
ip -n internet addr add 203.0.113.8/24 dev eth0
ip -n internet link set eth0 up
ip netns exec otherhost python3 -I -S -u -c '
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
' 192.168.1.3 8080 >/dev/null 2>&1 &
pid1=$!
# not checked in a plan: fail: gave up waiting for the TCP server on 192.168.1.3:8080
ip netns exec internet python3 -I -S -u -c '
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
' 203.0.113.8 8080 >/dev/null 2>&1 &
pid2=$!
# not checked in a plan: fail: gave up waiting for the TCP server on 203.0.113.8:8080
python3 -I -S -c '
import socket, sys
try:
    c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout = float(sys.argv[3]))
    print(c.recv(100).decode().strip())
except OSError as e:
    sys.exit(str(e))
' 192.168.1.3 8080 2 || true
# not checked in a plan: assert.eq: None != "192.168.1.2"
python3 -I -S -c '
import socket, sys
try:
    c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout = float(sys.argv[3]))
    print(c.recv(100).decode().strip())
except OSError as e:
    sys.exit(str(e))
' 203.0.113.8 8080 2 || true
# not checked in a plan: assert.eq: None != "203.0.113.1"
# not checked in a plan (no packets are sent): assert.unreachable(blue, "192.168.1.3")

# == sysctl -w net.ipv4.ip_forward=1 (the document assumes it)
sysctl -w net.ipv4.ip_forward=1

# == blue gets a route to the LAN via the host
ip -n blue route replace 192.168.1.0/24 via 192.168.15.5
#   blue: routing table (route)
#     Destination      Gateway       Iface
#     192.168.1.0/24   192.168.15.5  veth-blue
#     192.168.15.0/24  *             veth-blue
#   $ ip netns exec otherhost ip route get 192.168.15.2
ip netns exec otherhost ip route get 192.168.15.2 || true
#     not run: nsscript plan runs no command
# not checked in a plan (no packets are sent): assert.unreachable(blue, "192.168.1.3")
ip netns exec blue python3 -I -S -c '
import socket, sys
try:
    c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout = float(sys.argv[3]))
    print(c.recv(100).decode().strip())
except OSError as e:
    sys.exit(str(e))
' 192.168.1.3 8080 1 || true

# == the document's masquerade rule: -s 192.168.1.0/24 (wrong network)
iptables -t nat -A POSTROUTING -s 192.168.1.0/24 -j MASQUERADE -m comment --comment nsscript:04_red_blue_gateway
# not checked in a plan (no packets are sent): assert.unreachable(blue, "192.168.1.3")
#   $ iptables -t nat -L POSTROUTING -n -v
iptables -t nat -L POSTROUTING -n -v || true
# not checked in a plan: assert.contains: "    0     0 MASQUERADE" not in ""
iptables -t nat -D POSTROUTING -s 192.168.1.0/24 -j MASQUERADE -m comment --comment nsscript:04_red_blue_gateway

# == masquerade 192.168.15.0/24: the namespaces' network
iptables -t nat -A POSTROUTING -s 192.168.15.0/24 ! -o v-net-0 -j MASQUERADE -m comment --comment nsscript:04_red_blue_gateway
#   -s 192.168.15.0/24 ! -o v-net-0 -j MASQUERADE
# not checked in a plan (no packets are sent): assert.reachable(blue, "192.168.1.3")
ip netns exec blue python3 -I -S -c '
import socket, sys
try:
    c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout = float(sys.argv[3]))
    print(c.recv(100).decode().strip())
except OSError as e:
    sys.exit(str(e))
' 192.168.1.3 8080 2 || true
#   otherhost sees blue's connection come from None (the host's enp0s3)
# not checked in a plan: assert.eq: None != "192.168.1.2"
#   $ iptables -t nat -L POSTROUTING -n -v
iptables -t nat -L POSTROUTING -n -v || true
# not checked in a plan (no packets are sent): assert.unreachable(red, "192.168.1.3")
ip netns exec blue python3 -I -S -u -c '
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
' 192.168.15.2 8080 >/dev/null 2>&1 &
pid3=$!
# not checked in a plan: fail: gave up waiting for the TCP server on 192.168.15.2:8080
ip netns exec red python3 -I -S -c '
import socket, sys
try:
    c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout = float(sys.argv[3]))
    print(c.recv(100).decode().strip())
except OSError as e:
    sys.exit(str(e))
' 192.168.15.2 8080 2 || true
# not checked in a plan: assert.eq: None != "192.168.15.1"
cat /proc/sys/net/bridge/bridge-nf-call-iptables || true

# == ip netns exec blue ip route add default via 192.168.15.5
# not checked in a plan (no packets are sent): assert.unreachable(blue, "203.0.113.8")
ip -n blue route replace default via 192.168.15.5
#   blue: routing table (route)
#     Destination      Gateway       Iface
#     default          192.168.15.5  veth-blue
#     192.168.1.0/24   192.168.15.5  veth-blue
#     192.168.15.0/24  *             veth-blue
# not checked in a plan (no packets are sent): assert.reachable(blue, "203.0.113.8")
ip netns exec blue python3 -I -S -c '
import socket, sys
try:
    c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout = float(sys.argv[3]))
    print(c.recv(100).decode().strip())
except OSError as e:
    sys.exit(str(e))
' 203.0.113.8 8080 2 || true
#   the internet sees blue's connection come from None (the host's wan0)
# not checked in a plan: assert.eq: None != "203.0.113.1"
ip -n red route replace default via 192.168.15.5
# not checked in a plan (no packets are sent): assert.reachable(red, "203.0.113.8")
ip netns exec red python3 -I -S -c '
import socket, sys
try:
    c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout = float(sys.argv[3]))
    print(c.recv(100).decode().strip())
except OSError as e:
    sys.exit(str(e))
' 192.168.1.3 8080 2 || true
# not checked in a plan: assert.eq: None != "192.168.1.2"

# == what blue sees now
#   blue: links (ip link / ip addr)
#     #  name       kind      state  addresses
#     1  lo         loopback  UP     127.0.0.1/8 ::1/128
#     5  veth-blue  veth      UP     192.168.15.2/24      peer veth-blue-br in host
#   blue: routing table (route)
#     Destination      Gateway       Iface
#     default          192.168.15.5  veth-blue
#     192.168.1.0/24   192.168.15.5  veth-blue
#     192.168.15.0/24  *             veth-blue
#   blue: ARP cache (arp): no entries
sysctl -w net.ipv4.ip_forward=0
# not checked in a plan (no packets are sent): assert.unreachable(blue, "203.0.113.8")
sysctl -w net.ipv4.ip_forward=1
# not checked in a plan (no packets are sent): assert.reachable(blue, "203.0.113.8")

# ok: the host is red and blue's gateway; masquerading 192.168.15.0/24 brings the answers back
--- stderr (exit 0)
