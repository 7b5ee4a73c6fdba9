package experiment

import (
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/visreft/visreft/sdk/models/llava"
	"github.com/visreft/visreft/sdk/models/qwen2"
	"github.com/visreft/visreft/sdk/models/siglip"
	"github.com/visreft/visreft/sdk/reft"
)

// ReFTSteer runs interventions as a llava.VisionSteer: on the decoder's
// block outputs at positions chosen among the prompt's text tokens (never
// image tokens), and, beyond pyreft, on the vision tower's layer outputs and
// the projector's output at positions chosen among the image patches. Each
// stream has its own index space, hence its own set. Variables live under
// "reft" in the model's context.
type ReFTSteer struct {
	Decoder, Vision, Projector *reft.Set // nil: no interventions there
	NumPatches                 int
}

// NewReFTSteer splits specs by component into sets over base.
func NewReFTSteer(base reft.Base, numPatches int, specs ...reft.Spec) (*ReFTSteer, error) {
	by := map[reft.Component][]reft.Spec{}
	for _, s := range specs {
		c := s.Component
		if c == "" {
			c = reft.BlockOutput
		}
		by[c] = append(by[c], s)
	}
	st := &ReFTSteer{NumPatches: numPatches}
	for c, dst := range map[reft.Component]**reft.Set{reft.BlockOutput: &st.Decoder,
		reft.VisionBlockOutput: &st.Vision, reft.ProjectorOutput: &st.Projector} {
		if len(by[c]) == 0 {
			continue
		}
		set, err := reft.NewSet(base, by[c]...)
		if err != nil {
			return nil, err
		}
		*dst = set
	}
	return st, nil
}

// Sets lists the non-nil sets.
func (r *ReFTSteer) Sets() []*reft.Set {
	var out []*reft.Set
	for _, s := range []*reft.Set{r.Decoder, r.Vision, r.Projector} {
		if s != nil {
			out = append(out, s)
		}
	}
	return out
}

// NumParams is the trainable parameter count of every set.
func (r *ReFTSteer) NumParams() int64 {
	var n int64
	for _, s := range r.Sets() {
		n += s.NumParams()
	}
	return n
}

// TouchesVision reports whether the tower or projector output is edited,
// which rules out caching image features.
func (r *ReFTSteer) TouchesVision() bool { return r.Vision != nil || r.Projector != nil }

// Inputs implements llava.Steer: index and validity tensors for each set, in
// the order decoder, vision, projector.
func (r *ReFTSteer) Inputs(bt llava.Batch) ([]any, error) {
	var out []any
	patches := make([][]int, len(bt.Valid))
	for i := range patches {
		for j := range r.NumPatches {
			patches[i] = append(patches[i], j)
		}
	}
	for _, s := range []*reft.Set{r.Decoder, r.Vision, r.Projector} {
		if s == nil {
			continue
		}
		text, n := bt.TextIndex, bt.Length
		if s != r.Decoder {
			text, n = patches, r.NumPatches
		}
		loc, err := s.Locate(text, n)
		if err != nil {
			return nil, err
		}
		out = append(out, loc.Index, loc.Valid)
	}
	return out, nil
}

// positions returns the graph positions of set s among extra.
func (r *ReFTSteer) positions(s *reft.Set, extra []*Node) reft.Positions {
	k := 0
	for _, x := range []*reft.Set{r.Decoder, r.Vision, r.Projector} {
		if x == nil {
			continue
		}
		if x == s {
			return reft.Positions{Index: extra[2*k], Valid: extra[2*k+1]}
		}
		k++
	}
	panic("experiment: set not in this steer")
}

// Hook implements llava.Steer.
func (r *ReFTSteer) Hook(scope *model.Scope, extra []*Node) qwen2.Hook {
	if r.Decoder == nil {
		return nil
	}
	return r.Decoder.Hook(scope.At(reftScope), r.positions(r.Decoder, extra), reft.HookOptions{})
}

// VisionHook implements llava.VisionSteer.
func (r *ReFTSteer) VisionHook(scope *model.Scope, extra []*Node) siglip.Hook {
	if r.Vision == nil {
		return nil
	}
	return r.Vision.Hook(scope.At(reftScope), r.positions(r.Vision, extra), reft.HookOptions{Component: reft.VisionBlockOutput})
}

// ImageHook implements llava.VisionSteer.
func (r *ReFTSteer) ImageHook(scope *model.Scope, extra []*Node) func(*Node) *Node {
	if r.Projector == nil {
		return nil
	}
	h := r.Projector.Hook(scope.At(reftScope), r.positions(r.Projector, extra), reft.HookOptions{Component: reft.ProjectorOutput})
	return func(feat *Node) *Node { return h(0, feat) }
}
