package experiment

import (
	gocontext "context"
	"io"
	"slices"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/visreft/visreft/sdk/cvbench"
	"github.com/visreft/visreft/sdk/demo"
	"github.com/visreft/visreft/sdk/internal/testutil"
	"github.com/visreft/visreft/sdk/models/llava"
	"github.com/visreft/visreft/sdk/train"
)

// featureBenchConfig is nanoLLaVA scaled down with its proportions kept
// where they set the feature cache's gain: as many image tokens as the
// tower has patches (256 here, 729 there), a tower as wide as the decoder
// and as deep (6 layers each; 26 and 24 there), so that the tower's
// forward is about a fifth of a pixel-path ReFT step, as it is at full
// size (~23 %: a 0.4 B tower once forward over 729 patches against a
// 0.6 B decoder forward and backward over ~790 tokens).
func featureBenchConfig() llava.Config {
	c := llava.Demo()
	c.HiddenSize, c.IntermediateSize, c.NumHiddenLayers = 128, 352, 6
	v := &c.Vision
	v.HiddenSize, v.IntermediateSize, v.NumHiddenLayers, v.LayersKept, v.ImageSize = 144, 538, 7, 6, 128
	c.MMHiddenSize = v.HiddenSize
	return c
}

// BenchmarkFeatureCache compares ReFT training that runs the vision tower
// and projector every step with training that reads cached image
// features, side by side in one run, on featureBenchConfig: each
// iteration trains one epoch of 16 examples both ways and the median
// examples/s over the iterations is reported, with their ratio:
//
//	go test ./sdk/experiment -run XXX -bench FeatureCache -benchtime 5x
func BenchmarkFeatureCache(b *testing.B) {
	b.Setenv("VISREFT_CACHE", b.TempDir())
	be := testutil.Backend(b)
	ds, err := demo.Data()
	if err != nil {
		b.Fatal(err)
	}
	tok, err := demo.Tokenizer()
	if err != nil {
		b.Fatal(err)
	}
	xs := ds.Examples[:16]
	type arm struct {
		src *source
		m   *llava.Model
		st  llava.Steer
	}
	var arms [2]arm
	for i, cached := range []bool{false, true} {
		m, err := llava.NewRandom(featureBenchConfig(), 1, tok)
		if err != nil {
			b.Fatal(err)
		}
		steer, err := prepare(be, m, PaperReFT(4, "all"), 1)
		if err != nil {
			b.Fatal(err)
		}
		var fc *FeatureCache
		if cached {
			if fc, err = NewFeatureCache(be, m, Images(xs), 8, DefaultFeatureBudget); err != nil {
				b.Fatal(err)
			}
		}
		src, err := newSource(m, xs, cvbench.PromptOptions{Format: cvbench.PromptPaper}, steer, fc)
		if err != nil {
			b.Fatal(err)
		}
		arms[i] = arm{src, m, steer}
	}
	method := PaperReFT(4, "all")
	st, _ := method.strategy()
	var rates [2][]float64
	for b.Loop() {
		for i, a := range arms {
			cfg := method.Train
			cfg.Progress, cfg.BatchSize, cfg.Buckets = io.Discard, 4, buckets(a.src)
			tr, err := train.New(be, a.m.Ctx, lossFn(a.m.Config, a.st, dtypes.Float32), st, a.src, cfg)
			if err != nil {
				b.Fatal(err)
			}
			res, err := tr.Run(gocontext.Background())
			if err != nil {
				b.Fatal(err)
			}
			rates[i] = append(rates[i], res.ExamplesPerSec)
		}
	}
	pix, feat := median(slices.Clone(rates[0])), median(slices.Clone(rates[1]))
	b.ReportMetric(pix, "pixels-examples/s")
	b.ReportMetric(feat, "features-examples/s")
	b.ReportMetric(feat/pix, "speedup")
}
