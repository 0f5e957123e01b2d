package runtime

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	goruntime "runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nsscript/nsscript/builtins/kernel"
)

// A run stops early, and rolls back, when it is interrupted (Ctrl-C,
// Ctrl-\, SIGTERM), when its terminal goes away (SIGHUP), when what reads its
// output does (SIGPIPE: `nsscript topo.star | head -1`), and when the
// script's values grow past what the machine can give it: Go cannot
// recover from running out of memory, so nsscript stops the script well
// before that, with a message, instead of dying with a runtime dump.

// runContext is cancelled, with the reason as its cause, by those events.
func runContext() (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGPIPE, syscall.SIGQUIT)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case s := <-sigs:
				switch s {
				case syscall.SIGPIPE:
					// Also sent for a pipe to a command that did not
					// read its stdin: only nsscript's own output counts.
					if kernel.OutputClosed() {
						cancel(errors.New("interrupted: its output was closed (SIGPIPE)"))
					}
				case syscall.SIGHUP:
					cancel(errors.New("interrupted: its terminal was closed (SIGHUP)"))
				case syscall.SIGTERM, syscall.SIGQUIT:
					cancel(fmt.Errorf("interrupted (%s)", unix.SignalName(s.(syscall.Signal))))
				default:
					cancel(errors.New("interrupted"))
				}
			case <-done:
				return
			}
		}
	}()
	stopGuard := guardMemory(func(err error) { cancel(err) })
	return ctx, func() {
		stopGuard()
		signal.Stop(sigs)
		close(done)
		cancel(nil)
	}
}

// reason is what a cancelled run's script is told.
func reason(ctx context.Context) string {
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err.Error()
	}
	return "interrupted"
}

// guardMemory calls stop once the heap passes the budget (see
// memoryBudget). It looks often: a script that doubles a string crosses
// the budget during one concatenation, whose copy takes milliseconds, and
// the Starlark thread stops at its next step, before the next doubling.
// (Every 20 ms while the heap is small, every millisecond near the budget.)
func guardMemory(stop func(error)) (done func()) {
	// One processor more than the cores: the script's goroutine (in a
	// long copy, which cannot be preempted) and a garbage collector
	// worker may hold all of them just when the guard must look.
	if n := goruntime.NumCPU() + 1; goruntime.GOMAXPROCS(0) < n {
		goruntime.GOMAXPROCS(n)
	}
	quit := make(chan struct{})
	go func() {
		budget, why := memoryBudget()
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		tick := 20 * time.Millisecond
		for {
			select {
			case <-quit:
				return
			case <-time.After(tick):
			}
			metrics.Read(s)
			heap := s[0].Value.Uint64()
			if heap > budget {
				stop(fmt.Errorf("out of memory: the script's values take %s, more than nsscript lets a script use here (%s, %s); look for something that grows without end, like a string or list doubled in a loop", size(heap), size(budget), why))
				return
			}
			tick = 20 * time.Millisecond
			if heap > budget/16 {
				tick = time.Millisecond
			}
		}
	}()
	return func() { close(quit) }
}

// memoryBudget is how much heap a script may use: an eighth of what the
// tightest limit leaves (ulimit -v, ulimit -d, the cgroup's memory limit,
// the machine's available memory), so that the allocations that cross it
// before the guard sees them (a doubling string doubles twice), and the
// rollback after, still fit.
func memoryBudget() (uint64, string) {
	best, why := uint64(1<<62), "no limit found"
	consider := func(left uint64, what string) {
		if left/8 < best {
			best, why = left/8, "an eighth of "+what
		}
	}
	vsz, data := statm()
	for _, l := range []struct {
		res  int
		used uint64
		what string
	}{{unix.RLIMIT_AS, vsz, "the address space ulimit -v leaves"}, {unix.RLIMIT_DATA, data, "the data ulimit -d leaves"}} {
		var r unix.Rlimit
		if unix.Getrlimit(l.res, &r) == nil && r.Cur != unix.RLIM_INFINITY && r.Cur > l.used {
			consider(r.Cur-l.used, l.what)
		}
	}
	if avail := meminfo("MemAvailable:"); avail > 0 {
		consider(avail, "the memory available")
	}
	if max, cur, ok := cgroupMemory(); ok && max > cur {
		consider(max-cur, "what the cgroup's memory limit leaves")
	}
	// No lab needs more than a fraction of this; a script past it runs away.
	if best > maxBudget {
		best, why = maxBudget, "nsscript's own cap"
	}
	if best < 16<<20 {
		best = 16 << 20
	}
	// Near the budget, collect more often: garbage counts too.
	debug.SetMemoryLimit(int64(best * 2))
	return best, why
}

const maxBudget = 2 << 30

func statm() (vsz, data uint64) {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0, 0
	}
	f := strings.Fields(string(b))
	if len(f) < 6 {
		return 0, 0
	}
	page := uint64(os.Getpagesize())
	v, _ := strconv.ParseUint(f[0], 10, 64)
	d, _ := strconv.ParseUint(f[5], 10, 64)
	return v * page, d * page
}

func meminfo(key string) uint64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(l, key); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// cgroupMemory is the memory limit and use of this process's cgroup (v2,
// else v1).
func cgroupMemory() (max, cur uint64, ok bool) {
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return 0, 0, false
	}
	read := func(p string) (uint64, bool) {
		b, err := os.ReadFile(p)
		if err != nil {
			return 0, false
		}
		v, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
		return v, err == nil && v < 1<<60
	}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.SplitN(l, ":", 3)
		if len(f) != 3 {
			continue
		}
		switch {
		case f[0] == "0" && f[1] == "":
			if m, ok := read("/sys/fs/cgroup" + f[2] + "/memory.max"); ok {
				c, _ := read("/sys/fs/cgroup" + f[2] + "/memory.current")
				return m, c, true
			}
		case strings.Contains(f[1], "memory"):
			if m, ok := read("/sys/fs/cgroup/memory" + f[2] + "/memory.limit_in_bytes"); ok {
				c, _ := read("/sys/fs/cgroup/memory" + f[2] + "/memory.usage_in_bytes")
				return m, c, true
			}
		}
	}
	return 0, 0, false
}

func size(b uint64) string {
	switch {
	case b >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(b)/(1<<30))
	case b >= 1<<20:
		return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20))
	}
	return fmt.Sprintf("%d KiB", b>>10)
}
