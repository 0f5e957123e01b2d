#!/bin/sh
# nsscript plan scripts/tutorial/21_cleanup.star (lab 21_cleanup): the commands that build what the script builds.
# Made against a model of a fresh host (as under --sandbox), without root and
# without changing anything. In a plan, exec runs nothing: each command is
# recorded below (to the script its output was empty, and with check=False
# it failed); background commands get $pidN. ping, assert.reachable and
# assert.unreachable send no packets, and a check that failed on what the
# plan cannot know is kept as a comment.
set -e
python3 -c 'import sys; print(sys.executable)' || true
stdbuf -oL ip netns monitor >/dev/null 2>&1 &
pid1=$!
sh -c 'grep -qs '\''inotify wd'\'' /proc/'"$pid1"'/fdinfo/*' || true
# not checked in a plan: fail: gave up waiting for ip netns monitor to watch /run/netns
ip netns add router
ip -n router link set lo up
ip link add eth1 type veth peer name lan0 netns router
ip link set eth1 up
ip -n router addr add 192.168.1.1/24 dev lan0
ip -n router link set lan0 up
ip netns add ns1
ip -n ns1 link set lo up
ip netns add ns2
ip -n ns2 link set lo up
ip link set eth1 netns ns1
ip -n ns1 link set eth1 up
ip -n ns1 addr add 192.168.1.123/24 dev eth1
ip -n ns1 link add veth1 type veth peer name veth2 netns ns2
ip -n ns1 addr add 1.1.1.1/10 dev veth1
ip -n ns1 link set veth1 up
ip -n ns2 addr add 1.1.1.2/10 dev veth2
ip -n ns2 link set veth2 up
ip netns exec ns1 python3 -I -S -u -c 'import http.server, sys, functools
h = functools.partial(http.server.SimpleHTTPRequestHandler, directory = sys.argv[3])
s = http.server.ThreadingHTTPServer((sys.argv[1], int(sys.argv[2])), h)
print('\''listening on %s:%s'\'' % (sys.argv[1], sys.argv[2]), flush = True)
s.serve_forever()
' 1.1.1.1 22 / >/dev/null 2>&1 &
pid2=$!
# not checked in a plan: fail: gave up waiting for http.server on 1.1.1.1:22
# not checked in a plan (no packets are sent): assert.reachable(ns2, "1.1.1.1:22")
# not checked in a plan (no packets are sent): assert.reachable(ns1, "192.168.1.1")

# == the setup
#   ns1: links (ip link / ip addr)
#     #  name   kind      state  addresses
#     1  lo     loopback  UP     127.0.0.1/8 ::1/128
#     2  eth1   veth      UP     192.168.1.123/24     peer lan0 in router
#     4  veth1  veth      UP     1.1.1.1/10           peer veth2 in ns2

# == ip netns exec ns1 ip link delete veth1
ip -n ns1 link del veth1
# not checked in a plan (no packets are sent): assert.unreachable(ns2, "1.1.1.1:22")

# == ip netns exec ns1 ip link set eth1 netns 1
ip -n ns1 link set eth1 netns $$
#   host: links (ip link / ip addr)
#     #  name  kind      state  addresses
#     1  lo    loopback  UP     127.0.0.1/8 ::1/128
#     2  eth1  veth      DOWN   -                    peer lan0 in router

# == ps auxww | grep $(ip netns pids ns1)
#   $ ps -o pid,comm -p 4194306
ps -o pid,comm -p "$pid2" || true

# == ip netns identify 4194306
#   ns1

# == ip netns pids ns1 | xargs kill; ip netns del ns1; ip netns del ns2
kill "$pid2" || true
ip netns del ns1
ip netns del ns2
ip link set eth1 up
ip addr add 192.168.1.123/24 dev eth1
# not checked in a plan (no packets are sent): assert.reachable(host, "192.168.1.1")
#   eth1 is back in the host and reaches 192.168.1.1

# == ip netns monitor
# not checked in a plan: fail: gave up waiting for the monitor to report
kill -TERM "$pid1" || true
# not checked in a plan: assert.eq: [] != ["add ns1", "add ns2", "delete ns1", "delete ns2"]

# ok: veth1 deleted, eth1 returned, ns1's processes killed, ns1 and ns2 deleted
--- stderr (exit 0)
