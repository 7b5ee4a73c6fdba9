// Package llava composes nanoLLaVA (qnguyen3/nanoLLaVA, "llava-qwen2"): a
// SigLIP vision tower whose last layer is dropped, the mlp2x_gelu projector,
// and a Qwen2 decoder, with the image's 729 projected patch embeddings
// spliced in at the image placeholder. It is the base model visreft
// fine-tunes: it loads the checkpoint, answers questions about images, and
// builds the graphs that training, evaluation and generation run, with a
// Steer (such as ReFT's interventions) hooked in.
//
//	m, err := llava.Load(ctx, llava.HubID, llava.LoadOptions{Download: true})
//	if err != nil {
//		return err
//	}
//	q := "Which object is closer to the camera? (A) the lamp (B) the sofa"
//	answer, err := m.Answer(b, img, q, 8) // greedy, at most 8 new tokens
package llava
