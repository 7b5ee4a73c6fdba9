package train

import (
	stdctx "context"
	"testing"
	"time"
)

// BenchmarkStrategies reports training throughput (examples/s, batch 4,
// prompts of 3..16 tokens padded to 16 or 32) on the tiny model for each
// strategy, and for full fine-tuning of the staged model with and without
// recomputation. The first step (compilation) is excluded.
//
//	go test ./sdk/train -run - -bench Strategies -benchtime 20x
func BenchmarkStrategies(b *testing.B) {
	data := tinyData(64, 16, 9)
	measure := func(b *testing.B, mk func(cfg Config) *Trainer) {
		cfg := quiet()
		cfg.BatchSize, cfg.MaxSteps, cfg.Buckets = 4, b.N+1, []int{16, 32}
		var t0 time.Time
		var n0 int64
		cfg.OnStep = func(s StepInfo) {
			if s.Step == 1 {
				b.ResetTimer()
				t0, n0 = time.Now(), s.Examples
			}
		}
		tr := mk(cfg)
		res, err := tr.Run(stdctx.Background())
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(res.Examples-n0)/time.Since(t0).Seconds(), "examples/s")
	}
	for _, s := range strategies {
		b.Run(s.name, func(b *testing.B) {
			measure(b, func(cfg Config) *Trainer { tr, _ := newTiny(b, s, data, cfg); return tr })
		})
	}
	for _, rc := range []bool{false, true} {
		b.Run("staged-full-recompute="+map[bool]string{false: "off", true: "on"}[rc], func(b *testing.B) {
			measure(b, func(cfg Config) *Trainer {
				return newStaged(b, Full([]string{"model.", "lm_head."}, nil), 0, rc, data, &cfg)
			})
		})
	}
}
