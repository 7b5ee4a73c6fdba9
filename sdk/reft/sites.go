package reft

import (
	"fmt"
	"strconv"
	"strings"
)

// Component names the stream an intervention edits. Each is a
// [batch, seq, dim] tensor after some block; the hooks into the vision tower
// and projector live with those models, and take the same hook function.
type Component string

const (
	// BlockOutput is the decoder's residual stream after a block (pyvene's
	// "block_output"), the paper's site and the default.
	BlockOutput Component = "block_output"
	// VisionBlockOutput is the vision tower's residual stream after a block.
	VisionBlockOutput Component = "vision_block_output"
	// ProjectorOutput is the projected image features (one "layer", 0).
	ProjectorOutput Component = "projector_output"
)

// Components lists the known components.
var Components = []Component{BlockOutput, VisionBlockOutput, ProjectorOutput}

func (c Component) valid() bool {
	for _, k := range Components {
		if c == k {
			return true
		}
	}
	return false
}

// ParseLayers resolves a layer spec against a stream of n layers:
// "all"; a layer "15"; from the end "-1" (= n−1); a range "15-23" or
// "-4--1" (inclusive); parts joined by ';' ("0-3;20", "2;10;18"). The
// result is ascending. Errors name the spec and the offending part.
func ParseLayers(spec string, n int) ([]int, error) {
	s := strings.TrimSpace(spec)
	if s == "all" {
		out := make([]int, n)
		for i := range out {
			out[i] = i
		}
		return out, nil
	}
	bad := func(part, format string, args ...any) error {
		return fmt.Errorf("reft: layer spec %q: part %q: %s", spec, part, fmt.Sprintf(format, args...))
	}
	seen := map[int]bool{}
	for _, raw := range strings.Split(s, ";") {
		part := strings.TrimSpace(raw)
		if part == "" {
			return nil, bad(raw, `empty (write layers as "all", "15-23", "2;10;18" or "-1")`)
		}
		if part == "all" {
			return nil, bad(part, `"all" cannot be combined with other parts`)
		}
		lo, rest, err := leadingInt(part)
		if err != nil {
			return nil, bad(part, "not a layer number or range")
		}
		hi := lo
		if rest != "" {
			if rest[0] != '-' {
				return nil, bad(part, "not a layer number or range")
			}
			var tail string
			hi, tail, err = leadingInt(rest[1:])
			if err != nil || tail != "" {
				return nil, bad(part, "not a layer number or range")
			}
		}
		a, okA := resolveLayer(lo, n)
		b, okB := resolveLayer(hi, n)
		if !okA || !okB {
			return nil, bad(part, "out of range for %d layers (0..%d, or -%d..-1 from the end)", n, n-1, n)
		}
		if a > b {
			return nil, bad(part, "range runs backwards (%d > %d)", a, b)
		}
		for l := a; l <= b; l++ {
			if seen[l] {
				return nil, bad(part, "layer %d is already listed", l)
			}
			seen[l] = true
		}
	}
	var out []int
	for l := range n {
		if seen[l] {
			out = append(out, l)
		}
	}
	return out, nil
}

// leadingInt reads an optionally negative integer at the start of s.
func leadingInt(s string) (int, string, error) {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	j := i
	for j < len(s) && s[j] >= '0' && s[j] <= '9' {
		j++
	}
	if j == i {
		return 0, s, fmt.Errorf("no number")
	}
	v, err := strconv.Atoi(s[:j])
	return v, s[j:], err
}

func resolveLayer(l, n int) (int, bool) {
	if l < 0 {
		l += n
	}
	return l, l >= 0 && l < n
}

// PositionSpec says which prompt tokens to intervene on, as indices into an
// example's list of text-token positions (see Set.Locate).
//
//   - "fN+lM", "fN", "lM": pyreft's first N / last M prompt tokens. As in
//     pyreft's get_intervention_locations, each count is capped at
//     floor(len/2) for a prompt of len tokens, always (so "l1" selects
//     nothing on a one-token prompt), which keeps the two ranges disjoint.
//   - "sme": the paper's start, middle and end of the prompt: indices 0,
//     floor(len/2) and len−1.
//
// Shared weights give one group ("shared") over all the spec's positions,
// each position intervened on once. Untied weights give "first"/"last" for
// "fN+lM" and "start"/"mid"/"end" for "sme"; single-part specs ("f5", "l1")
// always have one group, as in pyreft.
type PositionSpec struct {
	First, Last int
	SME         bool
}

// ParsePositions parses a position spec; errors name the spec and the part.
func ParsePositions(spec string) (PositionSpec, error) {
	s := strings.TrimSpace(spec)
	if s == "sme" {
		return PositionSpec{SME: true}, nil
	}
	var p PositionSpec
	if s == "" {
		return p, fmt.Errorf(`reft: position spec is empty (want "f3+l3", "f1", "l1" or "sme")`)
	}
	for _, part := range strings.Split(s, "+") {
		part = strings.TrimSpace(part)
		bad := func(why string) error {
			return fmt.Errorf(`reft: position spec %q: part %q: %s`, spec, part, why)
		}
		if len(part) < 2 || (part[0] != 'f' && part[0] != 'l') {
			return p, bad(`want fN (first N prompt tokens) or lM (last M); or the whole spec "sme"`)
		}
		k, err := strconv.Atoi(part[1:])
		if err != nil || k <= 0 || strings.ContainsAny(part[1:], "+-") {
			return p, bad("the count must be a positive integer")
		}
		dst := &p.First
		if part[0] == 'l' {
			dst = &p.Last
		}
		if *dst != 0 {
			return p, bad(fmt.Sprintf("%c given twice", part[0]))
		}
		*dst = k
	}
	return p, nil
}

// String is the canonical spec.
func (p PositionSpec) String() string {
	switch {
	case p.SME:
		return "sme"
	case p.First > 0 && p.Last > 0:
		return fmt.Sprintf("f%d+l%d", p.First, p.Last)
	case p.First > 0:
		return fmt.Sprintf("f%d", p.First)
	}
	return fmt.Sprintf("l%d", p.Last)
}

// Groups names the position groups, one intervention each.
func (p PositionSpec) Groups(shared bool) []string {
	switch {
	case shared || (!p.SME && (p.First == 0 || p.Last == 0)):
		return []string{"shared"}
	case p.SME:
		return []string{"start", "mid", "end"}
	}
	return []string{"first", "last"}
}

// Capacity is the most positions any group selects.
func (p PositionSpec) Capacity(shared bool) int {
	switch {
	case p.SME && shared:
		return 3
	case p.SME:
		return 1
	case shared || p.First == 0 || p.Last == 0:
		return p.First + p.Last
	}
	return max(p.First, p.Last)
}

// Select picks, for a prompt of n text tokens, the indices (into the text
// token list, ascending, each once per group) of every group, in Groups order.
func (p PositionSpec) Select(n int, shared bool) [][]int {
	if p.SME {
		pts := []int{0, n / 2, n - 1}
		if n == 0 {
			pts = nil
		}
		if len(p.Groups(shared)) == 1 {
			return [][]int{dedupe(pts)}
		}
		if n == 0 {
			return [][]int{nil, nil, nil}
		}
		return [][]int{{pts[0]}, {pts[1]}, {pts[2]}}
	}
	first, last := min(n/2, p.First), min(n/2, p.Last)
	head := make([]int, 0, first)
	for i := range first {
		head = append(head, i)
	}
	tail := make([]int, 0, last)
	for i := n - last; i < n; i++ {
		tail = append(tail, i)
	}
	if len(p.Groups(shared)) == 1 {
		return [][]int{append(head, tail...)}
	}
	return [][]int{head, tail}
}

// dedupe removes repeats from an ascending list.
func dedupe(xs []int) []int {
	var out []int
	for i, x := range xs {
		if i == 0 || x != xs[i-1] {
			out = append(out, x)
		}
	}
	return out
}
