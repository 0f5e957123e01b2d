package kernel

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Rootless sandboxes. nsscript may change the host's network only with
// the capabilities root has (CAP_SYS_ADMIN and CAP_NET_ADMIN); without
// them, --sandbox makes a user namespace first, in the same clone as the
// sandbox's other namespaces, with this user as its root (a map of one id:
// the user's uid and gid as 0, nothing else), which owns them: inside it
// nsscript has every capability over the sandbox's namespaces, and none
// over the host's.

// Privileged reports whether this process may change the host's network
// (and make a sandbox without a user namespace of its own): it has
// CAP_SYS_ADMIN and CAP_NET_ADMIN in its user namespace, as root has.
func Privileged() bool {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return os.Geteuid() == 0
	}
	has := func(c int) bool { return data[c/32].Effective&(1<<(c%32)) != 0 }
	return has(unix.CAP_SYS_ADMIN) && has(unix.CAP_NET_ADMIN)
}

// InUserNamespace reports whether this process runs in a user namespace
// other than the host's first one (in a sandbox made without root, say),
// where root is root over that namespace's own objects alone.
func InUserNamespace() bool {
	b, err := os.ReadFile("/proc/self/uid_map")
	return err == nil && strings.Join(strings.Fields(string(b)), " ") != "0 0 4294967295"
}

// UsernsSetting is one of the kernel's settings that decide whether an
// unprivileged user may make a user namespace (and so a rootless sandbox).
type UsernsSetting struct {
	Key    string `json:"key"`             // its sysctl name
	Value  string `json:"value,omitempty"` // "" when this kernel has no such setting
	Blocks bool   `json:"blocks"`          // this value stops an unprivileged user namespace
	Why    string `json:"why,omitempty"`   // when it blocks: what it does
	Fix    string `json:"fix,omitempty"`   // when it blocks: how to allow it
}

// usernsKeys are the settings UsernsSettings reads: the distributions'
// switches, then the limits on the number of namespaces of each kind a
// sandbox makes (0 forbids that kind; the limits of the user namespace
// nsscript runs in, which a parent's limit may still lower).
var usernsKeys = []string{
	"kernel.unprivileged_userns_clone",
	"kernel.apparmor_restrict_unprivileged_userns",
	"user.max_user_namespaces",
	"user.max_net_namespaces",
	"user.max_mnt_namespaces",
	"user.max_pid_namespaces",
	"user.max_uts_namespaces",
	"user.max_ipc_namespaces",
	"user.max_cgroup_namespaces",
}

// UsernsSettings reads the settings that decide whether this user may make
// a rootless sandbox, from /proc/sys (see UsernsSettingsOf). For nsscript
// doctor and the messages of a sandbox that cannot be made.
func UsernsSettings() []UsernsSetting {
	return UsernsSettingsOf(func(key string) (string, bool) {
		b, err := os.ReadFile("/proc/sys/" + strings.ReplaceAll(key, ".", "/"))
		if err != nil {
			return "", false
		}
		return strings.TrimSpace(string(b)), true
	})
}

// UsernsSettingsOf is UsernsSettings with the values read by read (false:
// the kernel has no such setting).
func UsernsSettingsOf(read func(key string) (string, bool)) []UsernsSetting {
	var out []UsernsSetting
	for _, key := range usernsKeys {
		s := UsernsSetting{Key: key}
		v, ok := read(key)
		if ok {
			s.Value = v
		}
		fix := func(v string) string {
			return fmt.Sprintf("sysctl -w %s=%s (to keep it after a reboot: echo %s=%s > /etc/sysctl.d/60-nsscript.conf)", key, v, key, v)
		}
		switch {
		case !ok:
		case key == "kernel.unprivileged_userns_clone" && v == "0":
			s.Blocks, s.Why, s.Fix = true, "is 0 (Debian's switch): only root may make a user namespace", fix("1")
		case key == "kernel.apparmor_restrict_unprivileged_userns" && v != "0":
			s.Blocks, s.Why = true, "is "+v+" (Ubuntu 23.10 and later): AppArmor takes every capability from a user namespace that an unconfined program makes, so it cannot make network namespaces in it"
			s.Fix = fix("0") + ", or allow nsscript alone with an AppArmor profile: printf 'abi <abi/4.0>,\\ninclude <tunables/global>\\nprofile nsscript " + executable() +
				" flags=(unconfined) {\\n  userns,\\n}\\n' > /etc/apparmor.d/nsscript && apparmor_parser -r /etc/apparmor.d/nsscript"
		case strings.HasPrefix(key, "user.max_") && v == "0":
			kind := strings.TrimSuffix(strings.TrimPrefix(key, "user.max_"), "_namespaces")
			s.Blocks, s.Why, s.Fix = true, "is 0: no "+kind+" namespace may be made", fix("15000")
		}
		out = append(out, s)
	}
	return out
}

// executable is where this program is, for an AppArmor profile of its
// own (a profile names a path).
func executable() string {
	if p, err := os.Executable(); err == nil {
		if r, err := filepath.EvalSymlinks(p); err == nil {
			return r
		}
		return p
	}
	return "/usr/local/bin/nsscript"
}

// UsernsBlocked says which of settings stop a rootless sandbox and how to
// allow it; "" when none does.
func UsernsBlocked(settings []UsernsSetting) string {
	var why []string
	for _, s := range settings {
		if s.Blocks {
			why = append(why, fmt.Sprintf("%s %s; to allow it, as root: %s", s.Key, s.Why, s.Fix))
		}
	}
	return strings.Join(why, "; and ")
}

// sandboxStartError explains why a rootless sandbox could not be made
// (err, from the clone), with the setting that stops it when one does.
func sandboxStartError(err error, settings []UsernsSetting) error {
	const what = "a sandbox without root needs a user namespace, which this system does not let this user make"
	if why := UsernsBlocked(settings); why != "" {
		return fmt.Errorf("start sandbox: %s: %s (%w)", what, why, err)
	}
	switch {
	case errors.Is(err, unix.ENOSPC):
		return fmt.Errorf("start sandbox: %s now: the number of namespaces allowed (user.max_*_namespaces, here or in a parent user namespace) is used up (%w)", what, err)
	case errors.Is(err, unix.EUSERS):
		return fmt.Errorf("start sandbox: %s: user namespaces are nested 32 deep already (%w)", what, err)
	case errors.Is(err, unix.EPERM):
		return fmt.Errorf("start sandbox: %s: no sysctl forbids it, so something else does (a container's seccomp filter, a chroot, a security module); run nsscript as root, or allow user namespaces there (%w)", what, err)
	}
	return fmt.Errorf("start sandbox: %w", err)
}

// rootlessSetupError explains a sandbox's setup failing inside its user
// namespace: where AppArmor restricts user namespaces, the clone works and
// every capability in it is taken away, so the first mount fails.
func rootlessSetupError(err error, settings []UsernsSetting) error {
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
		if why := UsernsBlocked(settings); why != "" {
			return fmt.Errorf("%w: a sandbox without root needs a user namespace with its capabilities, which this system does not give: %s", err, why)
		}
	}
	return err
}

// intoUsernsEnv marks an nsscript that EnterSandboxUserns started inside a
// sandbox's user namespace: "PID,FD,FD", the sandbox's init and the
// descriptors it passed on, which that nsscript closes at once.
const intoUsernsEnv = "NSSCRIPT_INTO_USERNS"

// enteredUserns is, in an nsscript EnterSandboxUserns started, the pid of
// the sandbox it went into the user namespace of; 0 in any other.
var enteredUserns = func() int {
	v, ok := os.LookupEnv(intoUsernsEnv)
	if !ok {
		return 0
	}
	os.Unsetenv(intoUsernsEnv)
	f := strings.Split(v, ",")
	for _, s := range f[1:] {
		if fd, err := strconv.Atoi(s); err == nil && fd > 2 {
			unix.Close(fd)
		}
	}
	pid, _ := strconv.Atoi(f[0])
	if pid <= 0 {
		pid = -1
	}
	return pid
}()

// EnteredUserns reports whether this nsscript was started by
// EnterSandboxUserns: in a sandbox's user namespace already, it must not
// try again.
func EnteredUserns() bool { return enteredUserns != 0 }

// EnterSandboxUserns replaces this process with one that runs this
// program with args inside the user namespace of a sandbox made without
// root (info.Rootless), as that namespace's root: its owner, whoever runs
// it (root too goes in as the owner, with no more power than the owner
// has). There, nsscript can enter the sandbox's other namespaces as it
// does those of a sandbox in its own user namespace. A process of more
// than one thread (every Go program) cannot join a user namespace, so
// nsenter (util-linux) joins it and runs nsscript; the namespace and the
// program are handed on as descriptors, opened while a pidfd holds the
// sandbox's init. It returns only when that cannot be done.
func EnterSandboxUserns(info SandboxInfo, args []string) error {
	if !info.Rootless {
		return errors.New("not a sandbox in a user namespace of its own")
	}
	nsenter, err := exec.LookPath("nsenter")
	if err != nil {
		return errors.New("going into a sandbox made without root needs nsenter, which is not installed: install util-linux (Debian/Ubuntu: apt-get install util-linux)")
	}
	pidfd, err := info.open()
	if err != nil {
		return fmt.Errorf("sandbox %d of lab %q: %w", info.Pid, info.Lab, err)
	}
	defer unix.Close(pidfd)
	// Without O_CLOEXEC: these two are for nsenter and the nsscript it
	// runs, which closes them (see enteredUserns).
	userns, err := unix.Open(fmt.Sprintf("/proc/%d/ns/user", info.Pid), unix.O_RDONLY, 0)
	if err != nil {
		return fmt.Errorf("sandbox %d of lab %q: %w", info.Pid, info.Lab, err)
	}
	defer unix.Close(userns)
	exe, err := unix.Open("/proc/self/exe", unix.O_RDONLY, 0)
	if err != nil {
		return err
	}
	defer unix.Close(exe)
	if !pidfdAlive(pidfd) {
		// (Alive after the open: the namespace is that init's.)
		return fmt.Errorf("sandbox %d of lab %q: %w", info.Pid, info.Lab, errNotSandbox)
	}
	argv := []string{"nsenter", fmt.Sprintf("--user=/proc/self/fd/%d", userns)}
	if os.Geteuid() == info.Uid {
		// The owner is the namespace's root already.
		argv = append(argv, "--preserve-credentials")
	} else {
		// Root: nsenter becomes the namespace's root, which is its
		// owner, and keeps none of root's groups.
		if err := syscall.Setgroups(nil); err != nil {
			return fmt.Errorf("drop root's groups before going into sandbox %d: %w", info.Pid, err)
		}
	}
	argv = append(argv, "--", fmt.Sprintf("/proc/self/fd/%d", exe))
	argv = append(argv, args...)
	env := append(os.Environ(), fmt.Sprintf("%s=%d,%d,%d", intoUsernsEnv, info.Pid, userns, exe))
	return fmt.Errorf("run %s: %w", nsenter, syscall.Exec(nsenter, argv, env))
}

// TunDeniedNote says what a /dev/net/tun this user may not open means:
// a sandbox made without root cannot make tap devices.
const TunDeniedNote = "/dev/net/tun is there, but only root may open it here (so a sandbox made without root cannot): as root, chmod 666 /dev/net/tun, its usual mode"

// tunDenied is "" or, when err refuses this user /dev/net/tun, ": " and
// TunDeniedNote.
func tunDenied(err error) string {
	if errors.Is(err, fs.ErrPermission) {
		return ": " + TunDeniedNote
	}
	return ""
}
