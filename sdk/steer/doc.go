// Package steer is training-free steering: vectors read off a model's
// activations and added back, beside ReFT, LoRA and full fine-tuning.
//
//	pairs, err := steer.Capture(b, model, train, prompt, []int{3, 4, 5}, steer.CaptureOptions{})
//	if err != nil {
//		return err
//	}
//	vecs, err := steer.Build(pairs, steer.MeanDiff)
//	st, err := steer.New(vecs, 4, steer.Scales{Text: 2, Image: 0})
//	opt := eval.Options{Mode: eval.Generate, Prompt: prompt, Steer: st}
//	res, err := eval.Evaluate(b, model, val, opt)
//
// Capture runs the base model over a split's questions twice, once with
// the right answer appended and once with a wrong one, and reads the
// decoder's block outputs at the last answer token (contrastive
// activation addition's reading). Build turns the paired activations into
// one vector per layer: the difference of the two classes' means
// (MeanDifference) or the first principal component of the paired
// differences, scaled to their mean projection (FirstComponent). A Steerer
// adds a vector at one layer with separate scales on the image tokens and
// on the text tokens, in the prompt (prefill, and every position a
// likelihood evaluation scores) and optionally on every generated token;
// it is a llava.Steer, so sdk/eval evaluates it as it evaluates ReFT.
// Vectors save to and load from safetensors (Save, Load; the layout is
// documented at Save), a plain per-layer tensor file other tools read.
package steer
