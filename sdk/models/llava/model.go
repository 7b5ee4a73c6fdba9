package llava

import (
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/visreft/visreft/sdk/models/qwen2"
	"github.com/visreft/visreft/sdk/models/siglip"
	"github.com/visreft/visreft/sdk/nn"
)

// Inputs are a batch's graph inputs, from a Batch (see Layout).
type Inputs struct {
	Pixels    *Node // [b, 3, H, W] preprocessed images; nil when ImageFeatures is given
	ImageFeat *Node // [b, n, hidden] projected image features (cached); nil to compute from Pixels
	TextIDs   *Node // [b, s] int32
	Gather    *Node // [b, L] int32
	Valid     *Node // [b, L] bool
	Positions *Node // [b, L] int32
	// DType is the compute dtype: pixels or cached features are converted
	// to it on entry, and the whole model then computes in it (weights are
	// converted to the activations' dtype by sdk/nn). Zero keeps the
	// dtype the pixels or features arrive in.
	DType dtypes.DType
	// Hooks: interventions on the decoder's blocks, the vision tower's
	// layers, and the projector output ([b, n, hidden]).
	Hook       qwen2.Hook
	VisionHook siglip.Hook
	ImageHook  func(feat *Node) *Node
}

// ImageFeatures runs the vision tower and the projector: pixels [b, 3, H,
// W] -> [b, n, hidden] in pixels' dtype. Frozen for LLM-only methods, so
// callers may compute it once per image and cache it.
func ImageFeatures(scope *model.Scope, c Config, pixels *Node, hook siglip.Hook) *Node {
	return Project(scope, c, siglip.Forward(scope, c.Vision, pixels, hook).Last)
}

// Embeds builds the decoder's input embeddings: text embeddings and image
// features concatenated per row, then gathered into the spliced,
// left-padded layout. Returns [b, L, hidden].
func Embeds(scope *model.Scope, c Config, in Inputs) *Node {
	img := in.ImageFeat
	if img == nil {
		img = ImageFeatures(scope, c, castTo(in.Pixels, in.DType), in.VisionHook)
	}
	img = castTo(img, in.DType)
	if in.ImageHook != nil {
		img = in.ImageHook(img)
	}
	txt := qwen2.Embed(scope, c.Config, in.TextIDs, img.DType()) // [b, s, hidden]
	src := Concatenate([]*Node{txt, img}, 1)                     // [b, s+n, hidden]
	d := src.Shape().Dimensions
	b, rows, hidden := d[0], d[1], d[2]
	L := in.Gather.Shape().Dimensions[1]
	flat := Reshape(src, b*rows, hidden)
	offset := MulScalar(Iota(in.Gather.Graph(), in.Gather.Shape(), 0), float64(rows))
	idx := Reshape(Add(in.Gather, offset), b*L, 1)
	return Reshape(Gather(flat, idx), b, L, hidden)
}

// SetVision sets the batch's vision input: cached image features when x
// is [b, n, hidden], else pixels [b, 3, H, W]. Graph builders that take
// either from the same input slot (training, evaluation, generation) call it.
func (in *Inputs) SetVision(x *Node) {
	if x.Rank() == 3 {
		in.ImageFeat = x
	} else {
		in.Pixels = x
	}
}

// castTo converts x to dt unless dt is zero or x already has it.
func castTo(x *Node, dt dtypes.DType) *Node {
	if dt == dtypes.InvalidDType || x.DType() == dt {
		return x
	}
	return ConvertDType(x, dt)
}

// ForwardHidden runs the whole model up to the decoder's final norm (no
// logits): for losses and scores that need logits at a few positions only.
func ForwardHidden(scope *model.Scope, c Config, in Inputs) qwen2.Output {
	idx := Iota(in.Valid.Graph(), in.Positions.Shape(), 1)
	return qwen2.Decoder(scope, c.Config, qwen2.Input{
		Embeds:    Embeds(scope, c, in),
		Positions: in.Positions,
		Mask:      nn.CausalPaddingMask(idx, idx, in.Valid),
		Hook:      in.Hook,
	})
}

// Forward runs the whole model on a batch and returns the decoder's output
// and the logits [b, L, vocab].
func Forward(scope *model.Scope, c Config, in Inputs) (qwen2.Output, *Node) {
	out := ForwardHidden(scope, c, in)
	return out, qwen2.LMHead(scope, c.Config, out.Final)
}
