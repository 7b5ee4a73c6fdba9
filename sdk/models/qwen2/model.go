package qwen2

import (
	"strconv"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/visreft/visreft/sdk/nn"
)

// Hook edits the residual stream after decoder block layer (its output
// hidden state h: [batch, seq, hidden]); ReFT interventions are hooks.
// Returning h unchanged is a no-op.
type Hook func(layer int, h *Node) *Node

// Input is one forward pass's input.
type Input struct {
	Embeds    *Node // [batch, seq, hidden], from Embed or spliced with image features
	Positions *Node // [batch, seq] int32 rotary positions (left padding shifts them)
	Mask      *Node // [batch, seq, keys] bool: which keys each query sees (see nn.CausalPaddingMask)
	Cache     *Cache
	Hook      Hook
}

// Output holds the decoder's results.
type Output struct {
	Hidden []*Node // Hidden[i]: output of block i, [batch, seq, hidden] (after any hook)
	Final  *Node   // model.norm applied to the last block's output
}

// Embed looks token ids: [batch, seq] up in embed_tokens and returns
// [batch, seq, hidden] in dtype.
func Embed(ctx *context.Context, c Config, ids *Node, dtype dtypes.DType) *Node {
	c = c.WithDefaults()
	w := nn.Weight(ctx.In("model").In("embed_tokens"), ids.Graph(), "weight", dtype, c.VocabSize, c.HiddenSize)
	return Gather(w, InsertAxes(ids, -1))
}

// Decoder runs the blocks and the final norm.
func Decoder(ctx *context.Context, c Config, in Input) Output {
	c = c.WithDefaults()
	cos, sin := nn.RoPECosSin(in.Positions, c.HeadDim, c.RopeTheta)
	h := in.Embeds
	var out Output
	layers := ctx.In("model").In("layers")
	for i := range c.NumHiddenLayers {
		var lc *LayerCache
		if in.Cache != nil {
			lc = &in.Cache.Layers[i]
		}
		h = Block(layers.In(strconv.Itoa(i)), c, h, cos, sin, in.Mask, lc)
		if in.Hook != nil {
			h = in.Hook(i, h)
		}
		out.Hidden = append(out.Hidden, h)
	}
	out.Final = nn.RMSNorm(ctx.In("model").In("norm"), h, c.RMSNormEps)
	return out
}

// LMHead maps hidden states [..., hidden] to logits [..., vocab], through
// lm_head or, with tied embeddings, embed_tokens.
func LMHead(ctx *context.Context, c Config, h *Node) *Node {
	c = c.WithDefaults()
	scope := ctx.In("lm_head")
	if c.TieWordEmbeddings {
		scope = ctx.In("model").In("embed_tokens")
	}
	w := nn.Weight(scope, h.Graph(), "weight", h.DType(), c.VocabSize, c.HiddenSize)
	return DotGeneral(h, []int{h.Rank() - 1}, nil, w, []int{1}, nil)
}

// Block is Qwen2DecoderLayer: pre-norm attention and pre-norm SwiGLU MLP,
// each added to the residual stream. ctx is the layer's scope
// (model.layers.N); cos, sin come from nn.RoPECosSin; lc is nil without a
// cache. Exported for per-block recompute (sdk/train's staged trainer).
func Block(ctx *context.Context, c Config, x, cos, sin, mask *Node, lc *LayerCache) *Node {
	a := nn.RMSNorm(ctx.In("input_layernorm"), x, c.RMSNormEps)
	x = Add(x, attention(ctx.In("self_attn"), c, a, cos, sin, mask, lc))
	m := nn.RMSNorm(ctx.In("post_attention_layernorm"), x, c.RMSNormEps)
	return Add(x, mlp(ctx.In("mlp"), c, m))
}

func mlp(ctx *context.Context, c Config, x *Node) *Node {
	gate := nn.SiLU(nn.Linear(ctx.In("gate_proj"), x, c.IntermediateSize, false))
	up := nn.Linear(ctx.In("up_proj"), x, c.IntermediateSize, false)
	return nn.Linear(ctx.In("down_proj"), Mul(gate, up), c.HiddenSize, false)
}

// attention: x [b, s, hidden] -> [b, s, hidden]. With a cache, the new keys
// and values are written into it and attention runs over the whole cache.
func attention(ctx *context.Context, c Config, x, cos, sin, mask *Node, lc *LayerCache) *Node {
	d := x.Shape().Dimensions
	b, s := d[0], d[1]
	heads := func(t *Node, n int) *Node { // [b, s, n*hd] -> [b, n, s, hd]
		return TransposeAllAxes(Reshape(t, b, s, n, c.HeadDim), 0, 2, 1, 3)
	}
	q := heads(nn.Linear(ctx.In("q_proj"), x, c.NumAttentionHeads*c.HeadDim, true), c.NumAttentionHeads)
	k := heads(nn.Linear(ctx.In("k_proj"), x, c.NumKeyValueHeads*c.HeadDim, true), c.NumKeyValueHeads)
	v := heads(nn.Linear(ctx.In("v_proj"), x, c.NumKeyValueHeads*c.HeadDim, true), c.NumKeyValueHeads)
	q, k = nn.ApplyRoPE(q, cos, sin), nn.ApplyRoPE(k, cos, sin)
	if lc != nil {
		k, v = lc.write(k, v)
	}
	o := nn.Attention(q, k, v, mask)                                                  // [b, heads, s, hd]
	o = Reshape(TransposeAllAxes(o, 0, 2, 1, 3), b, s, c.NumAttentionHeads*c.HeadDim) // [b, s, heads*hd]
	return nn.Linear(ctx.In("o_proj"), o, c.HiddenSize, false)
}
