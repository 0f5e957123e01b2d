#!/bin/sh
# nsscript plan scripts/tutorial/09_firewall_in_namespace.star (lab 09_firewall_in_namespace): the commands that build what the script builds.
# Made against a model of a fresh host (as under --sandbox), without root and
# without changing anything. In a plan, exec runs nothing: each command is
# recorded below (to the script its output was empty, and with check=False
# it failed); background commands get $pidN. ping, assert.reachable and
# assert.unreachable send no packets, and a check that failed on what the
# plan cannot know is kept as a comment.
set -e
python3 -c 'import sys; print(sys.executable)' || true
ip netns add isolated
ip -n isolated link set lo up
ip netns add other
ip -n other link set lo up
ip link add veth0 type veth peer name veth1 netns isolated
ip addr add 10.0.0.1/24 dev veth0
ip link set veth0 up
ip -n isolated addr add 10.0.0.2/24 dev veth1
ip -n isolated link set veth1 up
ip link add veth2 type veth peer name veth3 netns other
ip addr add 10.0.1.1/24 dev veth2
ip link set veth2 up
ip -n other addr add 10.0.1.2/24 dev veth3
ip -n other link set veth3 up
ip netns exec isolated python3 -I -S -u -c '
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
' 10.0.0.2 80 >/dev/null 2>&1 &
pid1=$!
# not checked in a plan: fail: gave up waiting for the TCP server on 10.0.0.2:80
ip netns exec isolated python3 -I -S -u -c '
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
' 10.0.0.2 8080 >/dev/null 2>&1 &
pid2=$!
# not checked in a plan: fail: gave up waiting for the TCP server on 10.0.0.2:8080
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
' 10.0.0.1 8080 >/dev/null 2>&1 &
pid3=$!
# not checked in a plan: fail: gave up waiting for the TCP server on 10.0.0.1:8080
ip netns exec other python3 -I -S -u -c '
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
' 10.0.1.2 8080 >/dev/null 2>&1 &
pid4=$!
# not checked in a plan: fail: gave up waiting for the TCP server on 10.0.1.2:8080

# == before: every namespace's chains are empty
#   $ ip netns exec isolated iptables -L INPUT -n
ip netns exec isolated iptables -L INPUT -n || true
# not checked in a plan (no packets are sent): assert.reachable(host, "10.0.0.2:80")
# not checked in a plan (no packets are sent): assert.reachable(host, "10.0.0.2:8080")

# == rules in isolated's own INPUT chain
ip netns exec isolated iptables -t filter -A INPUT -p tcp --dport 80 -j ACCEPT -m comment --comment nsscript:09_firewall_in_namespace
ip netns exec isolated iptables -t filter -A INPUT -p tcp --syn -j DROP -m comment --comment nsscript:09_firewall_in_namespace
#   $ ip netns exec isolated iptables -L INPUT -n
ip netns exec isolated iptables -L INPUT -n || true

# == the host's and other's INPUT chains are still empty
#   $ iptables -S INPUT
iptables -S INPUT || true
# not checked in a plan: assert.eq: "" != "-P INPUT ACCEPT\n"
#   $ ip netns exec other iptables -S INPUT
ip netns exec other iptables -S INPUT || true
# not checked in a plan: assert.eq: "" != "-P INPUT ACCEPT\n"
# not checked in a plan (no packets are sent): assert.reachable(host, "10.0.0.2:80")
# not checked in a plan (no packets are sent): assert.unreachable(host, "10.0.0.2:8080")
python3 -I -S -c '
import socket, sys
try:
    c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout = float(sys.argv[3]))
    print(c.recv(100).decode().strip())
except OSError as e:
    sys.exit(str(e))
' 10.0.0.2 80 2 || true
# not checked in a plan: assert.eq: None != "10.0.0.1"
ip netns exec isolated python3 -I -S -c '
import socket, sys
try:
    c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout = float(sys.argv[3]))
    print(c.recv(100).decode().strip())
except OSError as e:
    sys.exit(str(e))
' 10.0.0.1 8080 2 || true
# not checked in a plan: assert.eq: None != "10.0.0.2"
# not checked in a plan (no packets are sent): assert.reachable(host, "10.0.1.2:8080")
python3 -I -S -c '
import socket, sys
try:
    c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout = float(sys.argv[3]))
    print(c.recv(100).decode().strip())
except OSError as e:
    sys.exit(str(e))
' 10.0.1.2 8080 2 || true
# not checked in a plan: assert.eq: None != "10.0.1.1"

# == a rule in the host's INPUT chain
iptables -t filter -A INPUT -p tcp --dport 8080 -j DROP -m comment --comment nsscript:09_firewall_in_namespace
ip netns exec isolated python3 -I -S -c '
import socket, sys
try:
    c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout = float(sys.argv[3]))
    print(c.recv(100).decode().strip())
except OSError as e:
    sys.exit(str(e))
' 10.0.0.1 8080 0.5 || true
# not checked in a plan (no packets are sent): assert.reachable(host, "10.0.0.2:80")
ip netns exec isolated iptables -S INPUT || true
# not checked in a plan: assert.eq: 0 != 2
iptables -t filter -D INPUT -p tcp --dport 8080 -j DROP -m comment --comment nsscript:09_firewall_in_namespace
ip netns exec isolated python3 -I -S -c '
import socket, sys
try:
    c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout = float(sys.argv[3]))
    print(c.recv(100).decode().strip())
except OSError as e:
    sys.exit(str(e))
' 10.0.0.1 8080 2 || true
# not checked in a plan: assert.eq: None != "10.0.0.2"

# ok: isolated's iptables rules are its own: they filter only what passes through isolated
--- stderr (exit 0)
