package steer

import (
	"fmt"
	"slices"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/visreft/visreft/sdk/models/llava"
	"github.com/visreft/visreft/sdk/models/qwen2"
)

// Scales weigh a vector where it is added, in units of the layer's mean
// activation norm (Vectors.Norms): on the image tokens and on the text
// tokens separately (text vectors need not suit image tokens, as
// "Textual steering vectors" found), and whether generated tokens are
// steered too (with Text's scale).
type Scales struct {
	Text, Image float64
	Decode      bool
}

// Steerer adds one layer's vector to that decoder block's output, times
// Scales.Image at the image tokens and Scales.Text at every other valid
// position (the prompt's text and, in a likelihood evaluation, the
// scored answer), and with Scales.Decode at every generated token. It is a
// llava.Steer (and a llava.DecodeSteer). Zero scales change nothing.
type Steerer struct {
	Layer       int
	Vec         []float32
	Scales      Scales
	Method      string
	ImageTokens int // image tokens per example (the model's patches)
	decodeBuilt bool
}

var (
	_ llava.Steer       = (*Steerer)(nil)
	_ llava.DecodeSteer = (*Steerer)(nil)
)

// New steers with vecs' vector at layer: its unit direction times the
// layer's mean activation norm (Vectors.Norms), times the scales.
func New(vecs *Vectors, layer int, s Scales) (*Steerer, error) {
	v := vecs.Scaled(layer)
	if v == nil {
		return nil, fmt.Errorf("steer: no vector for layer %d (the vectors have layers %v)", layer, vecs.Layers)
	}
	if vecs.ImageTokens <= 0 {
		return nil, fmt.Errorf("steer: the vectors do not say how many image tokens the model has")
	}
	return &Steerer{Layer: layer, Vec: v, Scales: s, Method: vecs.Method, ImageTokens: vecs.ImageTokens}, nil
}

func (st *Steerer) String() string {
	return fmt.Sprintf("%s vector at layer %d, scale %g on text, %g on image tokens", st.Method, st.Layer, st.Scales.Text, st.Scales.Image)
}

// Scaled is layer's vector as a Steerer adds it at scale 1: its unit
// direction times the layer's mean activation norm; nil when there is no
// vector for layer (a zero vector stays zero).
func (v *Vectors) Scaled(layer int) []float32 {
	i := slices.Index(v.Layers, layer)
	if i < 0 {
		return nil
	}
	n := l2(v.Vecs[i])
	out := make([]float32, len(v.Vecs[i]))
	if n == 0 {
		return out
	}
	k := 1.0
	if i < len(v.Norms) {
		k = v.Norms[i]
	}
	for j, x := range v.Vecs[i] {
		out[j] = float32(float64(x) / n * k)
	}
	return out
}

// Set changes the vector and scales (a sweep over scales or builders at
// one layer reuses one evaluator: the prompt's graphs take both as inputs
// per batch). Once a generation graph has been built with decoding steered
// (DecodeHook), that graph holds the vector it was built with, and Set is
// refused: make a new Steerer.
func (st *Steerer) Set(vec []float32, s Scales) error {
	if len(vec) != len(st.Vec) {
		return fmt.Errorf("steer: a vector of %d values for a steerer of %d", len(vec), len(st.Vec))
	}
	if st.decodeBuilt {
		return fmt.Errorf("steer: a generation graph already holds this steerer's vector; make a new Steerer")
	}
	st.Vec, st.Scales = vec, s
	return nil
}

// Inputs are the batch's weight per position [b, L] float32 (Image at the
// image tokens, Text at the other valid positions, 0 at padding) and the
// vector [hidden].
func (st *Steerer) Inputs(bt llava.Batch) ([]any, error) {
	w := make([][]float32, len(bt.Valid))
	for r := range bt.Valid {
		w[r] = make([]float32, bt.Length)
		for p, ok := range bt.Valid[r] {
			if ok {
				w[r][p] = float32(st.Scales.Text)
			}
		}
	}
	for r, start := range bt.ImageStart {
		for p := start; p < start+st.ImageTokens; p++ {
			w[r][p] = float32(st.Scales.Image)
		}
	}
	return []any{w, st.Vec}, nil
}

// Hook adds the vector extra[1] at st.Layer, weighted per position by extra[0].
func (st *Steerer) Hook(scope *model.Scope, extra []*Node) qwen2.Hook {
	weights, v := extra[0], extra[1]
	return func(layer int, h *Node) *Node {
		if layer != st.Layer {
			return h
		}
		add := Mul(InsertAxes(ConvertDType(weights, h.DType()), -1), Reshape(ConvertDType(v, h.DType()), 1, 1, len(st.Vec)))
		return Add(h, add)
	}
}

// DecodeHook adds the vector times Scales.Text at every generated token
// when Scales.Decode; nil otherwise.
func (st *Steerer) DecodeHook(scope *model.Scope) qwen2.Hook {
	if !st.Scales.Decode || st.Scales.Text == 0 {
		return nil
	}
	st.decodeBuilt = true
	vec := append([]float32(nil), st.Vec...)
	return func(layer int, h *Node) *Node {
		if layer != st.Layer {
			return h
		}
		v := MulScalar(Const(h.Graph(), vec), st.Scales.Text)
		return Add(h, Reshape(ConvertDType(v, h.DType()), 1, 1, len(st.Vec)))
	}
}
