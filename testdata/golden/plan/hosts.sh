#!/bin/sh
# nsscript plan scripts/bench/hosts.star (lab hosts): the commands that build what the script builds.
# Made against a model of a fresh host (as under --sandbox), without root and
# without changing anything. In a plan, exec runs nothing: each command is
# recorded below (to the script its output was empty, and with check=False
# it failed); background commands get $pidN. ping, assert.reachable and
# assert.unreachable send no packets, and a check that failed on what the
# plan cannot know is kept as a comment.
set -e
ip link add br0 type bridge
ip addr add 10.1.0.1/16 dev br0
ip link set br0 up
ip netns add h1
ip -n h1 link set lo up
ip -n h1 link add eth0 type veth peer name h1-br netns $$
sysctl -w net.ipv6.conf.h1-br.disable_ipv6=1
ip -n h1 addr add 10.1.1.1/16 dev eth0
ip -n h1 link set eth0 up
ip link set h1-br master br0
ip link set h1-br up
ip -n h1 route replace default via 10.1.0.1
ip netns add h2
ip -n h2 link set lo up
ip -n h2 link add eth0 type veth peer name h2-br netns $$
sysctl -w net.ipv6.conf.h2-br.disable_ipv6=1
ip -n h2 addr add 10.1.1.2/16 dev eth0
ip -n h2 link set eth0 up
ip link set h2-br master br0
ip link set h2-br up
ip -n h2 route replace default via 10.1.0.1
ip netns add h3
ip -n h3 link set lo up
ip -n h3 link add eth0 type veth peer name h3-br netns $$
sysctl -w net.ipv6.conf.h3-br.disable_ipv6=1
ip -n h3 addr add 10.1.1.3/16 dev eth0
ip -n h3 link set eth0 up
ip link set h3-br master br0
ip link set h3-br up
ip -n h3 route replace default via 10.1.0.1
ip netns add h4
ip -n h4 link set lo up
ip -n h4 link add eth0 type veth peer name h4-br netns $$
sysctl -w net.ipv6.conf.h4-br.disable_ipv6=1
ip -n h4 addr add 10.1.1.4/16 dev eth0
ip -n h4 link set eth0 up
ip link set h4-br master br0
ip link set h4-br up
ip -n h4 route replace default via 10.1.0.1
ip netns add h5
ip -n h5 link set lo up
ip -n h5 link add eth0 type veth peer name h5-br netns $$
sysctl -w net.ipv6.conf.h5-br.disable_ipv6=1
ip -n h5 addr add 10.1.1.5/16 dev eth0
ip -n h5 link set eth0 up
ip link set h5-br master br0
ip link set h5-br up
ip -n h5 route replace default via 10.1.0.1
ip netns add h6
ip -n h6 link set lo up
ip -n h6 link add eth0 type veth peer name h6-br netns $$
sysctl -w net.ipv6.conf.h6-br.disable_ipv6=1
ip -n h6 addr add 10.1.1.6/16 dev eth0
ip -n h6 link set eth0 up
ip link set h6-br master br0
ip link set h6-br up
ip -n h6 route replace default via 10.1.0.1
ip netns add h7
ip -n h7 link set lo up
ip -n h7 link add eth0 type veth peer name h7-br netns $$
sysctl -w net.ipv6.conf.h7-br.disable_ipv6=1
ip -n h7 addr add 10.1.1.7/16 dev eth0
ip -n h7 link set eth0 up
ip link set h7-br master br0
ip link set h7-br up
ip -n h7 route replace default via 10.1.0.1
ip netns add h8
ip -n h8 link set lo up
ip -n h8 link add eth0 type veth peer name h8-br netns $$
sysctl -w net.ipv6.conf.h8-br.disable_ipv6=1
ip -n h8 addr add 10.1.1.8/16 dev eth0
ip -n h8 link set eth0 up
ip link set h8-br master br0
ip link set h8-br up
ip -n h8 route replace default via 10.1.0.1
ip netns add h9
ip -n h9 link set lo up
ip -n h9 link add eth0 type veth peer name h9-br netns $$
sysctl -w net.ipv6.conf.h9-br.disable_ipv6=1
ip -n h9 addr add 10.1.1.9/16 dev eth0
ip -n h9 link set eth0 up
ip link set h9-br master br0
ip link set h9-br up
ip -n h9 route replace default via 10.1.0.1
ip netns add h10
ip -n h10 link set lo up
ip -n h10 link add eth0 type veth peer name h10-br netns $$
sysctl -w net.ipv6.conf.h10-br.disable_ipv6=1
ip -n h10 addr add 10.1.1.10/16 dev eth0
ip -n h10 link set eth0 up
ip link set h10-br master br0
ip link set h10-br up
ip -n h10 route replace default via 10.1.0.1
ip netns add h11
ip -n h11 link set lo up
ip -n h11 link add eth0 type veth peer name h11-br netns $$
sysctl -w net.ipv6.conf.h11-br.disable_ipv6=1
ip -n h11 addr add 10.1.1.11/16 dev eth0
ip -n h11 link set eth0 up
ip link set h11-br master br0
ip link set h11-br up
ip -n h11 route replace default via 10.1.0.1
ip netns add h12
ip -n h12 link set lo up
ip -n h12 link add eth0 type veth peer name h12-br netns $$
sysctl -w net.ipv6.conf.h12-br.disable_ipv6=1
ip -n h12 addr add 10.1.1.12/16 dev eth0
ip -n h12 link set eth0 up
ip link set h12-br master br0
ip link set h12-br up
ip -n h12 route replace default via 10.1.0.1
ip netns add h13
ip -n h13 link set lo up
ip -n h13 link add eth0 type veth peer name h13-br netns $$
sysctl -w net.ipv6.conf.h13-br.disable_ipv6=1
ip -n h13 addr add 10.1.1.13/16 dev eth0
ip -n h13 link set eth0 up
ip link set h13-br master br0
ip link set h13-br up
ip -n h13 route replace default via 10.1.0.1
ip netns add h14
ip -n h14 link set lo up
ip -n h14 link add eth0 type veth peer name h14-br netns $$
sysctl -w net.ipv6.conf.h14-br.disable_ipv6=1
ip -n h14 addr add 10.1.1.14/16 dev eth0
ip -n h14 link set eth0 up
ip link set h14-br master br0
ip link set h14-br up
ip -n h14 route replace default via 10.1.0.1
ip netns add h15
ip -n h15 link set lo up
ip -n h15 link add eth0 type veth peer name h15-br netns $$
sysctl -w net.ipv6.conf.h15-br.disable_ipv6=1
ip -n h15 addr add 10.1.1.15/16 dev eth0
ip -n h15 link set eth0 up
ip link set h15-br master br0
ip link set h15-br up
ip -n h15 route replace default via 10.1.0.1
ip netns add h16
ip -n h16 link set lo up
ip -n h16 link add eth0 type veth peer name h16-br netns $$
sysctl -w net.ipv6.conf.h16-br.disable_ipv6=1
ip -n h16 addr add 10.1.1.16/16 dev eth0
ip -n h16 link set eth0 up
ip link set h16-br master br0
ip link set h16-br up
ip -n h16 route replace default via 10.1.0.1
ip netns add h17
ip -n h17 link set lo up
ip -n h17 link add eth0 type veth peer name h17-br netns $$
sysctl -w net.ipv6.conf.h17-br.disable_ipv6=1
ip -n h17 addr add 10.1.1.17/16 dev eth0
ip -n h17 link set eth0 up
ip link set h17-br master br0
ip link set h17-br up
ip -n h17 route replace default via 10.1.0.1
ip netns add h18
ip -n h18 link set lo up
ip -n h18 link add eth0 type veth peer name h18-br netns $$
sysctl -w net.ipv6.conf.h18-br.disable_ipv6=1
ip -n h18 addr add 10.1.1.18/16 dev eth0
ip -n h18 link set eth0 up
ip link set h18-br master br0
ip link set h18-br up
ip -n h18 route replace default via 10.1.0.1
ip netns add h19
ip -n h19 link set lo up
ip -n h19 link add eth0 type veth peer name h19-br netns $$
sysctl -w net.ipv6.conf.h19-br.disable_ipv6=1
ip -n h19 addr add 10.1.1.19/16 dev eth0
ip -n h19 link set eth0 up
ip link set h19-br master br0
ip link set h19-br up
ip -n h19 route replace default via 10.1.0.1
ip netns add h20
ip -n h20 link set lo up
ip -n h20 link add eth0 type veth peer name h20-br netns $$
sysctl -w net.ipv6.conf.h20-br.disable_ipv6=1
ip -n h20 addr add 10.1.1.20/16 dev eth0
ip -n h20 link set eth0 up
ip link set h20-br master br0
ip link set h20-br up
ip -n h20 route replace default via 10.1.0.1
ip netns add h21
ip -n h21 link set lo up
ip -n h21 link add eth0 type veth peer name h21-br netns $$
sysctl -w net.ipv6.conf.h21-br.disable_ipv6=1
ip -n h21 addr add 10.1.1.21/16 dev eth0
ip -n h21 link set eth0 up
ip link set h21-br master br0
ip link set h21-br up
ip -n h21 route replace default via 10.1.0.1
ip netns add h22
ip -n h22 link set lo up
ip -n h22 link add eth0 type veth peer name h22-br netns $$
sysctl -w net.ipv6.conf.h22-br.disable_ipv6=1
ip -n h22 addr add 10.1.1.22/16 dev eth0
ip -n h22 link set eth0 up
ip link set h22-br master br0
ip link set h22-br up
ip -n h22 route replace default via 10.1.0.1
ip netns add h23
ip -n h23 link set lo up
ip -n h23 link add eth0 type veth peer name h23-br netns $$
sysctl -w net.ipv6.conf.h23-br.disable_ipv6=1
ip -n h23 addr add 10.1.1.23/16 dev eth0
ip -n h23 link set eth0 up
ip link set h23-br master br0
ip link set h23-br up
ip -n h23 route replace default via 10.1.0.1
ip netns add h24
ip -n h24 link set lo up
ip -n h24 link add eth0 type veth peer name h24-br netns $$
sysctl -w net.ipv6.conf.h24-br.disable_ipv6=1
ip -n h24 addr add 10.1.1.24/16 dev eth0
ip -n h24 link set eth0 up
ip link set h24-br master br0
ip link set h24-br up
ip -n h24 route replace default via 10.1.0.1
ip netns add h25
ip -n h25 link set lo up
ip -n h25 link add eth0 type veth peer name h25-br netns $$
sysctl -w net.ipv6.conf.h25-br.disable_ipv6=1
ip -n h25 addr add 10.1.1.25/16 dev eth0
ip -n h25 link set eth0 up
ip link set h25-br master br0
ip link set h25-br up
ip -n h25 route replace default via 10.1.0.1
ip netns add h26
ip -n h26 link set lo up
ip -n h26 link add eth0 type veth peer name h26-br netns $$
sysctl -w net.ipv6.conf.h26-br.disable_ipv6=1
ip -n h26 addr add 10.1.1.26/16 dev eth0
ip -n h26 link set eth0 up
ip link set h26-br master br0
ip link set h26-br up
ip -n h26 route replace default via 10.1.0.1
ip netns add h27
ip -n h27 link set lo up
ip -n h27 link add eth0 type veth peer name h27-br netns $$
sysctl -w net.ipv6.conf.h27-br.disable_ipv6=1
ip -n h27 addr add 10.1.1.27/16 dev eth0
ip -n h27 link set eth0 up
ip link set h27-br master br0
ip link set h27-br up
ip -n h27 route replace default via 10.1.0.1
ip netns add h28
ip -n h28 link set lo up
ip -n h28 link add eth0 type veth peer name h28-br netns $$
sysctl -w net.ipv6.conf.h28-br.disable_ipv6=1
ip -n h28 addr add 10.1.1.28/16 dev eth0
ip -n h28 link set eth0 up
ip link set h28-br master br0
ip link set h28-br up
ip -n h28 route replace default via 10.1.0.1
ip netns add h29
ip -n h29 link set lo up
ip -n h29 link add eth0 type veth peer name h29-br netns $$
sysctl -w net.ipv6.conf.h29-br.disable_ipv6=1
ip -n h29 addr add 10.1.1.29/16 dev eth0
ip -n h29 link set eth0 up
ip link set h29-br master br0
ip link set h29-br up
ip -n h29 route replace default via 10.1.0.1
ip netns add h30
ip -n h30 link set lo up
ip -n h30 link add eth0 type veth peer name h30-br netns $$
sysctl -w net.ipv6.conf.h30-br.disable_ipv6=1
ip -n h30 addr add 10.1.1.30/16 dev eth0
ip -n h30 link set eth0 up
ip link set h30-br master br0
ip link set h30-br up
ip -n h30 route replace default via 10.1.0.1
ip netns add h31
ip -n h31 link set lo up
ip -n h31 link add eth0 type veth peer name h31-br netns $$
sysctl -w net.ipv6.conf.h31-br.disable_ipv6=1
ip -n h31 addr add 10.1.1.31/16 dev eth0
ip -n h31 link set eth0 up
ip link set h31-br master br0
ip link set h31-br up
ip -n h31 route replace default via 10.1.0.1
ip netns add h32
ip -n h32 link set lo up
ip -n h32 link add eth0 type veth peer name h32-br netns $$
sysctl -w net.ipv6.conf.h32-br.disable_ipv6=1
ip -n h32 addr add 10.1.1.32/16 dev eth0
ip -n h32 link set eth0 up
ip link set h32-br master br0
ip link set h32-br up
ip -n h32 route replace default via 10.1.0.1
ip netns add h33
ip -n h33 link set lo up
ip -n h33 link add eth0 type veth peer name h33-br netns $$
sysctl -w net.ipv6.conf.h33-br.disable_ipv6=1
ip -n h33 addr add 10.1.1.33/16 dev eth0
ip -n h33 link set eth0 up
ip link set h33-br master br0
ip link set h33-br up
ip -n h33 route replace default via 10.1.0.1
ip netns add h34
ip -n h34 link set lo up
ip -n h34 link add eth0 type veth peer name h34-br netns $$
sysctl -w net.ipv6.conf.h34-br.disable_ipv6=1
ip -n h34 addr add 10.1.1.34/16 dev eth0
ip -n h34 link set eth0 up
ip link set h34-br master br0
ip link set h34-br up
ip -n h34 route replace default via 10.1.0.1
ip netns add h35
ip -n h35 link set lo up
ip -n h35 link add eth0 type veth peer name h35-br netns $$
sysctl -w net.ipv6.conf.h35-br.disable_ipv6=1
ip -n h35 addr add 10.1.1.35/16 dev eth0
ip -n h35 link set eth0 up
ip link set h35-br master br0
ip link set h35-br up
ip -n h35 route replace default via 10.1.0.1
ip netns add h36
ip -n h36 link set lo up
ip -n h36 link add eth0 type veth peer name h36-br netns $$
sysctl -w net.ipv6.conf.h36-br.disable_ipv6=1
ip -n h36 addr add 10.1.1.36/16 dev eth0
ip -n h36 link set eth0 up
ip link set h36-br master br0
ip link set h36-br up
ip -n h36 route replace default via 10.1.0.1
ip netns add h37
ip -n h37 link set lo up
ip -n h37 link add eth0 type veth peer name h37-br netns $$
sysctl -w net.ipv6.conf.h37-br.disable_ipv6=1
ip -n h37 addr add 10.1.1.37/16 dev eth0
ip -n h37 link set eth0 up
ip link set h37-br master br0
ip link set h37-br up
ip -n h37 route replace default via 10.1.0.1
ip netns add h38
ip -n h38 link set lo up
ip -n h38 link add eth0 type veth peer name h38-br netns $$
sysctl -w net.ipv6.conf.h38-br.disable_ipv6=1
ip -n h38 addr add 10.1.1.38/16 dev eth0
ip -n h38 link set eth0 up
ip link set h38-br master br0
ip link set h38-br up
ip -n h38 route replace default via 10.1.0.1
ip netns add h39
ip -n h39 link set lo up
ip -n h39 link add eth0 type veth peer name h39-br netns $$
sysctl -w net.ipv6.conf.h39-br.disable_ipv6=1
ip -n h39 addr add 10.1.1.39/16 dev eth0
ip -n h39 link set eth0 up
ip link set h39-br master br0
ip link set h39-br up
ip -n h39 route replace default via 10.1.0.1
ip netns add h40
ip -n h40 link set lo up
ip -n h40 link add eth0 type veth peer name h40-br netns $$
sysctl -w net.ipv6.conf.h40-br.disable_ipv6=1
ip -n h40 addr add 10.1.1.40/16 dev eth0
ip -n h40 link set eth0 up
ip link set h40-br master br0
ip link set h40-br up
ip -n h40 route replace default via 10.1.0.1
ip netns add h41
ip -n h41 link set lo up
ip -n h41 link add eth0 type veth peer name h41-br netns $$
sysctl -w net.ipv6.conf.h41-br.disable_ipv6=1
ip -n h41 addr add 10.1.1.41/16 dev eth0
ip -n h41 link set eth0 up
ip link set h41-br master br0
ip link set h41-br up
ip -n h41 route replace default via 10.1.0.1
ip netns add h42
ip -n h42 link set lo up
ip -n h42 link add eth0 type veth peer name h42-br netns $$
sysctl -w net.ipv6.conf.h42-br.disable_ipv6=1
ip -n h42 addr add 10.1.1.42/16 dev eth0
ip -n h42 link set eth0 up
ip link set h42-br master br0
ip link set h42-br up
ip -n h42 route replace default via 10.1.0.1
ip netns add h43
ip -n h43 link set lo up
ip -n h43 link add eth0 type veth peer name h43-br netns $$
sysctl -w net.ipv6.conf.h43-br.disable_ipv6=1
ip -n h43 addr add 10.1.1.43/16 dev eth0
ip -n h43 link set eth0 up
ip link set h43-br master br0
ip link set h43-br up
ip -n h43 route replace default via 10.1.0.1
ip netns add h44
ip -n h44 link set lo up
ip -n h44 link add eth0 type veth peer name h44-br netns $$
sysctl -w net.ipv6.conf.h44-br.disable_ipv6=1
ip -n h44 addr add 10.1.1.44/16 dev eth0
ip -n h44 link set eth0 up
ip link set h44-br master br0
ip link set h44-br up
ip -n h44 route replace default via 10.1.0.1
ip netns add h45
ip -n h45 link set lo up
ip -n h45 link add eth0 type veth peer name h45-br netns $$
sysctl -w net.ipv6.conf.h45-br.disable_ipv6=1
ip -n h45 addr add 10.1.1.45/16 dev eth0
ip -n h45 link set eth0 up
ip link set h45-br master br0
ip link set h45-br up
ip -n h45 route replace default via 10.1.0.1
ip netns add h46
ip -n h46 link set lo up
ip -n h46 link add eth0 type veth peer name h46-br netns $$
sysctl -w net.ipv6.conf.h46-br.disable_ipv6=1
ip -n h46 addr add 10.1.1.46/16 dev eth0
ip -n h46 link set eth0 up
ip link set h46-br master br0
ip link set h46-br up
ip -n h46 route replace default via 10.1.0.1
ip netns add h47
ip -n h47 link set lo up
ip -n h47 link add eth0 type veth peer name h47-br netns $$
sysctl -w net.ipv6.conf.h47-br.disable_ipv6=1
ip -n h47 addr add 10.1.1.47/16 dev eth0
ip -n h47 link set eth0 up
ip link set h47-br master br0
ip link set h47-br up
ip -n h47 route replace default via 10.1.0.1
ip netns add h48
ip -n h48 link set lo up
ip -n h48 link add eth0 type veth peer name h48-br netns $$
sysctl -w net.ipv6.conf.h48-br.disable_ipv6=1
ip -n h48 addr add 10.1.1.48/16 dev eth0
ip -n h48 link set eth0 up
ip link set h48-br master br0
ip link set h48-br up
ip -n h48 route replace default via 10.1.0.1
ip netns add h49
ip -n h49 link set lo up
ip -n h49 link add eth0 type veth peer name h49-br netns $$
sysctl -w net.ipv6.conf.h49-br.disable_ipv6=1
ip -n h49 addr add 10.1.1.49/16 dev eth0
ip -n h49 link set eth0 up
ip link set h49-br master br0
ip link set h49-br up
ip -n h49 route replace default via 10.1.0.1
ip netns add h50
ip -n h50 link set lo up
ip -n h50 link add eth0 type veth peer name h50-br netns $$
sysctl -w net.ipv6.conf.h50-br.disable_ipv6=1
ip -n h50 addr add 10.1.1.50/16 dev eth0
ip -n h50 link set eth0 up
ip link set h50-br master br0
ip link set h50-br up
ip -n h50 route replace default via 10.1.0.1
ip netns add h51
ip -n h51 link set lo up
ip -n h51 link add eth0 type veth peer name h51-br netns $$
sysctl -w net.ipv6.conf.h51-br.disable_ipv6=1
ip -n h51 addr add 10.1.1.51/16 dev eth0
ip -n h51 link set eth0 up
ip link set h51-br master br0
ip link set h51-br up
ip -n h51 route replace default via 10.1.0.1
ip netns add h52
ip -n h52 link set lo up
ip -n h52 link add eth0 type veth peer name h52-br netns $$
sysctl -w net.ipv6.conf.h52-br.disable_ipv6=1
ip -n h52 addr add 10.1.1.52/16 dev eth0
ip -n h52 link set eth0 up
ip link set h52-br master br0
ip link set h52-br up
ip -n h52 route replace default via 10.1.0.1
ip netns add h53
ip -n h53 link set lo up
ip -n h53 link add eth0 type veth peer name h53-br netns $$
sysctl -w net.ipv6.conf.h53-br.disable_ipv6=1
ip -n h53 addr add 10.1.1.53/16 dev eth0
ip -n h53 link set eth0 up
ip link set h53-br master br0
ip link set h53-br up
ip -n h53 route replace default via 10.1.0.1
ip netns add h54
ip -n h54 link set lo up
ip -n h54 link add eth0 type veth peer name h54-br netns $$
sysctl -w net.ipv6.conf.h54-br.disable_ipv6=1
ip -n h54 addr add 10.1.1.54/16 dev eth0
ip -n h54 link set eth0 up
ip link set h54-br master br0
ip link set h54-br up
ip -n h54 route replace default via 10.1.0.1
ip netns add h55
ip -n h55 link set lo up
ip -n h55 link add eth0 type veth peer name h55-br netns $$
sysctl -w net.ipv6.conf.h55-br.disable_ipv6=1
ip -n h55 addr add 10.1.1.55/16 dev eth0
ip -n h55 link set eth0 up
ip link set h55-br master br0
ip link set h55-br up
ip -n h55 route replace default via 10.1.0.1
ip netns add h56
ip -n h56 link set lo up
ip -n h56 link add eth0 type veth peer name h56-br netns $$
sysctl -w net.ipv6.conf.h56-br.disable_ipv6=1
ip -n h56 addr add 10.1.1.56/16 dev eth0
ip -n h56 link set eth0 up
ip link set h56-br master br0
ip link set h56-br up
ip -n h56 route replace default via 10.1.0.1
ip netns add h57
ip -n h57 link set lo up
ip -n h57 link add eth0 type veth peer name h57-br netns $$
sysctl -w net.ipv6.conf.h57-br.disable_ipv6=1
ip -n h57 addr add 10.1.1.57/16 dev eth0
ip -n h57 link set eth0 up
ip link set h57-br master br0
ip link set h57-br up
ip -n h57 route replace default via 10.1.0.1
ip netns add h58
ip -n h58 link set lo up
ip -n h58 link add eth0 type veth peer name h58-br netns $$
sysctl -w net.ipv6.conf.h58-br.disable_ipv6=1
ip -n h58 addr add 10.1.1.58/16 dev eth0
ip -n h58 link set eth0 up
ip link set h58-br master br0
ip link set h58-br up
ip -n h58 route replace default via 10.1.0.1
ip netns add h59
ip -n h59 link set lo up
ip -n h59 link add eth0 type veth peer name h59-br netns $$
sysctl -w net.ipv6.conf.h59-br.disable_ipv6=1
ip -n h59 addr add 10.1.1.59/16 dev eth0
ip -n h59 link set eth0 up
ip link set h59-br master br0
ip link set h59-br up
ip -n h59 route replace default via 10.1.0.1
ip netns add h60
ip -n h60 link set lo up
ip -n h60 link add eth0 type veth peer name h60-br netns $$
sysctl -w net.ipv6.conf.h60-br.disable_ipv6=1
ip -n h60 addr add 10.1.1.60/16 dev eth0
ip -n h60 link set eth0 up
ip link set h60-br master br0
ip link set h60-br up
ip -n h60 route replace default via 10.1.0.1
ip netns add h61
ip -n h61 link set lo up
ip -n h61 link add eth0 type veth peer name h61-br netns $$
sysctl -w net.ipv6.conf.h61-br.disable_ipv6=1
ip -n h61 addr add 10.1.1.61/16 dev eth0
ip -n h61 link set eth0 up
ip link set h61-br master br0
ip link set h61-br up
ip -n h61 route replace default via 10.1.0.1
ip netns add h62
ip -n h62 link set lo up
ip -n h62 link add eth0 type veth peer name h62-br netns $$
sysctl -w net.ipv6.conf.h62-br.disable_ipv6=1
ip -n h62 addr add 10.1.1.62/16 dev eth0
ip -n h62 link set eth0 up
ip link set h62-br master br0
ip link set h62-br up
ip -n h62 route replace default via 10.1.0.1
ip netns add h63
ip -n h63 link set lo up
ip -n h63 link add eth0 type veth peer name h63-br netns $$
sysctl -w net.ipv6.conf.h63-br.disable_ipv6=1
ip -n h63 addr add 10.1.1.63/16 dev eth0
ip -n h63 link set eth0 up
ip link set h63-br master br0
ip link set h63-br up
ip -n h63 route replace default via 10.1.0.1
ip netns add h64
ip -n h64 link set lo up
ip -n h64 link add eth0 type veth peer name h64-br netns $$
sysctl -w net.ipv6.conf.h64-br.disable_ipv6=1
ip -n h64 addr add 10.1.1.64/16 dev eth0
ip -n h64 link set eth0 up
ip link set h64-br master br0
ip link set h64-br up
ip -n h64 route replace default via 10.1.0.1
ip netns add h65
ip -n h65 link set lo up
ip -n h65 link add eth0 type veth peer name h65-br netns $$
sysctl -w net.ipv6.conf.h65-br.disable_ipv6=1
ip -n h65 addr add 10.1.1.65/16 dev eth0
ip -n h65 link set eth0 up
ip link set h65-br master br0
ip link set h65-br up
ip -n h65 route replace default via 10.1.0.1
ip netns add h66
ip -n h66 link set lo up
ip -n h66 link add eth0 type veth peer name h66-br netns $$
sysctl -w net.ipv6.conf.h66-br.disable_ipv6=1
ip -n h66 addr add 10.1.1.66/16 dev eth0
ip -n h66 link set eth0 up
ip link set h66-br master br0
ip link set h66-br up
ip -n h66 route replace default via 10.1.0.1
ip netns add h67
ip -n h67 link set lo up
ip -n h67 link add eth0 type veth peer name h67-br netns $$
sysctl -w net.ipv6.conf.h67-br.disable_ipv6=1
ip -n h67 addr add 10.1.1.67/16 dev eth0
ip -n h67 link set eth0 up
ip link set h67-br master br0
ip link set h67-br up
ip -n h67 route replace default via 10.1.0.1
ip netns add h68
ip -n h68 link set lo up
ip -n h68 link add eth0 type veth peer name h68-br netns $$
sysctl -w net.ipv6.conf.h68-br.disable_ipv6=1
ip -n h68 addr add 10.1.1.68/16 dev eth0
ip -n h68 link set eth0 up
ip link set h68-br master br0
ip link set h68-br up
ip -n h68 route replace default via 10.1.0.1
ip netns add h69
ip -n h69 link set lo up
ip -n h69 link add eth0 type veth peer name h69-br netns $$
sysctl -w net.ipv6.conf.h69-br.disable_ipv6=1
ip -n h69 addr add 10.1.1.69/16 dev eth0
ip -n h69 link set eth0 up
ip link set h69-br master br0
ip link set h69-br up
ip -n h69 route replace default via 10.1.0.1
ip netns add h70
ip -n h70 link set lo up
ip -n h70 link add eth0 type veth peer name h70-br netns $$
sysctl -w net.ipv6.conf.h70-br.disable_ipv6=1
ip -n h70 addr add 10.1.1.70/16 dev eth0
ip -n h70 link set eth0 up
ip link set h70-br master br0
ip link set h70-br up
ip -n h70 route replace default via 10.1.0.1
ip netns add h71
ip -n h71 link set lo up
ip -n h71 link add eth0 type veth peer name h71-br netns $$
sysctl -w net.ipv6.conf.h71-br.disable_ipv6=1
ip -n h71 addr add 10.1.1.71/16 dev eth0
ip -n h71 link set eth0 up
ip link set h71-br master br0
ip link set h71-br up
ip -n h71 route replace default via 10.1.0.1
ip netns add h72
ip -n h72 link set lo up
ip -n h72 link add eth0 type veth peer name h72-br netns $$
sysctl -w net.ipv6.conf.h72-br.disable_ipv6=1
ip -n h72 addr add 10.1.1.72/16 dev eth0
ip -n h72 link set eth0 up
ip link set h72-br master br0
ip link set h72-br up
ip -n h72 route replace default via 10.1.0.1
ip netns add h73
ip -n h73 link set lo up
ip -n h73 link add eth0 type veth peer name h73-br netns $$
sysctl -w net.ipv6.conf.h73-br.disable_ipv6=1
ip -n h73 addr add 10.1.1.73/16 dev eth0
ip -n h73 link set eth0 up
ip link set h73-br master br0
ip link set h73-br up
ip -n h73 route replace default via 10.1.0.1
ip netns add h74
ip -n h74 link set lo up
ip -n h74 link add eth0 type veth peer name h74-br netns $$
sysctl -w net.ipv6.conf.h74-br.disable_ipv6=1
ip -n h74 addr add 10.1.1.74/16 dev eth0
ip -n h74 link set eth0 up
ip link set h74-br master br0
ip link set h74-br up
ip -n h74 route replace default via 10.1.0.1
ip netns add h75
ip -n h75 link set lo up
ip -n h75 link add eth0 type veth peer name h75-br netns $$
sysctl -w net.ipv6.conf.h75-br.disable_ipv6=1
ip -n h75 addr add 10.1.1.75/16 dev eth0
ip -n h75 link set eth0 up
ip link set h75-br master br0
ip link set h75-br up
ip -n h75 route replace default via 10.1.0.1
ip netns add h76
ip -n h76 link set lo up
ip -n h76 link add eth0 type veth peer name h76-br netns $$
sysctl -w net.ipv6.conf.h76-br.disable_ipv6=1
ip -n h76 addr add 10.1.1.76/16 dev eth0
ip -n h76 link set eth0 up
ip link set h76-br master br0
ip link set h76-br up
ip -n h76 route replace default via 10.1.0.1
ip netns add h77
ip -n h77 link set lo up
ip -n h77 link add eth0 type veth peer name h77-br netns $$
sysctl -w net.ipv6.conf.h77-br.disable_ipv6=1
ip -n h77 addr add 10.1.1.77/16 dev eth0
ip -n h77 link set eth0 up
ip link set h77-br master br0
ip link set h77-br up
ip -n h77 route replace default via 10.1.0.1
ip netns add h78
ip -n h78 link set lo up
ip -n h78 link add eth0 type veth peer name h78-br netns $$
sysctl -w net.ipv6.conf.h78-br.disable_ipv6=1
ip -n h78 addr add 10.1.1.78/16 dev eth0
ip -n h78 link set eth0 up
ip link set h78-br master br0
ip link set h78-br up
ip -n h78 route replace default via 10.1.0.1
ip netns add h79
ip -n h79 link set lo up
ip -n h79 link add eth0 type veth peer name h79-br netns $$
sysctl -w net.ipv6.conf.h79-br.disable_ipv6=1
ip -n h79 addr add 10.1.1.79/16 dev eth0
ip -n h79 link set eth0 up
ip link set h79-br master br0
ip link set h79-br up
ip -n h79 route replace default via 10.1.0.1
ip netns add h80
ip -n h80 link set lo up
ip -n h80 link add eth0 type veth peer name h80-br netns $$
sysctl -w net.ipv6.conf.h80-br.disable_ipv6=1
ip -n h80 addr add 10.1.1.80/16 dev eth0
ip -n h80 link set eth0 up
ip link set h80-br master br0
ip link set h80-br up
ip -n h80 route replace default via 10.1.0.1
ip netns add h81
ip -n h81 link set lo up
ip -n h81 link add eth0 type veth peer name h81-br netns $$
sysctl -w net.ipv6.conf.h81-br.disable_ipv6=1
ip -n h81 addr add 10.1.1.81/16 dev eth0
ip -n h81 link set eth0 up
ip link set h81-br master br0
ip link set h81-br up
ip -n h81 route replace default via 10.1.0.1
ip netns add h82
ip -n h82 link set lo up
ip -n h82 link add eth0 type veth peer name h82-br netns $$
sysctl -w net.ipv6.conf.h82-br.disable_ipv6=1
ip -n h82 addr add 10.1.1.82/16 dev eth0
ip -n h82 link set eth0 up
ip link set h82-br master br0
ip link set h82-br up
ip -n h82 route replace default via 10.1.0.1
ip netns add h83
ip -n h83 link set lo up
ip -n h83 link add eth0 type veth peer name h83-br netns $$
sysctl -w net.ipv6.conf.h83-br.disable_ipv6=1
ip -n h83 addr add 10.1.1.83/16 dev eth0
ip -n h83 link set eth0 up
ip link set h83-br master br0
ip link set h83-br up
ip -n h83 route replace default via 10.1.0.1
ip netns add h84
ip -n h84 link set lo up
ip -n h84 link add eth0 type veth peer name h84-br netns $$
sysctl -w net.ipv6.conf.h84-br.disable_ipv6=1
ip -n h84 addr add 10.1.1.84/16 dev eth0
ip -n h84 link set eth0 up
ip link set h84-br master br0
ip link set h84-br up
ip -n h84 route replace default via 10.1.0.1
ip netns add h85
ip -n h85 link set lo up
ip -n h85 link add eth0 type veth peer name h85-br netns $$
sysctl -w net.ipv6.conf.h85-br.disable_ipv6=1
ip -n h85 addr add 10.1.1.85/16 dev eth0
ip -n h85 link set eth0 up
ip link set h85-br master br0
ip link set h85-br up
ip -n h85 route replace default via 10.1.0.1
ip netns add h86
ip -n h86 link set lo up
ip -n h86 link add eth0 type veth peer name h86-br netns $$
sysctl -w net.ipv6.conf.h86-br.disable_ipv6=1
ip -n h86 addr add 10.1.1.86/16 dev eth0
ip -n h86 link set eth0 up
ip link set h86-br master br0
ip link set h86-br up
ip -n h86 route replace default via 10.1.0.1
ip netns add h87
ip -n h87 link set lo up
ip -n h87 link add eth0 type veth peer name h87-br netns $$
sysctl -w net.ipv6.conf.h87-br.disable_ipv6=1
ip -n h87 addr add 10.1.1.87/16 dev eth0
ip -n h87 link set eth0 up
ip link set h87-br master br0
ip link set h87-br up
ip -n h87 route replace default via 10.1.0.1
ip netns add h88
ip -n h88 link set lo up
ip -n h88 link add eth0 type veth peer name h88-br netns $$
sysctl -w net.ipv6.conf.h88-br.disable_ipv6=1
ip -n h88 addr add 10.1.1.88/16 dev eth0
ip -n h88 link set eth0 up
ip link set h88-br master br0
ip link set h88-br up
ip -n h88 route replace default via 10.1.0.1
ip netns add h89
ip -n h89 link set lo up
ip -n h89 link add eth0 type veth peer name h89-br netns $$
sysctl -w net.ipv6.conf.h89-br.disable_ipv6=1
ip -n h89 addr add 10.1.1.89/16 dev eth0
ip -n h89 link set eth0 up
ip link set h89-br master br0
ip link set h89-br up
ip -n h89 route replace default via 10.1.0.1
ip netns add h90
ip -n h90 link set lo up
ip -n h90 link add eth0 type veth peer name h90-br netns $$
sysctl -w net.ipv6.conf.h90-br.disable_ipv6=1
ip -n h90 addr add 10.1.1.90/16 dev eth0
ip -n h90 link set eth0 up
ip link set h90-br master br0
ip link set h90-br up
ip -n h90 route replace default via 10.1.0.1
ip netns add h91
ip -n h91 link set lo up
ip -n h91 link add eth0 type veth peer name h91-br netns $$
sysctl -w net.ipv6.conf.h91-br.disable_ipv6=1
ip -n h91 addr add 10.1.1.91/16 dev eth0
ip -n h91 link set eth0 up
ip link set h91-br master br0
ip link set h91-br up
ip -n h91 route replace default via 10.1.0.1
ip netns add h92
ip -n h92 link set lo up
ip -n h92 link add eth0 type veth peer name h92-br netns $$
sysctl -w net.ipv6.conf.h92-br.disable_ipv6=1
ip -n h92 addr add 10.1.1.92/16 dev eth0
ip -n h92 link set eth0 up
ip link set h92-br master br0
ip link set h92-br up
ip -n h92 route replace default via 10.1.0.1
ip netns add h93
ip -n h93 link set lo up
ip -n h93 link add eth0 type veth peer name h93-br netns $$
sysctl -w net.ipv6.conf.h93-br.disable_ipv6=1
ip -n h93 addr add 10.1.1.93/16 dev eth0
ip -n h93 link set eth0 up
ip link set h93-br master br0
ip link set h93-br up
ip -n h93 route replace default via 10.1.0.1
ip netns add h94
ip -n h94 link set lo up
ip -n h94 link add eth0 type veth peer name h94-br netns $$
sysctl -w net.ipv6.conf.h94-br.disable_ipv6=1
ip -n h94 addr add 10.1.1.94/16 dev eth0
ip -n h94 link set eth0 up
ip link set h94-br master br0
ip link set h94-br up
ip -n h94 route replace default via 10.1.0.1
ip netns add h95
ip -n h95 link set lo up
ip -n h95 link add eth0 type veth peer name h95-br netns $$
sysctl -w net.ipv6.conf.h95-br.disable_ipv6=1
ip -n h95 addr add 10.1.1.95/16 dev eth0
ip -n h95 link set eth0 up
ip link set h95-br master br0
ip link set h95-br up
ip -n h95 route replace default via 10.1.0.1
ip netns add h96
ip -n h96 link set lo up
ip -n h96 link add eth0 type veth peer name h96-br netns $$
sysctl -w net.ipv6.conf.h96-br.disable_ipv6=1
ip -n h96 addr add 10.1.1.96/16 dev eth0
ip -n h96 link set eth0 up
ip link set h96-br master br0
ip link set h96-br up
ip -n h96 route replace default via 10.1.0.1
ip netns add h97
ip -n h97 link set lo up
ip -n h97 link add eth0 type veth peer name h97-br netns $$
sysctl -w net.ipv6.conf.h97-br.disable_ipv6=1
ip -n h97 addr add 10.1.1.97/16 dev eth0
ip -n h97 link set eth0 up
ip link set h97-br master br0
ip link set h97-br up
ip -n h97 route replace default via 10.1.0.1
ip netns add h98
ip -n h98 link set lo up
ip -n h98 link add eth0 type veth peer name h98-br netns $$
sysctl -w net.ipv6.conf.h98-br.disable_ipv6=1
ip -n h98 addr add 10.1.1.98/16 dev eth0
ip -n h98 link set eth0 up
ip link set h98-br master br0
ip link set h98-br up
ip -n h98 route replace default via 10.1.0.1
ip netns add h99
ip -n h99 link set lo up
ip -n h99 link add eth0 type veth peer name h99-br netns $$
sysctl -w net.ipv6.conf.h99-br.disable_ipv6=1
ip -n h99 addr add 10.1.1.99/16 dev eth0
ip -n h99 link set eth0 up
ip link set h99-br master br0
ip link set h99-br up
ip -n h99 route replace default via 10.1.0.1
ip netns add h100
ip -n h100 link set lo up
ip -n h100 link add eth0 type veth peer name h100-br netns $$
sysctl -w net.ipv6.conf.h100-br.disable_ipv6=1
ip -n h100 addr add 10.1.1.100/16 dev eth0
ip -n h100 link set eth0 up
ip link set h100-br master br0
ip link set h100-br up
ip -n h100 route replace default via 10.1.0.1
ip netns add h101
ip -n h101 link set lo up
ip -n h101 link add eth0 type veth peer name h101-br netns $$
sysctl -w net.ipv6.conf.h101-br.disable_ipv6=1
ip -n h101 addr add 10.1.1.101/16 dev eth0
ip -n h101 link set eth0 up
ip link set h101-br master br0
ip link set h101-br up
ip -n h101 route replace default via 10.1.0.1
ip netns add h102
ip -n h102 link set lo up
ip -n h102 link add eth0 type veth peer name h102-br netns $$
sysctl -w net.ipv6.conf.h102-br.disable_ipv6=1
ip -n h102 addr add 10.1.1.102/16 dev eth0
ip -n h102 link set eth0 up
ip link set h102-br master br0
ip link set h102-br up
ip -n h102 route replace default via 10.1.0.1
ip netns add h103
ip -n h103 link set lo up
ip -n h103 link add eth0 type veth peer name h103-br netns $$
sysctl -w net.ipv6.conf.h103-br.disable_ipv6=1
ip -n h103 addr add 10.1.1.103/16 dev eth0
ip -n h103 link set eth0 up
ip link set h103-br master br0
ip link set h103-br up
ip -n h103 route replace default via 10.1.0.1
ip netns add h104
ip -n h104 link set lo up
ip -n h104 link add eth0 type veth peer name h104-br netns $$
sysctl -w net.ipv6.conf.h104-br.disable_ipv6=1
ip -n h104 addr add 10.1.1.104/16 dev eth0
ip -n h104 link set eth0 up
ip link set h104-br master br0
ip link set h104-br up
ip -n h104 route replace default via 10.1.0.1
ip netns add h105
ip -n h105 link set lo up
ip -n h105 link add eth0 type veth peer name h105-br netns $$
sysctl -w net.ipv6.conf.h105-br.disable_ipv6=1
ip -n h105 addr add 10.1.1.105/16 dev eth0
ip -n h105 link set eth0 up
ip link set h105-br master br0
ip link set h105-br up
ip -n h105 route replace default via 10.1.0.1
ip netns add h106
ip -n h106 link set lo up
ip -n h106 link add eth0 type veth peer name h106-br netns $$
sysctl -w net.ipv6.conf.h106-br.disable_ipv6=1
ip -n h106 addr add 10.1.1.106/16 dev eth0
ip -n h106 link set eth0 up
ip link set h106-br master br0
ip link set h106-br up
ip -n h106 route replace default via 10.1.0.1
ip netns add h107
ip -n h107 link set lo up
ip -n h107 link add eth0 type veth peer name h107-br netns $$
sysctl -w net.ipv6.conf.h107-br.disable_ipv6=1
ip -n h107 addr add 10.1.1.107/16 dev eth0
ip -n h107 link set eth0 up
ip link set h107-br master br0
ip link set h107-br up
ip -n h107 route replace default via 10.1.0.1
ip netns add h108
ip -n h108 link set lo up
ip -n h108 link add eth0 type veth peer name h108-br netns $$
sysctl -w net.ipv6.conf.h108-br.disable_ipv6=1
ip -n h108 addr add 10.1.1.108/16 dev eth0
ip -n h108 link set eth0 up
ip link set h108-br master br0
ip link set h108-br up
ip -n h108 route replace default via 10.1.0.1
ip netns add h109
ip -n h109 link set lo up
ip -n h109 link add eth0 type veth peer name h109-br netns $$
sysctl -w net.ipv6.conf.h109-br.disable_ipv6=1
ip -n h109 addr add 10.1.1.109/16 dev eth0
ip -n h109 link set eth0 up
ip link set h109-br master br0
ip link set h109-br up
ip -n h109 route replace default via 10.1.0.1
ip netns add h110
ip -n h110 link set lo up
ip -n h110 link add eth0 type veth peer name h110-br netns $$
sysctl -w net.ipv6.conf.h110-br.disable_ipv6=1
ip -n h110 addr add 10.1.1.110/16 dev eth0
ip -n h110 link set eth0 up
ip link set h110-br master br0
ip link set h110-br up
ip -n h110 route replace default via 10.1.0.1
ip netns add h111
ip -n h111 link set lo up
ip -n h111 link add eth0 type veth peer name h111-br netns $$
sysctl -w net.ipv6.conf.h111-br.disable_ipv6=1
ip -n h111 addr add 10.1.1.111/16 dev eth0
ip -n h111 link set eth0 up
ip link set h111-br master br0
ip link set h111-br up
ip -n h111 route replace default via 10.1.0.1
ip netns add h112
ip -n h112 link set lo up
ip -n h112 link add eth0 type veth peer name h112-br netns $$
sysctl -w net.ipv6.conf.h112-br.disable_ipv6=1
ip -n h112 addr add 10.1.1.112/16 dev eth0
ip -n h112 link set eth0 up
ip link set h112-br master br0
ip link set h112-br up
ip -n h112 route replace default via 10.1.0.1
ip netns add h113
ip -n h113 link set lo up
ip -n h113 link add eth0 type veth peer name h113-br netns $$
sysctl -w net.ipv6.conf.h113-br.disable_ipv6=1
ip -n h113 addr add 10.1.1.113/16 dev eth0
ip -n h113 link set eth0 up
ip link set h113-br master br0
ip link set h113-br up
ip -n h113 route replace default via 10.1.0.1
ip netns add h114
ip -n h114 link set lo up
ip -n h114 link add eth0 type veth peer name h114-br netns $$
sysctl -w net.ipv6.conf.h114-br.disable_ipv6=1
ip -n h114 addr add 10.1.1.114/16 dev eth0
ip -n h114 link set eth0 up
ip link set h114-br master br0
ip link set h114-br up
ip -n h114 route replace default via 10.1.0.1
ip netns add h115
ip -n h115 link set lo up
ip -n h115 link add eth0 type veth peer name h115-br netns $$
sysctl -w net.ipv6.conf.h115-br.disable_ipv6=1
ip -n h115 addr add 10.1.1.115/16 dev eth0
ip -n h115 link set eth0 up
ip link set h115-br master br0
ip link set h115-br up
ip -n h115 route replace default via 10.1.0.1
ip netns add h116
ip -n h116 link set lo up
ip -n h116 link add eth0 type veth peer name h116-br netns $$
sysctl -w net.ipv6.conf.h116-br.disable_ipv6=1
ip -n h116 addr add 10.1.1.116/16 dev eth0
ip -n h116 link set eth0 up
ip link set h116-br master br0
ip link set h116-br up
ip -n h116 route replace default via 10.1.0.1
ip netns add h117
ip -n h117 link set lo up
ip -n h117 link add eth0 type veth peer name h117-br netns $$
sysctl -w net.ipv6.conf.h117-br.disable_ipv6=1
ip -n h117 addr add 10.1.1.117/16 dev eth0
ip -n h117 link set eth0 up
ip link set h117-br master br0
ip link set h117-br up
ip -n h117 route replace default via 10.1.0.1
ip netns add h118
ip -n h118 link set lo up
ip -n h118 link add eth0 type veth peer name h118-br netns $$
sysctl -w net.ipv6.conf.h118-br.disable_ipv6=1
ip -n h118 addr add 10.1.1.118/16 dev eth0
ip -n h118 link set eth0 up
ip link set h118-br master br0
ip link set h118-br up
ip -n h118 route replace default via 10.1.0.1
ip netns add h119
ip -n h119 link set lo up
ip -n h119 link add eth0 type veth peer name h119-br netns $$
sysctl -w net.ipv6.conf.h119-br.disable_ipv6=1
ip -n h119 addr add 10.1.1.119/16 dev eth0
ip -n h119 link set eth0 up
ip link set h119-br master br0
ip link set h119-br up
ip -n h119 route replace default via 10.1.0.1
ip netns add h120
ip -n h120 link set lo up
ip -n h120 link add eth0 type veth peer name h120-br netns $$
sysctl -w net.ipv6.conf.h120-br.disable_ipv6=1
ip -n h120 addr add 10.1.1.120/16 dev eth0
ip -n h120 link set eth0 up
ip link set h120-br master br0
ip link set h120-br up
ip -n h120 route replace default via 10.1.0.1
ip netns add h121
ip -n h121 link set lo up
ip -n h121 link add eth0 type veth peer name h121-br netns $$
sysctl -w net.ipv6.conf.h121-br.disable_ipv6=1
ip -n h121 addr add 10.1.1.121/16 dev eth0
ip -n h121 link set eth0 up
ip link set h121-br master br0
ip link set h121-br up
ip -n h121 route replace default via 10.1.0.1
ip netns add h122
ip -n h122 link set lo up
ip -n h122 link add eth0 type veth peer name h122-br netns $$
sysctl -w net.ipv6.conf.h122-br.disable_ipv6=1
ip -n h122 addr add 10.1.1.122/16 dev eth0
ip -n h122 link set eth0 up
ip link set h122-br master br0
ip link set h122-br up
ip -n h122 route replace default via 10.1.0.1
ip netns add h123
ip -n h123 link set lo up
ip -n h123 link add eth0 type veth peer name h123-br netns $$
sysctl -w net.ipv6.conf.h123-br.disable_ipv6=1
ip -n h123 addr add 10.1.1.123/16 dev eth0
ip -n h123 link set eth0 up
ip link set h123-br master br0
ip link set h123-br up
ip -n h123 route replace default via 10.1.0.1
ip netns add h124
ip -n h124 link set lo up
ip -n h124 link add eth0 type veth peer name h124-br netns $$
sysctl -w net.ipv6.conf.h124-br.disable_ipv6=1
ip -n h124 addr add 10.1.1.124/16 dev eth0
ip -n h124 link set eth0 up
ip link set h124-br master br0
ip link set h124-br up
ip -n h124 route replace default via 10.1.0.1
ip netns add h125
ip -n h125 link set lo up
ip -n h125 link add eth0 type veth peer name h125-br netns $$
sysctl -w net.ipv6.conf.h125-br.disable_ipv6=1
ip -n h125 addr add 10.1.1.125/16 dev eth0
ip -n h125 link set eth0 up
ip link set h125-br master br0
ip link set h125-br up
ip -n h125 route replace default via 10.1.0.1
ip netns add h126
ip -n h126 link set lo up
ip -n h126 link add eth0 type veth peer name h126-br netns $$
sysctl -w net.ipv6.conf.h126-br.disable_ipv6=1
ip -n h126 addr add 10.1.1.126/16 dev eth0
ip -n h126 link set eth0 up
ip link set h126-br master br0
ip link set h126-br up
ip -n h126 route replace default via 10.1.0.1
ip netns add h127
ip -n h127 link set lo up
ip -n h127 link add eth0 type veth peer name h127-br netns $$
sysctl -w net.ipv6.conf.h127-br.disable_ipv6=1
ip -n h127 addr add 10.1.1.127/16 dev eth0
ip -n h127 link set eth0 up
ip link set h127-br master br0
ip link set h127-br up
ip -n h127 route replace default via 10.1.0.1
ip netns add h128
ip -n h128 link set lo up
ip -n h128 link add eth0 type veth peer name h128-br netns $$
sysctl -w net.ipv6.conf.h128-br.disable_ipv6=1
ip -n h128 addr add 10.1.1.128/16 dev eth0
ip -n h128 link set eth0 up
ip link set h128-br master br0
ip link set h128-br up
ip -n h128 route replace default via 10.1.0.1
ip netns add h129
ip -n h129 link set lo up
ip -n h129 link add eth0 type veth peer name h129-br netns $$
sysctl -w net.ipv6.conf.h129-br.disable_ipv6=1
ip -n h129 addr add 10.1.1.129/16 dev eth0
ip -n h129 link set eth0 up
ip link set h129-br master br0
ip link set h129-br up
ip -n h129 route replace default via 10.1.0.1
ip netns add h130
ip -n h130 link set lo up
ip -n h130 link add eth0 type veth peer name h130-br netns $$
sysctl -w net.ipv6.conf.h130-br.disable_ipv6=1
ip -n h130 addr add 10.1.1.130/16 dev eth0
ip -n h130 link set eth0 up
ip link set h130-br master br0
ip link set h130-br up
ip -n h130 route replace default via 10.1.0.1
ip netns add h131
ip -n h131 link set lo up
ip -n h131 link add eth0 type veth peer name h131-br netns $$
sysctl -w net.ipv6.conf.h131-br.disable_ipv6=1
ip -n h131 addr add 10.1.1.131/16 dev eth0
ip -n h131 link set eth0 up
ip link set h131-br master br0
ip link set h131-br up
ip -n h131 route replace default via 10.1.0.1
ip netns add h132
ip -n h132 link set lo up
ip -n h132 link add eth0 type veth peer name h132-br netns $$
sysctl -w net.ipv6.conf.h132-br.disable_ipv6=1
ip -n h132 addr add 10.1.1.132/16 dev eth0
ip -n h132 link set eth0 up
ip link set h132-br master br0
ip link set h132-br up
ip -n h132 route replace default via 10.1.0.1
ip netns add h133
ip -n h133 link set lo up
ip -n h133 link add eth0 type veth peer name h133-br netns $$
sysctl -w net.ipv6.conf.h133-br.disable_ipv6=1
ip -n h133 addr add 10.1.1.133/16 dev eth0
ip -n h133 link set eth0 up
ip link set h133-br master br0
ip link set h133-br up
ip -n h133 route replace default via 10.1.0.1
ip netns add h134
ip -n h134 link set lo up
ip -n h134 link add eth0 type veth peer name h134-br netns $$
sysctl -w net.ipv6.conf.h134-br.disable_ipv6=1
ip -n h134 addr add 10.1.1.134/16 dev eth0
ip -n h134 link set eth0 up
ip link set h134-br master br0
ip link set h134-br up
ip -n h134 route replace default via 10.1.0.1
ip netns add h135
ip -n h135 link set lo up
ip -n h135 link add eth0 type veth peer name h135-br netns $$
sysctl -w net.ipv6.conf.h135-br.disable_ipv6=1
ip -n h135 addr add 10.1.1.135/16 dev eth0
ip -n h135 link set eth0 up
ip link set h135-br master br0
ip link set h135-br up
ip -n h135 route replace default via 10.1.0.1
ip netns add h136
ip -n h136 link set lo up
ip -n h136 link add eth0 type veth peer name h136-br netns $$
sysctl -w net.ipv6.conf.h136-br.disable_ipv6=1
ip -n h136 addr add 10.1.1.136/16 dev eth0
ip -n h136 link set eth0 up
ip link set h136-br master br0
ip link set h136-br up
ip -n h136 route replace default via 10.1.0.1
ip netns add h137
ip -n h137 link set lo up
ip -n h137 link add eth0 type veth peer name h137-br netns $$
sysctl -w net.ipv6.conf.h137-br.disable_ipv6=1
ip -n h137 addr add 10.1.1.137/16 dev eth0
ip -n h137 link set eth0 up
ip link set h137-br master br0
ip link set h137-br up
ip -n h137 route replace default via 10.1.0.1
ip netns add h138
ip -n h138 link set lo up
ip -n h138 link add eth0 type veth peer name h138-br netns $$
sysctl -w net.ipv6.conf.h138-br.disable_ipv6=1
ip -n h138 addr add 10.1.1.138/16 dev eth0
ip -n h138 link set eth0 up
ip link set h138-br master br0
ip link set h138-br up
ip -n h138 route replace default via 10.1.0.1
ip netns add h139
ip -n h139 link set lo up
ip -n h139 link add eth0 type veth peer name h139-br netns $$
sysctl -w net.ipv6.conf.h139-br.disable_ipv6=1
ip -n h139 addr add 10.1.1.139/16 dev eth0
ip -n h139 link set eth0 up
ip link set h139-br master br0
ip link set h139-br up
ip -n h139 route replace default via 10.1.0.1
ip netns add h140
ip -n h140 link set lo up
ip -n h140 link add eth0 type veth peer name h140-br netns $$
sysctl -w net.ipv6.conf.h140-br.disable_ipv6=1
ip -n h140 addr add 10.1.1.140/16 dev eth0
ip -n h140 link set eth0 up
ip link set h140-br master br0
ip link set h140-br up
ip -n h140 route replace default via 10.1.0.1
ip netns add h141
ip -n h141 link set lo up
ip -n h141 link add eth0 type veth peer name h141-br netns $$
sysctl -w net.ipv6.conf.h141-br.disable_ipv6=1
ip -n h141 addr add 10.1.1.141/16 dev eth0
ip -n h141 link set eth0 up
ip link set h141-br master br0
ip link set h141-br up
ip -n h141 route replace default via 10.1.0.1
ip netns add h142
ip -n h142 link set lo up
ip -n h142 link add eth0 type veth peer name h142-br netns $$
sysctl -w net.ipv6.conf.h142-br.disable_ipv6=1
ip -n h142 addr add 10.1.1.142/16 dev eth0
ip -n h142 link set eth0 up
ip link set h142-br master br0
ip link set h142-br up
ip -n h142 route replace default via 10.1.0.1
ip netns add h143
ip -n h143 link set lo up
ip -n h143 link add eth0 type veth peer name h143-br netns $$
sysctl -w net.ipv6.conf.h143-br.disable_ipv6=1
ip -n h143 addr add 10.1.1.143/16 dev eth0
ip -n h143 link set eth0 up
ip link set h143-br master br0
ip link set h143-br up
ip -n h143 route replace default via 10.1.0.1
ip netns add h144
ip -n h144 link set lo up
ip -n h144 link add eth0 type veth peer name h144-br netns $$
sysctl -w net.ipv6.conf.h144-br.disable_ipv6=1
ip -n h144 addr add 10.1.1.144/16 dev eth0
ip -n h144 link set eth0 up
ip link set h144-br master br0
ip link set h144-br up
ip -n h144 route replace default via 10.1.0.1
ip netns add h145
ip -n h145 link set lo up
ip -n h145 link add eth0 type veth peer name h145-br netns $$
sysctl -w net.ipv6.conf.h145-br.disable_ipv6=1
ip -n h145 addr add 10.1.1.145/16 dev eth0
ip -n h145 link set eth0 up
ip link set h145-br master br0
ip link set h145-br up
ip -n h145 route replace default via 10.1.0.1
ip netns add h146
ip -n h146 link set lo up
ip -n h146 link add eth0 type veth peer name h146-br netns $$
sysctl -w net.ipv6.conf.h146-br.disable_ipv6=1
ip -n h146 addr add 10.1.1.146/16 dev eth0
ip -n h146 link set eth0 up
ip link set h146-br master br0
ip link set h146-br up
ip -n h146 route replace default via 10.1.0.1
ip netns add h147
ip -n h147 link set lo up
ip -n h147 link add eth0 type veth peer name h147-br netns $$
sysctl -w net.ipv6.conf.h147-br.disable_ipv6=1
ip -n h147 addr add 10.1.1.147/16 dev eth0
ip -n h147 link set eth0 up
ip link set h147-br master br0
ip link set h147-br up
ip -n h147 route replace default via 10.1.0.1
ip netns add h148
ip -n h148 link set lo up
ip -n h148 link add eth0 type veth peer name h148-br netns $$
sysctl -w net.ipv6.conf.h148-br.disable_ipv6=1
ip -n h148 addr add 10.1.1.148/16 dev eth0
ip -n h148 link set eth0 up
ip link set h148-br master br0
ip link set h148-br up
ip -n h148 route replace default via 10.1.0.1
ip netns add h149
ip -n h149 link set lo up
ip -n h149 link add eth0 type veth peer name h149-br netns $$
sysctl -w net.ipv6.conf.h149-br.disable_ipv6=1
ip -n h149 addr add 10.1.1.149/16 dev eth0
ip -n h149 link set eth0 up
ip link set h149-br master br0
ip link set h149-br up
ip -n h149 route replace default via 10.1.0.1
ip netns add h150
ip -n h150 link set lo up
ip -n h150 link add eth0 type veth peer name h150-br netns $$
sysctl -w net.ipv6.conf.h150-br.disable_ipv6=1
ip -n h150 addr add 10.1.1.150/16 dev eth0
ip -n h150 link set eth0 up
ip link set h150-br master br0
ip link set h150-br up
ip -n h150 route replace default via 10.1.0.1
ip netns add h151
ip -n h151 link set lo up
ip -n h151 link add eth0 type veth peer name h151-br netns $$
sysctl -w net.ipv6.conf.h151-br.disable_ipv6=1
ip -n h151 addr add 10.1.1.151/16 dev eth0
ip -n h151 link set eth0 up
ip link set h151-br master br0
ip link set h151-br up
ip -n h151 route replace default via 10.1.0.1
ip netns add h152
ip -n h152 link set lo up
ip -n h152 link add eth0 type veth peer name h152-br netns $$
sysctl -w net.ipv6.conf.h152-br.disable_ipv6=1
ip -n h152 addr add 10.1.1.152/16 dev eth0
ip -n h152 link set eth0 up
ip link set h152-br master br0
ip link set h152-br up
ip -n h152 route replace default via 10.1.0.1
ip netns add h153
ip -n h153 link set lo up
ip -n h153 link add eth0 type veth peer name h153-br netns $$
sysctl -w net.ipv6.conf.h153-br.disable_ipv6=1
ip -n h153 addr add 10.1.1.153/16 dev eth0
ip -n h153 link set eth0 up
ip link set h153-br master br0
ip link set h153-br up
ip -n h153 route replace default via 10.1.0.1
ip netns add h154
ip -n h154 link set lo up
ip -n h154 link add eth0 type veth peer name h154-br netns $$
sysctl -w net.ipv6.conf.h154-br.disable_ipv6=1
ip -n h154 addr add 10.1.1.154/16 dev eth0
ip -n h154 link set eth0 up
ip link set h154-br master br0
ip link set h154-br up
ip -n h154 route replace default via 10.1.0.1
ip netns add h155
ip -n h155 link set lo up
ip -n h155 link add eth0 type veth peer name h155-br netns $$
sysctl -w net.ipv6.conf.h155-br.disable_ipv6=1
ip -n h155 addr add 10.1.1.155/16 dev eth0
ip -n h155 link set eth0 up
ip link set h155-br master br0
ip link set h155-br up
ip -n h155 route replace default via 10.1.0.1
ip netns add h156
ip -n h156 link set lo up
ip -n h156 link add eth0 type veth peer name h156-br netns $$
sysctl -w net.ipv6.conf.h156-br.disable_ipv6=1
ip -n h156 addr add 10.1.1.156/16 dev eth0
ip -n h156 link set eth0 up
ip link set h156-br master br0
ip link set h156-br up
ip -n h156 route replace default via 10.1.0.1
ip netns add h157
ip -n h157 link set lo up
ip -n h157 link add eth0 type veth peer name h157-br netns $$
sysctl -w net.ipv6.conf.h157-br.disable_ipv6=1
ip -n h157 addr add 10.1.1.157/16 dev eth0
ip -n h157 link set eth0 up
ip link set h157-br master br0
ip link set h157-br up
ip -n h157 route replace default via 10.1.0.1
ip netns add h158
ip -n h158 link set lo up
ip -n h158 link add eth0 type veth peer name h158-br netns $$
sysctl -w net.ipv6.conf.h158-br.disable_ipv6=1
ip -n h158 addr add 10.1.1.158/16 dev eth0
ip -n h158 link set eth0 up
ip link set h158-br master br0
ip link set h158-br up
ip -n h158 route replace default via 10.1.0.1
ip netns add h159
ip -n h159 link set lo up
ip -n h159 link add eth0 type veth peer name h159-br netns $$
sysctl -w net.ipv6.conf.h159-br.disable_ipv6=1
ip -n h159 addr add 10.1.1.159/16 dev eth0
ip -n h159 link set eth0 up
ip link set h159-br master br0
ip link set h159-br up
ip -n h159 route replace default via 10.1.0.1
ip netns add h160
ip -n h160 link set lo up
ip -n h160 link add eth0 type veth peer name h160-br netns $$
sysctl -w net.ipv6.conf.h160-br.disable_ipv6=1
ip -n h160 addr add 10.1.1.160/16 dev eth0
ip -n h160 link set eth0 up
ip link set h160-br master br0
ip link set h160-br up
ip -n h160 route replace default via 10.1.0.1
ip netns add h161
ip -n h161 link set lo up
ip -n h161 link add eth0 type veth peer name h161-br netns $$
sysctl -w net.ipv6.conf.h161-br.disable_ipv6=1
ip -n h161 addr add 10.1.1.161/16 dev eth0
ip -n h161 link set eth0 up
ip link set h161-br master br0
ip link set h161-br up
ip -n h161 route replace default via 10.1.0.1
ip netns add h162
ip -n h162 link set lo up
ip -n h162 link add eth0 type veth peer name h162-br netns $$
sysctl -w net.ipv6.conf.h162-br.disable_ipv6=1
ip -n h162 addr add 10.1.1.162/16 dev eth0
ip -n h162 link set eth0 up
ip link set h162-br master br0
ip link set h162-br up
ip -n h162 route replace default via 10.1.0.1
ip netns add h163
ip -n h163 link set lo up
ip -n h163 link add eth0 type veth peer name h163-br netns $$
sysctl -w net.ipv6.conf.h163-br.disable_ipv6=1
ip -n h163 addr add 10.1.1.163/16 dev eth0
ip -n h163 link set eth0 up
ip link set h163-br master br0
ip link set h163-br up
ip -n h163 route replace default via 10.1.0.1
ip netns add h164
ip -n h164 link set lo up
ip -n h164 link add eth0 type veth peer name h164-br netns $$
sysctl -w net.ipv6.conf.h164-br.disable_ipv6=1
ip -n h164 addr add 10.1.1.164/16 dev eth0
ip -n h164 link set eth0 up
ip link set h164-br master br0
ip link set h164-br up
ip -n h164 route replace default via 10.1.0.1
ip netns add h165
ip -n h165 link set lo up
ip -n h165 link add eth0 type veth peer name h165-br netns $$
sysctl -w net.ipv6.conf.h165-br.disable_ipv6=1
ip -n h165 addr add 10.1.1.165/16 dev eth0
ip -n h165 link set eth0 up
ip link set h165-br master br0
ip link set h165-br up
ip -n h165 route replace default via 10.1.0.1
ip netns add h166
ip -n h166 link set lo up
ip -n h166 link add eth0 type veth peer name h166-br netns $$
sysctl -w net.ipv6.conf.h166-br.disable_ipv6=1
ip -n h166 addr add 10.1.1.166/16 dev eth0
ip -n h166 link set eth0 up
ip link set h166-br master br0
ip link set h166-br up
ip -n h166 route replace default via 10.1.0.1
ip netns add h167
ip -n h167 link set lo up
ip -n h167 link add eth0 type veth peer name h167-br netns $$
sysctl -w net.ipv6.conf.h167-br.disable_ipv6=1
ip -n h167 addr add 10.1.1.167/16 dev eth0
ip -n h167 link set eth0 up
ip link set h167-br master br0
ip link set h167-br up
ip -n h167 route replace default via 10.1.0.1
ip netns add h168
ip -n h168 link set lo up
ip -n h168 link add eth0 type veth peer name h168-br netns $$
sysctl -w net.ipv6.conf.h168-br.disable_ipv6=1
ip -n h168 addr add 10.1.1.168/16 dev eth0
ip -n h168 link set eth0 up
ip link set h168-br master br0
ip link set h168-br up
ip -n h168 route replace default via 10.1.0.1
ip netns add h169
ip -n h169 link set lo up
ip -n h169 link add eth0 type veth peer name h169-br netns $$
sysctl -w net.ipv6.conf.h169-br.disable_ipv6=1
ip -n h169 addr add 10.1.1.169/16 dev eth0
ip -n h169 link set eth0 up
ip link set h169-br master br0
ip link set h169-br up
ip -n h169 route replace default via 10.1.0.1
ip netns add h170
ip -n h170 link set lo up
ip -n h170 link add eth0 type veth peer name h170-br netns $$
sysctl -w net.ipv6.conf.h170-br.disable_ipv6=1
ip -n h170 addr add 10.1.1.170/16 dev eth0
ip -n h170 link set eth0 up
ip link set h170-br master br0
ip link set h170-br up
ip -n h170 route replace default via 10.1.0.1
ip netns add h171
ip -n h171 link set lo up
ip -n h171 link add eth0 type veth peer name h171-br netns $$
sysctl -w net.ipv6.conf.h171-br.disable_ipv6=1
ip -n h171 addr add 10.1.1.171/16 dev eth0
ip -n h171 link set eth0 up
ip link set h171-br master br0
ip link set h171-br up
ip -n h171 route replace default via 10.1.0.1
ip netns add h172
ip -n h172 link set lo up
ip -n h172 link add eth0 type veth peer name h172-br netns $$
sysctl -w net.ipv6.conf.h172-br.disable_ipv6=1
ip -n h172 addr add 10.1.1.172/16 dev eth0
ip -n h172 link set eth0 up
ip link set h172-br master br0
ip link set h172-br up
ip -n h172 route replace default via 10.1.0.1
ip netns add h173
ip -n h173 link set lo up
ip -n h173 link add eth0 type veth peer name h173-br netns $$
sysctl -w net.ipv6.conf.h173-br.disable_ipv6=1
ip -n h173 addr add 10.1.1.173/16 dev eth0
ip -n h173 link set eth0 up
ip link set h173-br master br0
ip link set h173-br up
ip -n h173 route replace default via 10.1.0.1
ip netns add h174
ip -n h174 link set lo up
ip -n h174 link add eth0 type veth peer name h174-br netns $$
sysctl -w net.ipv6.conf.h174-br.disable_ipv6=1
ip -n h174 addr add 10.1.1.174/16 dev eth0
ip -n h174 link set eth0 up
ip link set h174-br master br0
ip link set h174-br up
ip -n h174 route replace default via 10.1.0.1
ip netns add h175
ip -n h175 link set lo up
ip -n h175 link add eth0 type veth peer name h175-br netns $$
sysctl -w net.ipv6.conf.h175-br.disable_ipv6=1
ip -n h175 addr add 10.1.1.175/16 dev eth0
ip -n h175 link set eth0 up
ip link set h175-br master br0
ip link set h175-br up
ip -n h175 route replace default via 10.1.0.1
ip netns add h176
ip -n h176 link set lo up
ip -n h176 link add eth0 type veth peer name h176-br netns $$
sysctl -w net.ipv6.conf.h176-br.disable_ipv6=1
ip -n h176 addr add 10.1.1.176/16 dev eth0
ip -n h176 link set eth0 up
ip link set h176-br master br0
ip link set h176-br up
ip -n h176 route replace default via 10.1.0.1
ip netns add h177
ip -n h177 link set lo up
ip -n h177 link add eth0 type veth peer name h177-br netns $$
sysctl -w net.ipv6.conf.h177-br.disable_ipv6=1
ip -n h177 addr add 10.1.1.177/16 dev eth0
ip -n h177 link set eth0 up
ip link set h177-br master br0
ip link set h177-br up
ip -n h177 route replace default via 10.1.0.1
ip netns add h178
ip -n h178 link set lo up
ip -n h178 link add eth0 type veth peer name h178-br netns $$
sysctl -w net.ipv6.conf.h178-br.disable_ipv6=1
ip -n h178 addr add 10.1.1.178/16 dev eth0
ip -n h178 link set eth0 up
ip link set h178-br master br0
ip link set h178-br up
ip -n h178 route replace default via 10.1.0.1
ip netns add h179
ip -n h179 link set lo up
ip -n h179 link add eth0 type veth peer name h179-br netns $$
sysctl -w net.ipv6.conf.h179-br.disable_ipv6=1
ip -n h179 addr add 10.1.1.179/16 dev eth0
ip -n h179 link set eth0 up
ip link set h179-br master br0
ip link set h179-br up
ip -n h179 route replace default via 10.1.0.1
ip netns add h180
ip -n h180 link set lo up
ip -n h180 link add eth0 type veth peer name h180-br netns $$
sysctl -w net.ipv6.conf.h180-br.disable_ipv6=1
ip -n h180 addr add 10.1.1.180/16 dev eth0
ip -n h180 link set eth0 up
ip link set h180-br master br0
ip link set h180-br up
ip -n h180 route replace default via 10.1.0.1
ip netns add h181
ip -n h181 link set lo up
ip -n h181 link add eth0 type veth peer name h181-br netns $$
sysctl -w net.ipv6.conf.h181-br.disable_ipv6=1
ip -n h181 addr add 10.1.1.181/16 dev eth0
ip -n h181 link set eth0 up
ip link set h181-br master br0
ip link set h181-br up
ip -n h181 route replace default via 10.1.0.1
ip netns add h182
ip -n h182 link set lo up
ip -n h182 link add eth0 type veth peer name h182-br netns $$
sysctl -w net.ipv6.conf.h182-br.disable_ipv6=1
ip -n h182 addr add 10.1.1.182/16 dev eth0
ip -n h182 link set eth0 up
ip link set h182-br master br0
ip link set h182-br up
ip -n h182 route replace default via 10.1.0.1
ip netns add h183
ip -n h183 link set lo up
ip -n h183 link add eth0 type veth peer name h183-br netns $$
sysctl -w net.ipv6.conf.h183-br.disable_ipv6=1
ip -n h183 addr add 10.1.1.183/16 dev eth0
ip -n h183 link set eth0 up
ip link set h183-br master br0
ip link set h183-br up
ip -n h183 route replace default via 10.1.0.1
ip netns add h184
ip -n h184 link set lo up
ip -n h184 link add eth0 type veth peer name h184-br netns $$
sysctl -w net.ipv6.conf.h184-br.disable_ipv6=1
ip -n h184 addr add 10.1.1.184/16 dev eth0
ip -n h184 link set eth0 up
ip link set h184-br master br0
ip link set h184-br up
ip -n h184 route replace default via 10.1.0.1
ip netns add h185
ip -n h185 link set lo up
ip -n h185 link add eth0 type veth peer name h185-br netns $$
sysctl -w net.ipv6.conf.h185-br.disable_ipv6=1
ip -n h185 addr add 10.1.1.185/16 dev eth0
ip -n h185 link set eth0 up
ip link set h185-br master br0
ip link set h185-br up
ip -n h185 route replace default via 10.1.0.1
ip netns add h186
ip -n h186 link set lo up
ip -n h186 link add eth0 type veth peer name h186-br netns $$
sysctl -w net.ipv6.conf.h186-br.disable_ipv6=1
ip -n h186 addr add 10.1.1.186/16 dev eth0
ip -n h186 link set eth0 up
ip link set h186-br master br0
ip link set h186-br up
ip -n h186 route replace default via 10.1.0.1
ip netns add h187
ip -n h187 link set lo up
ip -n h187 link add eth0 type veth peer name h187-br netns $$
sysctl -w net.ipv6.conf.h187-br.disable_ipv6=1
ip -n h187 addr add 10.1.1.187/16 dev eth0
ip -n h187 link set eth0 up
ip link set h187-br master br0
ip link set h187-br up
ip -n h187 route replace default via 10.1.0.1
ip netns add h188
ip -n h188 link set lo up
ip -n h188 link add eth0 type veth peer name h188-br netns $$
sysctl -w net.ipv6.conf.h188-br.disable_ipv6=1
ip -n h188 addr add 10.1.1.188/16 dev eth0
ip -n h188 link set eth0 up
ip link set h188-br master br0
ip link set h188-br up
ip -n h188 route replace default via 10.1.0.1
ip netns add h189
ip -n h189 link set lo up
ip -n h189 link add eth0 type veth peer name h189-br netns $$
sysctl -w net.ipv6.conf.h189-br.disable_ipv6=1
ip -n h189 addr add 10.1.1.189/16 dev eth0
ip -n h189 link set eth0 up
ip link set h189-br master br0
ip link set h189-br up
ip -n h189 route replace default via 10.1.0.1
ip netns add h190
ip -n h190 link set lo up
ip -n h190 link add eth0 type veth peer name h190-br netns $$
sysctl -w net.ipv6.conf.h190-br.disable_ipv6=1
ip -n h190 addr add 10.1.1.190/16 dev eth0
ip -n h190 link set eth0 up
ip link set h190-br master br0
ip link set h190-br up
ip -n h190 route replace default via 10.1.0.1
ip netns add h191
ip -n h191 link set lo up
ip -n h191 link add eth0 type veth peer name h191-br netns $$
sysctl -w net.ipv6.conf.h191-br.disable_ipv6=1
ip -n h191 addr add 10.1.1.191/16 dev eth0
ip -n h191 link set eth0 up
ip link set h191-br master br0
ip link set h191-br up
ip -n h191 route replace default via 10.1.0.1
ip netns add h192
ip -n h192 link set lo up
ip -n h192 link add eth0 type veth peer name h192-br netns $$
sysctl -w net.ipv6.conf.h192-br.disable_ipv6=1
ip -n h192 addr add 10.1.1.192/16 dev eth0
ip -n h192 link set eth0 up
ip link set h192-br master br0
ip link set h192-br up
ip -n h192 route replace default via 10.1.0.1
ip netns add h193
ip -n h193 link set lo up
ip -n h193 link add eth0 type veth peer name h193-br netns $$
sysctl -w net.ipv6.conf.h193-br.disable_ipv6=1
ip -n h193 addr add 10.1.1.193/16 dev eth0
ip -n h193 link set eth0 up
ip link set h193-br master br0
ip link set h193-br up
ip -n h193 route replace default via 10.1.0.1
ip netns add h194
ip -n h194 link set lo up
ip -n h194 link add eth0 type veth peer name h194-br netns $$
sysctl -w net.ipv6.conf.h194-br.disable_ipv6=1
ip -n h194 addr add 10.1.1.194/16 dev eth0
ip -n h194 link set eth0 up
ip link set h194-br master br0
ip link set h194-br up
ip -n h194 route replace default via 10.1.0.1
ip netns add h195
ip -n h195 link set lo up
ip -n h195 link add eth0 type veth peer name h195-br netns $$
sysctl -w net.ipv6.conf.h195-br.disable_ipv6=1
ip -n h195 addr add 10.1.1.195/16 dev eth0
ip -n h195 link set eth0 up
ip link set h195-br master br0
ip link set h195-br up
ip -n h195 route replace default via 10.1.0.1
ip netns add h196
ip -n h196 link set lo up
ip -n h196 link add eth0 type veth peer name h196-br netns $$
sysctl -w net.ipv6.conf.h196-br.disable_ipv6=1
ip -n h196 addr add 10.1.1.196/16 dev eth0
ip -n h196 link set eth0 up
ip link set h196-br master br0
ip link set h196-br up
ip -n h196 route replace default via 10.1.0.1
ip netns add h197
ip -n h197 link set lo up
ip -n h197 link add eth0 type veth peer name h197-br netns $$
sysctl -w net.ipv6.conf.h197-br.disable_ipv6=1
ip -n h197 addr add 10.1.1.197/16 dev eth0
ip -n h197 link set eth0 up
ip link set h197-br master br0
ip link set h197-br up
ip -n h197 route replace default via 10.1.0.1
ip netns add h198
ip -n h198 link set lo up
ip -n h198 link add eth0 type veth peer name h198-br netns $$
sysctl -w net.ipv6.conf.h198-br.disable_ipv6=1
ip -n h198 addr add 10.1.1.198/16 dev eth0
ip -n h198 link set eth0 up
ip link set h198-br master br0
ip link set h198-br up
ip -n h198 route replace default via 10.1.0.1
ip netns add h199
ip -n h199 link set lo up
ip -n h199 link add eth0 type veth peer name h199-br netns $$
sysctl -w net.ipv6.conf.h199-br.disable_ipv6=1
ip -n h199 addr add 10.1.1.199/16 dev eth0
ip -n h199 link set eth0 up
ip link set h199-br master br0
ip link set h199-br up
ip -n h199 route replace default via 10.1.0.1
ip netns add h200
ip -n h200 link set lo up
ip -n h200 link add eth0 type veth peer name h200-br netns $$
sysctl -w net.ipv6.conf.h200-br.disable_ipv6=1
ip -n h200 addr add 10.1.1.200/16 dev eth0
ip -n h200 link set eth0 up
ip link set h200-br master br0
ip link set h200-br up
ip -n h200 route replace default via 10.1.0.1
# not checked in a plan (no packets are sent): assert.reachable(h1, "10.1.1.200")
--- stderr (exit 0)
