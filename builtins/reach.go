package builtins

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"
	"unicode"

	"go.starlark.net/starlark"
)

// All pairs: reachability() pings from every node to every other, in
// parallel, and gives a Matrix that prints as Mininet's pingall does;
// assert.reachability compares one with what is expected.

// node is a namespace and the address others ping it at.
type node struct {
	name string
	ns   *Namespace
	addr net.IP
}

// Matrix is what reachability() saw: for each ordered pair of nodes,
// whether the pings from the first to the second were answered.
type Matrix struct {
	nodes []node
	// got[i][j]: replies from nodes[j] to pings sent from nodes[i].
	got     [][]int
	count   int
	planned bool
	// crowded: so many pairs that the kernel's neighbour table, one for
	// every namespace on the machine, may have overflowed (see
	// neighbourLimit); said under the results when pairs failed.
	crowded bool
}

// neighbourLimit is the kernel's default net.ipv4.neigh.default.gc_thresh3:
// the most ARP entries the whole machine holds, every namespace's
// together. All pairs at once of n nodes on one network need up to
// n*(n-1) of them within seconds, and the kernel evicts only entries
// unused for 5 s: beyond it new ones are refused ("neighbor table
// overflow"), and those pings go unanswered though the path is fine.
const neighbourLimit = 1024

var _ starlark.HasAttrs = (*Matrix)(nil)

func (m *Matrix) Type() string          { return "Matrix" }
func (m *Matrix) Freeze()               {}
func (m *Matrix) Truth() starlark.Bool  { return starlark.Bool(m.ok()) }
func (m *Matrix) Hash() (uint32, error) { return 0, errors.New("unhashable: Matrix") }
func (m *Matrix) AttrNames() []string {
	return []string{"dropped", "names", "ok", "pairs", "received", "sent"}
}

func (m *Matrix) sent() int { return len(m.nodes) * (len(m.nodes) - 1) * m.count }

func (m *Matrix) received() int {
	n := 0
	for i := range m.got {
		for j := range m.got[i] {
			if i != j {
				n += m.got[i][j]
			}
		}
	}
	return n
}

func (m *Matrix) ok() bool { return m.received() == m.sent() }

// String is Mininet's pingall: a line per node with the nodes that
// answered it (X for those that did not), then the results.
func (m *Matrix) String() string {
	var b strings.Builder
	for i, src := range m.nodes {
		b.WriteString(src.name + " ->")
		for j, dst := range m.nodes {
			if i == j {
				continue
			}
			if m.got[i][j] > 0 {
				b.WriteString(" " + dst.name)
			} else {
				b.WriteString(" X")
			}
		}
		b.WriteByte('\n')
	}
	sent, got := m.sent(), m.received()
	dropped := 0
	if sent > 0 {
		dropped = 100 * (sent - got) / sent
	}
	fmt.Fprintf(&b, "*** Results: %d%% dropped (%d/%d received)", dropped, got, sent)
	if m.planned {
		b.WriteString(" (a plan sends nothing: taken as answered)")
	}
	if m.crowded && got < sent {
		fmt.Fprintf(&b, "\n*** Note: %d pairs at once may overflow the kernel's neighbour table (%d ARP/NDP entries by default, one table for every namespace of the machine), and pairs whose entry it refused fail though the path is fine (dmesg: \"neighbor table overflow\"): raise it on the host (sysctl -w net.ipv4.neigh.default.gc_thresh3=65536 net.ipv4.neigh.default.gc_thresh2=32768) or check fewer nodes at once", sent/max(m.count, 1), neighbourLimit)
	}
	return b.String()
}

func (m *Matrix) Attr(name string) (starlark.Value, error) {
	switch name {
	case "names":
		l := make([]starlark.Value, len(m.nodes))
		for i, n := range m.nodes {
			l[i] = starlark.String(n.name)
		}
		return starlark.NewList(l), nil
	case "sent":
		return starlark.MakeInt(m.sent()), nil
	case "received":
		return starlark.MakeInt(m.received()), nil
	case "dropped":
		if m.sent() == 0 {
			return starlark.Float(0), nil
		}
		return starlark.Float(float64(m.sent()-m.received()) / float64(m.sent())), nil
	case "ok":
		return starlark.Bool(m.ok()), nil
	case "pairs":
		var l []starlark.Value
		for i, src := range m.nodes {
			for j, dst := range m.nodes {
				if i != j {
					l = append(l, starlark.Tuple{starlark.String(src.name), starlark.String(dst.name), starlark.Bool(m.got[i][j] > 0)})
				}
			}
		}
		return starlark.NewList(l), nil
	}
	return nil, nil
}

// reachability is the reachability builtin.
func (e *Env) reachability(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var list *starlark.List
	count := 1
	timeout := Duration(time.Second)
	if err := unpack(b, args, kwargs, &list, &count, &timeout); err != nil {
		return nil, err
	}
	if count < 1 || count > 100 {
		return nil, errorf(b.Name(), "for parameter count: %d is not between 1 and 100", count)
	}
	nodes, err := e.nodes(b.Name(), list)
	if err != nil {
		return nil, err
	}
	m := &Matrix{nodes: nodes, count: count, got: make([][]int, len(nodes))}
	for i := range m.got {
		m.got[i] = make([]int, len(nodes))
	}
	if p := e.Planner; p != nil {
		p.Note(fmt.Sprintf("not sent in a plan, taken as answered: reachability of %d nodes", len(nodes)))
		for i := range m.got {
			for j := range m.got[i] {
				m.got[i][j] = count
			}
		}
		m.planned = true
		return m, nil
	}
	m.crowded = len(nodes)*(len(nodes)-1) > neighbourLimit/2
	// Every pair at once, a bounded number in flight (each holds a socket).
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	sem := make(chan struct{}, 64)
	for i := range nodes {
		for j := range nodes {
			if i == j {
				continue
			}
			wg.Add(1)
			sem <- struct{}{}
			go func(i, j int) {
				defer func() { <-sem; wg.Done() }()
				st, err := e.Ping(nodes[i].ns, nodes[j].addr, PingOpts{Count: count, Timeout: time.Duration(timeout), Size: 56})
				mu.Lock()
				defer mu.Unlock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				m.got[i][j] = st.Received
			}(i, j)
		}
	}
	wg.Wait()
	if firstErr != nil {
		return nil, errorf(b.Name(), "%w", firstErr)
	}
	return m, nil
}

// nodes reads reachability's nodes: Namespaces (pinged at their first
// IPv4 address), or (name, Namespace, address) tuples.
func (e *Env) nodes(fn string, list *starlark.List) ([]node, error) {
	if list == nil || list.Len() < 2 {
		return nil, errorf(fn, "for parameter nodes: want a list of at least two namespaces, or of (name, namespace, address)")
	}
	var out []node
	seen := map[string]bool{}
	for i := 0; i < list.Len(); i++ {
		var nd node
		switch v := list.Index(i).(type) {
		case *Namespace:
			nd.ns, nd.name = v, v.ns.Label()
			addr, err := v.firstIPv4()
			if err != nil {
				return nil, errorf(fn, "for parameter nodes: namespace %s: %w; give it as (name, namespace, address)", v.Name(), err)
			}
			nd.addr = addr
		case starlark.Tuple:
			var name string
			var ns NamespaceArg
			var addr IP
			if len(v) != 3 {
				return nil, errorf(fn, "for parameter nodes: element %d: want (name, namespace, address), got %d items", i, len(v))
			}
			if s, ok := starlark.AsString(v[0]); ok {
				name = s
			}
			if err := ns.Unpack(v[1]); err != nil || ns.Namespace == nil {
				return nil, errorf(fn, "for parameter nodes: element %d: want a Namespace second, got %s", i, v[1].Type())
			}
			err := addr.Unpack(v[2])
			if err == nil {
				err = pingable(addr.IP)
			}
			if err != nil {
				return nil, errorf(fn, "for parameter nodes: element %d: %w", i, err)
			}
			if name == "" {
				return nil, errorf(fn, "for parameter nodes: element %d: want a name (str) first", i)
			}
			if strings.IndexFunc(name, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
				// The matrix prints as lines of names apart by spaces.
				return nil, errorf(fn, "for parameter nodes: element %d: name %q has a space or control character: give a name like \"h1\"", i, name)
			}
			nd = node{name: name, ns: ns.Namespace, addr: addr.IP}
		default:
			return nil, errorf(fn, "for parameter nodes: element %d: want a Namespace or (name, namespace, address), got %s", i, v.Type())
		}
		if seen[nd.name] {
			return nil, errorf(fn, "for parameter nodes: %q is named twice: give the nodes names of their own, as (name, namespace, address)", nd.name)
		}
		seen[nd.name] = true
		out = append(out, nd)
	}
	return out, nil
}

// firstIPv4 is the first IPv4 address of the namespace's devices, lo
// aside.
func (n *Namespace) firstIPv4() (net.IP, error) {
	links, err := n.env.K.Links(n.ns)
	if err != nil {
		return nil, err
	}
	for _, l := range links {
		if l.Kind == "loopback" {
			continue
		}
		as, err := n.env.K.Addrs(n.ns, l.Index)
		if err != nil {
			continue
		}
		for _, a := range as {
			if ip, _, err := net.ParseCIDR(a); err == nil && ip.To4() != nil {
				return ip.To4(), nil
			}
		}
	}
	return nil, errors.New("it has no IPv4 address to be pinged at")
}

// assertReachability is assert.reachability(matrix, expected, msg=None).
func (e *Env) assertReachability(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var m *Matrix
	var expected, msg starlark.Value = starlark.True, starlark.None
	if err := unpack(b, args, kwargs, &m, &expected, &msg); err != nil {
		return nil, err
	}
	want, err := e.wanted(thread, b.Name(), m, expected)
	if err != nil {
		return nil, err
	}
	var diffs []string
	for i, src := range m.nodes {
		for j, dst := range m.nodes {
			if i == j {
				continue
			}
			w, err := want(i, j)
			if err != nil {
				return nil, err
			}
			if got := m.got[i][j] > 0; got != w {
				say := map[bool]string{true: "answered", false: "no answer"}
				diffs = append(diffs, fmt.Sprintf("%s -> %s: %s, want %s", src.name, dst.name, say[got], map[bool]string{true: "an answer", false: "none"}[w]))
			}
		}
	}
	if len(diffs) == 0 {
		return starlark.None, nil
	}
	text := fmt.Sprintf("%d of %d pairs differ:\n  %s\nseen:\n%s", len(diffs), len(m.nodes)*(len(m.nodes)-1), strings.Join(diffs, "\n  "), m)
	if s, ok := starlark.AsString(msg); ok {
		text = s + ": " + text
	}
	return nil, checkFailed(b.Name(), "%s", text)
}

// wanted reads what assert.reachability expects: True (every pair
// answers), a dict {src: [dst, ...]} (exactly those answer, for each src
// it names; a src it does not name is not checked), or a function
// f(src, dst) -> bool.
func (e *Env) wanted(thread *starlark.Thread, fn string, m *Matrix, expected starlark.Value) (func(i, j int) (bool, error), error) {
	switch x := expected.(type) {
	case starlark.Bool:
		return func(i, j int) (bool, error) { return bool(x), nil }, nil
	case *starlark.Dict:
		index := map[string]int{}
		for i, n := range m.nodes {
			index[n.name] = i
		}
		rows := map[int]map[int]bool{}
		for _, item := range x.Items() {
			src, ok := starlark.AsString(item[0])
			si, known := index[src]
			if !ok || !known {
				return nil, errorf(fn, "for parameter expected: %s is not a node of the matrix (it has: %s)", item[0], strings.Join(m.names(), ", "))
			}
			iter := starlark.Iterate(item[1])
			if iter == nil {
				return nil, errorf(fn, "for parameter expected: the nodes %s reaches: want a list, got %s", src, item[1].Type())
			}
			rows[si] = map[int]bool{}
			var v starlark.Value
			for iter.Next(&v) {
				dst, ok := starlark.AsString(v)
				di, known := index[dst]
				if !ok || !known {
					iter.Done()
					return nil, errorf(fn, "for parameter expected: %s is not a node of the matrix (it has: %s)", v, strings.Join(m.names(), ", "))
				}
				rows[si][di] = true
			}
			iter.Done()
		}
		return func(i, j int) (bool, error) {
			row, ok := rows[i]
			if !ok {
				return m.got[i][j] > 0, nil // not checked
			}
			return row[j], nil
		}, nil
	case starlark.Callable:
		return func(i, j int) (bool, error) {
			v, err := starlark.Call(thread, x, starlark.Tuple{starlark.String(m.nodes[i].name), starlark.String(m.nodes[j].name)}, nil)
			if err != nil {
				return false, err
			}
			return bool(v.Truth()), nil
		}, nil
	}
	return nil, errorf(fn, "for parameter expected: want True, a dict {src: [dst, ...]} or a function (src, dst) -> bool, got %s", expected.Type())
}

func (m *Matrix) names() []string {
	out := make([]string, len(m.nodes))
	for i, n := range m.nodes {
		out[i] = n.name
	}
	return out
}
