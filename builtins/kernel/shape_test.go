package kernel

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// Units as users write them, read as tc reads them, and written back
// the way they read.
func TestShapeUnits(t *testing.T) {
	for in, want := range map[string]uint64{
		"10mbit": 10e6, "10Mbit": 10e6, "1gbit": 1e9, "500kbit": 5e5, "1mbps": 8e6, "1.5mbit": 15e5,
		"1000": 1000, "64kibit": 65536, "1001bit": 1000, "2KBps": 16000,
	} {
		got, err := ParseRate(in)
		if err != nil || got != want {
			t.Errorf("ParseRate(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for in, want := range map[string]string{
		"10mb": "unknown unit", "10 parsecs": "unknown unit", "fast": "does not begin with a number",
		"0mbit": "not above 0", "-1mbit": "not above 0", "4bit": "under 8bit",
	} {
		if _, err := ParseRate(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseRate(%q) = %v, want %q", in, err, want)
		}
	}
	if _, err := ParseRate("10mb"); !errors.Is(err, ErrUnit) {
		t.Errorf("an unknown unit is not ErrUnit: %v", err)
	}
	for in, want := range map[string]time.Duration{
		"20ms": 20 * time.Millisecond, "1.5s": 1500 * time.Millisecond, "500us": 500 * time.Microsecond,
		"2msec": 2 * time.Millisecond, "0ms": 0, "0.25ms": 250 * time.Microsecond,
	} {
		got, err := ParseDelay(in)
		if err != nil || got != want {
			t.Errorf("ParseDelay(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for in, want := range map[string]string{
		"-5ms": "negative", "20": "no unit", "20m": "unknown unit", "2h": "unknown unit", "90s": "over 60s",
		"0.1us": "under 1us", "soon": "not a time",
	} {
		if _, err := ParseDelay(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseDelay(%q) = %v, want %q", in, err, want)
		}
	}
	for in, want := range map[string]float64{"1%": 1, "0.5%": 0.5, "100%": 100, "0%": 0, "12.34567%": 12.3457} {
		got, err := ParsePercent(in)
		if err != nil || got != want {
			t.Errorf("ParsePercent(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for in, want := range map[string]string{"150%": "over 100%", "-1%": "negative", "10": "not a percentage", "x%": "not a percentage"} {
		if _, err := ParsePercent(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParsePercent(%q) = %v, want %q", in, err, want)
		}
	}
	for bits, want := range map[uint64]string{10e6: "10mbit", 1e9: "1gbit", 5e5: "500kbit", 15e5: "1500kbit", 8: "8bit"} {
		if got := FormatRate(bits); got != want {
			t.Errorf("FormatRate(%d) = %q, want %q", bits, got, want)
		}
	}
	for d, want := range map[time.Duration]string{20 * time.Millisecond: "20ms", 1500 * time.Millisecond: "1.5s",
		500 * time.Microsecond: "500us", time.Second: "1s", 1250 * time.Microsecond: "1.25ms"} {
		if got := FormatDelay(d); got != want {
			t.Errorf("FormatDelay(%v) = %q, want %q", d, got, want)
		}
		if back, err := ParseDelay(want); err != nil || back != d {
			t.Errorf("ParseDelay(FormatDelay(%v)) = %v, %v", d, back, err)
		}
	}
	// netem's 32-bit probabilities read back as what was set.
	for _, p := range []float64{0.0001, 0.5, 1, 10, 33.3333, 99.9999, 100} {
		if got := u32Percent(percentU32(p)); got != p {
			t.Errorf("%v%% reads back as %v%%", p, got)
		}
	}
}

// A shaping says itself as tc does, passes to the forwarder and back
// whole, and names what does it.
func TestShapingWords(t *testing.T) {
	s := &Shaping{Rate: 10e6, Delay: 20 * time.Millisecond, Jitter: 5 * time.Millisecond, Loss: 1, Duplicate: 0.5, Reorder: 25, Limit: 100}
	if got, want := s.String(), "rate 10mbit delay 20ms 5ms loss 1% duplicate 0.5% reorder 25% limit 100"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if got, want := strings.Join(s.NetemWords(), " "), "limit 100 delay 20ms 5ms loss 1% duplicate 0.5% reorder 25%"; got != want {
		t.Errorf("NetemWords() = %q, want %q", got, want)
	}
	back := &Shaping{Rate: s.Rate}
	if err := back.ParseArgs(s.Args()); err != nil || !back.Equal(s) {
		t.Errorf("ParseArgs(%q) = %v, %v", s.Args(), back, err)
	}
	for _, c := range []struct {
		s    *Shaping
		want string
	}{
		{nil, ""}, {&Shaping{Rate: 8}, "tbf"}, {&Shaping{Loss: 1}, "netem"}, {s, "tbf+netem"},
		{&Shaping{Delay: 1, Tap: "nsfwd1"}, "forwarder"}, {&Shaping{Rate: 8, Delay: 1, Tap: "nsfwd1"}, "tbf+forwarder"},
	} {
		if got := c.s.Mechanism(); got != c.want {
			t.Errorf("%v: mechanism %q, want %q", c.s, got, c.want)
		}
	}
	if !(*Shaping)(nil).Equal(&Shaping{}) || (&Shaping{Rate: 8}).Equal(nil) || (&Shaping{Rate: 8}).Equal(&Shaping{Rate: 16}) {
		t.Error("Equal")
	}
	if got, want := FilterBytecode(), "4,32 0 0 4294963220,21 1 0 1853059944,6 0 0 4294967295,6 0 0 0"; got != want {
		t.Errorf("the filter is %q, want %q (ld #mark; jeq ForwardMark: no match; else match)", got, want)
	}
}

// The forwarder's model of netem: the delay exactly, jitter within its
// bounds, loss, duplicates and reordering at their rates, and the limit.
func TestNetemModel(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	t0 := time.Unix(1000, 0)
	run := func(s *Shaping, n int, gap time.Duration) (out []time.Duration, order []int) {
		m := newNetem(s, rnd)
		sent := map[int]time.Time{}
		take := func(now time.Time) time.Time {
			due, next := m.due(now)
			for _, f := range due {
				i := int(f[0]) | int(f[1])<<8
				out = append(out, now.Sub(sent[i]))
				order = append(order, i)
			}
			return next
		}
		// Packets arrive gap apart; those due leave in between, at their
		// time.
		var next time.Time
		for i := range n {
			at := t0.Add(time.Duration(i) * gap)
			for !next.IsZero() && !next.After(at) {
				next = take(next)
			}
			sent[i] = at
			m.arrive([]byte{byte(i), byte(i >> 8)}, at)
			next = take(at)
		}
		for !next.IsZero() {
			next = take(next)
		}
		return out, order
	}
	d, _ := run(&Shaping{Delay: 20 * time.Millisecond}, 100, time.Millisecond)
	for _, x := range d {
		if x != 20*time.Millisecond {
			t.Fatalf("delay 20ms: a packet waited %v", x)
		}
	}
	d, order := run(&Shaping{Delay: 20 * time.Millisecond, Jitter: 5 * time.Millisecond}, 2000, 0)
	lo, hi, sum := time.Hour, time.Duration(0), time.Duration(0)
	for _, x := range d {
		lo, hi, sum = min(lo, x), max(hi, x), sum+x
	}
	if lo < 15*time.Millisecond || hi >= 25*time.Millisecond || hi-lo < 9*time.Millisecond {
		t.Errorf("delay 20ms 5ms: waits from %v to %v", lo, hi)
	}
	if avg := sum / time.Duration(len(d)); avg < 19500*time.Microsecond || avg > 20500*time.Microsecond {
		t.Errorf("delay 20ms 5ms: average %v", avg)
	}
	sorted := true
	for i := 1; i < len(order); i++ {
		sorted = sorted && order[i] > order[i-1]
	}
	if sorted {
		t.Error("jitter reordered nothing (netem reorders with jitter)")
	}
	// Binomial bounds, 5 standard deviations.
	within := func(what string, got, n int, p float64) {
		t.Helper()
		mean, sd := float64(n)*p, math.Sqrt(float64(n)*p*(1-p))
		if math.Abs(float64(got)-mean) > 5*sd {
			t.Errorf("%s: %d of %d, want %v ± %v", what, got, n, mean, 5*sd)
		}
	}
	d, _ = run(&Shaping{Loss: 10}, 10000, time.Millisecond)
	within("loss 10%", 10000-len(d), 10000, 0.1)
	d, _ = run(&Shaping{Duplicate: 5}, 10000, time.Millisecond)
	within("duplicate 5%", len(d)-10000, 10000, 0.05)
	d, _ = run(&Shaping{Delay: 10 * time.Millisecond, Reorder: 25}, 10000, time.Millisecond)
	early := 0
	for _, x := range d {
		if x == 0 {
			early++
		}
	}
	within("reorder 25%", early, 10000, 0.25)
	d, _ = run(&Shaping{Delay: time.Second, Limit: 50}, 100, 0)
	if len(d) != 50 {
		t.Errorf("limit 50: %d of 100 packets left", len(d))
	}
}
