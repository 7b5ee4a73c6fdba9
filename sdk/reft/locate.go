package reft

import "fmt"

// Locations are one batch's intervention positions, resolved on the host.
// Slot k of example b holds up to P = Set.Capacity() sequence indices;
// unused entries have Valid false (and Index 0) and are never touched. Feed
// Index ([batch, slots, P] int32) and Valid ([batch, slots, P] bool) to the
// graph as the Positions of Set.Hook.
type Locations struct {
	Index [][][]int32
	Valid [][][]bool
}

// Locate resolves every slot's positions for a batch. text[b] lists, for
// example b, the indices in the final sequence (after image splicing and
// left padding, of length seqLen) of the prompt's text tokens, ascending;
// the position specs pick among them, so positions never land on image or
// padding tokens. Each example gets its own positions.
//
// It fails when two interventions on the same site (component and layer)
// would edit the same position of an example: untied groups of a short
// prompt ("sme" on fewer than 3 tokens) or two specs sharing layers.
//
// Positions index the sequence the hook sees; the vision tower and the
// projector have their own sequence axes, so sets on those components are
// located with that stream's token indices (one Set per index space).
func (s *Set) Locate(text [][]int, seqLen int) (*Locations, error) {
	P := s.capacity
	loc := &Locations{Index: make([][][]int32, len(text)), Valid: make([][][]bool, len(text))}
	for b, idx := range text {
		for i, p := range idx {
			if p < 0 || p >= seqLen {
				return nil, fmt.Errorf("reft: example %d: text token %d is at sequence index %d, outside 0..%d", b, i, p, seqLen-1)
			}
			if i > 0 && p <= idx[i-1] {
				return nil, fmt.Errorf("reft: example %d: text token indices must ascend, got %d after %d", b, p, idx[i-1])
			}
		}
		loc.Index[b] = make([][]int32, len(s.Slots))
		loc.Valid[b] = make([][]bool, len(s.Slots))
		picked := make([][]int, len(s.Slots))
		for k, sl := range s.Slots {
			spec := s.Specs[sl.Spec]
			sel := s.positions[sl.Spec].Select(len(idx), spec.ShareWeights)[sl.index]
			loc.Index[b][k] = make([]int32, P)
			loc.Valid[b][k] = make([]bool, P)
			for j, t := range sel {
				loc.Index[b][k][j] = int32(idx[t])
				loc.Valid[b][k][j] = true
				picked[k] = append(picked[k], idx[t])
			}
		}
		if err := s.checkOverlap(b, len(idx), picked); err != nil {
			return nil, err
		}
	}
	return loc, nil
}

// checkOverlap rejects a sequence position edited by two interventions of
// the same component and layer.
func (s *Set) checkOverlap(b, n int, picked [][]int) error {
	type key struct {
		c Component
		l int
	}
	owner := map[key]map[int]int{} // site -> sequence position -> slot
	for _, it := range s.Interventions {
		k := key{it.Component, it.Layer}
		m := owner[k]
		if m == nil {
			m = map[int]int{}
			owner[k] = m
		}
		for _, p := range picked[it.Slot] {
			if other, taken := m[p]; taken && other != it.Slot {
				return fmt.Errorf("reft: example %d (%d text tokens): groups %q and %q both select sequence position %d at %s layer %d; "+
					"overlapping interventions are ambiguous (use share_weights, a longer prompt, or disjoint specs)",
					b, n, s.Slots[other].Group, s.Slots[it.Slot].Group, p, it.Component, it.Layer)
			}
			m[p] = it.Slot
		}
	}
	return nil
}
