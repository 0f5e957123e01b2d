#!/bin/sh
# nsscript plan scripts/tutorial/15_trouble_no_internet.star (lab 15_trouble_no_internet): the commands that build what the script builds.
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
ip link add enp0s3 type veth peer name eth0 netns internet
ip addr add 203.0.113.1/24 dev enp0s3
ip link set enp0s3 up
ip -n internet addr add 203.0.113.8/24 dev eth0
ip -n internet link set eth0 up
ip -n internet addr add 203.0.113.53/24 dev eth0
ip netns exec internet sh -c 'mkdir -p /run/www && echo '\''welcome to www.example.com'\'' > /run/www/index.html' || true
ip netns exec internet python3 -I -S -u -c 'import http.server, sys, functools
h = functools.partial(http.server.SimpleHTTPRequestHandler, directory = sys.argv[3])
s = http.server.ThreadingHTTPServer((sys.argv[1], int(sys.argv[2])), h)
print('\''listening on %s:%s'\'' % (sys.argv[1], sys.argv[2]), flush = True)
s.serve_forever()
' 203.0.113.8 80 /run/www >/dev/null 2>&1 &
pid1=$!
# not checked in a plan: fail: gave up waiting for http.server on 203.0.113.8:80
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
' 203.0.113.53 www.example.com=203.0.113.8 >/dev/null 2>&1 &
pid2=$!
# not checked in a plan: fail: gave up waiting for the DNS server on 203.0.113.53:53
ip link add docker0 type bridge
ip addr add 172.17.0.1/16 dev docker0
ip link set docker0 up
ip netns add container
ip -n container link set lo up
ip link add veth1234 type veth peer name eth0 netns container
sysctl -w net.ipv6.conf.veth1234.disable_ipv6=1
ip link set veth1234 master docker0
ip link set veth1234 up
ip -n container addr add 172.17.0.2/16 dev eth0
ip -n container link set eth0 up
sysctl -w net.ipv4.ip_forward=1
ip -n container route replace default via 172.17.0.254
mkdir -p /etc/netns/container
cat > /etc/netns/container/resolv.conf <<'EOF'
nameserver 127.0.0.53
options edns0 trust-ad
EOF
iptables -t nat -A POSTROUTING -s 172.17.0.0/16 -o eth0 -j MASQUERADE -m comment --comment nsscript:15_trouble_no_internet
iptables -t filter -A FORWARD -j DROP -m comment --comment nsscript:15_trouble_no_internet

# == the symptom: nothing on the internet answers the container
# not checked in a plan (no packets are sent): assert.unreachable(container, "203.0.113.8")
ip netns exec container getent hosts www.example.com || true
ip netns exec container sh -c 'curl -sS --noproxy '\''*'\'' --max-time 2 http://www.example.com/' || true
#   ping 203.0.113.8: no answer; www.example.com: not found

# == 1. check IP
#   $ ip netns exec container ip -4 addr show eth0
ip netns exec container ip -4 addr show eth0 || true
#   -> fine: eth0 is UP with 172.17.0.2/16

# == 2. check gateway
#   $ ip netns exec container ip route
ip netns exec container ip route || true

# == 3. test gateway
# not checked in a plan (no packets are sent): assert.unreachable(container, "172.17.0.254")
#   ping 172.17.0.254: no answer. docker0 is 172.17.0.1:
# not checked in a plan (no packets are sent): assert.reachable(container, "172.17.0.1")
#   ping 172.17.0.1: answered
#   -> fix: ip route replace default via 172.17.0.1
ip -n container route replace default via 172.17.0.1
# not checked in a plan (no packets are sent): assert.unreachable(container, "203.0.113.8")

# == 4. test DNS
#   $ ip netns exec container cat /etc/resolv.conf
ip netns exec container cat /etc/resolv.conf || true
#   $ ip netns exec container getent hosts www.example.com
ip netns exec container getent hosts www.example.com || true
#     not run: nsscript plan runs no command
# not checked in a plan: assert.eq: 1 != 2
#   -> 127.0.0.53 is no one in the container (only its own lo).
#      Fix: write /etc/netns/container/resolv.conf with the internet's DNS server
mkdir -p /etc/netns/container
cat > /etc/netns/container/resolv.conf <<'EOF'
nameserver 203.0.113.53
options timeout:1 attempts:1
EOF
ip netns exec container getent hosts www.example.com || true

# == 5. check forwarding (on the host)
#   $ sysctl net.ipv4.ip_forward
sysctl net.ipv4.ip_forward || true
#   -> fine

# == 6. check NAT
#   $ iptables -t nat -L POSTROUTING -n -v
iptables -t nat -L POSTROUTING -n -v || true
# not checked in a plan: assert.contains: "eth0" not in ""
#   -> the rule masquerades -o eth0, and this host has no eth0: its uplink is enp0s3.
#      Fix: iptables -t nat -A POSTROUTING -s 172.17.0.0/16 -o enp0s3 -j MASQUERADE
iptables -t nat -A POSTROUTING -s 172.17.0.0/16 -o enp0s3 -j MASQUERADE -m comment --comment nsscript:15_trouble_no_internet
# not checked in a plan (no packets are sent): assert.unreachable(container, "203.0.113.8")

# == 7. check FORWARD chain
#   $ iptables -L FORWARD -n -v
iptables -L FORWARD -n -v || true
# not checked in a plan: assert.true: the FORWARD chain dropped the container's packets: [] is false, want true
#   -> the DROP rule counts the container's packets.
#      Fix: accept docker0's traffic and the answers to it, before the drop
iptables -t filter -D FORWARD -j DROP -m comment --comment nsscript:15_trouble_no_internet
iptables -t filter -A FORWARD -i docker0 -j ACCEPT -m comment --comment nsscript:15_trouble_no_internet
iptables -t filter -A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT -m comment --comment nsscript:15_trouble_no_internet
iptables -t filter -A FORWARD -j DROP -m comment --comment nsscript:15_trouble_no_internet

# == fixed: the container reaches the internet, by address and by name
# not checked in a plan (no packets are sent): assert.reachable(container, "203.0.113.8")
#   $ ip netns exec container getent hosts www.example.com
ip netns exec container getent hosts www.example.com || true
# not checked in a plan: assert.eq: None != "203.0.113.8"
#   $ ip netns exec container curl -sS --noproxy '*' --max-time 5 http://www.example.com/
ip netns exec container sh -c 'curl -sS --noproxy '\''*'\'' --max-time 5 http://www.example.com/' || true
# not checked in a plan: assert.eq: "" != "welcome to www.example.com\n"
# not checked in a plan: fail: gave up waiting for the DNS server to log "203.0.113.1 asked for A www.example.com: 203.0.113.8"
#   the DNS server's log: []

# ok: gateway, DNS, NAT and FORWARD chain fixed; the container reaches www.example.com
--- stderr (exit 0)
