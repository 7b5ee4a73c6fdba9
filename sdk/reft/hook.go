package reft

import (
	"fmt"
	"slices"
	"strings"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/layers"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/visreft/visreft/sdk/nn"
)

// Positions are the graph side of Locations: Index [batch, slots, P] int32
// and Valid [batch, slots, P] bool.
type Positions struct {
	Index, Valid *Node
}

// HookOptions choose what a hook edits.
type HookOptions struct {
	// Component is the stream the hook is installed on (BlockOutput when
	// empty); interventions on other components are ignored.
	Component Component
	// Decode marks a graph that runs generation steps: h holds only the new
	// tokens ([batch, steps, d], usually steps = 1) and Positions are unused.
	Decode bool
	// EveryToken makes a Decode hook intervene on every generated token (the
	// current step's positions), with each spec's DecodeGroup intervention.
	// Without it a Decode hook is the identity: interventions act on the
	// prompt (prefill) only and reach generated tokens through the KV cache,
	// as in pyreft and the paper.
	EveryToken bool
	// DecodeGroup names the group whose intervention edits generated tokens
	// (without the spec's Name prefix); empty picks each spec's last group
	// ("shared", "last" or "end").
	DecodeGroup string
}

// Hook returns the function a model calls on each block output h:
// [batch, seq, d] of layer (qwen2.Input.Hook accepts it as is). For each
// intervention on that layer it gathers its positions ([batch, P, d]),
// converts them to the compute dtype (float32, or float64 for float64
// variables), applies the formula, converts back and writes the edited
// rows over h (a scatter and one select). The formula runs on the P
// gathered rows only; every other position is h itself, bit for bit.
//
// scope is the scope holding the set's variables (for example scope.At("reft"));
// Init or Load must have created them. Dropout acts when scope is training
// (scope.SetTraining(g, true)).
//
// For generation build two graphs: the prefill graph with this hook and
// the prompt's Positions, and the decode-step graph with
// HookOptions{Decode: true} (identity: prefill only, the default) or
// {Decode: true, EveryToken: true} (every generated token is edited too).
func (s *Set) Hook(scope *model.Scope, pos Positions, opt HookOptions) func(layer int, h *Node) *Node {
	comp := opt.Component
	if comp == "" {
		comp = BlockOutput
	}
	return func(layer int, h *Node) *Node {
		its := s.At(comp, layer)
		if len(its) == 0 {
			return h
		}
		if opt.Decode {
			if !opt.EveryToken {
				return h
			}
			return s.edit(scope, s.decodeIntervention(its, opt.DecodeGroup), h)
		}
		return s.prefill(scope, its, pos, h)
	}
}

// prefill edits the located positions of h: [batch, seq, d].
func (s *Set) prefill(scope *model.Scope, its []Intervention, pos Positions, h *Node) *Node {
	g := h.Graph()
	dims := h.Shape().Dimensions
	if h.Rank() != 3 {
		panic(fmt.Sprintf("reft: hook needs h: [batch, seq, d], got %s", h.Shape()))
	}
	B, S, D, P := dims[0], dims[1], dims[2], s.capacity
	if pos.Index == nil || pos.Valid == nil {
		panic("reft: Hook needs Positions (Index and Valid) to intervene on a prompt")
	}
	want := []int{B, len(s.Slots), P}
	if !slices.Equal(pos.Index.Shape().Dimensions, want) || !slices.Equal(pos.Valid.Shape().Dimensions, want) {
		panic(fmt.Sprintf("reft: Positions must be [batch, slots, P] = %v, got Index %s, Valid %s", want, pos.Index.Shape(), pos.Valid.Shape()))
	}
	batch := Iota(g, shapes.Make(dtypes.Int32, B, P), 0)
	acc := ZerosLike(h)
	hits := Zeros(g, shapes.Make(dtypes.Float32, B, S))
	for _, it := range its {
		// Slicing the integer/bool position inputs needs no gradient.
		idx := ConvertDType(Reshape(Slice(pos.Index, AxisRange(), AxisElem(it.Slot), AxisRange()), B, P), dtypes.Int32)
		valid := Reshape(Slice(pos.Valid, AxisRange(), AxisElem(it.Slot), AxisRange()), B, P)
		at := Stack([]*Node{batch, idx}, -1)  // [B, P, 2]: (example, sequence index)
		y := s.edit(scope, it, Gather(h, at)) // [B, P, D]
		y = Where(BroadcastToDims(InsertAxes(valid, -1), B, P, D), y, ZerosLike(y))
		acc = ScatterSum(acc, at, y, false, false)
		hits = ScatterSum(hits, at, ConvertDType(valid, dtypes.Float32), false, false)
	}
	edited := BroadcastToDims(InsertAxes(GreaterThan(hits, ScalarZero(g, dtypes.Float32)), -1), B, S, D)
	return Where(edited, acc, h)
}

// edit applies one intervention to x: [..., d] in the compute dtype, with
// dropout when training, and returns x's dtype.
func (s *Set) edit(scope *model.Scope, it Intervention, x *Node) *Node {
	w := WeightsOf(scope, x.Graph(), it)
	ct := w.B.DType()
	y := Apply(it.Config, ConvertDType(x, ct), w)
	if it.Dropout > 0 {
		y = layers.DropoutStatic(scope, y, it.Dropout)
	}
	return ConvertDType(y, x.DType())
}

// decodeIntervention picks the one intervention that edits generated tokens.
func (s *Set) decodeIntervention(its []Intervention, group string) Intervention {
	var picked []Intervention
	for _, it := range its {
		sp := s.Specs[it.Spec]
		groups := s.positions[it.Spec].Groups(sp.ShareWeights)
		want := groups[len(groups)-1]
		if group != "" {
			want = group
		}
		if it.Group == sp.Name+want {
			picked = append(picked, it)
		}
	}
	if len(picked) != 1 {
		var names []string
		for _, it := range picked {
			names = append(names, it.Scope())
		}
		panic(fmt.Sprintf("reft: decode step at %s layer %d: %d interventions (%s) would edit the current token; want exactly one (set HookOptions.DecodeGroup)",
			its[0].Component, its[0].Layer, len(picked), strings.Join(names, ", ")))
	}
	return picked[0]
}

// WeightsOf reads one intervention's variables from scope (the set's scope)
// as nodes of g, materialising R from its Householder vectors. The compute
// dtype is the variables' (float32 unless ParamDTypeKey says otherwise).
func WeightsOf(scope *model.Scope, g *Graph, it Intervention) Weights {
	var w Weights
	get := variableGetter(scope, g, it)
	if it.Type.hasProj() {
		w.W2 = get(ProjWeightName)
		if it.AddBias && it.Type == NoReFT {
			w.B2 = get(ProjBiasName)
		}
	}
	if it.Type.hasLinearSource() {
		w.W, w.B = get(SourceWeightName), get(SourceBiasName)
	} else {
		w.B = get(SourceConstName)
	}
	// Householder last: the pure-Go backend of GoMLX v0.26.0 fails to run a
	// graph holding an unused variable read created after its last used node.
	if it.Type.Orthogonal() {
		w.R = Householder(get(RotateName))
	}
	return w
}

// Rotation is R: [r, d] of an orthogonal intervention (LoReFT, ConsReFT,
// LoBiReFT, DiReFT), read from scope (the set's scope) as a node of g.
func Rotation(scope *model.Scope, g *Graph, it Intervention) *Node {
	if !it.Type.Orthogonal() {
		panic(fmt.Sprintf("reft: %s%s is %s, which has no orthonormal R", FilePrefix, it.Scope(), it.Type))
	}
	return Householder(variableGetter(scope, g, it)(RotateName))
}

// variableGetter reads the intervention's variables by their names.
func variableGetter(scope *model.Scope, g *Graph, it Intervention) func(name string) *Node {
	for _, p := range strings.Split(it.Scope(), ".") {
		scope = scope.At("%s", p)
	}
	return func(name string) *Node {
		sc, n := nn.ScopeOf(scope, name)
		v := sc.GetVariable(n)
		if v == nil {
			panic(fmt.Sprintf("reft: variable %s%s.%s does not exist: call reft.Init or reft.Load on this scope first", FilePrefix, it.Scope(), name))
		}
		return v.NodeValue(g)
	}
}
