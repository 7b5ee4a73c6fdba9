package llava

import (
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/visreft/visreft/sdk/models/qwen2"
	"github.com/visreft/visreft/sdk/models/siglip"
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
	Hook(scope *model.Scope, extra []*Node) qwen2.Hook
}

// VisionSteer is a Steer that also edits the vision side (as MRT does):
// the vision tower's layer outputs and the projector's output. A nil hook
// leaves that stream alone.
type VisionSteer interface {
	Steer
	VisionHook(scope *model.Scope, extra []*Node) siglip.Hook
	ImageHook(scope *model.Scope, extra []*Node) func(feat *Node) *Node
}

// DecodeSteer is a Steer that also edits every generated token (steering
// vectors do; ReFT, as pyreft, edits the prompt only). DecodeHook needs no
// extra inputs; nil leaves decoding alone.
type DecodeSteer interface {
	Steer
	DecodeHook(scope *model.Scope) qwen2.Hook
}

// ApplySteer installs steer's hooks in in, from the extra graph inputs its
// Inputs returned; nil steer installs nothing.
func ApplySteer(scope *model.Scope, steer Steer, in *Inputs, extra []*Node) {
	if steer == nil {
		return
	}
	in.Hook = steer.Hook(scope, extra)
	if vs, ok := steer.(VisionSteer); ok {
		in.VisionHook = vs.VisionHook(scope, extra)
		in.ImageHook = vs.ImageHook(scope, extra)
	}
}
