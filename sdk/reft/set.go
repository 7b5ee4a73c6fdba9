package reft

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/visreft/visreft/sdk/nn"
)

// Stream describes one component of a base model: its width and depth.
type Stream struct {
	Hidden int `json:"hidden_size"`
	Layers int `json:"num_layers"`
}

// Base describes the model a Set is built for: what saved files record and
// what loading checks (hidden sizes must match).
type Base struct {
	ID        string               `json:"id"`
	Revision  string               `json:"revision"`
	DType     string               `json:"dtype"`      // the model's activation dtype ("bfloat16", "float32"); interventions compute in float32 regardless
	NumParams int64                `json:"num_params"` // all parameters of the base model, for Set.Share
	Streams   map[Component]Stream `json:"streams"`
}

// NanoLLaVA is qnguyen3/nanoLLaVA: a 24-layer, 1024-wide Qwen2 decoder, a
// 26-layer 1152-wide SigLIP tower and a projector to 1024; 1,019,548,192
// parameters in all (619,570,176 language model, 397,747,744 vision tower,
// 2,230,272 projector).
func NanoLLaVA() Base {
	return Base{ID: "qnguyen3/nanoLLaVA", DType: "bfloat16", NumParams: 1_019_548_192,
		Streams: map[Component]Stream{
			BlockOutput:       {Hidden: 1024, Layers: 24},
			VisionBlockOutput: {Hidden: 1152, Layers: 26},
			ProjectorOutput:   {Hidden: 1024, Layers: 1},
		}}
}

// Spec is one user-level ReFT configuration: a type and rank placed on some
// layers and prompt positions of one component. Field names mirror pyreft's
// command line (layers, position, share_weights, act_fn, add_bias, dropout).
type Spec struct {
	Name         string    `json:"name,omitempty"` // optional prefix of group names, needed only when two specs share a layer
	Type         Type      `json:"type"`
	Rank         int       `json:"rank"`
	Layers       string    `json:"layers"`    // "all", "15-23", "2;10;18", "-1", "0-3;20"
	Positions    string    `json:"positions"` // "f3+l3", "f1", "l1", "sme"
	ShareWeights bool      `json:"share_weights"`
	Component    Component `json:"component"` // default BlockOutput
	Dropout      float64   `json:"dropout"`
	Act          string    `json:"act"` // default "linear"
	AddBias      bool      `json:"add_bias"`
}

// Site is where one intervention sits: a component, a layer and a position
// group. Its Scope is the intervention's context scope and tensor prefix.
type Site struct {
	Component Component
	Layer     int
	Group     string
}

// Scope is the dotted path of the site's variables below the ReFT scope:
// "layer.3.shared" for BlockOutput, "projector_output.layer.0.shared" else.
func (s Site) Scope() string {
	p := "layer." + strconv.Itoa(s.Layer) + "." + s.Group
	if s.Component != BlockOutput {
		p = string(s.Component) + "." + p
	}
	return p
}

// Intervention is one resolved intervention: its config, site, and the slot
// (spec and position group) that says which positions it edits.
type Intervention struct {
	Config
	Site
	Spec int // index into Set.Specs
	Slot int // index into Set.Slots
}

// Slot is one position group of one spec: positions are resolved per slot.
type Slot struct {
	Spec  int
	Group string // with the spec's Name prefix
	index int    // the group's index in PositionSpec.Groups
}

// Set is a resolved collection of interventions on one base model.
type Set struct {
	Base          Base
	Specs         []Spec
	Interventions []Intervention
	Slots         []Slot
	positions     []PositionSpec // per spec
	capacity      int
}

// NewSet validates the specs against base and resolves them into
// interventions. Two interventions on the same site are an error.
func NewSet(base Base, specs ...Spec) (*Set, error) {
	s := &Set{Base: base}
	seen := map[Site]int{}
	for i, sp := range specs {
		if sp.Component == "" {
			sp.Component = BlockOutput
		}
		if sp.Act == "" {
			sp.Act = "linear"
		}
		if t, err := ParseType(string(sp.Type)); err == nil {
			sp.Type = t
		}
		where := fmt.Sprintf("reft: spec %d (%s rank %d, layers %q, positions %q)", i, sp.Type, sp.Rank, sp.Layers, sp.Positions)
		if !sp.Component.valid() {
			return nil, fmt.Errorf("%s: unknown component %q (want one of %v)", where, sp.Component, Components)
		}
		st, ok := base.Streams[sp.Component]
		if !ok || st.Hidden <= 0 || st.Layers <= 0 {
			return nil, fmt.Errorf("%s: base model %q has no %s stream", where, base.ID, sp.Component)
		}
		cfg := Config{Type: sp.Type, Hidden: st.Hidden, Rank: sp.Rank, Dropout: sp.Dropout, Act: sp.Act, AddBias: sp.AddBias}
		if err := cfg.Validate(); err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		layers, err := ParseLayers(sp.Layers, st.Layers)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		pos, err := ParsePositions(sp.Positions)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		if strings.ContainsAny(sp.Name, "./ ") {
			return nil, fmt.Errorf("%s: name %q must not contain '.', '/' or spaces", where, sp.Name)
		}
		s.Specs = append(s.Specs, sp)
		s.positions = append(s.positions, pos)
		s.capacity = max(s.capacity, pos.Capacity(sp.ShareWeights))
		first := len(s.Slots)
		for gi, grp := range pos.Groups(sp.ShareWeights) {
			s.Slots = append(s.Slots, Slot{Spec: i, Group: sp.Name + grp, index: gi})
		}
		for _, l := range layers {
			for k := first; k < len(s.Slots); k++ {
				it := Intervention{Config: cfg, Site: Site{Component: sp.Component, Layer: l, Group: s.Slots[k].Group}, Spec: i, Slot: k}
				if j, dup := seen[it.Site]; dup {
					return nil, fmt.Errorf("%s: site %s is also used by spec %d: give the specs distinct Names", where, it.Scope(), j)
				}
				seen[it.Site] = i
				s.Interventions = append(s.Interventions, it)
			}
		}
	}
	if len(s.Interventions) == 0 {
		return nil, fmt.Errorf("reft: no interventions (give at least one spec)")
	}
	return s, nil
}

// Capacity is P, the number of position slots per group in Locations: the
// most positions any group can select, fixed by the specs so that compiled
// graphs keep their shapes across batches.
func (s *Set) Capacity() int { return s.capacity }

// At lists the interventions on a component's layer, in Set order.
func (s *Set) At(c Component, layer int) []Intervention {
	var out []Intervention
	for _, it := range s.Interventions {
		if it.Component == c && it.Layer == layer {
			out = append(out, it)
		}
	}
	return out
}

// Params lists every trainable tensor with its full name
// ("reft.layer.3.shared.learned_source.weight") and shape.
func (s *Set) Params() []nn.Param {
	var out []nn.Param
	for _, it := range s.Interventions {
		for _, p := range it.Tensors() {
			p.Name = FilePrefix + it.Scope() + "." + p.Name
			out = append(out, p)
		}
	}
	return out
}

// NumParams is the total trainable parameter count.
func (s *Set) NumParams() int64 {
	total, _ := nn.Count(s.Params())
	return total
}

// Share is NumParams over the base model's parameter count, as pyreft's
// print_trainable_parameters reports it (a fraction: ×100 for percent);
// 0 when Base.NumParams is unknown.
func (s *Set) Share() float64 {
	if s.Base.NumParams <= 0 {
		return 0
	}
	return float64(s.NumParams()) / float64(s.Base.NumParams)
}

// FilePrefix starts every tensor name in files, whatever context scope the
// variables live in.
const FilePrefix = "reft."
