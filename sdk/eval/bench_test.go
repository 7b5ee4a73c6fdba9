package eval_test

import (
	"fmt"
	"testing"

	"github.com/visreft/visreft/sdk/backend"
	"github.com/visreft/visreft/sdk/cvbench"
	"github.com/visreft/visreft/sdk/demo"
	"github.com/visreft/visreft/sdk/eval"
)

// BenchmarkEvaluateBatch times both protocols on 96 questions of the demo
// preset's data with visreft-mini at several batch sizes (the graphs
// compiled before the timer starts), side by side in one run: what
// DefaultBatchSize rests on.
//
//	GOEXPERIMENT=simd go test ./sdk/eval -run '^$' -bench EvaluateBatch -benchtime 2x
func BenchmarkEvaluateBatch(b *testing.B) {
	m, err := demo.MiniModel()
	if err != nil {
		b.Fatal(err)
	}
	ds, err := demo.DataOf(demo.PresetDataOptions)
	if err != nil {
		b.Fatal(err)
	}
	be, err := backend.NewFromConfig(backend.CPUConfig)
	if err != nil {
		b.Fatal(err)
	}
	xs := ds.Examples[:96]
	for _, mode := range []eval.Mode{eval.Likelihood, eval.Generate} {
		for _, bs := range []int{8, 32} {
			b.Run(fmt.Sprintf("%v/batch%d", mode, bs), func(b *testing.B) {
				e := eval.NewEvaluator(be, m, eval.Options{BatchSize: bs, MaxNewTokens: 5, Prompt: cvbench.PromptOptions{Format: cvbench.PromptPaper}})
				defer e.Close()
				if _, err := e.Evaluate(xs, mode, nil); err != nil { // compiles
					b.Fatal(err)
				}
				b.ResetTimer()
				for range b.N {
					if _, err := e.Evaluate(xs, mode, nil); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(len(xs)*b.N)/b.Elapsed().Seconds(), "questions/s")
			})
		}
	}
}
