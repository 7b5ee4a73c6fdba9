package paper

import (
	"fmt"
	"runtime/debug"
	"testing"

	"github.com/visreft/visreft/sdk/experiment"
)

// BenchmarkSweepMemory measures the process's peak resident memory over a
// Figure 4 sweep of 2 and of 8 ranks on the demo preset (8 training
// examples, 4 validation), side by side in one run. The runs share one
// base model (Setup.Shared); each finished run's own variables are freed
// and only its numbers kept, and each run gets a fresh context over the
// base's tensors, so the graphs of finished runs are not kept alive: the
// peak stays flat as the sweep grows. Keeping every run's model (as sweeps
// once did) grows it by a model per point; reusing one context grows it by
// the graphs its variables keep (91 -> 123 MiB before the fresh contexts).
// Measured 2026-12-01 on 2 cores shared with a pretraining run, on
// visreft-mini: 88 MiB for 2 points, 92 MiB for 8 (1.05x):
//
//	go test ./sdk/paper -run XXX -bench SweepMemory -benchtime 1x
func BenchmarkSweepMemory(b *testing.B) {
	b.Setenv("VISREFT_CACHE", b.TempDir())
	// Collect garbage eagerly so the resident high-water mark follows the
	// live bytes rather than Go's heap growth policy (GOGC 100 lets the
	// heap reach twice the live bytes, which hides what is alive).
	defer debug.SetGCPercent(debug.SetGCPercent(10))
	peak := func(points int) float64 {
		s := tinySetup(b, "", Shard{})
		s.Ranks = nil
		for r := range points {
			s.Ranks = append(s.Ranks, 1+r)
		}
		debug.FreeOSMemory()
		experiment.ResetPeakRSS()
		rows, _, err := s.RankSweep(nil)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range rows {
			if r.Result.Model != nil {
				b.Fatal("a sweep row kept its model")
			}
		}
		return float64(experiment.PeakRSS()) / (1 << 20)
	}
	for b.Loop() {
		p2, p8 := peak(2), peak(8)
		b.ReportMetric(p2, "peak-MiB-2-points")
		b.ReportMetric(p8, "peak-MiB-8-points")
		b.ReportMetric(p8/p2, "8/2")
		fmt.Printf("sweep peak RSS: 2 points %.0f MiB, 8 points %.0f MiB\n", p2, p8)
	}
}
