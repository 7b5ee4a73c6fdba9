package train

import (
	stdctx "context"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/visreft/visreft/sdk/internal/testutil"
	"github.com/visreft/visreft/sdk/lora"
	"github.com/visreft/visreft/sdk/models/qwen2"
	"github.com/visreft/visreft/sdk/nn"
)

var tiny = qwen2.Config{VocabSize: 64, HiddenSize: 32, IntermediateSize: 48, NumHiddenLayers: 2,
	NumAttentionHeads: 4, NumKeyValueHeads: 2, RopeTheta: 10000, RMSNormEps: 1e-6}

// tinyData: prompts of 3..maxPrompt random tokens whose 2-token answer is
// (first+1, last+1) mod 60, the kind of mapping a few steps can learn.
func tinyData(n, maxPrompt int, seed uint64) Tokens {
	r := rand.New(rand.NewPCG(seed, 1))
	var ex []TokenExample
	for range n {
		p := 3 + r.IntN(maxPrompt-2)
		ids := make([]int32, p)
		for i := range ids {
			ids[i] = int32(r.IntN(60))
		}
		ids = append(ids, (ids[0]+1)%60, (ids[p-1]+1)%60)
		ans := make([]bool, len(ids))
		ans[p], ans[p+1] = true, true
		ex = append(ex, TokenExample{IDs: ids, Answer: ans})
	}
	return Tokens{Examples: ex, Pad: 63}
}

func tinyModel(t testing.TB, dtype dtypes.DType) *model.Scope {
	t.Helper()
	scope := model.NewStore().RootScope()
	if err := nn.InitRandom(scope, qwen2.Params(tiny), 1, 0.2, dtype); err != nil {
		t.Fatal(err)
	}
	return scope
}

// qwenLoss is the tiny decoder's answer-token cross-entropy on Tokens
// batches, computing in dtype; with reft, a trainable vector per layer is
// added to the residual stream (a stand-in for a ReFT intervention).
func qwenLoss(dtype dtypes.DType, reft bool) LossFn {
	return func(scope *model.Scope, b []*Node) *Node {
		ids := b[TokIDs]
		g := ids.Graph()
		idx := Iota(g, shapes.Make(dtypes.Int32, ids.Shape().Dimensions...), 1)
		in := qwen2.Input{Embeds: qwen2.Embed(scope, tiny, ids, dtype), Positions: b[TokPositions],
			Mask: nn.CausalPaddingMask(idx, idx, b[TokValid])}
		if reft {
			in.Hook = func(layer int, h *Node) *Node {
				v := scope.Store().Scope("/reft").At("%s", strconv.Itoa(layer)).
					VariableWithValue("delta", make([]float32, tiny.HiddenSize))
				return Add(h, ExpandLeftToRank(ConvertDType(v.NodeValue(g), h.DType()), 3))
			}
		}
		return CausalLMLoss(qwen2.LMHead(scope, tiny, qwen2.Decoder(scope, tiny, in).Final), b[TokLabels], b[TokWeights])
	}
}

type setup struct {
	name     string
	strategy Strategy
	reft     bool
	lr       float64
}

var strategies = []setup{
	{"reft", ReFT(), true, 1e-1},
	{"lora", LoRA(), false, 1e-2},
	{"full", Full([]string{"model.", "lm_head."}, nil), false, 3e-3},
}

// newTiny builds a trainer for one strategy on a fresh tiny model.
func newTiny(t testing.TB, s setup, data Source, cfg Config) (*Trainer, *model.Scope) {
	t.Helper()
	scope := tinyModel(t, dtypes.Float32)
	if s.name == "lora" {
		if _, err := lora.Apply(scope, qwen2.Params(tiny), lora.Config{R: 4, Alpha: 8, Dropout: 0.1,
			TargetModules: []string{"q_proj", "k_proj", "v_proj", "o_proj"}, Seed: 5}); err != nil {
			t.Fatal(err)
		}
	}
	cfg.LR = s.lr
	tr, err := New(testutil.Backend(t), scope, qwenLoss(dtypes.Float32, s.reft), s.strategy, data, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return tr, scope
}

func mean(xs []float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

// TestLossFallsForEachStrategy overfits 8 examples for 10 epochs.
func TestLossFallsForEachStrategy(t *testing.T) {
	data := tinyData(8, 8, 1)
	for _, s := range strategies {
		cfg := quiet()
		cfg.Epochs, cfg.BatchSize, cfg.Schedule = 10, 4, Schedule{Kind: Constant}
		tr, _ := newTiny(t, s, data, cfg)
		res, err := tr.Run(stdctx.Background())
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		first, last := mean(res.Losses[:2]), mean(res.Losses[len(res.Losses)-2:])
		t.Logf("%s: %d steps, trains %d variables, loss %.3f -> %.3f", s.name, res.Steps, len(tr.Trainable()), first, last)
		if last > 0.8*first {
			t.Errorf("%s: loss %.3f -> %.3f: did not fall by 20%%", s.name, first, last)
		}
	}
}
