package runtime

import (
	"sort"
	"strings"

	"go.starlark.net/starlark"

	"github.com/nsscript/nsscript/builtins"
)

// completer completes what is typed at the REPL's prompt: names of the
// session and Starlark, attributes after a dot, keyword arguments inside
// a call, and the kernel's own names inside a string literal (namespace
// names after `namespace("`, link names after `link("` or `ns.link("`).
type completer struct {
	globals starlark.StringDict // the session's (read between statements only)
	env     *builtins.Env
}

// lineState is what the text left of the cursor is in the middle of.
type lineState struct {
	comment  bool
	inString bool
	strStart int    // index just after the opening quote
	quote    string // the quote that opened the string
	open     []openBracket
}

type openBracket struct {
	pos    int    // index of the bracket
	callee string // for '(': the dotted name just before it ("veth", "red.link")
}

// scanLine follows quotes, comments and brackets across one line. It is
// not a Starlark scanner: it only needs to know where the cursor is.
func scanLine(s string) lineState {
	var st lineState
	for i := 0; i < len(s); i++ {
		c := s[i]
		if st.inString {
			switch {
			case c == '\\':
				i++
			case strings.HasPrefix(s[i:], st.quote):
				i += len(st.quote) - 1
				st.inString = false
			}
			continue
		}
		switch c {
		case '#':
			st.comment = true
			return st
		case '"', '\'':
			st.inString, st.quote = true, string(c)
			if strings.HasPrefix(s[i:], strings.Repeat(string(c), 3)) {
				st.quote = strings.Repeat(string(c), 3)
			}
			st.strStart = i + len(st.quote)
			i = st.strStart - 1
			// A prefix such as r"..." or b"...": still a string.
		case '(':
			st.open = append(st.open, openBracket{pos: i, callee: trailingName(s[:i])})
		case '[', '{':
			st.open = append(st.open, openBracket{pos: i})
		case ')', ']', '}':
			if len(st.open) > 0 {
				st.open = st.open[:len(st.open)-1]
			}
		}
	}
	return st
}

// call is the innermost open bracket when it is a call's parenthesis.
func (st lineState) call() *openBracket {
	if len(st.open) == 0 {
		return nil
	}
	b := &st.open[len(st.open)-1]
	if b.callee == "" {
		return nil
	}
	return b
}

// trailingName is the dotted name (a.b.c) that s ends with.
func trailingName(s string) string {
	i := len(s)
	for i > 0 {
		c := s[i-1]
		if c == '_' || c == '.' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			i--
			continue
		}
		break
	}
	name := s[i:]
	if name == "" || name[0] >= '0' && name[0] <= '9' {
		return "" // a number, not a name
	}
	return name
}

// complete is liner's WordCompleter: pos counts runes.
func (c *completer) complete(line string, pos int) (head string, items []string, tail string) {
	runes := []rune(line)
	if pos > len(runes) {
		pos = len(runes)
	}
	before, tail := string(runes[:pos]), string(runes[pos:])
	st := scanLine(before)
	switch {
	case st.comment:
		return before, nil, tail
	case st.inString:
		prefix := before[st.strStart:]
		closing := st.quote
		if strings.HasPrefix(tail, st.quote) {
			closing = ""
		}
		for _, name := range c.kernelNames(st, before) {
			if strings.HasPrefix(name, prefix) {
				items = append(items, name+closing)
			}
		}
		return before[:st.strStart], items, tail
	}
	word := trailingName(before)
	if word == "" && strings.TrimSpace(before) == "" {
		// Tab at the start of a line indents, as in an editor.
		return before, []string{"    "}, tail
	}
	head = before[:len(before)-len(word)]
	if i := strings.LastIndex(word, "."); i >= 0 {
		base, prefix := word[:i], word[i+1:]
		v, ok := c.lookup(base).(starlark.HasAttrs)
		if !ok {
			return before, nil, tail
		}
		for _, name := range v.AttrNames() {
			if strings.HasPrefix(name, prefix) {
				items = append(items, name)
			}
		}
		return before[:len(before)-len(prefix)], items, tail
	}
	if call := st.call(); call != nil && !strings.HasSuffix(strings.TrimRight(head, " "), "=") {
		given := map[string]bool{}
		for _, m := range keywordGiven().FindAllStringSubmatch(before[call.pos:], -1) {
			given[m[1]] = true
		}
		for _, p := range c.params(call.callee) {
			if strings.HasPrefix(p, word) && !given[p] {
				items = append(items, p+"=")
			}
		}
	}
	if word == "" {
		return head, items, tail // not every name in the session
	}
	return head, append(items, c.names(word)...), tail
}

var keywordGiven = builtins.LazyRegexp(`([A-Za-z_]\w*)\s*=(?:[^=]|$)`)

// starlarkWords are the keywords a statement may start with.
var starlarkWords = []string{"and", "break", "continue", "def", "elif", "else", "for", "if", "in", "lambda", "load", "not", "or", "pass", "return", "while"}

// names lists the session's globals, Starlark's universe and keywords
// that start with prefix.
func (c *completer) names(prefix string) []string {
	seen := map[string]bool{}
	var out []string
	add := func(name string) {
		if strings.HasPrefix(name, prefix) && !seen[name] && (!strings.HasPrefix(name, "_") || strings.HasPrefix(prefix, "_")) {
			seen[name] = true
			out = append(out, name)
		}
	}
	for name := range c.globals {
		add(name)
	}
	for name := range starlark.Universe {
		add(name)
	}
	for _, w := range starlarkWords {
		add(w)
	}
	sort.Strings(out)
	return out
}

// lookup evaluates a dotted name without calling anything: a global (or
// a Starlark builtin), then attributes. Attributes of live values read
// the kernel, which changes nothing.
func (c *completer) lookup(dotted string) starlark.Value {
	parts := strings.Split(dotted, ".")
	v, ok := c.globals[parts[0]]
	if !ok {
		v, ok = starlark.Universe[parts[0]]
	}
	if !ok {
		return nil
	}
	for _, attr := range parts[1:] {
		x, ok := v.(starlark.HasAttrs)
		if !ok {
			return nil
		}
		next, err := x.Attr(attr)
		if err != nil || next == nil {
			return nil
		}
		v = next
	}
	return v
}

// params are the parameters of the function a call is to.
func (c *completer) params(callee string) []string {
	switch fn := c.lookup(callee).(type) {
	case *starlark.Builtin:
		return builtins.Params(fn.Name())
	case *starlark.Function:
		n := fn.NumParams()
		if fn.HasVarargs() {
			n--
		}
		if fn.HasKwargs() {
			n--
		}
		out := make([]string, n)
		for i := range out {
			out[i], _ = fn.Param(i)
		}
		return out
	}
	return nil
}

// kernelNames are the live names a string literal may be completed with:
// the first argument of namespace(), link() or NS.link().
func (c *completer) kernelNames(st lineState, before string) []string {
	call := st.call()
	if call == nil || strings.TrimSpace(before[call.pos+1:st.strStart-len(st.quote)]) != "" {
		return nil
	}
	fn, ok := c.lookup(call.callee).(*starlark.Builtin)
	if !ok {
		return nil
	}
	var ns *builtins.Namespace
	switch fn.Name() {
	case "namespace":
		names, _ := c.env.K.ListNamed()
		return names
	case "link":
		ns = c.env.Host()
	case "namespace.link":
		ns, _ = fn.Receiver().(*builtins.Namespace)
	}
	if ns == nil {
		return nil
	}
	links, err := ns.Links()
	if err != nil {
		return nil
	}
	out := make([]string, len(links))
	for i, l := range links {
		out[i] = l.Name()
	}
	return out
}
