package plan

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
)

// Op is one recorded operation: what it is, as data, and the equivalent
// shell command (Cmd, possibly several lines; empty for a blank line).
type Op struct {
	Op         string      `json:"op"`
	NS         string      `json:"ns,omitempty"` // "host", a name, or a path
	Dev        string      `json:"dev,omitempty"`
	Name       string      `json:"name,omitempty"` // a rename's new name
	Peer       string      `json:"peer,omitempty"`
	PeerNS     string      `json:"peer_ns,omitempty"`
	To         string      `json:"to,omitempty"`
	MTU        int         `json:"mtu,omitempty"`
	MAC        string      `json:"mac,omitempty"`
	Master     string      `json:"master,omitempty"`
	Up         *bool       `json:"up,omitempty"`
	On         *bool       `json:"on,omitempty"`
	Addr       string      `json:"addr,omitempty"`
	Route      *RouteSpec  `json:"route,omitempty"`
	Device     *DeviceSpec `json:"device,omitempty"` // vxlan_add, tap_add, vlan_add, macvlan_add
	IP         string      `json:"ip,omitempty"`     // neigh_replace, neigh_del: the neighbour's address (MAC: its lladdr)
	Key        string      `json:"key,omitempty"`
	Value      string      `json:"value,omitempty"`
	Table      string      `json:"table,omitempty"`
	Chain      string      `json:"chain,omitempty"`
	Rule       []string    `json:"rule,omitempty"`
	Family     string      `json:"family,omitempty"`      // "ipv6" for ip6tables and ip -6 rule
	Position   int         `json:"position,omitempty"`    // iptables -I CHAIN POSITION
	PolicyRule string      `json:"policy_rule,omitempty"` // ip rule: what follows "ip rule add"
	File       string      `json:"file,omitempty"`
	Content    string      `json:"content,omitempty"`
	Argv       []string    `json:"argv,omitempty"`
	Env        []string    `json:"env,omitempty"`
	Stdin      *string     `json:"stdin,omitempty"`
	Background bool        `json:"background,omitempty"`
	Check      *bool       `json:"check,omitempty"`
	Pid        int         `json:"pid,omitempty"`
	Signal     string      `json:"signal,omitempty"`
	Text       string      `json:"text,omitempty"`
	Cmd        string      `json:"cmd"`
}

// Header is how a plan script begins.
func Header(file, lab string) string {
	return fmt.Sprintf(`#!/bin/sh
# nsscript plan %s (lab %s): the commands that build what the script builds.
# Made against a model of a fresh host (as under --sandbox), without root and
# without changing anything. In a plan, exec runs nothing: each command is
# recorded below (to the script its output was empty, and with check=False
# it failed); background commands get $pidN. ping, assert.reachable and
# assert.unreachable send no packets, and a check that failed on what the
# plan cannot know is kept as a comment.
set -e
`, file, lab)
}

// Stopped is the end of a plan whose script stopped on an error.
func Stopped(msg string) Op {
	return Op{Op: "error", Text: msg, Cmd: "# the script stopped here: " + msg + "\nexit 1"}
}

// WriteScript writes the plan as a shell script.
func WriteScript(w io.Writer, file, lab string, ops []Op) error {
	var b strings.Builder
	b.WriteString(Header(file, lab))
	for _, op := range ops {
		b.WriteString(op.Cmd)
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON writes the operations as a JSON array.
func WriteJSON(w io.Writer, ops []Op) error {
	if ops == nil {
		ops = []Op{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(ops)
}

// Sink takes the operations a Recorder writes down.
type Sink interface {
	Add(op Op)
}

// OpList keeps the operations: a plan.
type OpList struct {
	mu  sync.Mutex
	ops []Op
}

// Add appends op.
func (l *OpList) Add(op Op) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ops = append(l.ops, op)
}

// Ops are the operations so far.
func (l *OpList) Ops() []Op {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Op(nil), l.ops...)
}

// Len is how many there are.
func (l *OpList) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.ops)
}

// Truncate forgets the operations after the first n.
func (l *OpList) Truncate(n int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ops = l.ops[:n]
}

// Last is the latest operation, if any.
func (l *OpList) Last() (Op, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.ops) == 0 {
		return Op{}, false
	}
	return l.ops[len(l.ops)-1], true
}

// Lines prints each operation's command as it comes: a trace.
type Lines struct {
	mu sync.Mutex
	W  io.Writer
}

// Add prints op's command.
func (l *Lines) Add(op Op) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintln(l.W, op.Cmd)
}
