package main

import "testing"

// The converge tests (issue "converge"): like the ownership tests, each
// runs one script of testdata/ownership in its own --sandbox, which
// drives inner nsscript runs and compares snapshots of the kernel state.

// TestRerunDocs: scripts in the documents' own style (create in the
// host, then move; create inside ns1, then move) run twice leave the
// state of one run, which is the state of the documents' ip commands;
// the second run's --trace is empty.
func TestRerunDocs(t *testing.T) { trust(t, "rerun_docs.star", "documents' style converges") }

// TestRerunEdit: v1 then v2 of a script leaves what v2 alone leaves, for
// every kind of object; a failed second run leaves the first's state;
// daemons are adopted, and restarted with restart=True.
func TestRerunEdit(t *testing.T) { trust(t, "rerun_edit.star", "edits converge") }

// TestRerunDiff: plan --diff LAB FILE lists what a run would add and
// remove (nothing for the script the lab ran); down --trace is valid
// shell.
func TestRerunDiff(t *testing.T) { trust(t, "rerun_diff.star", "diff checked") }

// TestRerunMore: what a red team found re-runs and edits did wrong: a
// daemon adopted beside a foreground command, an address edited within
// its subnet, a namespace made again, daemons started again or restarted,
// identical daemons, renames, the user's address beside the lab's, a
// journal naming pid 1, ls of a lab without devices.
func TestRerunMore(t *testing.T) { trust(t, "rerun_more.star", "re-runs checked") }

// TestRerunRouting: policy rules, ip6tables rules, rules at a position,
// chains of the lab's, IPv6 forwarding and masquerade with not_dst
// converge on a re-run, are pruned by an edit and undone by down; undo
// leaves the user's rule in a chain of the lab's, and the user's policy
// rule in place of the lab's.
func TestRerunRouting(t *testing.T) { trust(t, "rerun_routing.star", "routing converges") }

// TestShapeConverge: link shaping run after run (issue 16): the same
// shaping again changes nothing, another replaces it (forwarders
// included), none leaves none, a failed run puts back the one before,
// down leaves the state from before (a device of the user's too), and
// plan --diff sees the shaping (a forwarder as the netem it stands for).
func TestShapeConverge(t *testing.T) { trust(t, "shape_converge.star", "shaping converges") }

// TestRerunDevices: VXLAN, tap and macvlan devices, chosen MACs and
// static neighbours converge on re-run (an empty --trace), show in ls,
// follow an edit (another VNI made again, static entries pruned and the
// user's put back), roll back on failure and come down whole.
func TestRerunDevices(t *testing.T) { trust(t, "rerun_devices.star", "devices converge") }
