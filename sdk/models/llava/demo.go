package llava

import (
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/visreft/visreft/sdk/models/qwen2"
	"github.com/visreft/visreft/sdk/models/siglip"
	"github.com/visreft/visreft/sdk/nn"
	"github.com/visreft/visreft/sdk/tokenizer"
)

// Demo is a small nanoLLaVA-architecture config for CPU demos and tests:
// Qwen2's real vocabulary (so the real tokenizer works), a 64-wide 2-layer
// decoder, and a 2-layer SigLIP on 32x32 images of 8x8 patches (16 image
// tokens). With random weights it is an architecture, not a model: every
// result made with it says so.
func Demo() Config {
	v := siglip.Config{HiddenSize: 48, IntermediateSize: 96, NumHiddenLayers: 3, NumAttentionHeads: 4,
		NumChannels: 3, ImageSize: 32, PatchSize: 8, HiddenAct: "gelu_pytorch_tanh", LayerNormEps: 1e-6,
		LayersKept: 2, Prefix: siglip.PrefixNanoLLaVA}
	t := qwen2.NanoLLaVA()
	t.HiddenSize, t.IntermediateSize, t.NumHiddenLayers = 64, 128, 2
	t.NumAttentionHeads, t.NumKeyValueHeads = 4, 2
	return Config{Config: t, MMHiddenSize: v.HiddenSize, MMProjectorType: "mlp2x_gelu",
		MMVisionTower: "visreft-demo-random", Vision: v}
}

// NewRandom builds a model of config c with deterministic random weights
// (frozen, as a loaded checkpoint is) and the given tokenizer.
func NewRandom(c Config, seed uint64, tok *tokenizer.Tokenizer) (*Model, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	scope := model.NewStore().RootScope()
	if err := nn.InitRandom(scope, Params(c), seed, 0.05, dtypes.Float32); err != nil {
		return nil, err
	}
	for v := range scope.IterVariables() {
		v.SetTrainable(false)
	}
	img := NanoLLaVAImages()
	img.Size = c.Vision.WithDefaults().ImageSize
	return &Model{Config: c, Ctx: scope, Tokenizer: tok, Images: img}, nil
}
