package mini

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/visreft/visreft/sdk/models/llava"
	"github.com/visreft/visreft/sdk/models/siglip"
	"github.com/visreft/visreft/sdk/nn"
	"github.com/visreft/visreft/sdk/train"
)

// InitStd is the standard deviation of fresh weight matrices and
// embeddings: Qwen2's and SigLIP's initializer_range.
const InitStd = 0.02

// NewModel builds a fresh, untrained model of config c in float32, seeded,
// each part as its own Hugging Face model initialises it. The decoder and
// the projector as Qwen2PreTrainedModel does: weight matrices and
// embeddings normal(0, InitStd), biases 0, norm weights 1; the projections
// that write into the residual stream (o_proj, down_proj) are also scaled
// by 1/sqrt(2·layers), as GPT-2 does. The tower as SiglipPreTrainedModel
// does: position embeddings normal(0, 1/sqrt(hidden)), the patch embedding
// LeCun normal (truncated at two standard deviations, variance 1/fan_in),
// attention and MLP matrices Xavier uniform, MLP biases normal(0, 1e-6),
// other biases 0, norm weights 1. (Until visreft-mini v1 the tower had the
// decoder's normal(0, 0.02) everywhere: position embeddings six times
// smaller than SigLIP's at hidden 64, so where a patch is barely reached
// the tower's output; NewModelWith "v1" gives that init.)
func NewModel(c llava.Config, seed uint64) (*model.Scope, error) {
	return NewModelWith(c, seed, "")
}

// TowerInits name the inits NewModelWith gives a fresh tower.
var TowerInits = []string{"siglip", "v1"}

// NewModelWith is NewModel with the tower initialised as towerInit says:
// "" or "siglip" (NewModel's), or "v1" (the decoder's init everywhere, as
// visreft-mini v1: weight matrices normal(0, InitStd), out_proj and fc2
// scaled by 1/sqrt(2·tower layers)).
func NewModelWith(c llava.Config, seed uint64, towerInit string) (*model.Scope, error) {
	if towerInit != "" && !slices.Contains(TowerInits, towerInit) {
		return nil, fmt.Errorf("mini: tower init %q is none of %s", towerInit, strings.Join(TowerInits, ", "))
	}
	v1 := towerInit == "v1"
	scope := model.NewStore().RootScope()
	r := rand.New(rand.NewPCG(seed, 0x696e6974)) // "init"
	dec := c.Config.WithDefaults().NumHiddenLayers
	vision := c.Vision.WithDefaults()
	for _, p := range llava.Params(c) {
		vals := make([]float32, p.Size())
		tower := strings.HasPrefix(p.Name, siglip.PrefixNanoLLaVA)
		switch {
		case tower && !v1:
			siglipInit(r, p, vision.HiddenSize, vals)
		case strings.HasSuffix(p.Name, ".bias"):
		case strings.Contains(p.Name, "norm"):
			fill(vals, func() float64 { return 1 })
		default:
			std := InitStd
			for _, out := range []string{"o_proj", "down_proj"} {
				if strings.Contains(p.Name, "."+out+".") {
					std /= math.Sqrt(2 * float64(dec))
				}
			}
			for _, out := range []string{"out_proj", "fc2"} {
				if tower && strings.Contains(p.Name, "."+out+".") {
					std /= math.Sqrt(2 * float64(vision.LayersKept))
				}
			}
			fill(vals, func() float64 { return std * r.NormFloat64() })
		}
		t, err := nn.TensorOf(vals, dtypes.Float32, p.Dims...)
		if err != nil {
			return nil, err
		}
		if err := nn.SetParam(scope, p.Name, t); err != nil {
			return nil, err
		}
	}
	return scope, nil
}

// siglipInit fills vals for a vision tower parameter p as
// SiglipPreTrainedModel._init_weights does.
func siglipInit(r *rand.Rand, p nn.Param, hidden int, vals []float32) {
	fanIn, fanOut := 1, 1
	if len(p.Dims) >= 2 { // [out, in, kh, kw...]
		fanOut, fanIn = p.Dims[0], int(p.Size())/p.Dims[0]
	}
	name := strings.TrimPrefix(p.Name, siglip.PrefixNanoLLaVA)
	weight := strings.HasSuffix(name, ".weight")
	switch {
	case strings.Contains(name, "norm"):
		if weight {
			fill(vals, func() float64 { return 1 })
		}
	case strings.HasSuffix(name, "position_embedding.weight"):
		std := 1 / math.Sqrt(float64(hidden))
		fill(vals, func() float64 { return std * r.NormFloat64() })
	case strings.HasSuffix(name, "patch_embedding.weight"):
		// lecun_normal_: a normal truncated to [-2, 2] whose variance is 1/fan_in.
		std := math.Sqrt(1/float64(fanIn)) / 0.87962566103423978
		fill(vals, func() float64 {
			for {
				if x := r.NormFloat64(); math.Abs(x) <= 2 {
					return std * x
				}
			}
		})
	case weight && (strings.Contains(name, ".self_attn.") || strings.Contains(name, ".mlp.")):
		bound := math.Sqrt(6 / float64(fanIn+fanOut))
		fill(vals, func() float64 { return bound * (2*r.Float64() - 1) })
	case strings.HasSuffix(name, ".mlp.fc1.bias") || strings.HasSuffix(name, ".mlp.fc2.bias"):
		fill(vals, func() float64 { return 1e-6 * r.NormFloat64() })
	}
}

func fill(vals []float32, f func() float64) {
	for i := range vals {
		vals[i] = float32(f())
	}
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
func LossFn(c llava.Config) train.LossFn { return LossFnWith(c, 0) }

// LossFnWith is LossFn plus, when patch > 0, patch times the tower's
// per-patch loss (patchLoss) on a batch that carries PatchLabels
// (MixtureOptions.PatchLabels: inputs 9 to 11).
func LossFnWith(c llava.Config, patch float64) train.LossFn {
	return func(scope *model.Scope, in []*Node) *Node {
		li := llava.Inputs{Pixels: in[0], TextIDs: in[1], Gather: in[2], Valid: in[3], Positions: in[4], DType: dtypes.Float32}
		var feats *Node
		if patch > 0 {
			feats = siglip.Forward(scope, c.Vision, in[0], nil).Last
			li.Pixels, li.ImageFeat = nil, llava.Project(scope, c, feats)
		}
		out := llava.ForwardHidden(scope, c, li)
		lp := llava.TargetLogProbs(scope, c, out.Final, in[5], in[6], in[7]) // [b, K]
		w := in[8]
		loss := Neg(Div(ReduceAllSum(Mul(lp, w)), MaxScalar(ReduceAllSum(w), 1e-6)))
		if patch > 0 {
			loss = Add(loss, MulScalar(patchLoss(scope, feats, in[9], in[10], in[11]), patch))
		}
		return loss
	}
}
