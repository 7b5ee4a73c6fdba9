package experiment

import (
	gocontext "context"
	"io"
	"runtime/debug"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/visreft/visreft/sdk/demo"
	"github.com/visreft/visreft/sdk/internal/testutil"
	"github.com/visreft/visreft/sdk/models/llava"
)

// BenchmarkRecomputeMemory measures the process's peak resident memory of
// full fine-tuning steps with and without per-decoder-block recompute, side
// by side in one run, on a nanoLLaVA-architecture model sized so that
// activations matter (8 decoder layers of width 256, 256 image tokens,
// batch 4; the decoder blocks and projector train, the embeddings and LM
// head stay frozen so that optimizer state does not drown the activations):
//
//	go test ./sdk/experiment -run XXX -bench RecomputeMemory -benchtime 1x
//
// It reports peak-MiB-whole, peak-MiB-recompute and their ratio; measured
// 2026-12-01 on 2 cores: 1408 MiB whole, 874 MiB with recompute (1.61x).
func BenchmarkRecomputeMemory(b *testing.B) {
	be := testutil.Backend(b)
	// Collect garbage eagerly so the resident high-water mark follows the
	// live bytes rather than Go's heap growth policy (GOGC 100 lets the
	// heap reach twice the live bytes, which hides what is alive).
	defer debug.SetGCPercent(debug.SetGCPercent(10))
	ds, err := demo.Data()
	if err != nil {
		b.Fatal(err)
	}
	c := llava.Demo()
	c.HiddenSize, c.IntermediateSize, c.NumHiddenLayers = 256, 1024, 8
	c.Vision.ImageSize = 128 // 16x16 patches of 8 pixels: 256 image tokens
	tok, err := demo.Tokenizer()
	if err != nil {
		b.Fatal(err)
	}
	peak := func(recompute bool) float64 {
		m, err := llava.NewRandom(c, 1, tok)
		if err != nil {
			b.Fatal(err)
		}
		method := PaperFull()
		method.FullInclude = []string{"model.layers.", "model.mm_projector."}
		src, err := newSource(m, ds.Examples[:8], Data{}.PromptOptions(), nil, nil)
		if err != nil {
			b.Fatal(err)
		}
		st, _ := method.strategy()
		cfg := method.Train
		cfg.Progress, cfg.MaxSteps, cfg.BatchSize, cfg.Buckets, cfg.Recompute = io.Discard, 2, 4, buckets(src), recompute
		debug.FreeOSMemory()
		ResetPeakRSS()
		tr, err := newTrainer(be, m, nil, dtypes.Float32, st, src, cfg)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := tr.Run(gocontext.Background()); err != nil {
			b.Fatal(err)
		}
		p := float64(PeakRSS()) / (1 << 20)
		for v := range m.Ctx.IterVariables() {
			v.Finalize()
		}
		return p
	}
	for b.Loop() {
		whole := peak(false)
		staged := peak(true)
		b.ReportMetric(whole, "peak-MiB-whole")
		b.ReportMetric(staged, "peak-MiB-recompute")
		b.ReportMetric(whole/staged, "whole/recompute")
	}
}
