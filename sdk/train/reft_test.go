package train

import (
	stdctx "context"
	"slices"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/visreft/visreft/sdk/internal/testutil"
	"github.com/visreft/visreft/sdk/models/qwen2"
	"github.com/visreft/visreft/sdk/nn"
	"github.com/visreft/visreft/sdk/reft"
)

// reftSource adds a ReFT set's positions (Index, Valid) to Tokens batches:
// with right padding, example i's prompt tokens sit at 0..prompt-1.
type reftSource struct {
	Tokens
	set *reft.Set
}

func (r reftSource) Batch(idx []int, rows, seq int) ([]any, error) {
	b, err := r.Tokens.Batch(idx, rows, seq)
	if err != nil {
		return nil, err
	}
	text := make([][]int, rows)
	for row := range rows {
		n := 3 // padding rows: any 3 positions (their loss weight is 0)
		if row < len(idx) {
			n = slices.Index(r.Examples[idx[row]].Answer, true)
		}
		for j := range n {
			text[row] = append(text[row], j)
		}
	}
	loc, err := r.set.Locate(text, seq)
	if err != nil {
		return nil, err
	}
	return append(b, loc.Index, loc.Valid), nil
}

// TestTrainsSDKReFT trains the paper's intervention (LoReFT, rank 4, every
// layer, start/mid/end of the prompt, shared) from sdk/reft with the ReFT
// strategy: only the intervention trains, the loss falls, the base model
// is untouched, and an interrupted run resumes bit for bit.
func TestTrainsSDKReFT(t *testing.T) {
	set := paperSet(t)
	data := reftSource{tinyData(8, 8, 10), set}
	loss := reftLoss(set)
	run := func(cfg Config, resume string) (*Trainer, Result, error) {
		scope := tinyModel(t, dtypes.Float32)
		if err := reft.Init(scope.At("reft"), set, reft.InitOptions{Seed: 1}); err != nil {
			t.Fatal(err)
		}
		tr, err := New(testutil.Backend(t), scope, loss, ReFT(), data, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if resume != "" {
			if err := tr.Resume(resume); err != nil {
				t.Fatal(err)
			}
		}
		res, err := tr.Run(stdctx.Background())
		return tr, res, err
	}
	cfg := quiet()
	cfg.LR, cfg.Epochs, cfg.BatchSize = 2e-2, 8, 4
	whole, res, err := run(cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	first, last := mean(res.Losses[:2]), mean(res.Losses[len(res.Losses)-2:])
	t.Logf("LoReFT: trains %v; loss %.3f -> %.3f", whole.Trainable(), first, last)
	for _, n := range whole.Trainable() {
		if n[:5] != "reft." {
			t.Errorf("%s trains under the ReFT strategy", n)
		}
	}
	if last > 0.9*first {
		t.Errorf("loss %.3f -> %.3f", first, last)
	}
	if got := getVar(t, whole.scope, "model.layers.0.mlp.up_proj.weight"); !slices.Equal(got, getVar(t, tinyModel(t, dtypes.Float32), "model.layers.0.mlp.up_proj.weight")) {
		t.Error("the base model changed")
	}

	dir := t.TempDir()
	cut := cfg
	cut.MaxSteps, cut.CheckpointDir, cut.CheckpointEvery = 0, dir, 5
	cctx, cancel := stdctx.WithCancel(stdctx.Background())
	cut.OnStep = func(s StepInfo) {
		if s.Step == 7 {
			cancel()
		}
	}
	scope := tinyModel(t, dtypes.Float32)
	reft.Init(scope.At("reft"), set, reft.InitOptions{Seed: 1})
	tr, _ := New(testutil.Backend(t), scope, loss, ReFT(), data, cut)
	if _, err := tr.Run(cctx); err == nil {
		t.Fatal("the cancelled run did not stop")
	}
	cut.OnStep = nil
	resumed, _, err := run(cut, dir)
	if err != nil {
		t.Fatal(err)
	}
	a, b := snapshot(t, whole), snapshot(t, resumed)
	for name, w := range a {
		if !slices.Equal(w, b[name]) {
			t.Errorf("%s differs after resuming", name)
		}
	}
}

// paperSet is the paper's intervention on the tiny decoder: LoReFT, rank
// 4, every layer, start/mid/end of the prompt, shared.
func paperSet(t *testing.T) *reft.Set {
	t.Helper()
	set, err := reft.NewSet(reft.Base{ID: "tiny", DType: "float32", NumParams: 1,
		Streams: map[reft.Component]reft.Stream{reft.BlockOutput: {Hidden: 32, Layers: 2}}},
		reft.Spec{Type: reft.LoReFT, Rank: 4, Layers: "all", Positions: "sme", ShareWeights: true})
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// reftLoss is the tiny decoder's answer-token loss on reftSource batches
// with set's interventions (under "reft") hooked into every layer.
func reftLoss(set *reft.Set) LossFn {
	return func(scope *model.Scope, b []*Node) *Node {
		ids := b[TokIDs]
		idx := Iota(ids.Graph(), shapes.Make(dtypes.Int32, ids.Shape().Dimensions...), 1)
		in := qwen2.Input{Embeds: qwen2.Embed(scope, tiny, ids, dtypes.Float32), Positions: b[TokPositions],
			Mask: nn.CausalPaddingMask(idx, idx, b[TokValid]),
			Hook: set.Hook(scope.At("reft"), reft.Positions{Index: b[5], Valid: b[6]}, reft.HookOptions{})}
		return CausalLMLoss(qwen2.LMHead(scope, tiny, qwen2.Decoder(scope, tiny, in).Final), b[TokLabels], b[TokWeights])
	}
}
