package llava

import (
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/visreft/visreft/sdk/models/qwen2"
)

// TargetLogProbs returns log p(ids | prefix) at the target positions, in
// float32, 0 where mask is false; the logits are computed only there.
//
//	final: [b, L, hidden] (the decoder's normed output)
//	pos, ids: [b, K] int32, mask: [b, K] bool (from Batch.Targets)
//	returns [b, K]
func TargetLogProbs(scope *model.Scope, c Config, final, pos, ids, mask *Node) *Node {
	g := final.Graph()
	d := final.Shape().Dimensions
	b, L, hidden := d[0], d[1], d[2]
	k := pos.Shape().Dimensions[1]
	rowOffset := func(n *Node, stride int) *Node {
		return Add(ConvertDType(n, dtypes.Int32), MulScalar(Iota(g, shapesOf(dtypes.Int32, b, k), 0), float64(stride)))
	}
	h := Gather(Reshape(final, b*L, hidden), Reshape(rowOffset(pos, L), b*k, 1)) // [b*k, hidden]
	logits := ConvertDType(qwen2.LMHead(scope, c.Config, h), dtypes.Float32)     // [b*k, vocab]
	vocab := logits.Shape().Dimensions[1]
	lsm := LogSoftmax(logits, -1)
	flat := Add(MulScalar(Iota(g, shapesOf(dtypes.Int32, b*k), 0), float64(vocab)), Reshape(ConvertDType(ids, dtypes.Int32), b*k))
	picked := Reshape(Gather(Reshape(lsm, b*k*vocab, 1), Reshape(flat, b*k, 1)), b, k)
	return Where(mask, picked, ZerosLike(picked))
}

// AnswerLoss is the mean negative log-likelihood of the target tokens: the
// training loss of every method (loss on answer tokens only).
func AnswerLoss(scope *model.Scope, c Config, final, pos, ids, mask *Node) *Node {
	lp := TargetLogProbs(scope, c, final, pos, ids, mask)
	n := MaxScalar(ReduceAllSum(ConvertDType(mask, dtypes.Float32)), 1)
	return Neg(Div(ReduceAllSum(lp), n))
}

func shapesOf(dt dtypes.DType, dims ...int) shapes.Shape { return shapes.Make(dt, dims...) }
