package qwen2

import (
	"strconv"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
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
func Embed(scope *model.Scope, c Config, ids *Node, dtype dtypes.DType) *Node {
	c = c.WithDefaults()
	w := nn.Weight(scope.At("model").At("embed_tokens"), ids.Graph(), "weight", dtype, c.VocabSize, c.HiddenSize)
	return Gather(w, InsertAxes(ids, -1))
}

// Decoder runs the blocks and the final norm.
func Decoder(scope *model.Scope, c Config, in Input) Output {
	c = c.WithDefaults()
	cos, sin := nn.RoPECosSin(in.Positions, c.HeadDim, c.RopeTheta)
	h := in.Embeds
	var out Output
	layers := scope.At("model").At("layers")
	for i := range c.NumHiddenLayers {
		var lc *LayerCache
		if in.Cache != nil {
			lc = &in.Cache.Layers[i]
		}
		h = Block(layers.At("%s", strconv.Itoa(i)), c, h, cos, sin, in.Mask, lc)
		if in.Hook != nil {
			h = in.Hook(i, h)
		}
		out.Hidden = append(out.Hidden, h)
	}
	out.Final = nn.RMSNorm(scope.At("model").At("norm"), h, c.RMSNormEps)
	return out
}

// LMHead maps hidden states [..., hidden] to logits [..., vocab], through
// lm_head or, with tied embeddings, embed_tokens.
func LMHead(scope *model.Scope, c Config, h *Node) *Node {
	c = c.WithDefaults()
	head := scope.At("lm_head")
	if c.TieWordEmbeddings {
		head = scope.At("model").At("embed_tokens")
	}
	w := nn.Weight(head, h.Graph(), "weight", h.DType(), c.VocabSize, c.HiddenSize)
	return DotGeneral(h, []int{h.Rank() - 1}, nil, w, []int{1}, nil)
}

// Block is Qwen2DecoderLayer: pre-norm attention and pre-norm SwiGLU MLP,
// each added to the residual stream. scope is the layer's scope
// (model.layers.N); cos, sin come from nn.RoPECosSin; lc is nil without a
// cache. Exported for per-block recompute (sdk/train's staged trainer).
func Block(scope *model.Scope, c Config, x, cos, sin, mask *Node, lc *LayerCache) *Node {
	a := nn.RMSNorm(scope.At("input_layernorm"), x, c.RMSNormEps)
	x = Add(x, attention(scope.At("self_attn"), c, a, cos, sin, mask, lc))
	m := nn.RMSNorm(scope.At("post_attention_layernorm"), x, c.RMSNormEps)
	return Add(x, mlp(scope.At("mlp"), c, m))
}

func mlp(scope *model.Scope, c Config, x *Node) *Node {
	gate := nn.SiLU(nn.Linear(scope.At("gate_proj"), x, c.IntermediateSize, false))
	up := nn.Linear(scope.At("up_proj"), x, c.IntermediateSize, false)
	return nn.Linear(scope.At("down_proj"), Mul(gate, up), c.HiddenSize, false)
}

// attention: x [b, s, hidden] -> [b, s, hidden]. With a cache, the new keys
// and values are written into it and attention runs over the whole cache.
func attention(scope *model.Scope, c Config, x, cos, sin, mask *Node, lc *LayerCache) *Node {
	d := x.Shape().Dimensions
	b, s := d[0], d[1]
	heads := func(t *Node, n int) *Node { // [b, s, n*hd] -> [b, n, s, hd]
		return TransposeAllAxes(Reshape(t, b, s, n, c.HeadDim), 0, 2, 1, 3)
	}
	q := heads(nn.Linear(scope.At("q_proj"), x, c.NumAttentionHeads*c.HeadDim, true), c.NumAttentionHeads)
	k := heads(nn.Linear(scope.At("k_proj"), x, c.NumKeyValueHeads*c.HeadDim, true), c.NumKeyValueHeads)
	v := heads(nn.Linear(scope.At("v_proj"), x, c.NumKeyValueHeads*c.HeadDim, true), c.NumKeyValueHeads)
	q, k = nn.ApplyRoPE(q, cos, sin), nn.ApplyRoPE(k, cos, sin)
	if lc != nil {
		k, v = lc.write(k, v)
	}
	o := nn.Attention(q, k, v, mask)                                                  // [b, heads, s, hd]
	o = Reshape(TransposeAllAxes(o, 0, 2, 1, 3), b, s, c.NumAttentionHeads*c.HeadDim) // [b, s, heads*hd]
	return nn.Linear(scope.At("o_proj"), o, c.HiddenSize, false)
}
