// Package nn holds the building blocks of visreft's models: Linear in the
// Hugging Face [out, in] layout, RMSNorm, LayerNorm, rotary embeddings,
// activations and attention. Each block reads its weights from a GoMLX
// context scope whose path is the Hugging Face tensor name, so
// scope.At("model").At("layers").At("3").At("self_attn").At("q_proj") holds
// "weight" = model.layers.3.self_attn.q_proj.weight, and loading a
// checkpoint is a name split.
//
//	c := qwen2.NanoLLaVA()
//	ck, err := safetensors.OpenDir(dir)
//	if err != nil {
//		return err
//	}
//	defer ck.Close()
//	scope := model.NewStore().RootScope()
//	err = nn.Bind(scope, ck, qwen2.Params(c), nn.BindOptions{Frozen: true})
//
//	// In a graph builder, x [batch, seq, 1024]:
//	up := scope.At("model").At("layers").At("0").At("mlp").At("up_proj")
//	y := nn.Linear(up, x, c.IntermediateSize, false) // reads model.layers.0.mlp.up_proj.weight
//
// Weights keep their stored dtype (bf16 for nanoLLaVA); each block converts
// them to the dtype of its input, so compute runs in whatever dtype the
// activations carry. Normalisations and softmax compute in float32 as
// transformers does. Graph builders panic on bad shapes (GoMLX convention).
package nn
