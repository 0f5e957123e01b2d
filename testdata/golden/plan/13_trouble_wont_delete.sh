#!/bin/sh
# nsscript plan scripts/tutorial/13_trouble_wont_delete.star (lab 13_trouble_wont_delete): the commands that build what the script builds.
# Made against a model of a fresh host (as under --sandbox), without root and
# without changing anything. In a plan, exec runs nothing: each command is
# recorded below (to the script its output was empty, and with check=False
# it failed); background commands get $pidN. ping, assert.reachable and
# assert.unreachable send no packets, and a check that failed on what the
# plan cannot know is kept as a comment.
set -e
python3 -c 'import sys; print(sys.executable)' || true
ip netns add ns1
ip -n ns1 link set lo up
ip link add veth0 type veth peer name veth1 netns ns1
ip addr add 10.0.0.1/24 dev veth0
ip link set veth0 up
ip -n ns1 addr add 10.0.0.2/24 dev veth1
ip -n ns1 link set veth1 up
ip netns exec ns1 python3 -I -S -u -c '
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
ip netns exec ns1 sleep 3600 >/dev/null 2>&1 &
pid2=$!

# == ip netns pids ns1
#   $ ps -o pid,comm -p 4194305,4194306
ps -o pid,comm -p "$pid1","$pid2" || true

# == ip netns delete ns1, with its processes still running
ip netns del ns1
#   ip netns list: (nothing)
#   host: links (ip link / ip addr)
#     #  name   kind      state  addresses
#     1  lo     loopback  UP     127.0.0.1/8 ::1/128
#     2  veth0  veth      UP     10.0.0.1/24
# not checked in a plan (no packets are sent): assert.reachable(host, "10.0.0.2")
# not checked in a plan (no packets are sent): assert.reachable(host, "10.0.0.2:80")
readlink /proc/"$pid1"/ns/net || true
# not checked in a plan: assert.eq: "" != "net:[4026531841]"
readlink /proc/"$pid2"/ns/net || true
# not checked in a plan: assert.eq: "" != "net:[4026531841]"
#   the processes are still in net:[4026531841]; the server at 10.0.0.2:80 still answers

# == kill the processes: the last user gone, the namespace goes
#   $ kill 4194305 4194306
kill "$pid1" "$pid2" || true
i=0; while ip link show dev veth0 >/dev/null 2>&1 && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done  # the kernel deletes the namespace and the peers of its veths
readlink /proc/"$pid1"/ns/net || true
readlink /proc/"$pid2"/ns/net || true
# not checked in a plan (no packets are sent): assert.unreachable(host, "10.0.0.2")
#   host: links (ip link / ip addr)
#     #  name  kind      state  addresses
#     1  lo    loopback  UP     127.0.0.1/8 ::1/128

# == again, in the document's order: pids, kill, delete
ip netns add ns1
ip -n ns1 link set lo up
ip link add veth0 type veth peer name veth1 netns ns1
ip addr add 10.0.0.1/24 dev veth0
ip link set veth0 up
ip -n ns1 addr add 10.0.0.2/24 dev veth1
ip -n ns1 link set veth1 up
ip netns exec ns1 python3 -I -S -u -c '
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
pid3=$!
# not checked in a plan: fail: gave up waiting for the TCP server on 10.0.0.2:80
ip netns exec ns1 sleep 3600 >/dev/null 2>&1 &
pid4=$!
kill "$pid3" || true
kill "$pid4" || true
ip -n ns1 link del veth1
ip netns del ns1
# not checked in a plan (no packets are sent): assert.unreachable(host, "10.0.0.2")
#   ns1 and veth0 are gone at once

# ok: a namespace lives while a process is in it: kill its pids, then delete it
--- stderr (exit 0)
