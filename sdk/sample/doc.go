// Package sample turns a CV-Bench example into a nanoLLaVA model input: the
// prompt rendered in a template with the image placeholder, tokenized, and
// optionally the answer appended as the loss target. Training data and
// evaluation both build their inputs here, so that data flows cvbench ->
// sample -> llava one way, and evaluation only evaluates.
//
//	o := cvbench.PromptOptions{Format: cvbench.PromptChatML}
//	s, err := sample.Encode(model, x, o, x.Answer) // training: the answer's ids are the loss target
//	if err != nil {
//		return err
//	}
//	p, err := sample.Encode(model, x, o, "") // generation: the prompt alone
//	n := model.Config.Vision.WithDefaults().NumPatches()
//	bt, err := llava.Layout([]llava.Sample{p}, n, 0) // the image's n positions spliced in
package sample
