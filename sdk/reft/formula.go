package reft

import (
	"fmt"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/visreft/visreft/sdk/nn"
)

// activations are pyreft's act_fn choices (transformers' ACT2FN names).
var activations = map[string]func(*Node) *Node{
	"linear":            func(x *Node) *Node { return x },
	"relu":              func(x *Node) *Node { return MaxScalar(x, 0.0) },
	"relu6":             func(x *Node) *Node { return MinScalar(MaxScalar(x, 0.0), 6.0) },
	"gelu":              nn.GELU,
	"gelu_new":          nn.GELUTanh,
	"gelu_pytorch_tanh": nn.GELUTanh,
	"quick_gelu":        func(x *Node) *Node { return Mul(x, Sigmoid(MulScalar(x, 1.702))) },
	"silu":              nn.SiLU,
	"swish":             nn.SiLU,
	"tanh":              Tanh,
	"sigmoid":           Sigmoid,
}

// Weights are one intervention's tensors as graph nodes, all in the
// compute dtype. Which are set depends on the Type.
type Weights struct {
	R      *Node // [r, d], orthonormal rows (LoReFT, ConsReFT, LoBiReFT, DiReFT)
	W, B   *Node // learned_source: W [r, d] and b [r]; ConsReFT/LoBiReFT have only b
	W2, B2 *Node // proj_layer: W2 [r, d], b2 [r] or nil (NoReFT, NodiReFT)
}

// Apply computes the intervention's formula on x: [..., d] (no dropout; the
// hook adds it). With a linear act, Wh + b − Rh is computed as (W − R)h + b,
// one matrix product instead of two, and exactly zero when W equals R and b
// is zero: that is what makes the zero-delta initialisation bit-exact.
func Apply(c Config, x *Node, w Weights) *Node {
	act := activations[c.act()]
	if act == nil {
		panic(fmt.Sprintf("reft.Apply: unknown act %q", c.Act))
	}
	linear := c.act() == "linear"
	switch c.Type {
	case LoReFT: // h + Rᵀ(act(Wh + b) − Rh)
		return Add(x, expand(sourceMinusProj(x, w.W, w.B, w.R, nil, act, linear), w.R))
	case NoReFT: // h + W2ᵀ(act(W1h + b) − (W2h + b2))
		return Add(x, expand(sourceMinusProj(x, w.W, w.B, w.W2, w.B2, act, linear), w.W2))
	case ConsReFT: // h + Rᵀ(b − Rh)
		return Add(x, expand(Sub(broadcastLike(w.B, x), project(x, w.R)), w.R))
	case LoBiReFT: // h + Rᵀb
		return Add(x, broadcastLike(expand(w.B, w.R), x))
	case DiReFT: // h + Rᵀ act(Wh + b)
		return Add(x, expand(act(linearMap(x, w.W, w.B)), w.R))
	case NodiReFT: // h + W2ᵀ act(W1h + b)
		return Add(x, expand(act(linearMap(x, w.W, w.B)), w.W2))
	}
	panic(fmt.Sprintf("reft.Apply: unknown type %q", c.Type))
}

// Interchange is the distributed interchange intervention of the ReFT paper
// (sec. 3.1): it replaces base's coordinates in the subspace of R's rows by
// source's, base + Rᵀ(R·source − R·base), leaving the orthogonal complement
// of base untouched. r: [r, d]; base, source: [..., d] at the same
// positions (the source run's representation at the same site).
func Interchange(r, base, source *Node) *Node {
	return Add(base, expand(Sub(project(source, r), project(base, r)), r))
}

// project: x [..., d] · mᵀ with m [r, d] -> [..., r].
func project(x, m *Node) *Node {
	return DotGeneral(x, []int{x.Rank() - 1}, nil, m, []int{1}, nil)
}

// expand: z [..., r] · m with m [r, d] -> [..., d] (z as coordinates on m's rows).
func expand(z, m *Node) *Node {
	return DotGeneral(z, []int{z.Rank() - 1}, nil, m, []int{0}, nil)
}

// linearMap is torch.nn.Linear: x·Wᵀ + b.
func linearMap(x, w, b *Node) *Node {
	y := project(x, w)
	if b != nil {
		y = Add(y, ExpandLeftToRank(b, y.Rank()))
	}
	return y
}

// sourceMinusProj is act(Wx + b) − (Px + pb) (pb may be nil).
func sourceMinusProj(x, w, b, p, pb *Node, act func(*Node) *Node, linear bool) *Node {
	var out *Node
	if linear {
		out = linearMap(x, Sub(w, p), b)
	} else {
		out = Sub(act(linearMap(x, w, b)), project(x, p))
	}
	if pb != nil {
		out = Sub(out, ExpandLeftToRank(pb, out.Rank()))
	}
	return out
}

// broadcastLike broadcasts v: [k] to x's shape with its last axis of size k.
func broadcastLike(v, x *Node) *Node {
	dims := x.Shape().Clone().Dimensions
	dims[len(dims)-1] = v.Shape().Dimensions[0]
	return BroadcastToDims(ExpandLeftToRank(v, len(dims)), dims...)
}
