#!/bin/sh
# nsscript plan scripts/tutorial/16_ns1_loopback_only.star (lab 16_ns1_loopback_only): the commands that build what the script builds.
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
ip -n internet addr add 203.0.113.53/24 dev eth0
ip -n internet link set eth0 up
ip netns exec internet python3 -I -S -u -c '
import socket, struct, sys
records = dict(a.split("=") for a in sys.argv[2:])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 53))
print("listening on %s:53" % sys.argv[1], flush = True)
while True:
    q, peer = s.recvfrom(512)
    tid = struct.unpack("!H", q[:2])[0]
    i, labels = 12, []
    while q[i]:
        labels.append(q[i + 1:i + 1 + q[i]].decode())
        i += q[i] + 1
    qtype = struct.unpack("!H", q[i + 1:i + 3])[0]
    name = ".".join(labels).lower()
    question = q[12:i + 5]
    ip = records.get(name)
    answer = b""
    if ip and qtype == 1:
        answer = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + socket.inet_aton(ip)
    rcode = 0 if ip else 3  # NXDOMAIN for names it does not know
    kind = {1: "A", 28: "AAAA"}.get(qtype, "type %d" % qtype)
    said = ip if answer else ("no %s record" % kind if ip else "NXDOMAIN")
    # The log line before the answer: once a client has its answer, the
    # line is on its way (the script still waits for it, see asked()).
    print("%s asked for %s %s: %s" % (peer[0], kind, name, said), flush = True)
    s.sendto(struct.pack("!HHHHHH", tid, 0x8580 | rcode, 1, 1 if answer else 0, 0, 0) + question + answer, peer)
' 203.0.113.53 suse.com=203.0.113.80 >/dev/null 2>&1 &
pid1=$!
# not checked in a plan: fail: gave up waiting for the DNS server on 203.0.113.53:53
ip netns add ns1
ip netns del ns1
ip netns add ns1
ip netns add ns2

# == ip netns list; ls /run/netns; the mounts behind them
#   internet, ns1, ns2
#   $ ls /run/netns
ls /run/netns || true
#   $ grep ' /run/netns/ns' /proc/self/mountinfo | cut -d' ' -f5,9
sh -c 'grep '\'' /run/netns/ns'\'' /proc/self/mountinfo | cut -d'\'' '\'' -f5,9' || true
# not checked in a plan: assert.contains: "/run/netns/ns1 nsfs" not in ""
# not checked in a plan: assert.contains: "/run/netns/ns2 nsfs" not in ""

# == ip netns exec ns1 ip link: only the loopback, DOWN
#   ns1: links (ip link / ip addr)
#     #  name  kind      state  addresses
#     1  lo    loopback  DOWN   -
#   ns1: routing table (route): empty
#   ns1: ARP cache (arp): no entries

# == ip netns exec ns1 ip link set lo up: the loopback was there all along
ip -n ns1 link set lo up
#   $ ip netns exec ns1 ip link
ip netns exec ns1 ip link || true

# == ip netns exec ns1 ip route show: empty
#   $ ip netns exec ns1 ip route show
ip netns exec ns1 ip route show || true

# == dig @203.0.113.53 suse.com, from the host and from ns1
python3 -I -S -c '
import random, socket, struct, sys
server, name = sys.argv[1], sys.argv[2]
tid = random.randrange(65536)
q = struct.pack("!HHHHHH", tid, 0x0100, 1, 0, 0, 0)
q += b"".join([bytes([len(p)]) + p.encode() for p in name.split(".")]) + b"\0" + struct.pack("!HH", 1, 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(float(sys.argv[3]))
try:
    s.sendto(q, (server, 53))
    r = s.recv(512)
except OSError as e:
    sys.exit("dig @%s %s: %s" % (server, name, e))
if struct.unpack("!H", r[2:4])[0] & 15:
    sys.exit("dig @%s %s: NXDOMAIN" % (server, name))
if struct.unpack("!H", r[6:8])[0] == 0:
    sys.exit("dig @%s %s: no answer" % (server, name))
print(socket.inet_ntoa(r[-4:]))
' 203.0.113.53 suse.com 1 || true
#   host: not run: nsscript plan runs no command
# not checked in a plan: assert.eq: "" != "203.0.113.80"
ip netns exec ns1 python3 -I -S -c '
import random, socket, struct, sys
server, name = sys.argv[1], sys.argv[2]
tid = random.randrange(65536)
q = struct.pack("!HHHHHH", tid, 0x0100, 1, 0, 0, 0)
q += b"".join([bytes([len(p)]) + p.encode() for p in name.split(".")]) + b"\0" + struct.pack("!HH", 1, 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(float(sys.argv[3]))
try:
    s.sendto(q, (server, 53))
    r = s.recv(512)
except OSError as e:
    sys.exit("dig @%s %s: %s" % (server, name, e))
if struct.unpack("!H", r[2:4])[0] & 15:
    sys.exit("dig @%s %s: NXDOMAIN" % (server, name))
if struct.unpack("!H", r[6:8])[0] == 0:
    sys.exit("dig @%s %s: no answer" % (server, name))
print(socket.inet_ntoa(r[-4:]))
' 203.0.113.53 suse.com 1 || true
#   ns1:  not run: nsscript plan runs no command
# not checked in a plan: assert.contains: "Network is unreachable" not in "not run: nsscript plan runs no command"
# not checked in a plan (no packets are sent): assert.unreachable(ns1, "203.0.113.53")
# not checked in a plan (no packets are sent): assert.reachable(ns1, "127.0.0.1")

# ok: ns1 has a loopback and nothing else: no routes, no way to its DNS server
--- stderr (exit 0)
