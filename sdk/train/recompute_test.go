package train

import (
	stdctx "context"
	"fmt"
	"math"
	"strconv"
	"testing"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/visreft/visreft/sdk/internal/testutil"
	"github.com/visreft/visreft/sdk/lora"
	"github.com/visreft/visreft/sdk/models/qwen2"
	"github.com/visreft/visreft/sdk/nn"
)

const stagedBlocks = 3

// stagedParams: the tiny model's embeddings, norm and lm_head around
// stagedBlocks pre-norm residual MLP blocks "model.blocks.N".
func stagedParams() []nn.Param {
	var ps []nn.Param
	for _, p := range qwen2.Params(tiny) {
		if p.Component != "layers" {
			ps = append(ps, p)
		}
	}
	for i := range stagedBlocks {
		b := fmt.Sprintf("model.blocks.%d.", i)
		ps = append(ps, nn.Param{Name: b + "norm.weight", Dims: []int{32}},
			nn.Param{Name: b + "up.weight", Dims: []int{48, 32}}, nn.Param{Name: b + "down.weight", Dims: []int{32, 48}})
	}
	return ps
}

func stagedModel() Stages {
	s := Stages{
		Embed: func(scope *model.Scope, b []*Node) *Node { return qwen2.Embed(scope, tiny, b[TokIDs], dtypes.Float32) },
		Head: func(scope *model.Scope, h *Node, b []*Node) *Node {
			h = nn.RMSNorm(scope.At("model").At("norm"), h, 1e-6)
			return CausalLMLoss(qwen2.LMHead(scope, tiny, h), b[TokLabels], b[TokWeights])
		},
	}
	for i := range stagedBlocks {
		s.Blocks = append(s.Blocks, func(scope *model.Scope, h *Node, _ []*Node) *Node {
			c := scope.At("model").At("blocks").At("%s", strconv.Itoa(i))
			x := nn.RMSNorm(c.At("norm"), h, 1e-6)
			return Add(h, nn.Linear(c.At("down"), nn.SiLU(nn.Linear(c.At("up"), x, 48, false)), 32, false))
		})
	}
	return s
}

// newStaged trains the staged model; cfg nil means 2 epochs of 6 examples
// in batches of 2 at lr 3e-3.
func newStaged(t testing.TB, strategy Strategy, dropout float64, recompute bool, data Source, cfg *Config) *Trainer {
	t.Helper()
	scope := model.NewStore().RootScope()
	if err := nn.InitRandom(scope, stagedParams(), 1, 0.2, dtypes.Float32); err != nil {
		t.Fatal(err)
	}
	if strategy.Name == "lora" {
		if _, err := lora.Apply(scope, stagedParams(), lora.Config{R: 4, Alpha: 8, Dropout: dropout,
			TargetModules: []string{"up", "down"}, Seed: 2}); err != nil {
			t.Fatal(err)
		}
	}
	if cfg == nil {
		c := quiet()
		c.Epochs, c.BatchSize, data = 2, 2, tinyData(6, 8, 6)
		cfg = &c
	}
	cfg.LR, cfg.Recompute = 3e-3, recompute
	tr, err := NewStaged(testutil.Backend(t), scope, stagedModel(), strategy, data, *cfg)
	if err != nil {
		t.Fatal(err)
	}
	if recompute {
		tr.rc.checkReplay = true
	}
	return tr
}

// TestRecomputeMatchesWholeGraph: block-by-block training with
// recomputation gives the weights of one whole-graph step (same math,
// different executables), for full fine-tuning (embeddings trained) and
// for LoRA (frozen embeddings: their backward is skipped).
func TestRecomputeMatchesWholeGraph(t *testing.T) {
	for _, s := range []Strategy{Full([]string{"model.", "lm_head."}, nil), LoRA()} {
		whole, staged := newStaged(t, s, 0, false, nil, nil), newStaged(t, s, 0, true, nil, nil)
		rw, err := whole.Run(stdctx.Background())
		if err != nil {
			t.Fatal(err)
		}
		rs, err := staged.Run(stdctx.Background())
		if err != nil {
			t.Fatal(err)
		}
		worst := 0.0
		for _, tv := range whole.vars {
			o := staged.byKey[tv.key]
			if o == nil {
				t.Fatalf("%s: %s not trained with recomputation", s.Name, tv.name)
			}
			a, b := floatsOf(t, tv), floatsOf(t, o)
			for i := range a {
				worst = math.Max(worst, math.Abs(float64(a[i]-b[i])))
			}
		}
		t.Logf("%s: %d variables, loss %.4f vs %.4f, max weight difference %.3g, %d vs %d compilations, embeddings trained: %v",
			s.Name, len(whole.vars), rw.Loss, rs.Loss, worst, rw.Compiles, rs.Compiles, staged.rc.embedTrains)
		if len(whole.vars) != len(staged.vars) || worst > 1e-5 || math.Abs(rw.Loss-rs.Loss) > 1e-5 {
			t.Errorf("%s: recomputation differs from the whole graph by %.3g", s.Name, worst)
		}
		if staged.rc.embedTrains != (s.Name == "full") {
			t.Errorf("%s: embedding backward runs: %v", s.Name, staged.rc.embedTrains)
		}
	}
}

// TestRecomputeReplaysDropout: the recomputed forward of every block draws
// the dropout masks of the original forward (the RNG is rewound), so it
// reproduces the stored hidden states exactly, and training still works.
func TestRecomputeReplaysDropout(t *testing.T) {
	tr := newStaged(t, LoRA(), 0.3, true, nil, nil)
	res, err := tr.Run(stdctx.Background())
	if err != nil {
		t.Fatal(err)
	}
	if tr.rc.replayDiff != 0 {
		t.Errorf("recomputed hidden states differ from the forward's by %.3g", tr.rc.replayDiff)
	}
	if res.Losses[len(res.Losses)-1] >= res.Losses[0] {
		t.Errorf("losses %v", res.Losses)
	}
}
