package qwen2

import (
	"fmt"

	"github.com/visreft/visreft/sdk/nn"
)

// Params lists every weight of a Qwen2 model with its Hugging Face name
// ("model." for the decoder body; lm_head.weight sits outside it, as in
// transformers), from the config alone. Components: "embeddings",
// "layers", "norm", "lm_head".
func Params(c Config) []nn.Param {
	c = c.WithDefaults()
	h, q, kv := c.HiddenSize, c.NumAttentionHeads*c.HeadDim, c.NumKeyValueHeads*c.HeadDim
	p := func(name, comp string, dims ...int) nn.Param {
		return nn.Param{Name: name, Dims: dims, Component: comp}
	}
	ps := []nn.Param{p("model.embed_tokens.weight", "embeddings", c.VocabSize, h)}
	for i := range c.NumHiddenLayers {
		l := fmt.Sprintf("model.layers.%d.", i)
		ps = append(ps,
			p(l+"input_layernorm.weight", "layers", h),
			p(l+"self_attn.q_proj.weight", "layers", q, h),
			p(l+"self_attn.q_proj.bias", "layers", q),
			p(l+"self_attn.k_proj.weight", "layers", kv, h),
			p(l+"self_attn.k_proj.bias", "layers", kv),
			p(l+"self_attn.v_proj.weight", "layers", kv, h),
			p(l+"self_attn.v_proj.bias", "layers", kv),
			p(l+"self_attn.o_proj.weight", "layers", h, q),
			p(l+"post_attention_layernorm.weight", "layers", h),
			p(l+"mlp.gate_proj.weight", "layers", c.IntermediateSize, h),
			p(l+"mlp.up_proj.weight", "layers", c.IntermediateSize, h),
			p(l+"mlp.down_proj.weight", "layers", h, c.IntermediateSize),
		)
	}
	ps = append(ps, p("model.norm.weight", "norm", h))
	if !c.TieWordEmbeddings {
		ps = append(ps, p("lm_head.weight", "lm_head", c.VocabSize, h))
	}
	return ps
}
