#!/bin/sh
# nsscript plan scripts/bench/cycles.star (lab cycles): the commands that build what the script builds.
# Made against a model of a fresh host (as under --sandbox), without root and
# without changing anything. In a plan, exec runs nothing: each command is
# recorded below (to the script its output was empty, and with check=False
# it failed); background commands get $pidN. ping, assert.reachable and
# assert.unreachable send no packets, and a check that failed on what the
# plan cannot know is kept as a comment.
set -e
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
sh -c 'awk '\''/^VmRSS/ {print $2}'\'' /proc/$PPID/status' || true
# rss after 10 cycles: 0 kB
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
sh -c 'awk '\''/^VmRSS/ {print $2}'\'' /proc/$PPID/status' || true
# rss after 50 cycles: 0 kB
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
ip netns add cycle
ip -n cycle link set lo up
ip -n cycle link add eth0 type veth peer name cycle-br netns $$
ip -n cycle addr add 10.7.0.2/24 dev eth0
ip -n cycle link set eth0 up
ip addr add 10.7.0.1/24 dev cycle-br
ip link set cycle-br up
ip -n cycle route replace default via 10.7.0.1
ip -n cycle link del eth0
ip netns del cycle
sh -c 'awk '\''/^VmRSS/ {print $2}'\'' /proc/$PPID/status' || true
# rss after 100 cycles: 0 kB
--- stderr (exit 0)
