#!/bin/sh
# nsscript plan scripts/tutorial/12_inspection.star (lab 12_inspection): the commands that build what the script builds.
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
ip -n ns2 link set lo up
ip -n ns1 link add veth0 type veth peer name veth1 netns ns2
ip -n ns1 addr add 10.0.0.1/24 dev veth0
ip -n ns1 link set veth0 up
ip -n ns2 addr add 10.0.0.2/24 dev veth1
ip -n ns2 link set veth1 up
ip netns exec ns1 sleep 3600 >/dev/null 2>&1 &
pid1=$!
ip netns exec ns1 sleep 3600 >/dev/null 2>&1 &
pid2=$!
ip netns exec ns2 sleep 3600 >/dev/null 2>&1 &
pid3=$!
unshare --net sleep 3600 >/dev/null 2>&1 &
pid4=$!
i=0; while [ "$(stat -L -c %i /proc/$pid4/ns/net 2>/dev/null)" = "$(stat -L -c %i /proc/$$/ns/net)" ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i+1)); done  # until unshare has made its namespace
cat /proc/"$pid4"/comm || true
# not checked in a plan: fail: gave up waiting for unshare to become sleep

# == ip netns identify
#   PID 4194305 is in ns1
#   PID 4194306 is in ns1
#   PID 4194307 is in ns2
#   PID 4194308 is in an unnamed namespace, /proc/4194308/ns/net

# == readlink /proc/PID/ns/net
readlink /proc/1/ns/net || true
#   PID 1 (the host)
readlink /proc/"$pid1"/ns/net || true
#   a (ns1)
readlink /proc/"$pid2"/ns/net || true
#   b (ns1)
readlink /proc/"$pid3"/ns/net || true
#   c (ns2)
readlink /proc/"$pid4"/ns/net || true
#   d (unnamed)
readlink /proc/1/ns/net || true
# not checked in a plan: assert.eq: "" != "net:[4026531840]"
readlink /proc/"$pid1"/ns/net || true
# not checked in a plan: assert.eq: "" != "net:[4026531841]"
readlink /proc/"$pid1"/ns/net || true
readlink /proc/"$pid2"/ns/net || true
readlink /proc/"$pid1"/ns/net || true
readlink /proc/"$pid3"/ns/net || true
# not checked in a plan: assert.ne: "" == ""
readlink /proc/"$pid4"/ns/net || true
# not checked in a plan: assert.eq: "" != "net:[4026532001]"
#   $ ls -la /proc/4194305/ns/ | grep -E ' (net|mnt|pid|uts) '
sh -c 'ls -la /proc/'"$pid1"'/ns/ | grep -E '\'' (net|mnt|pid|uts) '\''' || true

# == nsenter -t PID -n ip addr
#   $ nsenter -t 4194305 -n ip -brief addr
nsenter -t "$pid1" -n ip -brief addr || true
ip netns exec ns1 ip -brief addr || true
# not checked in a plan: assert.contains: "10.0.0.1/24" not in ""

# == ip netns pids
#   ns1: 4194305 4194306
#   ns2: 4194307

# == lsns -t net, nsscript's way
#   4026531840  host       processes: none
cat /proc/"$pid1"/comm || true
cat /proc/"$pid2"/comm || true
#   4026531841  ns1        processes: 4194305 ?, 4194306 ?
cat /proc/"$pid3"/comm || true
#   4026532000  ns2        processes: 4194307 ?
cat /proc/"$pid4"/comm || true
#   4026532001  (unnamed)  processes: 4194308 ?
#   $ lsns -t net -n -o NS,NPROCS
lsns -t net -n -o NS,NPROCS || true
# not checked in a plan: assert.eq: lsns for ns1: None != 2
# not checked in a plan: assert.eq: lsns for ns2: None != 1
# not checked in a plan: assert.eq: lsns for (unnamed): None != 1
#   $ lsns -t net -n -o NS -p 4194307
lsns -t net -n -o NS -p "$pid3" || true
# not checked in a plan: assert.eq: "" != "4026532000"

# ok: identify, /proc/PID/ns/net, nsenter and lsns all agree on who is where
--- stderr (exit 0)
