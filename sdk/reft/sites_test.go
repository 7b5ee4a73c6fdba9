package reft

import (
	"fmt"
	"strings"
	"testing"
)

func TestParseLayers(t *testing.T) {
	for spec, want := range map[string]string{
		"all":      "[0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23]",
		"15-23":    "[15 16 17 18 19 20 21 22 23]",
		"2;10;18":  "[2 10 18]",
		"-1":       "[23]",
		"0-3;20":   "[0 1 2 3 20]",
		"-3--1":    "[21 22 23]",
		" 20 ; 0 ": "[0 20]",
	} {
		got, err := ParseLayers(spec, 24)
		if err != nil || fmt.Sprint(got) != want {
			t.Errorf("ParseLayers(%q) = %v, %v; want %s", spec, got, err, want)
		}
	}
	for spec, part := range map[string]string{
		"x":       `part "x": not a layer number`,
		"0-3;x":   `part "x"`,
		"24":      `part "24": out of range for 24 layers`,
		"-25":     `part "-25": out of range`,
		"5-2":     `part "5-2": range runs backwards`,
		"0;;1":    `part "": empty`,
		"2;0-3":   `part "0-3": layer 2 is already listed`,
		"all;3":   `part "all"`,
		"3-":      `part "3-"`,
		"1-2-3":   `part "1-2-3"`,
		"":        `part ""`,
		"15 - 23": `part "15 - 23"`,
	} {
		_, err := ParseLayers(spec, 24)
		if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("layer spec %q", spec)) || !strings.Contains(err.Error(), part) {
			t.Errorf("ParseLayers(%q): error %v should name the spec and %s", spec, err, part)
		}
	}
}

func TestParsePositionsErrors(t *testing.T) {
	for spec, part := range map[string]string{
		"f3+x2": `part "x2"`,
		"f0":    `part "f0": the count must be a positive integer`,
		"f3+f2": `part "f2": f given twice`,
		"l-1":   `part "l-1"`,
		"first": `part "first"`,
		"f3+":   `part ""`,
		"":      "empty",
	} {
		_, err := ParsePositions(spec)
		if err == nil || !strings.Contains(err.Error(), part) || (spec != "" && !strings.Contains(err.Error(), fmt.Sprintf("%q", spec))) {
			t.Errorf("ParsePositions(%q): error %v should name the spec and %s", spec, err, part)
		}
	}
}

// TestSelectFollowsPyreft checks pyreft's get_intervention_locations rule:
// each of first_n/last_n is capped at floor(len/2), always.
func TestSelectFollowsPyreft(t *testing.T) {
	cases := []struct {
		spec   string
		shared bool
		n      int
		want   string
	}{
		{"f3+l3", true, 10, "[[0 1 2 7 8 9]]"},
		{"f3+l3", true, 5, "[[0 1 3 4]]"},
		{"f3+l3", true, 1, "[[]]"},
		{"f3+l3", false, 10, "[[0 1 2] [7 8 9]]"},
		{"f3+l3", false, 4, "[[0 1] [2 3]]"},
		{"f1", false, 10, "[[0]]"},
		{"l1", true, 10, "[[9]]"},
		{"l1", true, 1, "[[]]"}, // pyreft: last_n = min(1 // 2, 1) = 0
		{"f5", true, 6, "[[0 1 2]]"},
		{"l2+f1", true, 8, "[[0 6 7]]"},
		{"sme", true, 7, "[[0 3 6]]"},
		{"sme", true, 2, "[[0 1]]"},
		{"sme", true, 1, "[[0]]"},
		{"sme", true, 0, "[[]]"},
		{"sme", false, 8, "[[0] [4] [7]]"},
	}
	for _, c := range cases {
		p, err := ParsePositions(c.spec)
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(p.Select(c.n, c.shared)); got != c.want {
			t.Errorf("%s shared=%v n=%d: got %s, want %s", c.spec, c.shared, c.n, got, c.want)
		}
	}
	p, _ := ParsePositions("f3+l2")
	if g := p.Groups(false); fmt.Sprint(g) != "[first last]" || p.Capacity(false) != 3 || p.Capacity(true) != 5 {
		t.Errorf("f3+l2: groups %v, capacities %d/%d", g, p.Capacity(false), p.Capacity(true))
	}
}

// TestLocateLeftPadded: positions index the final sequence; each example
// gets its own; unused slots are invalid.
func TestLocateLeftPadded(t *testing.T) {
	s := mustSet(t, streamBase(8, 4), Spec{Type: LoReFT, Rank: 2, Layers: "all", Positions: "f2+l2", ShareWeights: true})
	// Example 0: 3 pads, an image token at 4, text at 3, 5, 6, 7, 8. Example 1: 9 text tokens.
	loc, err := s.Locate([][]int{{3, 5, 6, 7, 8}, {0, 1, 2, 3, 4, 5, 6, 7, 8}}, 9)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(loc.Index, loc.Valid); got != "[[[3 5 7 8]] [[0 1 7 8]]] [[[true true true true]] [[true true true true]]]" {
		t.Errorf("got %s", got)
	}
	loc, err = s.Locate([][]int{{4, 5}, {}}, 6)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(loc.Index, loc.Valid); got != "[[[4 5 0 0]] [[0 0 0 0]]] [[[true true false false]] [[false false false false]]]" {
		t.Errorf("short prompts: got %s", got)
	}
	for _, bad := range []struct {
		text [][]int
		want string
	}{
		{[][]int{{3, 2}}, "example 0: text token indices must ascend, got 2 after 3"},
		{[][]int{{1}, {9}}, "example 1: text token 0 is at sequence index 9, outside 0..8"},
	} {
		if _, err := s.Locate(bad.text, 9); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("Locate(%v): error %v, want %q", bad.text, err, bad.want)
		}
	}
}

// TestLocateRejectsOverlap: untied start/mid/end of a 2-token prompt land
// twice on its last token; two specs on one layer may not share a position.
func TestLocateRejectsOverlap(t *testing.T) {
	s := mustSet(t, streamBase(8, 4), Spec{Type: LoReFT, Rank: 2, Layers: "1", Positions: "sme"})
	if _, err := s.Locate([][]int{{2, 3}}, 4); err == nil || !strings.Contains(err.Error(), `groups "mid" and "end" both select sequence position 3 at block_output layer 1`) {
		t.Errorf("sme untied on 2 tokens: %v", err)
	}
	if _, err := s.Locate([][]int{{1, 2, 3}}, 4); err != nil {
		t.Errorf("sme untied on 3 tokens: %v", err)
	}
	two := mustSet(t, streamBase(8, 4),
		Spec{Name: "a", Type: LoReFT, Rank: 2, Layers: "0-1", Positions: "l1", ShareWeights: true},
		Spec{Name: "b", Type: DiReFT, Rank: 2, Layers: "1-2", Positions: "f2+l2", ShareWeights: true})
	if _, err := two.Locate([][]int{{0, 1, 2, 3, 4, 5}}, 6); err == nil || !strings.Contains(err.Error(), `groups "ashared" and "bshared" both select sequence position 5 at block_output layer 1`) {
		t.Errorf("two specs on layer 1: %v", err)
	}
}

func TestNewSetErrors(t *testing.T) {
	base := streamBase(8, 4)
	for _, c := range []struct {
		spec Spec
		want string
	}{
		{Spec{Type: "lora", Rank: 2, Layers: "all", Positions: "l1"}, `unknown type "lora"`},
		{Spec{Type: LoReFT, Rank: 9, Layers: "all", Positions: "l1"}, "rank must be in 1..hidden size 8, got 9"},
		{Spec{Type: LoReFT, Rank: 2, Layers: "7", Positions: "l1"}, `layer spec "7": part "7": out of range for 4 layers`},
		{Spec{Type: LoReFT, Rank: 2, Layers: "all", Positions: "m3"}, `position spec "m3": part "m3"`},
		{Spec{Type: LoReFT, Rank: 2, Layers: "all", Positions: "l1", Act: "softmax"}, `unknown act "softmax"`},
		{Spec{Type: ConsReFT, Rank: 2, Layers: "all", Positions: "l1", Act: "relu"}, `consreft has no learned source`},
		{Spec{Type: ConsReFT, Rank: 2, Layers: "all", Positions: "l1", Dropout: 0.1}, "consreft has no dropout"},
		{Spec{Type: LoReFT, Rank: 2, Layers: "all", Positions: "l1", AddBias: true}, "add_bias is a proj_layer option"},
		{Spec{Type: LoReFT, Rank: 2, Layers: "all", Positions: "l1", Component: ProjectorOutput}, "has no projector_output stream"},
		{Spec{Type: LoReFT, Rank: 2, Layers: "all", Positions: "l1", Component: "attention"}, `unknown component "attention"`},
	} {
		if _, err := NewSet(base, c.spec); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want %q", c.spec, err, c.want)
		}
	}
	sp := Spec{Type: LoReFT, Rank: 2, Layers: "1", Positions: "l1"}
	if _, err := NewSet(base, sp, sp); err == nil || !strings.Contains(err.Error(), "site layer.1.shared is also used by spec 0") {
		t.Errorf("duplicate site: %v", err)
	}
}

// TestComponentsAndScopes: vision and projector sites carry their component
// in their scope; block_output keeps pyreft-like "layer.{l}.{group}".
func TestComponentsAndScopes(t *testing.T) {
	s := mustSet(t, NanoLLaVA(),
		Spec{Type: LoReFT, Rank: 4, Layers: "-1", Positions: "f1+l1"},
		Spec{Type: LoReFT, Rank: 4, Layers: "all", Positions: "f1", Component: ProjectorOutput},
		Spec{Type: DiReFT, Rank: 2, Layers: "0", Positions: "l3", Component: VisionBlockOutput})
	var got []string
	for _, it := range s.Interventions {
		got = append(got, fmt.Sprintf("%s:%d", it.Scope(), it.Hidden))
	}
	want := "[layer.23.first:1024 layer.23.last:1024 projector_output.layer.0.shared:1024 vision_block_output.layer.0.shared:1152]"
	if fmt.Sprint(got) != want {
		t.Errorf("got %v, want %s", got, want)
	}
	if s.Capacity() != 3 || len(s.Slots) != 4 {
		t.Errorf("capacity %d, slots %d", s.Capacity(), len(s.Slots))
	}
}
