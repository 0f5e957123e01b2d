package kernel

// FakeNS is a namespace that exists only in a model of the kernel (the
// recorder behind `nsscript plan`): it has no file descriptor and no
// netlink handle, and no method of Linux may be given it.
func FakeNS(name, path string, inode uint64, host bool) *NS {
	return &NS{Name: name, Path: path, Inode: inode, Host: host, fd: -1}
}
