#!/bin/sh
# nsscript plan scripts/tutorial/18_ns1_ns2_veth_server.star (lab 18_ns1_ns2_veth_server): the commands that build what the script builds.
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
ip netns add ns2
ip -n ns1 link add veth1 type veth peer name veth2

# == ip netns exec ns1 tree /sys/class/net
#   $ ip netns exec ns1 ls /sys/class/net
ip netns exec ns1 ls /sys/class/net || true
# not checked in a plan: assert.eq: [] != ["lo", "veth1", "veth2"]
ip -n ns1 link set veth2 netns ns2

# == ip netns exec ns2 ip link: the loopback and veth2, both DOWN
#   ns2: links (ip link / ip addr)
#     #  name   kind      state  addresses
#     1  lo     loopback  DOWN   -
#     3  veth2  veth      DOWN   -          peer veth1 in ns1
ip -n ns1 addr add 1.1.1.1/10 dev veth1
ip -n ns2 addr add 1.1.1.2/10 dev veth2
ip -n ns1 link set veth1 up
ip -n ns2 link set veth2 up
# not checked in a plan (no packets are sent): assert.reachable(ns1, "1.1.1.2")

#   ip netns exec ns1 ping 1.1.1.2: answered
sh -c 'command -v sshd || ls /usr/sbin/sshd' || true

# == no sshd here: python3 -m http.server --bind 1.1.1.1 8000 in ns1
ip netns exec ns1 python3 -I -S -u -c 'import http.server, sys, functools
h = functools.partial(http.server.SimpleHTTPRequestHandler, directory = sys.argv[3])
s = http.server.ThreadingHTTPServer((sys.argv[1], int(sys.argv[2])), h)
print('\''listening on %s:%s'\'' % (sys.argv[1], sys.argv[2]), flush = True)
s.serve_forever()
' 1.1.1.1 8000 / >/dev/null 2>&1 &
pid1=$!
# not checked in a plan: fail: gave up waiting for http.server on 1.1.1.1:8000
#   $ ps -o pid,comm -p 4194305
ps -o pid,comm -p "$pid1" || true

# == ip netns exec ns1 ss -ltn
#   $ ip netns exec ns1 ss -ltn
ip netns exec ns1 ss -ltn || true
# not checked in a plan: assert.contains: "1.1.1.1:8000 " not in ""
ss -ltn || true
ip netns exec ns2 ss -ltn || true
# not checked in a plan (no packets are sent): assert.unreachable(ns1, "127.0.0.1:8000")
# not checked in a plan (no packets are sent): assert.reachable(ns2, "1.1.1.1:8000")
# not checked in a plan (no packets are sent): assert.unreachable(host, "1.1.1.1:8000")
ip netns exec ns2 python3 -I -S -u -c '
import socket, sys, time
c = socket.create_connection(("1.1.1.1", int(sys.argv[1])), timeout = 5)
if sys.argv[2] == "ssh":
    print(c.recv(64).decode().strip(), flush = True)  # the server'\''s greeting
print("connected", flush = True)
time.sleep(60)
' 8000 http >/dev/null 2>&1 &
pid2=$!
# not checked in a plan: fail: gave up waiting for the session from ns2

# == ip netns exec ns1 ss -tn: the session from ns2
#   $ ip netns exec ns1 ss -tn state established
ip netns exec ns1 ss -tn state established || true
# not checked in a plan: assert.contains: "1.1.1.1:8000" not in ""
# not checked in a plan: assert.contains: "1.1.1.2:" not in ""
kill -TERM "$pid2" || true

# ok: the server in ns1 listens on 1.1.1.1 only, and ns2 reaches it through the veth pair
--- stderr (exit 0)
