#!/bin/sh
# nsscript plan scripts/tutorial/30_vxlan_overlay.star (lab 30_vxlan_overlay): the commands that build what the script builds.
# Made against a model of a fresh host (as under --sandbox), without root and
# without changing anything. In a plan, exec runs nothing: each command is
# recorded below (to the script its output was empty, and with check=False
# it failed); background commands get $pidN. ping, assert.reachable and
# assert.unreachable send no packets, and a check that failed on what the
# plan cannot know is kept as a comment.
set -e
python3 -c 'import sys; print(sys.executable)' || true
ip netns add m1
ip -n m1 link set lo up
ip netns add m2
ip -n m2 link set lo up
ip -n m1 link add eth0 type veth peer name eth0 netns m2
ip -n m1 addr add 192.168.100.1/24 dev eth0
ip -n m1 link set eth0 up
ip -n m2 addr add 192.168.100.2/24 dev eth0
ip -n m2 link set eth0 up
# not checked in a plan (no packets are sent): assert.reachable(m1, "192.168.100.2")
ip -n m1 link add br0 type bridge
ip -n m1 link set br0 up
ip netns add h1
ip -n h1 link set lo up
ip -n h1 link add eth0 type veth peer name h1-p netns m1
ip -n h1 addr add 10.0.0.1/24 dev eth0
ip -n h1 link set eth0 up
ip -n m1 link set h1-p master br0
ip -n m1 link set h1-p up
ip -n m2 link add br0 type bridge
ip -n m2 link set br0 up
ip netns add h2
ip -n h2 link set lo up
ip -n h2 link add eth0 type veth peer name h2-p netns m2
ip -n h2 addr add 10.0.0.2/24 dev eth0
ip -n h2 link set eth0 up
ip -n m2 link set h2-p master br0
ip -n m2 link set h2-p up

# == two bridges on two machines: h1 and h2 cannot reach each other
# not checked in a plan (no packets are sent): assert.unreachable(h1, "10.0.0.2")
#   ping 10.0.0.2 from h1: no answer (nothing joins m1's br0 to m2's)
ip -n m1 link add vx0 type vxlan id 42 remote 192.168.100.2 local 192.168.100.1 dev eth0 dstport 4789
ip -n m1 link set vx0 master br0
ip -n m1 link set vx0 up
ip -n m2 link add vx0 type vxlan id 42 remote 192.168.100.1 local 192.168.100.2 dev eth0 dstport 4789
ip -n m2 link set vx0 master br0
ip -n m2 link set vx0 up

# == ip -d link show vx0 (on m1)
#   $ ip netns exec m1 ip -d link show vx0 | grep -o 'vxlan id .* dstport [0-9]*'
ip netns exec m1 sh -c 'ip -d link show vx0 | grep -o '\''vxlan id .* dstport [0-9]*'\''' || true
# not checked in a plan: assert.contains: "vxlan id 42 remote 192.168.100.2 local 192.168.100.1 dev eth0" not in ""
#   m1: links (ip link / ip addr)
#     #   name  kind      state  addresses
#     1   lo    loopback  UP     127.0.0.1/8 ::1/128
#     2   eth0  veth      UP     192.168.100.1/24     peer eth0 in m2
#     4   br0   bridge    UP     -
#     6   h1-p  veth      UP     -                    master br0, peer eth0 in h1
#     10  vx0   vxlan     UP     -                    master br0

# == one LAN across two machines
# not sent in a plan, taken as answered: ping(h1, "10.0.0.2")
#   ping 10.0.0.2 from h1: answered, through m1's br0, vx0, the underlay, m2's vx0 and br0
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
' 10.0.0.2 8000 >/dev/null 2>&1 &
pid1=$!
# not checked in a plan: fail: gave up waiting for the TCP server on 10.0.0.2:8000
ip netns exec h1 python3 -I -S -c '
import socket, sys
try:
    c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout = float(sys.argv[3]))
    print(c.recv(100).decode().strip())
except OSError as e:
    sys.exit(str(e))
' 10.0.0.2 8000 2 || true
# not checked in a plan: assert.eq: None != "10.0.0.1"
#   TCP h1 -> h2:8000: h2 sees 10.0.0.1, h1's own address: one subnet, no NAT
#   h1: ARP cache (arp): no entries
# not checked in a plan: assert.contains: "10.0.0.2" not in []

# == the tunnel's forwarding table: where each MAC is (bridge fdb show dev vx0)
#   $ ip netns exec m1 bridge fdb show dev vx0
ip netns exec m1 bridge fdb show dev vx0 || true
# not checked in a plan: assert.contains: "00:00:00:00:00:00 dst 192.168.100.2" not in ""
# not checked in a plan: assert.contains: "02:5e:00:00:00:07 dst 192.168.100.2" not in ""

# == the MTU: 50 bytes of every underlay packet are the overlay's
# not sent in a plan, taken as answered: ping(h1, "10.0.0.2")
# not sent in a plan, taken as answered: ping(h1, "10.0.0.2")
# not checked in a plan: assert.false: 1 sent, 1 received, 0% loss is true, want false
#   ping -s 1422: answered; ping -s 1472: answered (too big for vx0: dropped, no error)
ip -n h1 link set eth0 mtu 1450
ip -n h2 link set eth0 mtu 1450
# not sent in a plan, taken as answered: ping(h1, "10.0.0.2")
#   with the hosts' MTU at 1450, ping -s 1472 is answered (sent in two fragments that fit)

# == a VNI is a segment: m2 on VNI 43 is on another LAN
ip -n m2 link del vx0
ip -n m2 link add vx0 type vxlan id 43 remote 192.168.100.1 local 192.168.100.2 dev eth0 dstport 4789
ip -n m2 link set vx0 master br0
ip -n m2 link set vx0 up
# not checked in a plan (no packets are sent): assert.unreachable(h1, "10.0.0.2")
#   VNI 42 on m1, 43 on m2: h2 unreachable, though the underlay carries both
ip -n m2 link del vx0
ip -n m2 link add vx0 type vxlan id 42 remote 192.168.100.1 local 192.168.100.2 dev eth0 dstport 4789
ip -n m2 link set vx0 master br0
ip -n m2 link set vx0 up
# not checked in a plan (no packets are sent): assert.reachable(h1, "10.0.0.2")
#   VNI 42 on both again: reachable

# ok: VXLAN joins the bridges of two machines into one LAN, at 50 bytes of MTU
--- stderr (exit 0)
