package experiment

import (
	gocontext "context"
	"io"
	"testing"

	"github.com/visreft/visreft/sdk/backend"
	"github.com/visreft/visreft/sdk/cvbench"
	"github.com/visreft/visreft/sdk/demo"
	"github.com/visreft/visreft/sdk/train"
)

// BenchmarkFeatureCache compares ReFT training that runs the vision tower
// and projector every step with training that reads cached image
// features, side by side in one run (examples/s of each):
//
//	go test ./sdk/experiment -run XXX -bench FeatureCache -benchtime 2x
//
// On the demo model the tower is small (16 patches, 2 layers) and the
// vocabulary-wide LM head dominates; at nanoLLaVA's size (729 patches, 26
// layers) the cached part is most of a ReFT step's cost.
func BenchmarkFeatureCache(b *testing.B) {
	b.Setenv("VISREFT_CACHE", b.TempDir())
	be, err := backend.NewFromConfig(backend.CPUConfig)
	if err != nil {
		b.Fatal(err)
	}
	ds, err := demo.Data()
	if err != nil {
		b.Fatal(err)
	}
	xs := ds.Examples[:16]
	for _, cached := range []bool{false, true} {
		name := "pixels"
		if cached {
			name = "features"
		}
		b.Run(name, func(b *testing.B) {
			m, err := demo.Model(1)
			if err != nil {
				b.Fatal(err)
			}
			method := PaperReFT(4, "all")
			steer, err := prepare(be, m, method, 1)
			if err != nil {
				b.Fatal(err)
			}
			var fc *FeatureCache
			if cached {
				if fc, err = NewFeatureCache(be, m, Images(xs), 8, DefaultFeatureBudget); err != nil {
					b.Fatal(err)
				}
			}
			src, err := newSource(m, xs, cvbench.PromptOptions{Format: cvbench.PromptChatML}, steer, fc)
			if err != nil {
				b.Fatal(err)
			}
			st, _ := method.strategy()
			cfg := method.Train
			cfg.Progress, cfg.BatchSize, cfg.Buckets = io.Discard, 4, buckets(src)
			var perSec float64
			for b.Loop() {
				tr, err := train.New(be, m.Ctx, lossFn(m.Config, steer), st, src, cfg)
				if err != nil {
					b.Fatal(err)
				}
				res, err := tr.Run(gocontext.Background())
				if err != nil {
					b.Fatal(err)
				}
				perSec = res.ExamplesPerSec
			}
			b.ReportMetric(perSec, "examples/s")
		})
	}
}
