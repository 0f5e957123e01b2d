#!/bin/sh
# nsscript plan scripts/tutorial/23_link_shaping.star (lab 23_link_shaping): the commands that build what the script builds.
# Made against a model of a fresh host (as under --sandbox), without root and
# without changing anything. In a plan, exec runs nothing: each command is
# recorded below (to the script its output was empty, and with check=False
# it failed); background commands get $pidN. ping, assert.reachable and
# assert.unreachable send no packets, and a check that failed on what the
# plan cannot know is kept as a comment.
set -e
ip netns add site1
ip -n site1 link set lo up
ip netns add site2
ip -n site2 link set lo up
ip -n site1 link add wan1 type veth peer name wan2 netns site2
ip -n site1 addr add 10.9.0.1/24 dev wan1
ip -n site1 link set wan1 up
ip -n site2 addr add 10.9.0.2/24 dev wan2
ip -n site2 link set wan2 up
# delay, jitter, loss, duplicate, reorder and limit are netem's: where the kernel has no sch_netem, nsscript runs them in a forwarder process of the lab instead (link.shape says which), and this script only says so
tc -n site1 qdisc add dev wan1 root handle 4e53: tbf rate 10mbit burst 12500 limit 137500
tc -n site1 qdisc add dev wan1 parent 4e53:1 handle 4e54: netem delay 20ms || echo 'no sch_netem here: wan1 is not shaped (nsscript would run its forwarder)' >&2
tc -n site2 qdisc add dev wan2 root handle 4e53: tbf rate 10mbit burst 12500 limit 137500
tc -n site2 qdisc add dev wan2 parent 4e53:1 handle 4e54: netem delay 20ms || echo 'no sch_netem here: wan2 is not shaped (nsscript would run its forwarder)' >&2

# == what each end is shaped with, read back from the kernel
#   wan1: rate 10mbit delay 20ms (tbf+netem)
#   wan2: rate 10mbit delay 20ms (tbf+netem)
#   this kernel has sch_netem: netem delays the packets
#   $ ip netns exec site1 tc qdisc show dev wan1
ip netns exec site1 tc qdisc show dev wan1 || true

# == ping: 20 ms each way is 40 ms a round trip
# not sent in a plan, taken as answered: ping(site1, "10.9.0.2")
# not sent in a plan, taken as answered: ping(site1, "10.9.0.2")
#   20 sent, 20 received, 0% loss

# == a TCP stream from site1 to site2: the rate
# not measured in a plan: throughput(site1, site2)
#   not measured (nsscript plan sends nothing)

# == 10% loss on wan1
tc -n site1 qdisc change dev wan1 parent 4e53:1 handle 4e54: netem delay 20ms loss 10% || echo 'no sch_netem here: wan1 is not shaped (nsscript would run its forwarder)' >&2
#   wan1: rate 10mbit delay 20ms loss 10% (tbf+netem)
# not sent in a plan, taken as answered: ping(site1, "10.9.0.2")
#   200 sent, 200 received, 0% loss

# == the shaping taken away, one end, then the other
tc -n site1 qdisc del dev wan1 root
# not sent in a plan, taken as answered: ping(site1, "10.9.0.2")
#   wan1 none, wan2 rate 10mbit delay 20ms (tbf+netem): 5 sent, 5 received, 0% loss
tc -n site2 qdisc del dev wan2 root
# not sent in a plan, taken as answered: ping(site1, "10.9.0.2")
#   wan1 none, wan2 none: 5 sent, 5 received, 0% loss
#   $ ip netns exec site1 tc qdisc show dev wan1
ip netns exec site1 tc qdisc show dev wan1 || true

# ok: rate, delay and loss shaped, measured with real packets, and taken away
--- stderr (exit 0)
