package main

import (
	"strings"
	"testing"
)

func TestSpecExample(t *testing.T) {
	out := mustRun(t, `
red, blue = namespace("red"), namespace("blue")
sw = bridge("v-net-0", addr = "192.168.15.5/24")
for ns, ip in [(red, "192.168.15.1/24"), (blue, "192.168.15.2/24")]:
    veth("veth-" + ns.name, "veth-%s-br" % ns.name, ns = ns, addr = ip, peer_master = sw)
    route(ns, "default", via = "192.168.15.5")
assert.reachable(red, "192.168.15.2")
print("ok", args["x"])
`, "x=1")
	if !strings.Contains(out, "ok 1") {
		t.Fatalf("stdout = %q", out)
	}
}
