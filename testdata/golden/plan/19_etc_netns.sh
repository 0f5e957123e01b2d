#!/bin/sh
# nsscript plan scripts/tutorial/19_etc_netns.star (lab 19_etc_netns): the commands that build what the script builds.
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
ip netns add internet
ip -n internet link set lo up
ip -n ns1 link add eth0 type veth peer name eth0 netns internet
ip -n ns1 addr add 203.0.113.2/24 dev eth0
ip -n ns1 link set eth0 up
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
' 203.0.113.53 www.example.com=203.0.113.80 >/dev/null 2>&1 &
pid1=$!
# not checked in a plan: fail: gave up waiting for the DNS server on 203.0.113.53:53
cat /etc/hosts || true
cat /etc/resolv.conf || true

# == echo 1.2.3.4 mytest > /etc/netns/ns1/hosts
mkdir -p /etc/netns/ns1
cat > /etc/netns/ns1/hosts <<'EOF'
1.2.3.4 mytest
EOF
#   $ ls /etc/netns/ns1
ls /etc/netns/ns1 || true
#   $ ip netns exec ns1 getent hosts 1.2.3.4
ip netns exec ns1 getent hosts 1.2.3.4 || true
# not checked in a plan: assert.eq: [] != ["1.2.3.4", "mytest"]
ip netns exec ns1 getent hosts mytest || true
# not checked in a plan: assert.eq: [] != ["1.2.3.4", "mytest"]
#   $ getent -s files hosts 1.2.3.4
getent -s files hosts 1.2.3.4 || true
#     not run: nsscript plan runs no command
# not checked in a plan: assert.eq: 1 != 2
cat /etc/hosts || true
#   $ ip netns exec ns1 cat /etc/hosts
ip netns exec ns1 cat /etc/hosts || true
# not checked in a plan: assert.eq: "" != "1.2.3.4 mytest\n"

# == echo nameserver 203.0.113.53 > /etc/netns/ns1/resolv.conf
mkdir -p /etc/netns/ns1
cat > /etc/netns/ns1/resolv.conf <<'EOF'
nameserver 203.0.113.53
EOF
#   $ ip netns exec ns1 cat /etc/resolv.conf
ip netns exec ns1 cat /etc/resolv.conf || true
#   $ ip netns exec ns1 getent hosts www.example.com
ip netns exec ns1 getent hosts www.example.com || true
# not checked in a plan: assert.eq: [] != ["203.0.113.80", "www.example.com"]
# not checked in a plan: fail: gave up waiting for the DNS server to log "203.0.113.2 asked for A www.example.com: 203.0.113.80"
#   the DNS server's log: []
ip netns exec ns1 getent hosts nosuch.example.com || true
# not checked in a plan: assert.eq: 1 != 2
cat /etc/resolv.conf || true
#   the host's /etc/resolv.conf is unchanged

# ok: ns1 resolves with its own /etc/netns/ns1/hosts and resolv.conf
--- stderr (exit 0)
