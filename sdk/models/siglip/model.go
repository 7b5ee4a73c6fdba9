package siglip

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/visreft/visreft/sdk/nn"
)

// Hook edits the residual stream after encoder layer `layer` (its output
// h: [batch, patches, hidden]); vision-side interventions are hooks.
// Returning h unchanged is a no-op.
type Hook func(layer int, h *Node) *Node

// Output holds the encoder's results. HF's hidden_states tuple is
// (Embeddings, Hidden[0], ..., Hidden[LayersKept-1]).
type Output struct {
	Embeddings *Node   // patch + position embeddings, [batch, patches, hidden]
	Hidden     []*Node // Hidden[i]: output of layer i, after any hook, [batch, patches, hidden]
	Last       *Node   // the last kept layer's output, no post_layernorm: nanoLLaVA's image features
}

// Forward runs the embeddings and the kept encoder layers, calling hook
// (if not nil) after each layer, in order.
//
//	pixels: [batch, num_channels, image_size, image_size]
//
// Compute runs in pixels' dtype (weights are converted to it); pass bf16
// pixels for nanoLLaVA's bf16 forward. post_layernorm is not applied: see
// PostLayerNorm. An invalid config panics with Validate's error.
func Forward(scope *model.Scope, c Config, pixels *Node, hook Hook) Output {
	if err := c.Validate(); err != nil {
		panic(err)
	}
	c = c.WithDefaults()
	h := Embeddings(scope, c, pixels)
	out := Output{Embeddings: h}
	layers := under(scope, c.Prefix).At("encoder").At("layers")
	for i := range c.LayersKept {
		h = encoderLayer(layers.At("%s", strconv.Itoa(i)), c, h)
		if hook != nil {
			h = hook(i, h)
		}
		out.Hidden = append(out.Hidden, h)
	}
	out.Last = h
	return out
}

// Embeddings is SiglipVisionEmbeddings: the stride-patch convolution
// (nn.PatchEmbedding) plus the learned position embedding of each patch.
// Like Forward, it finds its weights under c.Prefix in scope.
//
//	pixels: [batch, num_channels, image_size, image_size] -> [batch, patches, hidden]
func Embeddings(scope *model.Scope, c Config, pixels *Node) *Node {
	c = c.WithDefaults()
	d := pixels.Shape().Dimensions
	if len(d) != 4 || !slices.Equal(d[1:], []int{c.NumChannels, c.ImageSize, c.ImageSize}) {
		panic(fmt.Sprintf("siglip: pixel values must be [batch, %d, %d, %d], got %s",
			c.NumChannels, c.ImageSize, c.ImageSize, pixels.Shape()))
	}
	emb := under(scope, c.Prefix).At("embeddings")
	x := nn.PatchEmbedding(emb.At("patch_embedding"), pixels, c.HiddenSize, c.PatchSize)
	pos := nn.Weight(emb.At("position_embedding"), pixels.Graph(), "weight", pixels.DType(), c.NumPatches(), c.HiddenSize)
	return Add(x, ExpandLeftToRank(pos, 3))
}

// PostLayerNorm applies the vision model's post_layernorm to h: [...,
// hidden], as SiglipVisionModel's last_hidden_state does. nanoLLaVA does not
// use it.
func PostLayerNorm(scope *model.Scope, c Config, h *Node) *Node {
	c = c.WithDefaults()
	return nn.LayerNorm(under(scope, c.Prefix).At("post_layernorm"), h, c.LayerNormEps)
}

// encoderLayer is SiglipEncoderLayer: pre-LayerNorm attention and
// pre-LayerNorm MLP, each added to the residual stream.
func encoderLayer(scope *model.Scope, c Config, x *Node) *Node {
	a := nn.LayerNorm(scope.At("layer_norm1"), x, c.LayerNormEps)
	x = Add(x, attention(scope.At("self_attn"), c, a))
	m := nn.LayerNorm(scope.At("layer_norm2"), x, c.LayerNormEps)
	return Add(x, mlp(scope.At("mlp"), c, m))
}

// attention is SiglipAttention: every patch attends to every patch (no
// mask), q/k/v/out projections with bias. x: [b, s, hidden] -> [b, s, hidden].
func attention(scope *model.Scope, c Config, x *Node) *Node {
	d := x.Shape().Dimensions
	b, s, n := d[0], d[1], c.NumAttentionHeads
	heads := func(name string) *Node { // [b, s, hidden] -> [b, n, s, headDim]
		t := nn.Linear(scope.At("%s", name), x, c.HiddenSize, true)
		return TransposeAllAxes(Reshape(t, b, s, n, c.HeadDim()), 0, 2, 1, 3)
	}
	o := nn.Attention(heads("q_proj"), heads("k_proj"), heads("v_proj"), nil) // [b, n, s, headDim]
	o = Reshape(TransposeAllAxes(o, 0, 2, 1, 3), b, s, c.HiddenSize)
	return nn.Linear(scope.At("out_proj"), o, c.HiddenSize, true)
}

// mlp is SiglipMLP: fc1, the hidden_act, fc2.
func mlp(scope *model.Scope, c Config, x *Node) *Node {
	h := activation(c.HiddenAct)(nn.Linear(scope.At("fc1"), x, c.IntermediateSize, true))
	return nn.Linear(scope.At("fc2"), h, c.HiddenSize, true)
}

// activation maps a transformers hidden_act name to its function, nil if
// unsupported.
func activation(name string) func(*Node) *Node {
	switch name {
	case "gelu_pytorch_tanh", "gelu_new":
		return nn.GELUTanh
	case "gelu":
		return nn.GELU
	}
	return nil
}

// under moves scope down the dotted prefix ("a.b." -> scope.At("a").At("b")).
func under(scope *model.Scope, prefix string) *model.Scope {
	for _, part := range strings.Split(prefix, ".") {
		if part != "" {
			scope = scope.At("%s", part)
		}
	}
	return scope
}
