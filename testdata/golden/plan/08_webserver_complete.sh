#!/bin/sh
# nsscript plan scripts/tutorial/08_webserver_complete.star (lab 08_webserver_complete): the commands that build what the script builds.
# Made against a model of a fresh host (as under --sandbox), without root and
# without changing anything. In a plan, exec runs nothing: each command is
# recorded below (to the script its output was empty, and with check=False
# it failed); background commands get $pidN. ping, assert.reachable and
# assert.unreachable send no packets, and a check that failed on what the
# plan cannot know is kept as a comment.
set -e
python3 -c 'import sys; print(sys.executable)' || true
ip netns add internet
ip -n internet link set lo up
ip link add eth0 type veth peer name eth0 netns internet
ip addr add 203.0.113.1/24 dev eth0
ip link set eth0 up
ip -n internet addr add 203.0.113.8/24 dev eth0
ip -n internet link set eth0 up
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
' 203.0.113.8 80 >/dev/null 2>&1 &
pid1=$!
# not checked in a plan: fail: gave up waiting for the TCP server on 203.0.113.8:80
ip netns add webserver
ip -n webserver link set lo up

# == the document's VETH_HOST
#   veth: for parameter name: interface name "veth-webserver-h" is 16 bytes, 1 too many: Linux allows at most 15 (IFNAMSIZ); shorten it
ip link add br-internal type bridge
ip addr add 10.100.0.1/24 dev br-internal
ip link set br-internal up
ip link add veth-websrv-h type veth peer name veth-webserver netns webserver
sysctl -w net.ipv6.conf.veth-websrv-h.disable_ipv6=1
ip link set veth-websrv-h master br-internal
ip link set veth-websrv-h up
ip -n webserver addr add 10.100.0.2/24 dev veth-webserver
ip -n webserver link set veth-webserver up
ip -n webserver route replace default via 10.100.0.1

# == the webserver namespace
#   webserver: links (ip link / ip addr)
#     #  name            kind      state  addresses
#     1  lo              loopback  UP     127.0.0.1/8 ::1/128
#     6  veth-webserver  veth      UP     10.100.0.2/24        peer veth-websrv-h in host
#   webserver: routing table (route)
#     Destination    Gateway     Iface
#     default        10.100.0.1  veth-webserver
#     10.100.0.0/24  *           veth-webserver
#   webserver: ARP cache (arp): no entries
# not checked in a plan (no packets are sent): assert.reachable(webserver, "10.100.0.1")
# not checked in a plan (no packets are sent): assert.unreachable(webserver, "203.0.113.8")
sysctl -w net.ipv4.ip_forward=1
# not checked in a plan (no packets are sent): assert.unreachable(webserver, "203.0.113.8")

# == iptables -t nat -A POSTROUTING -s 10.100.0.0/24 ! -o br-internal -j MASQUERADE
iptables -t nat -A POSTROUTING -s 10.100.0.0/24 ! -o br-internal -j MASQUERADE -m comment --comment nsscript:08_webserver_complete
# not checked in a plan (no packets are sent): assert.reachable(webserver, "203.0.113.8")
ip netns exec webserver python3 -I -S -c '
import socket, sys
try:
    c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout = float(sys.argv[3]))
    print(c.recv(100).decode().strip())
except OSError as e:
    sys.exit(str(e))
' 203.0.113.8 80 2 || true
#   the internet sees the webserver's connections come from None
# not checked in a plan: assert.eq: None != "203.0.113.1"

# == a FORWARD chain that drops by default
iptables -t filter -A FORWARD -j DROP -m comment --comment nsscript:08_webserver_complete
# not checked in a plan (no packets are sent): assert.unreachable(webserver, "203.0.113.8")
ip netns exec webserver python3 -I -S -c '
import socket, sys
try:
    c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout = float(sys.argv[3]))
    print(c.recv(100).decode().strip())
except OSError as e:
    sys.exit(str(e))
' 203.0.113.8 80 0.5 || true
iptables -t filter -D FORWARD -j DROP -m comment --comment nsscript:08_webserver_complete

# == the document's FORWARD rules, then the drop
iptables -t filter -A FORWARD -i br-internal -j ACCEPT -m comment --comment nsscript:08_webserver_complete
iptables -t filter -A FORWARD -o br-internal -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT -m comment --comment nsscript:08_webserver_complete
iptables -t filter -A FORWARD -j DROP -m comment --comment nsscript:08_webserver_complete
# not checked in a plan (no packets are sent): assert.reachable(webserver, "203.0.113.8")
ip netns exec webserver python3 -I -S -c '
import socket, sys
try:
    c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout = float(sys.argv[3]))
    print(c.recv(100).decode().strip())
except OSError as e:
    sys.exit(str(e))
' 203.0.113.8 80 2 || true
# not checked in a plan: assert.eq: None != "203.0.113.1"
ip -n internet route replace 10.100.0.0/24 via 203.0.113.1
# not checked in a plan (no packets are sent): assert.unreachable(internet, "10.100.0.2")
#   $ iptables -L FORWARD -n -v
iptables -L FORWARD -n -v || true
# not checked in a plan: assert.true: the internet's ping was dropped: [] is false, want true

# Namespace webserver ready
# ok: the webserver namespace reaches the internet through the host's NAT
--- stderr (exit 0)
