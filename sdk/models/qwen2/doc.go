// Package qwen2 is the Qwen2-family text decoder (Qwen1.5, Qwen2, Qwen2.5):
// RMSNorm, rotary positions, attention with q/k/v bias and grouped kv heads,
// a SwiGLU MLP, and a tied or untied lm_head. It serves nanoLLaVA's
// language model and works text-only.
//
//	c := qwen2.NanoLLaVA()
//	e := model.MustNewExec(b, scope.Store(), func(scope *model.Scope, ids, pos, idx, valid *graph.Node) *graph.Node {
//		in := qwen2.Input{Embeds: qwen2.Embed(scope, c, ids, dtypes.Float32), Positions: pos,
//			Mask: nn.CausalPaddingMask(idx, idx, valid)}
//		return qwen2.LMHead(scope, c, qwen2.Decoder(scope, c, in).Final) // [batch, seq, vocab]
//	})
//	logits, err := e.Exec(ids, qwen2.PositionIDs(valid), seqIdx, valid)
package qwen2
