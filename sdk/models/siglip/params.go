package siglip

import (
	"fmt"

	"github.com/visreft/visreft/sdk/nn"
)

// Components of the vision tower's params, for parameter counts.
const (
	// ComponentEmbeddings: the patch convolution and position embeddings.
	ComponentEmbeddings = "vision_embeddings"
	// ComponentLayers: the kept encoder layers.
	ComponentLayers = "vision_layers"
	// ComponentUnused: post_layernorm. Checkpoints hold it (nanoLLaVA's
	// too, since it replaces only the head) and it counts in the model's
	// size, but nanoLLaVA reads the last layer's raw output, so Forward
	// never uses it; PostLayerNorm does, for plain SigLIP users.
	ComponentUnused = "vision_unused"
)

// Params lists every weight of the vision tower with its Hugging Face name
// (c.Prefix + "embeddings.…", "encoder.layers.N.…", "post_layernorm.…"), in
// transformers' state-dict order, from the config alone. Only the kept
// layers are listed. The pooling head is not: nanoLLaVA replaces it by an
// identity, and this package never computes it.
func Params(c Config) []nn.Param {
	c = c.WithDefaults()
	h, pre := c.HiddenSize, c.Prefix
	p := func(name, comp string, dims ...int) nn.Param {
		return nn.Param{Name: pre + name, Dims: dims, Component: comp}
	}
	ps := []nn.Param{
		p("embeddings.patch_embedding.weight", ComponentEmbeddings, h, c.NumChannels, c.PatchSize, c.PatchSize),
		p("embeddings.patch_embedding.bias", ComponentEmbeddings, h),
		p("embeddings.position_embedding.weight", ComponentEmbeddings, c.NumPatches(), h),
	}
	for i := range c.LayersKept {
		l := fmt.Sprintf("encoder.layers.%d.", i)
		for _, proj := range []string{"k_proj", "v_proj", "q_proj", "out_proj"} {
			ps = append(ps,
				p(l+"self_attn."+proj+".weight", ComponentLayers, h, h),
				p(l+"self_attn."+proj+".bias", ComponentLayers, h))
		}
		ps = append(ps,
			p(l+"layer_norm1.weight", ComponentLayers, h),
			p(l+"layer_norm1.bias", ComponentLayers, h),
			p(l+"mlp.fc1.weight", ComponentLayers, c.IntermediateSize, h),
			p(l+"mlp.fc1.bias", ComponentLayers, c.IntermediateSize),
			p(l+"mlp.fc2.weight", ComponentLayers, h, c.IntermediateSize),
			p(l+"mlp.fc2.bias", ComponentLayers, h),
			p(l+"layer_norm2.weight", ComponentLayers, h),
			p(l+"layer_norm2.bias", ComponentLayers, h),
		)
	}
	return append(ps,
		p("post_layernorm.weight", ComponentUnused, h),
		p("post_layernorm.bias", ComponentUnused, h))
}
