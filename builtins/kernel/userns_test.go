package kernel

import (
	"os"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// settingsOf is UsernsSettingsOf with the values in m (a key not in m:
// this kernel has no such setting).
func settingsOf(m map[string]string) []UsernsSetting {
	return UsernsSettingsOf(func(key string) (string, bool) {
		v, ok := m[key]
		return v, ok
	})
}

// TestUsernsBlocked: each setting that stops an ordinary user's user
// namespace is named, with what it does and how to allow it; values that
// allow it, and settings this kernel lacks, are not.
func TestUsernsBlocked(t *testing.T) {
	open := map[string]string{"kernel.unprivileged_userns_clone": "1", "kernel.apparmor_restrict_unprivileged_userns": "0", "user.max_user_namespaces": "63000", "user.max_net_namespaces": "63000"}
	if why := UsernsBlocked(settingsOf(open)); why != "" {
		t.Errorf("with user namespaces allowed: %q, want none", why)
	}
	if why := UsernsBlocked(settingsOf(nil)); why != "" {
		t.Errorf("on a kernel without these settings: %q, want none", why)
	}
	for _, c := range []struct {
		key, value, want string
	}{
		{"kernel.unprivileged_userns_clone", "0", "kernel.unprivileged_userns_clone is 0 (Debian's switch): only root may make a user namespace; to allow it, as root: sysctl -w kernel.unprivileged_userns_clone=1 (to keep it after a reboot: echo kernel.unprivileged_userns_clone=1 > /etc/sysctl.d/60-nsscript.conf)"},
		{"kernel.apparmor_restrict_unprivileged_userns", "1", "kernel.apparmor_restrict_unprivileged_userns is 1 (Ubuntu 23.10 and later): AppArmor takes every capability from a user namespace that an unconfined program makes, so it cannot make network namespaces in it; to allow it, as root: sysctl -w kernel.apparmor_restrict_unprivileged_userns=0 (to keep it after a reboot: echo kernel.apparmor_restrict_unprivileged_userns=0 > /etc/sysctl.d/60-nsscript.conf), or allow nsscript alone with an AppArmor profile: printf 'abi <abi/4.0>,\\ninclude <tunables/global>\\nprofile nsscript /"},
		{"user.max_user_namespaces", "0", "user.max_user_namespaces is 0: no user namespace may be made; to allow it, as root: sysctl -w user.max_user_namespaces=15000"},
		{"user.max_net_namespaces", "0", "user.max_net_namespaces is 0: no net namespace may be made"},
	} {
		m := map[string]string{}
		for k, v := range open {
			m[k] = v
		}
		m[c.key] = c.value
		s := settingsOf(m)
		why := UsernsBlocked(s)
		if !strings.HasPrefix(why, c.want) {
			t.Errorf("with %s=%s: %q, want %q", c.key, c.value, why, c.want)
		}
		for _, set := range s {
			if set.Blocks != (set.Key == c.key) {
				t.Errorf("with %s=%s: %s (%s) blocks = %v", c.key, c.value, set.Key, set.Value, set.Blocks)
			}
		}
	}
	two := UsernsBlocked(settingsOf(map[string]string{"kernel.unprivileged_userns_clone": "0", "user.max_user_namespaces": "0"}))
	if !strings.Contains(two, "kernel.unprivileged_userns_clone is 0") || !strings.Contains(two, "; and user.max_user_namespaces is 0") {
		t.Errorf("with two settings against it: %q, want both", two)
	}
}

// TestSandboxStartError: a sandbox that cannot be made without root says
// why: the setting that stops it when one does, else what the error
// means.
func TestSandboxStartError(t *testing.T) {
	blocked := settingsOf(map[string]string{"kernel.unprivileged_userns_clone": "0"})
	for _, c := range []struct {
		what     string
		err      error
		settings []UsernsSetting
		want     string
	}{
		{"EPERM, Debian's switch off", unix.EPERM, blocked, "start sandbox: a sandbox without root needs a user namespace, which this system does not let this user make: kernel.unprivileged_userns_clone is 0 (Debian's switch): only root may make a user namespace; to allow it, as root: sysctl -w kernel.unprivileged_userns_clone=1"},
		{"EPERM, no setting", unix.EPERM, nil, "no sysctl forbids it, so something else does (a container's seccomp filter, a chroot, a security module)"},
		{"ENOSPC, no setting at 0", unix.ENOSPC, nil, "the number of namespaces allowed (user.max_*_namespaces, here or in a parent user namespace) is used up"},
		{"EUSERS", unix.EUSERS, nil, "nested 32 deep already"},
	} {
		got := sandboxStartError(&os.SyscallError{Syscall: "fork/exec", Err: c.err}, c.settings).Error()
		if !strings.Contains(got, c.want) || !strings.Contains(got, c.err.Error()) {
			t.Errorf("%s: %q, want %q and the error itself", c.what, got, c.want)
		}
	}
	apparmor := settingsOf(map[string]string{"kernel.apparmor_restrict_unprivileged_userns": "1"})
	got := rootlessSetupError(&os.PathError{Op: "mount", Path: "/run", Err: unix.EPERM}, apparmor).Error()
	if !strings.Contains(got, "which this system does not give: kernel.apparmor_restrict_unprivileged_userns is 1") {
		t.Errorf("a mount refused under AppArmor's restriction: %q", got)
	}
	if got := rootlessSetupError(unix.EINVAL, apparmor); got != unix.EINVAL {
		t.Errorf("an error that is no refusal: %v, want it as it is", got)
	}
}

// TestPidInodeOtherUser: the namespace of another user's process is
// root's to open, and the error says so. (Run as an ordinary user, as
// CI runs this package: pid 1 is root's.)
func TestPidInodeOtherUser(t *testing.T) {
	var st syscall.Stat_t
	if err := syscall.Stat("/proc/1", &st); err != nil || int(st.Uid) == os.Geteuid() || Privileged() {
		t.Skip("needs an ordinary user, and a pid 1 that is not theirs")
	}
	_, err := PidInode(1)
	if err == nil || !strings.Contains(err.Error(), "process 1: permission denied: it is another user's, whose namespaces only root may open") {
		t.Errorf("PidInode(1) as an ordinary user: %v", err)
	}
}
