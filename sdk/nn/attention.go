package nn

import (
	"math"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
)

// Attention is scaled dot-product attention with grouped kv heads, as
// transformers' eager path computes it: scores in the input dtype, softmax
// in float32, cast back.
//
//	q: [batch, heads, seq, headDim]; k, v: [batch, kvHeads, keys, headDim]
//	mask: [batch, seq, keys] bool, true where a query may attend; nil for none
//	returns [batch, heads, seq, headDim]
//
// Grouped heads are computed by viewing q as [batch, kvHeads, group, seq,
// headDim] rather than repeating k and v.
func Attention(q, k, v, mask *Node) *Node {
	qd, kd := q.Shape().Dimensions, k.Shape().Dimensions
	b, heads, seq, hd := qd[0], qd[1], qd[2], qd[3]
	kvHeads, keys := kd[1], kd[2]
	group := heads / kvHeads
	if group*kvHeads != heads {
		panic("nn.Attention: heads must be a multiple of kv heads")
	}
	qg := Reshape(q, b, kvHeads, group, seq, hd)
	scores := DotGeneral(qg, []int{4}, []int{0, 1}, k, []int{3}, []int{0, 1}) // [b, kvHeads, group, seq, keys]
	scores = MulScalar(scores, 1/math.Sqrt(float64(hd)))
	s32 := ConvertDType(scores, dtypes.Float32)
	if mask != nil {
		m := BroadcastToDims(Reshape(mask, b, 1, 1, seq, keys), b, kvHeads, group, seq, keys)
		s32 = Where(m, s32, Scalar(q.Graph(), dtypes.Float32, -math.MaxFloat32))
	}
	probs := ConvertDType(Softmax(s32, -1), q.DType())
	out := DotGeneral(probs, []int{4}, []int{0, 1}, v, []int{2}, []int{0, 1}) // [b, kvHeads, group, seq, hd]
	return Reshape(out, b, heads, seq, hd)
}

// CausalPaddingMask combines causality and padding. qIdx: [batch, seq] and
// kIdx: [batch, keys] are sequence indices (not rope positions, which left
// padding shifts); keyValid: [batch, keys] is true for real tokens. Query i
// may see key j when kIdx[j] <= qIdx[i] and key j is real.
// Returns [batch, seq, keys] bool.
func CausalPaddingMask(qIdx, kIdx, keyValid *Node) *Node {
	causal := LessOrEqual(InsertAxes(kIdx, 1), InsertAxes(qIdx, -1))
	return LogicalAnd(causal, BroadcastToDims(InsertAxes(keyValid, 1), causal.Shape().Dimensions...))
}
