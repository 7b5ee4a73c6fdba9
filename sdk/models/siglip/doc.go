// Package siglip is the SigLIP vision encoder (transformers'
// SiglipVisionModel without its pooling head): a stride-patch convolution
// as patch embedding, learned position embeddings, and pre-LayerNorm
// encoder layers with biased multi-head attention and a GELU MLP. It serves
// nanoLLaVA's vision tower, google/siglip-so400m-patch14-384 with its last
// layer deleted, whose raw last-layer output (no post_layernorm) is the
// image feature map.
//
//	c := siglip.NanoLLaVA()
//	out := siglip.Forward(scope, c, pixels, nil) // pixels [batch, 3, 384, 384]
//	features := out.Last                          // [batch, 729, 1152]
package siglip
