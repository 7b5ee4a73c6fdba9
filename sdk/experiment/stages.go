package experiment

import (
	"strconv"

	"github.com/gomlx/compute"

	"github.com/gomlx/compute/dtypes"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/visreft/visreft/sdk/models/llava"
	"github.com/visreft/visreft/sdk/models/qwen2"
	"github.com/visreft/visreft/sdk/nn"
	"github.com/visreft/visreft/sdk/train"
)

// stages splits nanoLLaVA's training loss (lossFn) into the chain the
// trainer's gradient checkpointing needs: Embed is the vision tower, the
// projector and the splice; each decoder block (with its interventions,
// if any) is a Block; Head is the final norm and the answer loss. Chained,
// the stages compute exactly what lossFn computes; with train.Config's
// Recompute only the hidden state between blocks is kept for the backward
// pass (Table 3's gradient checkpointing, per decoder block as
// transformers' gradient_checkpointing_enable does).
func stages(c llava.Config, steer llava.Steer, dt dtypes.DType) train.Stages {
	qc := c.Config.WithDefaults()
	st := train.Stages{
		Embed: func(scope *model.Scope, batch []*Node) *Node {
			inp := batchInputs(batch, dt)
			llava.ApplySteer(scope, steer, &inp, batch[8:])
			return llava.Embeds(scope, c, inp)
		},
		Head: func(scope *model.Scope, h *Node, batch []*Node) *Node {
			final := nn.RMSNorm(scope.At("model").At("norm"), h, qc.RMSNormEps)
			return llava.AnswerLoss(scope, c, final, batch[5], batch[6], batch[7])
		},
	}
	for i := range qc.NumHiddenLayers {
		st.Blocks = append(st.Blocks, func(scope *model.Scope, h *Node, batch []*Node) *Node {
			idx := Iota(h.Graph(), batch[4].Shape(), 1)
			mask := nn.CausalPaddingMask(idx, idx, batch[3])
			cos, sin := nn.RoPECosSin(batch[4], qc.HeadDim, qc.RopeTheta)
			h = qwen2.Block(scope.At("model").At("layers").At("%s", strconv.Itoa(i)), qc, h, cos, sin, mask, nil)
			if steer != nil {
				if hook := steer.Hook(scope, batch[8:]); hook != nil {
					h = hook(i, h)
				}
			}
			return h
		})
	}
	return st
}

// newTrainer is the trainer of a nanoLLaVA run: staged (per-block
// recompute) when cfg.Recompute, else the whole loss graph.
func newTrainer(b compute.Backend, m *llava.Model, steer llava.Steer, dt dtypes.DType, st train.Strategy, src train.Source, cfg train.Config) (*train.Trainer, error) {
	if cfg.Recompute {
		return train.NewStaged(b, m.Ctx, stages(m.Config, steer, dt), st, src, cfg)
	}
	return train.New(b, m.Ctx, lossFn(m.Config, steer, dt), st, src, cfg)
}
