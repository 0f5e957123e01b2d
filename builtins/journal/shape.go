package journal

import (
	"fmt"

	"github.com/nsscript/nsscript/builtins/kernel"
	"github.com/nsscript/nsscript/builtins/names"
)

// Link shaping: one record per device, with what the device's shaping
// was before (PrevShape), which undo puts back (none: nsscript's qdiscs
// and filter go). A re-run that asks for the shaping the device has
// declares the record again and changes nothing; the journal keeps the
// oldest record's PrevShape, from before the lab.

// SetShaping journals the device's shaping before it changes.
func (k *Kernel) SetShaping(ns *kernel.NS, index int, s *kernel.Shaping) error {
	li, err := k.linkName(ns, index)
	if err != nil {
		return err
	}
	cur, err := k.Reader.Shaping(ns, index)
	if err != nil {
		return err
	}
	rec := k.devRecord("shape", ns, li)
	rec.Shape, rec.PrevShape, rec.Within = s.Clone(), cur, k.within(ns, index)
	if cur.Equal(s) {
		k.declare(recKey(rec))
		return nil
	}
	if err := k.write(rec); err != nil {
		return err
	}
	return k.in.SetShaping(ns, index, s)
}

// undoShape puts back what a device's shaping was, if the device is
// still the one recorded.
func (u *Undoer) undoShape(r Record) error {
	ns, li, err := u.device(r.NS, r.Name, recordedID(r))
	if err != nil {
		return err
	}
	return u.K.SetShaping(ns, li.Index, r.PrevShape)
}

// checkShape refuses a shaping undo could not give the kernel.
func checkShape(s *kernel.Shaping) error {
	if s == nil {
		return nil
	}
	for _, p := range []float64{s.Loss, s.Duplicate, s.Reorder} {
		if p < 0 || p > 100 {
			return fmt.Errorf("shaping with a percentage of %v", p)
		}
	}
	if s.Delay < 0 || s.Jitter < 0 || s.Delay > kernel.MaxDelay || s.Jitter > kernel.MaxDelay || s.Limit < 0 {
		return fmt.Errorf("shaping with delay %v, jitter %v, limit %d", s.Delay, s.Jitter, s.Limit)
	}
	return optional(s.Tap, names.IfName)
}
