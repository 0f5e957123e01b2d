package runtime

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/nsscript/nsscript/builtins"
	"github.com/nsscript/nsscript/builtins/capture"
	"github.com/nsscript/nsscript/builtins/names"
)

// TestOptions are `nsscript test`'s flags.
type TestOptions struct {
	Parallel int
	Run      string // regexp on test names
	JUnit    string // file to write JUnit XML to
	JSON     bool
	// CaptureDir, when set, gets a pcapng file of every device of each
	// failed test's namespaces (--capture-on-failure).
	CaptureDir string
	Stdout     io.Writer
	Stderr     io.Writer
}

// TestResult is one test function's outcome.
type TestResult struct {
	File    string  `json:"file"`
	Name    string  `json:"name"`
	Status  string  `json:"status"` // "pass", "fail" or "skip"
	Seconds float64 `json:"seconds"`
	Where   string  `json:"where,omitempty"` // FILE:LINE:COL of the failure
	Message string  `json:"message,omitempty"`
	Output  string  `json:"output,omitempty"`
	Capture string  `json:"capture,omitempty"` // the failed test's pcapng file
}

// exit codes of one test's child process
const exitSkip = 3

// skipError is raised by skip(reason) inside a test.
type skipError struct{ reason string }

func (e skipError) Error() string { return "skipped: " + e.reason }

// findTests lists *_test.star files under the paths (default ".").
func findTests(paths []string) ([]string, error) {
	if len(paths) == 0 {
		paths = []string{"."}
	}
	var files []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			files = append(files, p)
			continue
		}
		err = filepath.WalkDir(p, func(path string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && path != p && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
				return filepath.SkipDir
			}
			if !d.IsDir() && strings.HasSuffix(d.Name(), "_test.star") {
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	sort.Strings(files)
	return files, nil
}

// testFuncs lists a file's top-level test_* functions, in order, without
// running it.
func testFuncs(file string) ([]string, error) {
	f, err := FileOptions.Parse(file, nil, 0)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, st := range f.Stmts {
		if d, ok := st.(*syntax.DefStmt); ok && strings.HasPrefix(d.Name.Name, "test_") {
			names = append(names, d.Name.Name)
		}
	}
	return names, nil
}

// Test runs test files: each test function in its own sandbox (a fresh
// nsscript process under --sandbox), up to opts.Parallel at once.
func Test(paths []string, opts TestOptions) int {
	files, err := findTests(paths)
	if err != nil {
		fmt.Fprintf(opts.Stderr, "nsscript test: %v\n", err)
		return ExitUsage
	}
	var filter *regexp.Regexp
	if opts.Run != "" {
		if filter, err = regexp.Compile(opts.Run); err != nil {
			fmt.Fprintf(opts.Stderr, "nsscript test: -run: %v\n", err)
			return ExitUsage
		}
	}
	type job struct{ file, name string }
	var jobs []job
	for _, f := range files {
		names, err := testFuncs(f)
		if err != nil {
			fmt.Fprintf(opts.Stderr, "%v\n", err)
			return ExitError
		}
		for _, n := range names {
			if filter == nil || filter.MatchString(n) {
				jobs = append(jobs, job{f, n})
			}
		}
	}
	if opts.Parallel < 1 {
		opts.Parallel = 1
	}
	if opts.CaptureDir != "" {
		if opts.CaptureDir, err = captureDir(opts.CaptureDir); err != nil {
			fmt.Fprintf(opts.Stderr, "nsscript test: --capture-on-failure: %v\n", err)
			return ExitUsage
		}
	}
	results := make([]*TestResult, len(jobs))
	var mu sync.Mutex
	next := 0 // results are printed in order, as they complete
	sem := make(chan struct{}, opts.Parallel)
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			capture := ""
			if opts.CaptureDir != "" {
				capture = filepath.Join(opts.CaptureDir, captureName(j.file, j.name))
			}
			r := runOneTest(j.file, j.name, capture)
			<-sem
			mu.Lock()
			defer mu.Unlock()
			results[i] = r
			for next < len(results) && results[next] != nil {
				report(opts, results[next])
				next++
			}
		}()
	}
	wg.Wait()
	var pass, fail, skip int
	for _, r := range results {
		switch r.Status {
		case "pass":
			pass++
		case "fail":
			fail++
		default:
			skip++
		}
	}
	if opts.JUnit != "" {
		if err := writeJUnit(opts.JUnit, results); err != nil {
			fmt.Fprintf(opts.Stderr, "nsscript test: --junit: %v\n", err)
			fail++
		}
	}
	if len(jobs) == 0 {
		// A misnamed file or function must not pass a CI job.
		where := strings.Join(paths, " ")
		if where == "" {
			where = "."
		}
		what := "no test_* functions"
		if filter != nil {
			what += " matching -run " + opts.Run
		}
		if len(files) == 0 {
			what = "no *_test.star files"
		}
		fmt.Fprintf(opts.Stderr, "nsscript test: %s under %s: name test files *_test.star and their tests test_*\n", what, where)
		fail++
	}
	summary := fmt.Sprintf("%d passed, %d failed", pass, fail)
	if skip > 0 {
		summary += fmt.Sprintf(", %d skipped", skip)
	}
	if opts.JSON {
		fmt.Fprintln(opts.Stderr, summary)
	} else {
		fmt.Fprintln(opts.Stdout, summary)
	}
	if fail > 0 {
		return ExitError
	}
	return ExitOK
}

func report(opts TestOptions, r *TestResult) {
	if opts.JSON {
		b, _ := json.Marshal(r)
		fmt.Fprintln(opts.Stdout, string(b))
		return
	}
	switch r.Status {
	case "pass":
		fmt.Fprintf(opts.Stdout, "ok   %s %s (%.2fs)\n", r.File, r.Name, r.Seconds)
	case "skip":
		fmt.Fprintf(opts.Stdout, "skip %s %s (%.2fs): %s\n", r.File, r.Name, r.Seconds, r.Message)
	default:
		fmt.Fprintf(opts.Stdout, "FAIL %s %s (%.2fs)\n", r.File, r.Name, r.Seconds)
		fmt.Fprintf(opts.Stdout, "    %s\n", strings.ReplaceAll(strings.TrimSpace(r.Output), "\n", "\n    "))
		if r.Capture != "" {
			fmt.Fprintf(opts.Stdout, "    packets: %s\n", r.Capture)
		}
	}
}

// runOneTest runs one test function in a fresh sandboxed nsscript; with
// capture, that captures its namespaces to the file capture, which is
// kept only when the test fails.
func runOneTest(file, name, capture string) *TestResult {
	start := time.Now()
	var warn string
	if capture != "" {
		f, path, err := claimCapture(capture)
		if err != nil {
			warn, capture = fmt.Sprintf("nsscript: warning: --capture-on-failure: %v\n", err), ""
		} else {
			defer f.Close() // (the lock goes with it)
			capture = path
		}
	}
	args := []string{"--sandbox", "__test", file, name}
	if capture != "" {
		args = append(args, capture)
	}
	cmd := exec.Command("/proc/self/exe", args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	r := &TestResult{File: file, Name: name, Seconds: time.Since(start).Seconds(), Output: warn + out.String(), Status: "pass"}
	var ee *exec.ExitError
	switch {
	case err == nil:
		r.Output = ""
	case errors.As(err, &ee) && ee.ExitCode() == exitSkip:
		r.Status = "skip"
		r.Message = lastLine(out.String())
		r.Output = ""
	default:
		r.Status = "fail"
		r.Where, r.Message = failureLine(out.String())
		if r.Message == "" {
			r.Message = err.Error()
		}
	}
	if capture != "" {
		if r.Status != "fail" {
			os.Remove(capture)
		} else if _, err := os.Stat(capture); err == nil {
			r.Capture = capture
		}
	}
	return r
}

// claimCapture opens a test's capture file for this run alone and locks
// it until the run is done with it: a file that another run of nsscript
// test is writing (it holds the lock: the same test, the same directory)
// is left to it, and this run takes NAME.2.pcapng, NAME.3.pcapng, ...
// instead; a file an earlier run left is replaced.
func claimCapture(path string) (*os.File, string, error) {
	base := strings.TrimSuffix(path, ".pcapng")
	for i := 1; i <= 100; i++ {
		p := path
		if i > 1 {
			p = fmt.Sprintf("%s.%d.pcapng", base, i)
		}
		f, err := capture.OpenFile(p)
		if errors.Is(err, capture.ErrBusy) {
			continue // another run's
		}
		if err != nil {
			return nil, "", err
		}
		return f, p, nil
	}
	return nil, "", fmt.Errorf("%s and 99 more of its names are being written by other runs: give this run a directory of its own", path)
}

// captureDir makes the directory for --capture-on-failure and returns
// its absolute path. Each test's sandbox has its own /run and /etc, so
// a file written there would go with the sandbox: those are refused,
// before anything is made, as are the directories no script's file may
// be in (names.OutputFile).
func captureDir(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	check := func(abs string) error {
		for _, private := range []string{"/run", "/etc"} {
			if abs == private || strings.HasPrefix(abs, private+"/") {
				return fmt.Errorf("%s is under %s, which each test's sandbox has its own of: the files would go with the sandbox; choose a directory elsewhere", abs, private)
			}
		}
		return names.OutputFile(abs)
	}
	if err := check(abs); err != nil {
		return "", err
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return "", err
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return "", err
	}
	if err := check(real); err != nil {
		return "", err
	}
	return real, names.OutputDir(real)
}

// captureName is the file a test's capture is written to: the test
// file's path and the test's name, e.g. net_gateway_test.test_nat.pcapng.
func captureName(file, name string) string {
	f := strings.TrimSuffix(filepath.ToSlash(filepath.Clean(file)), ".star")
	f = strings.TrimLeft(strings.ReplaceAll(f, "/", "_"), "._")
	return f + "." + name + ".pcapng"
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

var posRE = builtins.LazyRegexp(`^(\S+:\d+:\d+): (.*)$`)

// failureLine finds the "FILE:LINE:COL: message" line of a failure.
func failureLine(out string) (where, msg string) {
	for _, l := range strings.Split(out, "\n") {
		if m := posRE().FindStringSubmatch(l); m != nil {
			return m[1], m[2]
		}
	}
	return "", lastLine(out)
}

// RunTestFunc is the child side: it loads file and calls its function
// name, returning the exit code (0 pass, 1 fail, 3 skip). With capture,
// it captures every device of every namespace it opens to that file,
// from the start.
func RunTestFunc(file, name, capture string, opts Options) int {
	in, err := New(opts, nil)
	if err != nil {
		fmt.Fprintf(opts.Stderr, "nsscript: %v\n", err)
		return ExitError
	}
	if capture != "" {
		if err := in.Env.CaptureLab(capture); err != nil {
			fmt.Fprintf(opts.Stderr, "nsscript: warning: --capture-on-failure: %v\n", err)
		}
	}
	in.Predeclared["skip"] = starlark.NewBuiltin("skip", func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var reason string
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "reason", &reason); err != nil {
			return nil, err
		}
		return nil, skipError{reason}
	})
	ctx, stop := runContext()
	defer stop()
	globals, err := in.ExecFile(ctx, file, nil)
	if err == nil {
		fn, ok := globals[name].(starlark.Callable)
		if !ok {
			fmt.Fprintf(opts.Stderr, "%s: no function %s\n", file, name)
			return ExitError
		}
		thread := in.Thread(name)
		stopCancel := context.AfterFunc(ctx, func() { thread.Cancel(reason(ctx)) })
		_, err = starlark.Call(thread, fn, nil, nil)
		stopCancel()
	}
	in.stopCaptures(opts.Stderr)
	if err != nil {
		var se skipError
		if errors.As(err, &se) {
			fmt.Fprintln(opts.Stdout, se.reason)
			return exitSkip
		}
		fmt.Fprintln(opts.Stderr, FormatError(err))
		return ExitError
	}
	return ExitOK
}

// JUnit XML, as CI systems read it.
type junitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Suites  []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Time     string      `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitMessage `xml:"failure,omitempty"`
	Skipped   *junitMessage `xml:"skipped,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

func writeJUnit(path string, results []*TestResult) error {
	byFile := map[string]*junitSuite{}
	var order []string
	for _, r := range results {
		s, ok := byFile[r.File]
		if !ok {
			s = &junitSuite{Name: r.File}
			byFile[r.File] = s
			order = append(order, r.File)
		}
		c := junitCase{Name: r.Name, Classname: strings.TrimSuffix(r.File, ".star"), Time: fmt.Sprintf("%.3f", r.Seconds)}
		switch r.Status {
		case "fail":
			c.Failure = &junitMessage{Message: strings.TrimSpace(r.Where + ": " + r.Message), Text: r.Output}
			s.Failures++
		case "skip":
			c.Skipped = &junitMessage{Message: r.Message}
			s.Skipped++
		}
		s.Tests++
		s.Cases = append(s.Cases, c)
	}
	var all junitSuites
	for _, f := range order {
		s := byFile[f]
		var t float64
		for _, c := range s.Cases {
			var x float64
			fmt.Sscanf(c.Time, "%f", &x)
			t += x
		}
		s.Time = fmt.Sprintf("%.3f", t)
		all.Suites = append(all.Suites, *s)
	}
	b, err := xml.MarshalIndent(all, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append([]byte(xml.Header), append(b, '\n')...), 0o644)
}
