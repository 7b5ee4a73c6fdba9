// Package paper runs the experiments of "Representation Fine-Tuning for
// Vision-Language Models" (Table 4, Table 5, Figures 4, 5 and 1) on a
// preset: "demo" (visreft-mini, a small nanoLLaVA-architecture model
// visreft pretrained on synthetic scenes, fine-tuned on synthetic
// CV-Bench-format data: CPU minutes), "paper" (nanoLLaVA and CV-Bench, GPU)
// or "random" (a random-weight model on a small synthetic set: pipeline
// speed only). reproduce/ and the notebooks are thin shells over it.
//
//	s, err := paper.NewSetup("demo", false) // "demo", "paper" or "random"
//	if err != nil {
//		return err
//	}
//	rows, fig, err := s.Methods() // Table 5: base, ReFT, LoRA, full fine-tuning, steering
//	if err != nil {
//		return err
//	}
//	s.MethodsTable(rows).Show()
//	err = fig.Save("plots/methods.svg")
package paper
