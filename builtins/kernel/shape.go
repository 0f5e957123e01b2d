package kernel

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/bpf"
)

// Link shaping: what nsscript sets on the egress of a device, and how.
//
//   - rate is a tbf qdisc at the root of the device, handle 4e53:;
//   - delay, jitter, loss, duplicate, reorder and limit are a netem qdisc:
//     at the root (4e53:) alone, or under the tbf (parent 4e53:1, handle
//     4e54:) with a rate;
//   - where the kernel has no sch_netem, those run in nsscript's
//     forwarder instead (see forward.go): a clsact qdisc on the device
//     whose egress filter (pref 20051, classic BPF that skips packets
//     carrying ForwardMark) hands every packet to a tap device the
//     forwarder reads; the forwarder delays, drops, duplicates and
//     reorders them as netem would and sends them out of the device
//     again, marked, so that they pass the filter (and the tbf, if any).
//
// The handles and the filter's preference are how nsscript tells its own
// qdiscs and filter from anything else on a device.

const (
	// RootHandle is the handle of nsscript's root qdisc (tc shows 4e53:).
	RootHandle uint32 = 0x4e53 << 16
	// ChildHandle is the handle of the netem under nsscript's tbf.
	ChildHandle uint32 = 0x4e54 << 16
	// FilterPref is the preference of nsscript's egress filter.
	FilterPref uint16 = 0x4e53
	// ForwardMark is the skb mark of the packets the forwarder sends
	// out again: the egress filter lets them pass.
	ForwardMark uint32 = 0x6e737368 // "nssh"
	// ForwardAlias begins the alias of a forwarder's tap: the shaping it
	// applies follows (see Shaping.Args).
	ForwardAlias = "nsscript:shape"
	// NetemLimit is netem's default queue, in packets.
	NetemLimit = 1000
)

// Shaping is what nsscript sets on a device's egress. The zero value
// (and nil) is none.
type Shaping struct {
	Rate      uint64        `json:"rate,omitempty"` // bits per second (a multiple of 8): tbf
	Delay     time.Duration `json:"delay,omitempty"`
	Jitter    time.Duration `json:"jitter,omitempty"`
	Loss      float64       `json:"loss,omitempty"` // percent, 0 to 100
	Duplicate float64       `json:"duplicate,omitempty"`
	Reorder   float64       `json:"reorder,omitempty"`
	Limit     int           `json:"limit,omitempty"` // packets the netem part holds at most
	// Tap is set when the netem part runs in nsscript's forwarder: the
	// tap device the egress filter hands the packets to.
	Tap string `json:"tap,omitempty"`
	// Stale: read back only: the egress filter hands the packets to a tap
	// that is gone (the forwarder ended): they are dropped.
	Stale bool `json:"-"`
}

// Netem reports whether s has what netem (or the forwarder) does.
func (s *Shaping) Netem() bool {
	return s != nil && (s.Delay > 0 || s.Jitter > 0 || s.Loss > 0 || s.Duplicate > 0 || s.Reorder > 0 || s.Limit > 0)
}

// Empty reports whether s shapes nothing.
func (s *Shaping) Empty() bool {
	return s == nil || s.Rate == 0 && !s.Netem() && s.Tap == "" && !s.Stale
}

// Mechanism says what applies s: "tbf", "netem", "tbf+netem",
// "forwarder", "tbf+forwarder", or "" for nothing.
func (s *Shaping) Mechanism() string {
	if s.Empty() {
		return ""
	}
	var m []string
	if s.Rate > 0 {
		m = append(m, "tbf")
	}
	switch {
	case s.Tap != "" || s.Stale:
		m = append(m, "forwarder")
	case s.Netem():
		m = append(m, "netem")
	}
	return strings.Join(m, "+")
}

// Args are the netem part as key=value words, in a fixed order: what the
// forwarder is given, and its tap's alias says.
func (s *Shaping) Args() []string {
	var out []string
	add := func(k, v string) { out = append(out, k+"="+v) }
	if s.Delay > 0 {
		add("delay", FormatDelay(s.Delay))
	}
	if s.Jitter > 0 {
		add("jitter", FormatDelay(s.Jitter))
	}
	if s.Loss > 0 {
		add("loss", FormatPercent(s.Loss))
	}
	if s.Duplicate > 0 {
		add("duplicate", FormatPercent(s.Duplicate))
	}
	if s.Reorder > 0 {
		add("reorder", FormatPercent(s.Reorder))
	}
	if s.Limit > 0 {
		add("limit", strconv.Itoa(s.Limit))
	}
	return out
}

// ParseArgs reads what Args wrote into s.
func (s *Shaping) ParseArgs(words []string) error {
	for _, w := range words {
		k, v, ok := strings.Cut(w, "=")
		if !ok {
			return fmt.Errorf("%q is not key=value", w)
		}
		var err error
		switch k {
		case "delay":
			s.Delay, err = ParseDelay(v)
		case "jitter":
			s.Jitter, err = ParseDelay(v)
		case "loss":
			s.Loss, err = ParsePercent(v)
		case "duplicate":
			s.Duplicate, err = ParsePercent(v)
		case "reorder":
			s.Reorder, err = ParsePercent(v)
		case "limit":
			s.Limit, err = strconv.Atoi(v)
			if err == nil && s.Limit <= 0 {
				err = fmt.Errorf("limit %d", s.Limit)
			}
		default:
			err = fmt.Errorf("unknown key %q", k)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// String is the shaping as tc's words say it: "rate 10mbit delay 20ms
// 5ms loss 10%"; "none" for none.
func (s *Shaping) String() string {
	if s.Empty() {
		return "none"
	}
	var w []string
	if s.Rate > 0 {
		w = append(w, "rate", FormatRate(s.Rate))
	}
	w = append(w, s.netemWords(false)...)
	if s.Stale {
		w = append(w, "(its forwarder is gone, and what the device sends is dropped: shape it again, or run the script again)")
	}
	return strings.Join(w, " ")
}

// netemWords are the netem part as tc's netem takes it; with limit, the
// limit first as tc prints it.
func (s *Shaping) netemWords(limit bool) []string {
	var w []string
	if limit && s.Limit > 0 && s.Limit != NetemLimit {
		w = append(w, "limit", strconv.Itoa(s.Limit))
	}
	if s.Delay > 0 || s.Jitter > 0 {
		w = append(w, "delay", FormatDelay(s.Delay))
		if s.Jitter > 0 {
			w = append(w, FormatDelay(s.Jitter))
		}
	}
	if s.Loss > 0 {
		w = append(w, "loss", FormatPercent(s.Loss))
	}
	if s.Duplicate > 0 {
		w = append(w, "duplicate", FormatPercent(s.Duplicate))
	}
	if s.Reorder > 0 {
		w = append(w, "reorder", FormatPercent(s.Reorder))
	}
	if !limit && s.Limit > 0 && s.Limit != NetemLimit {
		w = append(w, "limit", strconv.Itoa(s.Limit))
	}
	return w
}

// NetemWords are the netem part as `tc qdisc add ... netem` takes it
// (its limit first, unless netem's default).
func (s *Shaping) NetemWords() []string { return s.netemWords(true) }

// Equal reports whether a and b set the same (nil and empty are equal).
func (a *Shaping) Equal(b *Shaping) bool {
	if a.Empty() || b.Empty() {
		return a.Empty() == b.Empty()
	}
	return a.Rate == b.Rate && a.Tap == b.Tap && a.Stale == b.Stale && strings.Join(a.Args(), " ") == strings.Join(b.Args(), " ")
}

// Clone is a copy of s (nil for none).
func (s *Shaping) Clone() *Shaping {
	if s.Empty() {
		return nil
	}
	c := *s
	return &c
}

// TCHandle writes a qdisc handle as tc does: "4e53:", "4e53:1".
func TCHandle(h uint32) string {
	s := strconv.FormatUint(uint64(h>>16), 16) + ":"
	if minor := h & 0xffff; minor != 0 {
		s += strconv.FormatUint(uint64(minor), 16)
	}
	return s
}

// TbfParams are the burst and the queue limit (bytes) nsscript gives the
// tbf of a rate on a device with that MTU: a burst of 10ms of traffic,
// at least two full frames (a packet bigger than the burst is dropped,
// a GSO packet cut into frames), and a queue of 100ms of traffic (at
// least 64 KiB) behind it, so that one TCP stream fills the rate.
func TbfParams(rateBits uint64, mtu int) (burst, limit uint32) {
	bytes := rateBits / 8
	b := max(bytes/100, uint64(2*(max(mtu, 1500)+18)))
	l := b + max(bytes/10, 64<<10)
	return uint32(min(b, math.MaxUint32/2)), uint32(min(l, math.MaxUint32))
}

// FormatRate writes bits per second as tc's units: "10mbit", "1gbit",
// "500kbit", "8bit".
func FormatRate(bits uint64) string {
	for _, u := range []struct {
		name string
		n    uint64
	}{{"tbit", 1e12}, {"gbit", 1e9}, {"mbit", 1e6}, {"kbit", 1e3}} {
		if bits >= u.n && bits%u.n == 0 {
			return strconv.FormatUint(bits/u.n, 10) + u.name
		}
	}
	return strconv.FormatUint(bits, 10) + "bit"
}

// rateUnits are tc's rate units (case does not matter): bits, or bytes
// (bps) per second, SI or IEC.
var rateUnits = map[string]float64{
	"bit": 1, "kbit": 1e3, "mbit": 1e6, "gbit": 1e9, "tbit": 1e12,
	"kibit": 1 << 10, "mibit": 1 << 20, "gibit": 1 << 30, "tibit": 1 << 40,
	"bps": 8, "kbps": 8e3, "mbps": 8e6, "gbps": 8e9, "tbps": 8e12,
	"kibps": 8 << 10, "mibps": 8 << 20, "gibps": 8 << 30, "tibps": 8 << 40,
}

// ErrUnit is a number with a unit nsscript does not know.
var ErrUnit = errors.New("unknown unit")

// splitNumber cuts "10mbit" into 10 and "mbit".
func splitNumber(s string) (float64, string, error) {
	i := 0
	for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.' || s[i] == '-' || s[i] == '+' || s[i] == 'e' && i > 0 && i+1 < len(s) && (s[i+1] >= '0' && s[i+1] <= '9' || s[i+1] == '-')) {
		i++
	}
	f, err := strconv.ParseFloat(s[:i], 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, "", fmt.Errorf("%q does not begin with a number", s)
	}
	return f, strings.TrimSpace(s[i:]), nil
}

// MaxRateText is the highest rate tc sets, 8 * (2^32 - 1) * 1000 bits per
// second, as a user would write it.
const MaxRateText = "34359gbit"

// ParseRate reads a rate as tc does: a number and a unit of rateUnits
// ("10mbit"; "1mbps" is a megabyte per second); a bare number is bits per
// second. It returns bits per second, rounded down to whole bytes.
func ParseRate(s string) (uint64, error) {
	f, unit, err := splitNumber(strings.TrimSpace(s))
	if err != nil {
		return 0, err
	}
	scale := 1.0
	if unit != "" {
		var ok bool
		if scale, ok = rateUnits[strings.ToLower(unit)]; !ok {
			return 0, fmt.Errorf("%w %q in %q: use bit, kbit, mbit, gbit (bits per second) or bps, kbps, mbps, gbps (bytes per second, as tc)", ErrUnit, unit, s)
		}
	}
	bits := f * scale
	switch {
	case bits <= 0:
		return 0, fmt.Errorf("rate %q is not above 0: leave rate out for none", s)
	case bits < 8:
		return 0, fmt.Errorf("rate %q is under 8bit (a byte per second), the least tc sets", s)
	case bits > 8*float64(math.MaxUint32)*1000:
		return 0, fmt.Errorf("rate %q is too high: tc takes at most %s (a 32-bit count of bytes per millisecond)", s, MaxRateText)
	}
	return uint64(bits) / 8 * 8, nil
}

// delayUnits are tc's time units.
var delayUnits = map[string]time.Duration{
	"s": time.Second, "sec": time.Second, "secs": time.Second,
	"ms": time.Millisecond, "msec": time.Millisecond, "msecs": time.Millisecond,
	"us": time.Microsecond, "usec": time.Microsecond, "usecs": time.Microsecond, "µs": time.Microsecond,
}

// MaxDelay is the longest delay or jitter nsscript sets (netem's 32-bit
// count of 64ns ticks ends at 274s).
const MaxDelay = time.Minute

// ParseDelay reads a time as tc does ("20ms", "1.5s", "500us"), to the
// microsecond. It must have a unit.
func ParseDelay(s string) (time.Duration, error) {
	f, unit, err := splitNumber(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("%q is not a time like \"20ms\", \"1.5s\" or \"500us\"", s)
	}
	if unit == "" {
		return 0, fmt.Errorf("%q has no unit: write it like \"20ms\", \"1.5s\" or \"500us\"", s)
	}
	u, ok := delayUnits[strings.ToLower(unit)]
	if !ok {
		return 0, fmt.Errorf("%w %q in %q: use s, ms or us (\"20ms\", \"1.5s\", \"500us\")", ErrUnit, unit, s)
	}
	if f < 0 {
		return 0, fmt.Errorf("%q is negative: a delay is 0 or more", s)
	}
	d := time.Duration(math.Round(f * float64(u) / float64(time.Microsecond)))
	if d*time.Microsecond > MaxDelay || f*float64(u) > float64(MaxDelay) {
		return 0, fmt.Errorf("%q is over %s, the most nsscript sets", s, FormatDelay(MaxDelay))
	}
	if d == 0 && f > 0 {
		return 0, fmt.Errorf("%q is under 1us, the least netem counts", s)
	}
	return d * time.Microsecond, nil
}

// FormatDelay writes a time as tc reads it: "20ms", "1.5s", "500us".
func FormatDelay(d time.Duration) string {
	switch {
	case d%time.Second == 0 && d != 0:
		return strconv.FormatInt(int64(d/time.Second), 10) + "s"
	case d >= time.Second && d%time.Millisecond == 0:
		return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + "s"
	case d%time.Millisecond == 0:
		return strconv.FormatInt(int64(d/time.Millisecond), 10) + "ms"
	case d >= time.Millisecond:
		return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', -1, 64) + "ms"
	}
	return strconv.FormatInt(int64(d/time.Microsecond), 10) + "us"
}

// ParsePercent reads "10%" or "0.5%" (0 to 100), to 1/10000 of a
// percent.
func ParsePercent(s string) (float64, error) {
	num, ok := strings.CutSuffix(strings.TrimSpace(s), "%")
	if !ok {
		return 0, fmt.Errorf("%q is not a percentage: write it like \"1%%\" or \"0.5%%\"", s)
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err != nil || math.IsNaN(f) {
		return 0, fmt.Errorf("%q is not a percentage like \"1%%\" or \"0.5%%\"", s)
	}
	return CheckPercent(f, strconv.Quote(s))
}

// CheckPercent checks a percentage (what stands for it in messages) and
// rounds it to 1/10000 of a percent.
func CheckPercent(f float64, what string) (float64, error) {
	switch {
	case math.IsNaN(f):
		return 0, fmt.Errorf("%s is not a percentage", what)
	case f < 0:
		return 0, fmt.Errorf("%s is negative: give 0%% to 100%%", what)
	case f > 100:
		return 0, fmt.Errorf("%s is over 100%%: give 0%% to 100%%", what)
	}
	return math.Round(f*1e4) / 1e4, nil
}

// FormatPercent writes a percentage: "10%", "0.5%".
func FormatPercent(f float64) string {
	return strconv.FormatFloat(math.Round(f*1e4)/1e4, 'f', -1, 64) + "%"
}

func usec(n int64) time.Duration { return time.Duration(n) * time.Microsecond }

// percentU32 is a percentage as netem's 32-bit probability.
func percentU32(f float64) uint32 {
	if f >= 100 {
		return math.MaxUint32
	}
	return uint32(f / 100 * math.MaxUint32)
}

// u32Percent is netem's probability as a percentage.
func u32Percent(v uint32) float64 {
	return math.Round(float64(v)/math.MaxUint32*100*1e4) / 1e4
}

// ForwardFilter is the egress filter's program, classic BPF: a packet
// whose mark is ForwardMark (sent by the forwarder) does not match; every
// other one does (and goes to the forwarder's tap).
func ForwardFilter() []bpf.RawInstruction {
	prog, err := bpf.Assemble([]bpf.Instruction{
		bpf.LoadExtension{Num: bpf.ExtMark},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: ForwardMark, SkipTrue: 1},
		bpf.RetConstant{Val: math.MaxUint32}, // -1: a match, the filter's actions run
		bpf.RetConstant{Val: 0},              // no match
	})
	if err != nil {
		panic(err)
	}
	return prog
}

// FilterBytecode is ForwardFilter as tc's `bpf bytecode` takes it.
func FilterBytecode() string {
	prog := ForwardFilter()
	parts := []string{strconv.Itoa(len(prog))}
	for _, in := range prog {
		parts = append(parts, fmt.Sprintf("%d %d %d %d", in.Op, in.Jt, in.Jf, in.K))
	}
	return strings.Join(parts, ",")
}

// ShapeSupport is what the kernel has of what shaping needs: each field
// is "" when it is there, or what is missing (the kernel's word).
type ShapeSupport struct {
	Netem  string // sch_netem
	Tbf    string // sch_tbf
	Clsact string // the clsact qdisc (sch_ingress)
	BPF    string // cls_bpf
	Mirred string // act_mirred
	Tun    string // /dev/net/tun
	// TunDenied: /dev/net/tun is there, but this user may not open it
	// (a sandbox made without root, where it is root's alone).
	TunDenied bool
}

// Fallback is what the forwarder needs and the kernel lacks (none: it
// has all); a /dev/net/tun this user may not open is not in it (see
// TunDenied).
func (s ShapeSupport) Fallback() []string {
	var miss []string
	for _, m := range []struct{ what, why string }{
		{"the clsact qdisc (sch_ingress)", s.Clsact}, {"cls_bpf", s.BPF}, {"act_mirred", s.Mirred}, {"tun (/dev/net/tun)", s.Tun},
	} {
		if m.why != "" && !(s.TunDenied && m.why == s.Tun) {
			miss = append(miss, m.what)
		}
	}
	return miss
}

// AllShaping is a kernel that has everything (the plan's model).
var AllShaping = ShapeSupport{}
