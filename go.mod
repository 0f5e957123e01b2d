module github.com/nsscript/nsscript

go 1.26.0

require (
	github.com/coreos/go-iptables v0.8.0
	github.com/mattn/go-shellwords v1.0.16
	github.com/vishvananda/netlink v1.3.1
	go.starlark.net v0.0.0-20260908191801-89a6a09411d5
	golang.org/x/net v0.62.0
	golang.org/x/sys v0.49.0
	golang.org/x/term v0.47.0
)

require github.com/vishvananda/netns v0.0.5 // indirect
