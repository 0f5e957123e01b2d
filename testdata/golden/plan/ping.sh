#!/bin/sh
# nsscript plan scripts/bench/ping.star (lab ping): the commands that build what the script builds.
# Made against a model of a fresh host (as under --sandbox), without root and
# without changing anything. In a plan, exec runs nothing: each command is
# recorded below (to the script its output was empty, and with check=False
# it failed); background commands get $pidN. ping, assert.reachable and
# assert.unreachable send no packets, and a check that failed on what the
# plan cannot know is kept as a comment.
set -e
ip netns add a
ip -n a link set lo up
ip netns add b
ip -n b link set lo up
ip -n a link add eth0 type veth peer name eth0 netns b
ip -n a addr add 10.9.0.1/24 dev eth0
ip -n a link set eth0 up
ip -n b addr add 10.9.0.2/24 dev eth0
ip -n b link set eth0 up
# not sent in a plan, taken as answered: ping(a, "10.9.0.2")
# not sent in a plan, taken as answered: ping(a, "10.9.0.2")
# not sent in a plan, taken as answered: ping(a, "10.9.0.2")
# not sent in a plan, taken as answered: ping(a, "10.9.0.2")
# not sent in a plan, taken as answered: ping(a, "10.9.0.2")
# not sent in a plan, taken as answered: ping(a, "10.9.0.2")
# not sent in a plan, taken as answered: ping(a, "10.9.0.2")
# not sent in a plan, taken as answered: ping(a, "10.9.0.2")
# not sent in a plan, taken as answered: ping(a, "10.9.0.2")
# not sent in a plan, taken as answered: ping(a, "10.9.0.2")
# not sent in a plan, taken as answered: ping(a, "10.9.0.2")
--- stderr (exit 0)
