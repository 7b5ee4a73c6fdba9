package siglip

import (
	"strings"

	"github.com/visreft/visreft/sdk/hfconfig"
)

// Config mirrors the fields of a SigLIP vision_config that the encoder
// uses; zero fields take transformers' SiglipVisionConfig defaults (see
// WithDefaults). Prefix and LayersKept are not in config.json: they say
// where the tower's tensors live in a checkpoint and how many layers the
// checkpoint kept.
type Config struct {
	HiddenSize        int     `json:"hidden_size"`         // 0: 768
	IntermediateSize  int     `json:"intermediate_size"`   // 0: 3072
	NumHiddenLayers   int     `json:"num_hidden_layers"`   // 0: 12
	NumAttentionHeads int     `json:"num_attention_heads"` // 0: 12
	NumChannels       int     `json:"num_channels"`        // 0: 3
	ImageSize         int     `json:"image_size"`          // 0: 224
	PatchSize         int     `json:"patch_size"`          // 0: 16
	HiddenAct         string  `json:"hidden_act"`          // "": gelu_pytorch_tanh
	LayerNormEps      float64 `json:"layer_norm_eps"`      // 0: 1e-6

	// LayersKept is how many encoder layers exist and run, the first ones;
	// 0 means all NumHiddenLayers. nanoLLaVA deletes the last layer of
	// so400m (`del encoder.layers[-1:]`), keeping 26 of 27.
	LayersKept int `json:"-"`
	// Prefix is prepended to every tensor name, dot included:
	// "vision_model." in a plain SigLIP checkpoint,
	// "model.vision_tower.vision_tower.vision_model." in nanoLLaVA's. Empty
	// means the context passed to Forward is already at the vision model.
	Prefix string `json:"-"`
}

// PrefixNanoLLaVA is where nanoLLaVA's checkpoint keeps the vision tower.
const PrefixNanoLLaVA = "model.vision_tower.vision_tower.vision_model."

// So400m is google/siglip-so400m-patch14-384's vision model as published:
// all 27 layers, tensors under "vision_model.".
func So400m() Config {
	return Config{HiddenSize: 1152, IntermediateSize: 4304, NumHiddenLayers: 27, NumAttentionHeads: 16,
		NumChannels: 3, ImageSize: 384, PatchSize: 14, HiddenAct: "gelu_pytorch_tanh", LayerNormEps: 1e-6,
		Prefix: "vision_model."}
}

// NanoLLaVA is so400m as qnguyen3/nanoLLaVA holds it: the last layer
// deleted (26 kept) and tensors under PrefixNanoLLaVA.
func NanoLLaVA() Config {
	c := So400m()
	c.LayersKept = 26
	c.Prefix = PrefixNanoLLaVA
	return c
}

// WithDefaults fills zero fields with transformers' SiglipVisionConfig
// defaults and LayersKept with NumHiddenLayers.
func (c Config) WithDefaults() Config {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&c.HiddenSize, 768)
	def(&c.IntermediateSize, 3072)
	def(&c.NumHiddenLayers, 12)
	def(&c.NumAttentionHeads, 12)
	def(&c.NumChannels, 3)
	def(&c.ImageSize, 224)
	def(&c.PatchSize, 16)
	def(&c.LayersKept, c.NumHiddenLayers)
	if c.HiddenAct == "" {
		c.HiddenAct = "gelu_pytorch_tanh"
	}
	if c.LayerNormEps == 0 {
		c.LayerNormEps = 1e-6
	}
	return c
}

// Grid is the number of patches along each side: image_size / patch_size,
// rounded down as the stride-patch convolution does (384/14 -> 27).
func (c Config) Grid() int {
	c = c.WithDefaults()
	return c.ImageSize / c.PatchSize
}

// NumPatches is the number of image tokens: Grid², 729 for so400m.
func (c Config) NumPatches() int { return c.Grid() * c.Grid() }

// HeadDim is hidden_size / num_attention_heads.
func (c Config) HeadDim() int {
	c = c.WithDefaults()
	return c.HiddenSize / c.NumAttentionHeads
}

// Validate reports every inconsistency at once, naming the config fields.
func (c Config) Validate() error {
	c = c.WithDefaults()
	var errs hfconfig.Problems
	errs.Positive("hidden_size", c.HiddenSize)
	errs.Positive("intermediate_size", c.IntermediateSize)
	errs.Positive("num_hidden_layers", c.NumHiddenLayers)
	errs.Positive("num_attention_heads", c.NumAttentionHeads)
	errs.Positive("num_channels", c.NumChannels)
	errs.Positive("image_size", c.ImageSize)
	errs.Positive("patch_size", c.PatchSize)
	if c.HiddenSize > 0 && c.NumAttentionHeads > 0 && c.HiddenSize%c.NumAttentionHeads != 0 {
		errs.Addf("hidden_size (%d) must be a multiple of num_attention_heads (%d)",
			c.HiddenSize, c.NumAttentionHeads)
	}
	if c.PatchSize > 0 && c.ImageSize > 0 && c.ImageSize < c.PatchSize {
		errs.Addf("image_size (%d) must be at least patch_size (%d)", c.ImageSize, c.PatchSize)
	}
	if c.LayersKept < 1 || c.LayersKept > c.NumHiddenLayers {
		errs.Addf("LayersKept (%d) must be between 1 and num_hidden_layers (%d)",
			c.LayersKept, c.NumHiddenLayers)
	}
	if activation(c.HiddenAct) == nil {
		errs.Addf("hidden_act %q is not supported (gelu_pytorch_tanh, gelu_new, gelu)", c.HiddenAct)
	}
	if c.LayerNormEps < 0 {
		errs.Addf("layer_norm_eps must be >= 0, got %g", c.LayerNormEps)
	}
	if c.Prefix != "" && !strings.HasSuffix(c.Prefix, ".") {
		errs.Addf("Prefix %q must end with a dot", c.Prefix)
	}
	return errs.Err("siglip config")
}
