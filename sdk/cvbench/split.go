package cvbench

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"iter"
	"math"
	"slices"
)

// Filter selects examples by type, task and source; an empty list matches
// everything, and lists are ORed within a field and ANDed across fields.
type Filter struct {
	Types   []Type
	Tasks   []Task
	Sources []Source
}

// Match reports whether e passes the filter.
func (f Filter) Match(e Example) bool {
	return (len(f.Types) == 0 || slices.Contains(f.Types, e.Type)) &&
		(len(f.Tasks) == 0 || slices.Contains(f.Tasks, e.Task)) &&
		(len(f.Sources) == 0 || slices.Contains(f.Sources, e.Source))
}

// Select returns the examples that pass f, in order. The examples share
// their (read-only) image bytes with xs.
func Select(xs []Example, f Filter) []Example {
	var out []Example
	for e := range Iter(xs, f) {
		out = append(out, e)
	}
	return out
}

// Iter yields the examples that pass f, in order, without copying the slice.
func Iter(xs []Example, f Filter) iter.Seq[Example] {
	return func(yield func(Example) bool) {
		for _, e := range xs {
			if f.Match(e) && !yield(e) {
				return
			}
		}
	}
}

// All yields the data set's examples with their positions.
func (d *Dataset) All() iter.Seq2[int, Example] {
	return func(yield func(int, Example) bool) {
		for i, e := range d.Examples {
			if !yield(i, e) {
				return
			}
		}
	}
}

// DefaultValFraction is the paper's validation share (80/20 split).
const DefaultValFraction = 0.2

// SplitOptions configures Split.
type SplitOptions struct {
	Seed        uint64  // different seeds give independent splits
	ValFraction float64 // share of examples in validation, in [0, 1]; 0 means DefaultValFraction
	// StratifyByTask splits each task separately, so both halves keep
	// CV-Bench's task mix.
	StratifyByTask bool
}

// Split divides examples into train and validation sets. Each example's
// place is decided by sha256(seed || "cvbench-split-v1" || type || idx): the
// examples are ordered by that hash and the first round(n*ValFraction) go
// to validation. The result depends only on the seed and the examples' keys,
// not on input order, math/rand, the machine or the Go version. Both halves
// keep the input order.
func Split(xs []Example, o SplitOptions) (train, val []Example) {
	frac := o.ValFraction
	if frac == 0 {
		frac = DefaultValFraction
	}
	inVal := make([]bool, len(xs))
	groups := map[Task][]int{}
	var order []Task
	for i, e := range xs {
		t := e.Task
		if !o.StratifyByTask {
			t = ""
		}
		if _, ok := groups[t]; !ok {
			order = append(order, t)
		}
		groups[t] = append(groups[t], i)
	}
	keys := make([][sha256.Size]byte, len(xs))
	for i, e := range xs {
		keys[i] = splitHash(o.Seed, e)
	}
	for _, t := range order {
		idx := groups[t]
		slices.SortStableFunc(idx, func(a, b int) int { return bytes.Compare(keys[a][:], keys[b][:]) })
		nVal := max(0, min(len(idx), int(math.Round(float64(len(idx))*frac))))
		for _, i := range idx[:nVal] {
			inVal[i] = true
		}
	}
	for i, e := range xs {
		if inVal[i] {
			val = append(val, e)
		} else {
			train = append(train, e)
		}
	}
	return train, val
}

// Split divides the data set; see the Split function.
func (d *Dataset) Split(o SplitOptions) (train, val []Example) { return Split(d.Examples, o) }

func splitHash(seed uint64, e Example) [sha256.Size]byte {
	var buf []byte
	buf = binary.BigEndian.AppendUint64(buf, seed)
	buf = append(buf, "cvbench-split-v1"...)
	buf = append(buf, e.Type...)
	buf = append(buf, 0)
	buf = binary.BigEndian.AppendUint64(buf, uint64(e.Idx))
	return sha256.Sum256(buf)
}
