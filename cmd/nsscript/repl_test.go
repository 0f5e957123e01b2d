package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
)

// The REPL tests drive the real binary through a pseudo-terminal, as a
// user at a terminal would, always under --sandbox: what the sessions
// build vanishes with them. HOME (and with it ~/.nsscript_history) is a
// temporary directory.

// patience bounds every wait for output, so that a REPL that hangs fails
// the test instead of the suite; it says nothing about speed.
const patience = 90 * time.Second

// session is a REPL running on a pseudo-terminal.
type session struct {
	t    *testing.T
	pty  *os.File
	cmd  *exec.Cmd
	dir  string
	mu   sync.Mutex
	out  bytes.Buffer // everything the terminal showed
	seen int          // how much of the cleaned output expect consumed
	done chan struct{}
	code int
}

// startREPL starts `nsscript --sandbox ARGS...` on a terminal, in dir
// with HOME=dir, and waits for its first prompt.
func startREPL(t *testing.T, dir string, env []string, args ...string) *session {
	t.Helper()
	s := startTerminal(t, dir, env, append([]string{"--sandbox"}, args...)...)
	s.expect(">>> ")
	return s
}

// startTerminal starts `nsscript ARGS...` on a terminal, in dir with
// HOME=dir and env added to the environment.
func startTerminal(t *testing.T, dir string, env []string, args ...string) *session {
	t.Helper()
	return startTerminalCmd(t, exec.Command(bin, args...), dir, env)
}

// startTerminalCmd starts a prepared nsscript command on a terminal, as
// startTerminal does.
func startTerminalCmd(t *testing.T, cmd *exec.Cmd, dir string, env []string) *session {
	t.Helper()
	cmd.Dir = dir
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "NSSCRIPT_HISTORY=") && !strings.HasPrefix(kv, "HOME=") && !strings.HasPrefix(kv, "TERM=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, append([]string{"TERM=xterm", "HOME=" + dir}, env...)...)
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 60, Cols: 300})
	if err != nil {
		t.Fatalf("start the REPL on a pseudo-terminal: %v", err)
	}
	s := &session{t: t, pty: f, cmd: cmd, dir: dir, done: make(chan struct{})}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := f.Read(buf)
			s.mu.Lock()
			s.out.Write(buf[:n])
			s.mu.Unlock()
			if err != nil {
				break
			}
		}
		err := cmd.Wait()
		s.code = cmd.ProcessState.ExitCode()
		_ = err
		close(s.done)
	}()
	t.Cleanup(func() {
		endGently(t, cmd.Process, s.done)
		f.Close()
	})
	return s
}

// escapes are the terminal control sequences liner writes to redraw.
var escapes = regexp.MustCompile(`\x1b\[[0-9;?]*[A-Za-z]|\r|\a`)

// text is what the terminal showed, without control sequences.
func (s *session) text() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return escapes.ReplaceAllString(s.out.String(), "")
}

// expect waits until what follows the last expectation contains want,
// and returns the output up to and including it.
func (s *session) expect(want string) string {
	s.t.Helper()
	deadline := time.Now().Add(patience)
	for {
		txt := s.text()
		if i := strings.Index(txt[s.seen:], want); i >= 0 {
			got := txt[s.seen : s.seen+i+len(want)]
			s.seen += i + len(want)
			return got
		}
		select {
		case <-s.done:
			txt = s.text()
			if i := strings.Index(txt[s.seen:], want); i >= 0 {
				continue
			}
			s.t.Fatalf("nsscript exited (code %d) before showing %q; it showed:\n%s", s.code, want, txt[s.seen:])
		default:
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("nsscript did not show %q within %s; after the last expectation it showed:\n%s", want, patience, txt[s.seen:])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *session) send(keys string) {
	s.t.Helper()
	if _, err := s.pty.Write([]byte(keys)); err != nil {
		s.t.Fatalf("type %q: %v", keys, err)
	}
}

// do types a line at the prompt and returns what the REPL showed up to
// its next primary prompt (the echoed line included).
func (s *session) do(line string) string {
	s.t.Helper()
	s.send(line + "\r")
	return strings.TrimSuffix(s.expect("\n>>> "), ">>> ")
}

// block types the lines of a multi-line statement, each after its
// continuation prompt, and the empty line that ends it.
func (s *session) block(lines ...string) string {
	s.t.Helper()
	for _, l := range lines {
		s.send(l + "\r")
		s.expect("\n... ")
	}
	return s.do("")
}

// quit presses Ctrl-D and returns what the REPL said on its way out.
func (s *session) quit() string {
	s.t.Helper()
	s.send("\x04")
	select {
	case <-s.done:
	case <-time.After(patience):
		s.t.Fatalf("the REPL did not exit on Ctrl-D; it showed:\n%s", s.text()[s.seen:])
	}
	if s.code != 0 {
		s.t.Errorf("the REPL exited %d after Ctrl-D, want 0", s.code)
	}
	return s.text()[s.seen:]
}

func wantIn(t *testing.T, what, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("%s: want %q in:\n%s", what, w, got)
		}
	}
}

func TestReplExpressionsBlocksErrors(t *testing.T) {
	s := startREPL(t, t.TempDir(), nil)
	wantIn(t, "1 + 2", s.do("1 + 2"), "\n3\n")
	wantIn(t, "_ holds the last value", s.do("_ * 10"), "\n30\n")

	s.block("def double(x):", "    return 2 * x")
	wantIn(t, "a function defined over several lines", s.do("double(21)"), "\n42\n")
	out := s.block("for i in range(3):", "    if i > 0:", "        print('step', i)")
	wantIn(t, "a for block", out, "step 1\nstep 2\n")
	s.send("xs = [\r")
	s.expect("\n... ")
	s.send("  1,\r")
	s.expect("\n... ")
	s.do("  2]") // the closing bracket ends the statement
	wantIn(t, "open brackets continue the statement", s.do("xs"), "[1, 2]")

	// Errors give FILE:LINE:COL and the session goes on.
	wantIn(t, "a runtime error", s.do(`link("nosuchdev")`), `<stdin>:1:5: link: no device "nosuchdev" in namespace host`)
	wantIn(t, "a syntax error", s.do("x = = 1"), "<stdin>:1:5: ")
	wantIn(t, "an error in a function shows the backtrace", s.block("def bad():", "    return 1 // 0")+s.do("bad()"),
		"<stdin>:2:14: floored division by zero", "Traceback", "in bad")
	wantIn(t, "the session goes on", s.do("double(2)"), "\n4\n")

	// Live values show their kernel state.
	s.do(`red = namespace("red")`)
	s.do(`br = bridge("br0", addr = "10.9.0.1/24")`)
	s.do(`veth("v-red", "v-red-br", ns = red, addr = "10.9.0.2/24", peer_master = br)`)
	out = s.do("red")
	wantIn(t, "a Namespace like ip -br addr", out, `namespace "red"`, "lo ", "loopback", "127.0.0.1/8", "v-red ", "veth", "UP", "10.9.0.2/24", "peer v-red-br in host")
	out = s.do(`link("v-red-br")`)
	wantIn(t, "a Link with kind, state, master, addresses", out, "v-red-br  veth  UP", "master br0", `peer v-red in "red"`, "in host")
	wantIn(t, "a bridge", s.do("br"), "br0  bridge  UP  10.9.0.1/24")
	wantIn(t, "what the REPL builds belongs to lab repl", s.do(`exec(host, "ls /run/nsscript").stdout`), "repl")
	wantIn(t, "leaving a sandboxed session", s.quit(), "it all vanishes now")
}

func TestReplCompletion(t *testing.T) {
	s := startREPL(t, t.TempDir(), nil)
	s.do(`red = namespace("red")`)
	s.do(`blue = namespace("blue")`)

	// A live namespace name inside namespace("...").
	s.send(`namespace("re` + "\t")
	s.expect(`namespace("red"`)
	wantIn(t, `namespace("re<TAB>`, s.do(")"), `namespace "red"`)

	// Link names of the namespace a call names.
	s.send(`blue.link("l` + "\t")
	s.expect(`blue.link("lo"`)
	wantIn(t, `blue.link("l<TAB>`, s.do(")"), "lo  loopback")

	// Attributes after a dot, from AttrNames.
	s.send("red.rou\t")
	s.expect("red.routes")
	s.do("")

	// Keyword arguments inside a call.
	s.send(`veth("a", "b", peer_n` + "\t")
	s.expect("peer_ns=")
	// Ctrl-C at the prompt drops the line.
	s.send("\x03")
	s.expect("^C")
	s.expect(">>> ")

	// Globals of the session and builtins.
	s.do("bridge_count = 7")
	s.send("bridge_c\t")
	s.expect("bridge_count")
	wantIn(t, "a global completed", s.do(""), "\n7\n")
	s.quit()
}

func TestReplInterrupt(t *testing.T) {
	s := startREPL(t, t.TempDir(), nil)
	s.do(`red = namespace("red")`)

	// A sleep: the statement fails with "interrupted", the session stays.
	s.send(`print("sleeping"); sleep("30s")` + "\r")
	s.expect("sleeping\n")
	s.send("\x03")
	wantIn(t, "Ctrl-C during sleep", s.expect(">>> "), "sleep: interrupted")

	// A long command.
	s.send(`print("running"); exec(red, "sleep 100", timeout = "200s")` + "\r")
	s.expect("running\n")
	s.send("\x03")
	wantIn(t, "Ctrl-C during exec", s.expect(">>> "), "exec: ", "interrupted")

	// A Starlark loop.
	s.block("def spin():", "    print('spinning')", "    while True:", "        pass")
	s.send("spin()\r")
	s.expect("spinning\n")
	s.send("\x03")
	wantIn(t, "Ctrl-C during while True", s.expect(">>> "), "interrupted")

	// The session and what it built are still there.
	wantIn(t, "a statement after the interruptions", s.do("1 + 1"), "\n2\n")
	wantIn(t, "the namespace made before", s.do("[n.name for n in namespaces()]"), `["red"]`)
	s.quit()
}

func TestReplHistory(t *testing.T) {
	dir := t.TempDir()
	s := startREPL(t, dir, nil)
	s.do("x = 41")
	s.do("x = = 1") // does not parse: not kept
	s.block("def f():", "    return x")
	s.do("x + 1")
	s.quit()
	data, err := os.ReadFile(filepath.Join(dir, ".nsscript_history"))
	if err != nil {
		t.Fatalf("no history in ~/.nsscript_history: %v", err)
	}
	hist := string(data)
	wantIn(t, "~/.nsscript_history", hist, "x = 41\n", "def f():\n    return x\n", "x + 1\n")
	if strings.Contains(hist, "x = = 1") {
		t.Errorf("a line that failed to parse is in the history:\n%s", hist)
	}

	// NSSCRIPT_HISTORY moves it; the Up arrow brings back the last line.
	moved := filepath.Join(dir, "moved_history")
	if err := os.WriteFile(moved, data, 0o600); err != nil {
		t.Fatal(err)
	}
	s = startREPL(t, dir, []string{"NSSCRIPT_HISTORY=" + moved})
	s.do("x = 1")
	s.send("\x1b[A\x1b[A") // Up twice: past "x = 1", to "x + 1"
	s.expect("x + 1")
	wantIn(t, "a line from the history file", s.do(""), "\n2\n")
	s.quit()
	data, _ = os.ReadFile(moved)
	if !strings.HasSuffix(string(data), "x = 1\nx + 1\n") {
		t.Errorf("NSSCRIPT_HISTORY file ends:\n%s", data)
	}

	// --history moves it too.
	flagged := filepath.Join(dir, "flag_history")
	s = startREPL(t, dir, nil, "--history", flagged)
	s.do("y = 3")
	s.quit()
	if data, err := os.ReadFile(flagged); err != nil || string(data) != "y = 3\n" {
		t.Errorf("--history file: %q, %v", data, err)
	}
}

func TestReplHelp(t *testing.T) {
	s := startREPL(t, t.TempDir(), nil)
	out := s.do("help(veth)")
	wantIn(t, "help(veth)", out,
		"veth(name, peer, ns=host, peer_ns=host, addr=None", // the signature
		"create a veth pair", // what it does
		"equivalent: ip -n NS link add NAME type veth peer name PEER netns PEER_NS")
	wantIn(t, "help()", s.do("help()"), "namespace ", "veth ", "bridge ", "route ", "masquerade", "save(")
	wantIn(t, "help of a method", s.do("help(host.link)"), "namespace.link(name)", "ip -n NS link show NAME")
	wantIn(t, "help of a value", s.do("help(host)"), "Namespace:", "links", ".exec(cmd")
	s.quit()
}

func TestReplInteractiveFile(t *testing.T) {
	dir := t.TempDir()
	src := "red = namespace(\"red\")\nveth(\"v0\", \"v1\", ns = red, addr = \"10.3.0.1/24\")\nanswer = 42\nwho = args.get(\"who\", \"nobody\")\n"
	if err := os.WriteFile(filepath.Join(dir, "lab.star"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	s := startREPL(t, dir, nil, "-i", "lab.star", "who=me")
	wantIn(t, "FILE's globals", s.do("answer + 1"), "\n43\n")
	wantIn(t, "key=value after -i FILE", s.do("who"), `"me"`)
	wantIn(t, "what FILE built", s.do("red"), `namespace "red"`, "v0", "10.3.0.1/24")
	s.quit()
}

// save() writes a script that, run in a fresh sandbox, builds the same
// links, addresses and routes as the session.
func TestReplSave(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "state.sh"), []byte(stateScript), 0o755); err != nil {
		t.Fatal(err)
	}
	s := startREPL(t, dir, nil)
	s.do(`red, blue = namespace("red"), namespace("blue")`)
	s.do(`bridge("v-net-0", addr = "192.168.15.5/24")`)
	s.do("sw = _") // _ is the bridge: save() must keep what set it
	s.block(
		"def plug(ns, ip):",
		`    veth("veth-" + ns.name, "veth-%s-br" % ns.name, ns = ns, addr = ip, peer_master = sw)`,
		`    route(ns, "default", via = "192.168.15.5")`)
	s.block(`for ns, ip in [(red, "192.168.15.1/24"), (blue, "192.168.15.2/24")]:`, "    plug(ns, ip)")
	wantIn(t, "a failing statement", s.do(`veth("this-name-is-too-long", "x")`), "too many")
	wantIn(t, "an inspection", s.do("red.links"), "veth-red")
	s.do(`assert.reachable(red, "192.168.15.2")`)
	s.do(`up = dummy("up0", addr = "203.0.113.1/24")`)
	s.do(`forwarding(host)`)
	s.do(`up.set(mtu = 1400)`)
	s.do("up.mtu") // looks only
	wantIn(t, "save", s.do(`save("topo.star")`), "saved", "topo.star")
	s.do(`exec(host, "sh state.sh repl-state")`)
	s.quit()

	topo, err := os.ReadFile(filepath.Join(dir, "topo.star"))
	if err != nil {
		t.Fatal(err)
	}
	script := string(topo)
	wantIn(t, "topo.star", script, "def plug(ns, ip):\n", "for ns, ip in", "_ = bridge(\"v-net-0\"", "sw = _\n", "up.set(mtu = 1400)")
	for _, gone := range []string{"this-name-is-too-long", "red.links", "up.mtu\n", "assert.reachable", `save("`} {
		if strings.Contains(script, gone) {
			t.Errorf("topo.star holds %q, which it should leave out:\n%s", gone, script)
		}
	}

	// Run it in a fresh sandbox, with the same state dump at the end.
	rerun := script + "\nexec(host, \"sh state.sh rerun-state\")\n"
	if err := os.WriteFile(filepath.Join(dir, "rerun.star"), []byte(rerun), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := nsscript(t, dir, "--sandbox", "rerun.star"); r.code != 0 {
		t.Fatalf("the saved script failed (exit %d):\n%s\n%s\nscript:\n%s", r.code, r.stdout, r.stderr, script)
	}
	want := normalizeState(t, filepath.Join(dir, "repl-state"))
	got := normalizeState(t, filepath.Join(dir, "rerun-state"))
	if want != got {
		t.Errorf("the saved script built another state.\nsession:\n%s\nre-run:\n%s", want, got)
	}
	for _, w := range []string{`host link veth-red-br veth up mtu 1500 master "v-net-0"`, "red addr veth-red 192.168.15.1/24",
		"blue route default via 192.168.15.5 dev veth-blue", "host link up0", "mtu 1400"} {
		wantIn(t, "the session's state", want, w)
	}
}

// stateScript dumps the links, addresses and routes of the host and of
// every named namespace as JSON, one file per kind and namespace.
const stateScript = `set -e
out=$1; mkdir -p $out
ip netns list | cut -d' ' -f1 | sort > $out/netns
for ns in host $(cat $out/netns); do
  n=""; [ $ns = host ] || n="-n $ns"
  ip $n -j -d link show > $out/$ns.link
  ip $n -j addr show > $out/$ns.addr
  ip $n -j route show > $out/$ns.route
done
`

// normalizeState reads what stateScript wrote and keeps what a script
// decides (names, kinds, masters, state, MTUs, addresses, routes), not
// what the kernel picks (indexes, MACs, link-local addresses).
func normalizeState(t *testing.T, dir string) string {
	t.Helper()
	nsList, err := os.ReadFile(filepath.Join(dir, "netns"))
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, ns := range append([]string{"host"}, strings.Fields(string(nsList))...) {
		var links []struct {
			Name     string   `json:"ifname"`
			Flags    []string `json:"flags"`
			MTU      int      `json:"mtu"`
			Master   string   `json:"master"`
			LinkInfo struct {
				Kind string `json:"info_kind"`
			} `json:"linkinfo"`
		}
		var addrs []struct {
			Name string `json:"ifname"`
			Info []struct {
				Family string `json:"family"`
				Local  string `json:"local"`
				Len    int    `json:"prefixlen"`
			} `json:"addr_info"`
		}
		var routes []struct {
			Dst     string `json:"dst"`
			Gateway string `json:"gateway"`
			Dev     string `json:"dev"`
		}
		for file, v := range map[string]any{".link": &links, ".addr": &addrs, ".route": &routes} {
			data, err := os.ReadFile(filepath.Join(dir, ns+file))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(data, v); err != nil {
				t.Fatalf("%s%s: %v", ns, file, err)
			}
		}
		for _, l := range links {
			up := "down"
			for _, f := range l.Flags {
				if f == "UP" {
					up = "up"
				}
			}
			lines = append(lines, fmt.Sprintf("%s link %s %s %s mtu %d master %q", ns, l.Name, l.LinkInfo.Kind, up, l.MTU, l.Master))
		}
		for _, a := range addrs {
			for _, i := range a.Info {
				if !strings.HasPrefix(i.Local, "fe80:") {
					lines = append(lines, fmt.Sprintf("%s addr %s %s/%d", ns, a.Name, i.Local, i.Len))
				}
			}
		}
		for _, r := range routes {
			via := ""
			if r.Gateway != "" {
				via = " via " + r.Gateway
			}
			lines = append(lines, fmt.Sprintf("%s route %s%s dev %s", ns, r.Dst, via, r.Dev))
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// Without a terminal, `nsscript repl` reads statements from stdin. This
// one shows, inside a sandbox of its own, that what a session builds
// belongs to lab repl, that the REPL says so on leaving, and that
// `nsscript down repl` undoes it.
func TestReplLabDown(t *testing.T) {
	src := `
r = exec(host, [args["bin"], "repl"], stdin = 'red = namespace("red")\nveth("a0", "a1", ns = red)\n1 + 2\n')
assert.contains(r.stdout, "3")
assert.contains(r.stderr, "what you built stays: undo it with nsscript down repl")
assert.eq([n.name for n in namespaces()], ["red"])
assert.contains(exec(host, [args["bin"], "ls"]).stdout, "repl")
d = exec(host, [args["bin"], "down", "repl"])
assert.contains(d.stdout, "repl: undid")
assert.eq(namespaces(), [])
assert.fails(lambda: link("a1"), "no device")
`
	mustRun(t, src, "bin="+bin)
}
