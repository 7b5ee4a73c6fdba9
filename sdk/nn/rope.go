package nn

import (
	"math"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
)

// RoPECosSin computes the rotary tables of transformers' default rope for
// positions: [batch, seq] (int) -> cos, sin: [batch, seq, headDim] float32,
// with inv_freq[i] = theta^(-2i/headDim) duplicated over both halves.
func RoPECosSin(positions *Node, headDim int, theta float64) (cos, sin *Node) {
	g := positions.Graph()
	half := headDim / 2
	invFreq := make([]float32, headDim)
	for i := range half {
		f := float32(1 / math.Pow(theta, float64(2*i)/float64(headDim)))
		invFreq[i], invFreq[i+half] = f, f
	}
	pos := ConvertDType(positions, dtypes.Float32)
	angles := Mul(InsertAxes(pos, -1), Reshape(Const(g, invFreq), 1, 1, headDim)) // [batch, seq, headDim]
	return Cos(angles), Sin(angles)
}

// ApplyRoPE rotates x: [batch, heads, seq, headDim] by cos, sin: [batch,
// seq, headDim]: x·cos + rotate_half(x)·sin, computed in x's dtype as
// transformers does after casting the tables.
func ApplyRoPE(x, cos, sin *Node) *Node {
	c := ConvertDType(InsertAxes(cos, 1), x.DType())
	s := ConvertDType(InsertAxes(sin, 1), x.DType())
	return Add(Mul(x, c), Mul(rotateHalf(x), s))
}

// rotateHalf is cat(-x2, x1) for x = cat(x1, x2) on the last axis. It is
// written as a 2x2 contraction over a [.., 2, headDim/2] view so that its
// gradient needs no Slice (whose gradient the pure-Go backend lacks).
func rotateHalf(x *Node) *Node {
	dims := x.Shape().Dimensions
	r := x.Rank()
	half := dims[r-1] / 2
	view := Reshape(x, append(append([]int{}, dims[:r-1]...), 2, half)...)
	m := ConvertDType(Const(x.Graph(), [][]float32{{0, -1}, {1, 0}}), x.DType()) // out[i] = Σj m[i][j]·view[j]
	y := DotGeneral(view, []int{r - 1}, nil, m, []int{1}, nil)                   // [..., half, 2]
	perm := make([]int, r+1)
	for i := range r - 1 {
		perm[i] = i
	}
	perm[r-1], perm[r] = r, r-1
	return Reshape(TransposeAllAxes(y, perm...), dims...)
}
