package doctor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/nsscript/nsscript/builtins/journal"
	"github.com/nsscript/nsscript/builtins/kernel"
)

// ErrNotProbed is what a probe's error wraps when it could not be tried.
var ErrNotProbed = kernel.ErrNotProbed

// Machine is the System of the machine nsscript runs on (the namespace
// it runs in: under --sandbox, the sandbox's).
type Machine struct {
	K *kernel.Linux
}

// ReadFile reads a file.
func (m Machine) ReadFile(path string) ([]byte, error) { return os.ReadFile(path) }

// Readlink reads a symbolic link.
func (m Machine) Readlink(path string) (string, error) { return os.Readlink(path) }

// Run runs a read-only command for at most ten seconds, with a plain
// environment (LC_ALL=C: output in the words the parsers expect).
func (m Machine) Run(argv ...string) (string, error) {
	path, err := exec.LookPath(argv[0])
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, argv[1:]...)
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C"}
	if strings.Contains(argv[0], "tables") {
		lock, done := kernel.XtablesLock()
		defer done()
		cmd.Env = append(cmd.Env, lock)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(errb.String())
		if msg == "" {
			msg = err.Error()
		}
		return out.String(), fmt.Errorf("%s: %s", strings.Join(argv, " "), msg)
	}
	return out.String(), nil
}

// Euid is the effective user id.
func (m Machine) Euid() int { return os.Geteuid() }

// ProbeFeatures tries features in a throwaway network namespace.
func (m Machine) ProbeFeatures(features []string) (map[string]error, error) {
	return m.K.ProbeFeatures(features)
}

// ProbeUserns tries an ordinary user's unshare -Urnm.
func (m Machine) ProbeUserns() error { return kernel.ProbeUserns() }

// CgroupV2 is this process's cgroup v2 directory.
func (m Machine) CgroupV2() (string, bool, bool) { return kernel.CgroupV2() }

// Netns lists /run/netns.
func (m Machine) Netns() ([]NetnsEntry, error) {
	names, err := m.K.ListNamed()
	if err != nil {
		return nil, err
	}
	out := make([]NetnsEntry, 0, len(names))
	for _, n := range names {
		out = append(out, NetnsEntry{Name: n, Namespace: kernel.IsNetnsFile(filepath.Join(kernel.NetnsDir, n))})
	}
	return out, nil
}

// Labs reads every lab's journal (what nsscript ls shows).
func (m Machine) Labs() ([]Lab, error) {
	names, err := journal.Labs()
	if err != nil {
		return nil, err
	}
	var out []Lab
	var errs []error
	for _, name := range names {
		s, err := journal.Summarize(m.K, name)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
			continue
		}
		l := Lab{Name: s.Lab, Running: s.Owner, Changes: s.Changes, Namespaces: s.Namespaces,
			Links: len(s.Links), Processes: len(s.Processes), Problems: len(s.Problems)}
		for _, li := range s.Links {
			if li.Gone {
				l.LinksGone++
			}
		}
		out = append(out, l)
	}
	return out, errors.Join(errs...)
}
