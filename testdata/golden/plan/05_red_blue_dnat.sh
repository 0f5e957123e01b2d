#!/bin/sh
# nsscript plan scripts/tutorial/05_red_blue_dnat.star (lab 05_red_blue_dnat): the commands that build what the script builds.
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
ip link add enp0s3 type veth peer name eth0 netns otherhost
ip addr add 192.168.1.2/24 dev enp0s3
ip link set enp0s3 up
ip -n otherhost addr add 192.168.1.3/24 dev eth0
ip -n otherhost link set eth0 up
sysctl -w net.ipv4.ip_forward=1
ip netns exec blue sh -c 'mkdir -p /run/blue-www && echo '\''hello from blue'\'' > /run/blue-www/index.html' || true
ip netns exec blue python3 -I -S -u -c 'import http.server, sys, functools
h = functools.partial(http.server.SimpleHTTPRequestHandler, directory = sys.argv[3])
s = http.server.ThreadingHTTPServer((sys.argv[1], int(sys.argv[2])), h)
print('\''listening on %s:%s'\'' % (sys.argv[1], sys.argv[2]), flush = True)
s.serve_forever()
' 192.168.15.2 80 /run/blue-www >/dev/null 2>&1 &
pid1=$!
# not checked in a plan: fail: gave up waiting for http.server on 192.168.15.2:80
# not checked in a plan (no packets are sent): assert.reachable(red, "192.168.15.2:80")
# not checked in a plan (no packets are sent): assert.unreachable(otherhost, "192.168.15.2")
# not checked in a plan (no packets are sent): assert.unreachable(otherhost, "192.168.1.2:80")

# == the document's rule, as written, is refused by iptables
#   firewall: iptables -t nat -A PREROUTING --dport 80 --to-destination 192.168.15.2:80 -j DNAT in namespace host: iptables refused the rule: unknown option "--dport"

# == with -p tcp (and -i enp0s3)
iptables -t nat -A PREROUTING -p tcp --dport 80 -i enp0s3 -j DNAT --to-destination 192.168.15.2:80 -m comment --comment nsscript:05_red_blue_dnat
#   -p tcp --dport 80 -i enp0s3 -j DNAT --to-destination 192.168.15.2:80
#   $ iptables -t nat -S PREROUTING
iptables -t nat -S PREROUTING || true
# not checked in a plan (no packets are sent): assert.unreachable(otherhost, "192.168.1.2:80")

# == ip netns exec blue ip route add default via 192.168.15.5
ip -n blue route replace default via 192.168.15.5
# not checked in a plan (no packets are sent): assert.reachable(otherhost, "192.168.1.2:80")

# == otherhost fetches http://192.168.1.2/ and gets blue's page
#   $ ip netns exec otherhost curl -sS --noproxy '*' --max-time 5 http://192.168.1.2/
ip netns exec otherhost sh -c 'curl -sS --noproxy '\''*'\'' --max-time 5 http://192.168.1.2/' || true
# not checked in a plan: assert.eq: "" != "hello from blue\n"
#   blue's web server log:
# not checked in a plan: assert.true: False is false, want true
# not checked in a plan (no packets are sent): assert.unreachable(otherhost, "192.168.1.2:8080")
# not checked in a plan (no packets are sent): assert.reachable(red, "192.168.15.2:80")
iptables -t nat -D PREROUTING -p tcp --dport 80 -i enp0s3 -j DNAT --to-destination 192.168.15.2:80 -m comment --comment nsscript:05_red_blue_dnat
# not checked in a plan (no packets are sent): assert.unreachable(otherhost, "192.168.1.2:80")

# ok: with -p tcp, DNAT of the host's port 80 takes the LAN to blue's web server
--- stderr (exit 0)
