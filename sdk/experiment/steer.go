package experiment

import (
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/visreft/visreft/sdk/models/llava"
	"github.com/visreft/visreft/sdk/models/qwen2"
	"github.com/visreft/visreft/sdk/reft"
)

// ReFTSteer runs a set of decoder interventions as a llava.Steer: the
// positions are resolved per batch from the prompt's text tokens (never
// image tokens), and the hook reads the set's variables under "reft".
type ReFTSteer struct{ Set *reft.Set }

// Inputs implements llava.Steer.
func (r ReFTSteer) Inputs(bt llava.Batch) ([]any, error) {
	loc, err := r.Set.Locate(bt.TextIndex, bt.Length)
	if err != nil {
		return nil, err
	}
	return []any{loc.Index, loc.Valid}, nil
}

// Hook implements llava.Steer.
func (r ReFTSteer) Hook(ctx *context.Context, extra []*Node) qwen2.Hook {
	return r.Set.Hook(ctx.In(reftScope), reft.Positions{Index: extra[0], Valid: extra[1]}, reft.HookOptions{})
}
