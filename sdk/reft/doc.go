// Package reft is representation fine-tuning, the method visreft studies on
// nanoLLaVA: the pyreft intervention family as typed values, the sites they
// sit on, their application inside a GoMLX graph through model hooks, and
// their files.
//
//	set, err := reft.NewSet(reft.NanoLLaVA(), reft.Spec{
//		Type: reft.LoReFT, Rank: 4, Layers: "all", Positions: "sme", ShareWeights: true})
//	if err != nil {
//		return err
//	}
//	err = reft.Init(scope.At("reft"), set, reft.InitOptions{Seed: 1})
//	loc, err := set.Locate(text, seqLen) // on the host; text[i]: example i's prompt token indices
//
//	// In the graph, with loc.Index and loc.Valid fed as pos:
//	hook := set.Hook(scope.At("reft"), pos, reft.HookOptions{})
//	out := qwen2.Decoder(scope, c, qwen2.Input{Embeds: x, Positions: rope, Mask: mask, Hook: hook})
//
//	// After training:
//	err = reft.Save(dir, b, scope.At("reft"), set)
//
// # Interventions (d = hidden size, r = rank, h one position's state)
//
//	LoReFT    h + Rᵀ(act(Wh + b) − Rh)     R orthonormal rows   2dr + r params
//	NoReFT    h + W2ᵀ(act(W1h + b) − W2h)                       2dr + r (+ r with AddBias)
//	ConsReFT  h + Rᵀ(b − Rh)               R orthonormal rows   dr + r
//	LoBiReFT  h + Rᵀb                      R orthonormal rows   dr + r
//	DiReFT    h + Rᵀ act(Wh + b)           R orthonormal rows   2dr + r
//	NodiReFT  h + W2ᵀ act(W1h + b)                              2dr + r
//
// W, W1, W2 are r×d (torch.nn.Linear's [out, in] layout), b is [r]. R is
// computed from r Householder vectors (see Householder), so it stays
// orthonormal through any optimiser step; R, the formula and every
// intervention variable are float32 whatever the model's dtype: h is
// converted to float32 at the edited positions and back.
//
// # Sites and positions
//
// A Spec places one type and rank on layers ("all", "15-23", "2;10;18",
// "-1", "0-3;20") of a component (block_output, vision_block_output,
// projector_output) at prompt positions ("f3+l3", "f1", "l5", or "sme":
// start, middle and end of the prompt, the paper's setting), with weights
// shared by the positions (one intervention per layer, the paper's
// setting) or untied (one per position group). NewSet resolves specs into
// Interventions. Set.Locate resolves positions on the host, per example,
// from the indices of the prompt's text tokens in the final (image-spliced,
// left-padded) sequence, and rejects overlapping interventions.
//
// # In the graph
//
// Set.Hook returns a func(layer int, h *Node) *Node for qwen2.Input.Hook
// (or any model that hooks a [batch, seq, d] stream): it gathers the
// selected positions, intervenes on [batch, P, d] and writes them back;
// other positions pass through untouched. Decode-step graphs use the same
// hook with HookOptions.Decode (prefill only by default, or every
// generated token). Interchange is the paper's distributed interchange
// intervention on a learned subspace.
//
// # Files
//
// Save writes reft.safetensors (names "reft.layer.{l}.{group}.{tensor}",
// the raw Householder vectors and the resulting Rᵀ as "rotate_layer") and
// reft_config.json (everything NewSet needs, the base model and sizes);
// Load checks them against a model. ExportPyreft writes pyreft's state
// dicts under pyvene's keys; PYREFT.md shows how pyreft loads them.
package reft
