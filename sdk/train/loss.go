package train

import (
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
)

// CausalLMLoss is the cross-entropy of next-token prediction averaged over
// the positions whose weight is non-zero (the answer tokens, as Tokens'
// weights mark them), as transformers computes it with labels -100 on the
// prompt. It computes in float32 whatever the logits' dtype, and picks the
// label's log-probability with a Gather, never a one-hot the size of the
// vocabulary.
//
//	logits: [batch, seq, vocab]; labels: [batch, seq] int; weights: [batch, seq] float
//	returns a float32 scalar; 0 when no position has weight
func CausalLMLoss(logits, labels, weights *Node) *Node {
	g := logits.Graph()
	d := logits.Shape().Dimensions
	n, vocab := d[0]*d[1], d[2]
	logp := LogSoftmax(Reshape(ConvertDType(logits, dtypes.Float32), n, vocab), -1) // [n, vocab]
	rows := Iota(g, shapes.Make(dtypes.Int32, n, 1), 0)
	idx := Concatenate([]*Node{rows, Reshape(ConvertDType(labels, dtypes.Int32), n, 1)}, 1) // [n, 2]
	picked := Gather(logp, idx)                                                             // [n]
	w := Reshape(ConvertDType(weights, dtypes.Float32), n)
	total := ReduceAllSum(w)
	den := Where(GreaterThan(total, ZerosLike(total)), total, OnesLike(total))
	return Div(Neg(ReduceAllSum(Mul(picked, w))), den)
}
