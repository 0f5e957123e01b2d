#!/bin/sh
# nsscript plan scripts/tutorial/10_docker_model.star (lab 10_docker_model): the commands that build what the script builds.
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
ip link add docker0 type bridge
ip addr add 172.17.0.1/16 dev docker0
ip link set docker0 up
unshare --net sleep 3600 >/dev/null 2>&1 &
pid2=$!
i=0; while [ "$(stat -L -c %i /proc/$pid2/ns/net 2>/dev/null)" = "$(stat -L -c %i /proc/$$/ns/net)" ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i+1)); done  # until unshare has made its namespace
cat /proc/"$pid2"/comm || true
# not checked in a plan: fail: gave up waiting for the container process
nsenter -t "$pid2" -n ip link set lo up
ip link add veth1234 type veth peer name eth0 netns "$pid2"
sysctl -w net.ipv6.conf.veth1234.disable_ipv6=1
ip link set veth1234 master docker0
ip link set veth1234 up
nsenter -t "$pid2" -n ip addr add 172.17.0.2/16 dev eth0
nsenter -t "$pid2" -n ip link set eth0 up
nsenter -t "$pid2" -n ip route replace default via 172.17.0.1
unshare --net sleep 3600 >/dev/null 2>&1 &
pid3=$!
i=0; while [ "$(stat -L -c %i /proc/$pid3/ns/net 2>/dev/null)" = "$(stat -L -c %i /proc/$$/ns/net)" ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i+1)); done  # until unshare has made its namespace
cat /proc/"$pid3"/comm || true
# not checked in a plan: fail: gave up waiting for the container process
nsenter -t "$pid3" -n ip link set lo up
ip link add veth5678 type veth peer name eth0 netns "$pid3"
sysctl -w net.ipv6.conf.veth5678.disable_ipv6=1
ip link set veth5678 master docker0
ip link set veth5678 up
nsenter -t "$pid3" -n ip addr add 172.17.0.3/16 dev eth0
nsenter -t "$pid3" -n ip link set eth0 up
nsenter -t "$pid3" -n ip route replace default via 172.17.0.1
unshare --net sleep 3600 >/dev/null 2>&1 &
pid4=$!
i=0; while [ "$(stat -L -c %i /proc/$pid4/ns/net 2>/dev/null)" = "$(stat -L -c %i /proc/$$/ns/net)" ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i+1)); done  # until unshare has made its namespace
cat /proc/"$pid4"/comm || true
# not checked in a plan: fail: gave up waiting for the container process
nsenter -t "$pid4" -n ip link set lo up
ip link add veth9abc type veth peer name eth0 netns "$pid4"
sysctl -w net.ipv6.conf.veth9abc.disable_ipv6=1
ip link set veth9abc master docker0
ip link set veth9abc up
nsenter -t "$pid4" -n ip addr add 172.17.0.4/16 dev eth0
nsenter -t "$pid4" -n ip link set eth0 up
nsenter -t "$pid4" -n ip route replace default via 172.17.0.1
sysctl -w net.ipv4.ip_forward=1
iptables -t nat -A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE -m comment --comment nsscript:10_docker_model

# == the host: docker0 and one veth per container
#   host: links (ip link / ip addr)
#     #  name      kind      state  addresses
#     1  lo        loopback  UP     127.0.0.1/8 ::1/128
#     2  eth0      veth      UP     203.0.113.1/24       peer eth0 in internet
#     4  docker0   bridge    UP     172.17.0.1/16
#     5  veth1234  veth      UP     -                    master docker0, peer eth0 in /proc/4194306/ns/net
#     7  veth5678  veth      UP     -                    master docker0, peer eth0 in /proc/4194307/ns/net
#     9  veth9abc  veth      UP     -                    master docker0, peer eth0 in /proc/4194308/ns/net

# == ip netns list
#   internet

# == container1 is PID 4194306
#   $ ls -la /proc/4194306/ns/net
ls -la /proc/"$pid2"/ns/net || true
#   $ nsenter -t 4194306 -n ip -brief addr
nsenter -t "$pid2" -n ip -brief addr || true
# not checked in a plan: assert.contains: "172.17.0.2/16" not in ""
readlink /proc/"$pid2"/ns/net || true
# not checked in a plan: assert.eq: "" != "net:[4026532000]"
#   container1: links (ip link / ip addr)
#     #  name  kind      state  addresses
#     1  lo    loopback  UP     127.0.0.1/8 ::1/128
#     6  eth0  veth      UP     172.17.0.2/16        peer veth1234 in host
#   container1: routing table (route)
#     Destination    Gateway     Iface
#     default        172.17.0.1  eth0
#     172.17.0.0/16  *           eth0
#   container1: ARP cache (arp): no entries
nsenter -t "$pid3" -n python3 -I -S -u -c '
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
' 172.17.0.3 80 >/dev/null 2>&1 &
pid5=$!
# not checked in a plan: fail: gave up waiting for the TCP server on 172.17.0.3:80
# not checked in a plan (no packets are sent): assert.reachable(ns, "172.17.0.4")
nsenter -t "$pid2" -n python3 -I -S -c '
import socket, sys
try:
    c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout = float(sys.argv[3]))
    print(c.recv(100).decode().strip())
except OSError as e:
    sys.exit(str(e))
' 172.17.0.3 80 2 || true
# not checked in a plan: assert.eq: None != "172.17.0.2"

# == the internet sees the containers as the host
# not checked in a plan (no packets are sent): assert.reachable(ns, "203.0.113.8")
nsenter -t "$pid2" -n python3 -I -S -c '
import socket, sys
try:
    c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout = float(sys.argv[3]))
    print(c.recv(100).decode().strip())
except OSError as e:
    sys.exit(str(e))
' 203.0.113.8 80 2 || true
#   container1 (172.17.0.2) arrives as None
# not checked in a plan: assert.eq: None != "203.0.113.1"
# not checked in a plan (no packets are sent): assert.reachable(ns, "203.0.113.8")
nsenter -t "$pid3" -n python3 -I -S -c '
import socket, sys
try:
    c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout = float(sys.argv[3]))
    print(c.recv(100).decode().strip())
except OSError as e:
    sys.exit(str(e))
' 203.0.113.8 80 2 || true
#   container2 (172.17.0.3) arrives as None
# not checked in a plan: assert.eq: None != "203.0.113.1"
# not checked in a plan (no packets are sent): assert.reachable(ns, "203.0.113.8")
nsenter -t "$pid4" -n python3 -I -S -c '
import socket, sys
try:
    c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout = float(sys.argv[3]))
    print(c.recv(100).decode().strip())
except OSError as e:
    sys.exit(str(e))
' 203.0.113.8 80 2 || true
#   container3 (172.17.0.4) arrives as None
# not checked in a plan: assert.eq: None != "203.0.113.1"
#   $ iptables -t nat -S POSTROUTING
iptables -t nat -S POSTROUTING || true

# ok: Docker's model: containers on docker0, NATed out of eth0
--- stderr (exit 0)
