package llava

import (
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/visreft/visreft/sdk/models/qwen2"
)

// Steer is a method that changes the model's computation per batch with
// graph hooks: ReFT's interventions are one. (LoRA and full fine-tuning
// change weights in the context instead and need no Steer.) Training,
// evaluation and generation all take one, so a trained intervention runs
// the same way everywhere.
type Steer interface {
	// Inputs returns the extra graph inputs a batch needs, e.g. the
	// intervention positions resolved from Batch.TextIndex.
	Inputs(bt Batch) ([]any, error)
	// Hook builds the decoder hook inside the graph from those inputs.
	Hook(ctx *context.Context, extra []*Node) qwen2.Hook
}
