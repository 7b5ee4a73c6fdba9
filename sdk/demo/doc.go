// Package demo assembles the small presets: visreft-mini (a
// nanoLLaVA-architecture model visreft pretrained on synthetic scenes,
// shipped in testdata/models/visreft-mini) for the "demo" preset, a
// random-weight one (llava.Demo with the real Qwen2 tokenizer shipped in
// testdata/) for "random", and synthetic CV-Bench-format data, so that
// every notebook and reproduce/ experiment runs in minutes on a CPU.
//
//	m, err := demo.MiniModel() // visreft-mini, from testdata/models/visreft-mini
//	if err != nil {
//		return err
//	}
//	ds, err := demo.Data() // 160 synthetic CV-Bench-format rows, generated on first use
//	if err != nil {
//		return err
//	}
//	b, _, err := backend.New()
//	x := ds.Examples[0]
//	img, err := x.Image()
//	answer, err := m.Answer(b, img, x.Prompt, 8)
//
// Everything made from them says "synthetic data" (and "random weights").
package demo
