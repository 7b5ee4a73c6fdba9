package mini

import (
	"math"
	"math/rand/v2"
	"strings"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/visreft/visreft/sdk/models/llava"
	"github.com/visreft/visreft/sdk/models/siglip"
	"github.com/visreft/visreft/sdk/nn"
	"github.com/visreft/visreft/sdk/train"
)

// InitStd is the standard deviation of fresh weight matrices and
// embeddings: Qwen2's and SigLIP's initializer_range.
const InitStd = 0.02

// NewModel builds a fresh, untrained model of config c in float32, seeded:
// weight matrices and embeddings normal(0, InitStd), the projections that
// write into a residual stream (o_proj, down_proj, out_proj, fc2) scaled
// by 1/sqrt(2·layers) as GPT-2 does, biases 0, norm weights 1.
func NewModel(c llava.Config, seed uint64) (*context.Context, error) {
	ctx := context.New()
	r := rand.New(rand.NewPCG(seed, 0x696e6974)) // "init"
	dec := c.Config.WithDefaults().NumHiddenLayers
	tower := c.Vision.WithDefaults().LayersKept
	for _, p := range llava.Params(c) {
		vals := make([]float32, p.Size())
		switch {
		case strings.HasSuffix(p.Name, ".bias"):
		case strings.Contains(p.Name, "norm"):
			for i := range vals {
				vals[i] = 1
			}
		default:
			std := InitStd
			for _, out := range []string{"o_proj", "down_proj"} {
				if strings.Contains(p.Name, "."+out+".") {
					std /= math.Sqrt(2 * float64(dec))
				}
			}
			for _, out := range []string{"out_proj", "fc2"} {
				if strings.Contains(p.Name, "."+out+".") {
					std /= math.Sqrt(2 * float64(tower))
				}
			}
			for i := range vals {
				vals[i] = float32(std * r.NormFloat64())
			}
		}
		t, err := nn.TensorOf(vals, dtypes.Float32, p.Dims...)
		if err != nil {
			return nil, err
		}
		if err := nn.SetParam(ctx, p.Name, t); err != nil {
			return nil, err
		}
	}
	return ctx, nil
}

// Everything is what pretraining trains: every weight the model uses (the
// tower and the projector too, unlike the paper's full fine-tuning). The
// tower's post_layernorm, which nanoLLaVA's checkpoint holds but never
// applies, keeps its init (weight 1, bias 0).
func Everything() train.Strategy {
	s := train.Full([]string{"model.", "lm_head."}, []string{siglip.PrefixNanoLLaVA + "post_layernorm."})
	s.Name = "pretrain"
	return s
}

// LossFn is the pretraining loss of a Mixture batch: the weighted mean
// negative log-likelihood of the text after the image (answers weigh 1,
// questions Options.QuestionWeight), computed in float32.
func LossFn(c llava.Config) train.LossFn {
	return func(ctx *context.Context, in []*Node) *Node {
		out := llava.ForwardHidden(ctx, c, llava.Inputs{Pixels: in[0], TextIDs: in[1], Gather: in[2],
			Valid: in[3], Positions: in[4], DType: dtypes.Float32})
		lp := llava.TargetLogProbs(ctx, c, out.Final, in[5], in[6], in[7]) // [b, K]
		w := in[8]
		return Neg(Div(ReduceAllSum(Mul(lp, w)), MaxScalar(ReduceAllSum(w), 1e-6)))
	}
}
