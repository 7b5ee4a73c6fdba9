// Package mini is visreft-mini: a small model of nanoLLaVA's architecture
// (SigLIP-style tower, mlp2x_gelu projector, Qwen2 decoder) that visreft
// pretrains itself on synthetic scenes, so that fine-tuning demos have a
// model that sees something to steer, as nanoGPT gives text experiments a
// small model that really works.
//
//	rep, err := mini.Pretrain(ctx, mini.Options{Out: "visreft-mini", Spec: mini.Default(), Seed: 1})
//	if err != nil {
//		return err
//	}
//	fmt.Println(rep.Steps, "steps,", rep.Params, "parameters")
//	m, err := mini.Load("visreft-mini") // a *llava.Model, as llava.Load returns
//
// The pieces: a vocabulary cut out of Qwen2's byte-level BPE (BuildTokenizer:
// the 256 byte tokens, the merges the synthetic corpus needs, the chat
// markers; any text still encodes); the pretraining mixture (Mixture:
// scenes from sdk/cvbench's generator with free-form questions, answers and
// descriptions, never CV-Bench's multiple-choice format, which is held out
// for fine-tuning); the model sizes (Spec); the recipe (Pretrain: seeded,
// resumable, with a progress bar), which writes a folder that llava.Load
// reads by Hugging Face names, with a model card.
package mini
