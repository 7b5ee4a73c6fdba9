// Package experiment runs the paper's experiments through one call: a
// method (ReFT, LoRA or full fine-tuning) trained on a CV-Bench split and
// evaluated, returning metrics, curves, timings and the trainable share;
// and sweeps over ReFT ranks and layers. Notebooks and reproduce/ call it.
//
//	d := experiment.Data{Train: train, Val: val} // ChatML prompts, letter targets
//	newModel := func() (*llava.Model, error) { return llava.Load(ctx, llava.HubID, llava.LoadOptions{}) }
//	m := experiment.PaperReFT(4, "all") // LoReFT rank 4 on every decoder layer
//	res, err := experiment.Run(ctx, b, newModel, d, m, experiment.Options{})
//	if err != nil {
//		return err
//	}
//	fmt.Printf("%s: %.1f %% validation accuracy, %.4f %% of the parameters trained\n",
//		res.Method, res.ValAccuracy, res.SharePercent)
package experiment
