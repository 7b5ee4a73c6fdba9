// Package nbkit is what visreft's notebooks call, so that a cell reads like
// the paper's method section: the preset's setup with its progress drawn
// in place (one live element in GoNB, the terminal bar elsewhere),
// training with a live loss curve, evaluation beside the base model,
// interventions built by hand and shown on a real prompt, and a run saved,
// reloaded bit for bit and exported for pyreft. It builds on sdk/paper and
// sdk/experiment only through their exported API; every function returns
// an error for the cell to check (with github.com/janpfeifer/must).
//
//	s := must.M1(nbkit.NewSetup()) // the preset VISREFT_PRESET names, "demo" by default
//	run := must.M1(nbkit.Train(s, "LoReFT r4, all layers", experiment.PaperReFT(4, "all")))
//	fmt.Println(run.Summary())
//	must.M(run.Save(s, dir))
//	base := must.M1(nbkit.Evaluate(s, "base model", nil, nil))
//	must.M(nbkit.Compare(s, base, must.M1(nbkit.ReadRun(dir)).Scores))
package nbkit
