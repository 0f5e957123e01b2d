#!/bin/sh
# nsscript plan scripts/tutorial/11_libvirt_nat.star (lab 11_libvirt_nat): the commands that build what the script builds.
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
ip link add virbr0 type bridge
ip addr add 192.168.122.1/24 dev virbr0
ip link set virbr0 up
ip netns add vm1
ip -n vm1 link set lo up
ip netns add vm2
ip -n vm2 link set lo up
ip link add vnet0 type veth peer name eth0 netns vm1
sysctl -w net.ipv6.conf.vnet0.disable_ipv6=1
ip link set vnet0 master virbr0
ip link set vnet0 up
ip -n vm1 addr add 192.168.122.10/24 dev eth0
ip -n vm1 link set eth0 up
ip -n vm1 route replace default via 192.168.122.1
ip link add vnet1 type veth peer name eth0 netns vm2
sysctl -w net.ipv6.conf.vnet1.disable_ipv6=1
ip link set vnet1 master virbr0
ip link set vnet1 up
ip -n vm2 addr add 192.168.122.11/24 dev eth0
ip -n vm2 link set eth0 up
ip -n vm2 route replace default via 192.168.122.1
ip netns exec vm2 python3 -I -S -u -c '
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
' 192.168.122.11 22 >/dev/null 2>&1 &
pid2=$!
# not checked in a plan: fail: gave up waiting for the TCP server on 192.168.122.11:22
sysctl -w net.ipv4.ip_forward=1
iptables -t nat -A POSTROUTING -s 192.168.122.0/24 -o eth0 -j MASQUERADE -m comment --comment nsscript:11_libvirt_nat
iptables -t filter -A FORWARD -i virbr0 -o virbr0 -j ACCEPT -m comment --comment nsscript:11_libvirt_nat
iptables -t filter -A FORWARD -d 192.168.122.0/24 -o virbr0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT -m comment --comment nsscript:11_libvirt_nat
iptables -t filter -A FORWARD -o virbr0 -j REJECT -m comment --comment nsscript:11_libvirt_nat

# == the host: virbr0 with a port per guest
#   host: links (ip link / ip addr)
#     #  name    kind      state  addresses
#     1  lo      loopback  UP     127.0.0.1/8 ::1/128
#     2  eth0    veth      UP     203.0.113.1/24       peer eth0 in internet
#     4  virbr0  bridge    UP     192.168.122.1/24
#     5  vnet0   veth      UP     -                    master virbr0, peer eth0 in vm1
#     7  vnet1   veth      UP     -                    master virbr0, peer eth0 in vm2
#   vm1: links (ip link / ip addr)
#     #  name  kind      state  addresses
#     1  lo    loopback  UP     127.0.0.1/8 ::1/128
#     6  eth0  veth      UP     192.168.122.10/24    peer vnet0 in host
#   vm1: routing table (route)
#     Destination       Gateway        Iface
#     default           192.168.122.1  eth0
#     192.168.122.0/24  *              eth0
#   vm1: ARP cache (arp): no entries
# not checked in a plan (no packets are sent): assert.reachable(host, "192.168.122.10")
# not checked in a plan (no packets are sent): assert.reachable(vm1, "192.168.122.11")
ip netns exec vm1 python3 -I -S -c '
import socket, sys
try:
    c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout = float(sys.argv[3]))
    print(c.recv(100).decode().strip())
except OSError as e:
    sys.exit(str(e))
' 192.168.122.11 22 2 || true
# not checked in a plan: assert.eq: None != "192.168.122.10"

# == the guests reach the internet as 203.0.113.1
# not checked in a plan (no packets are sent): assert.reachable(vm1, "203.0.113.8")
ip netns exec vm1 python3 -I -S -c '
import socket, sys
try:
    c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout = float(sys.argv[3]))
    print(c.recv(100).decode().strip())
except OSError as e:
    sys.exit(str(e))
' 203.0.113.8 80 2 || true
# not checked in a plan: assert.eq: None != "203.0.113.1"
# not checked in a plan (no packets are sent): assert.reachable(vm2, "203.0.113.8")
ip netns exec vm2 python3 -I -S -c '
import socket, sys
try:
    c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout = float(sys.argv[3]))
    print(c.recv(100).decode().strip())
except OSError as e:
    sys.exit(str(e))
' 203.0.113.8 80 2 || true
# not checked in a plan: assert.eq: None != "203.0.113.1"
#   $ iptables -t nat -L POSTROUTING -n -v
iptables -t nat -L POSTROUTING -n -v || true

# == but nothing comes in from outside
ip -n internet route replace 192.168.122.0/24 via 203.0.113.1
# not checked in a plan (no packets are sent): assert.unreachable(internet, "192.168.122.11")
# not checked in a plan (no packets are sent): assert.unreachable(internet, "192.168.122.11:22")
#   $ iptables -L FORWARD -n -v
iptables -L FORWARD -n -v || true

# ok: libvirt's NAT network: guests on virbr0 go out as the host, and nothing comes in
--- stderr (exit 0)
