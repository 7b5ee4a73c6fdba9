package paper

import (
	"math"
	"testing"
)

// TestLayerSweepSharesOnePrefix: Figure 5's sweep (lowest layers 6, 4, 2
// on visreft-mini) with the shared prefix cache visits the layers upward
// and runs each decoder block once per example (7 blocks for layers 0..6,
// where three separate caches would run 3+5+7 = 15), and gives the same
// losses and accuracies, in the same row order, as the sweep without it.
func TestLayerSweepSharesOnePrefix(t *testing.T) {
	sweep := func(cache bool) ([]SweepRow, *Setup) {
		s := tinySetup(t, "", Shard{})
		s.Lowest, s.PrefixCache = []int{6, 4, 2}, cache
		rows, _, err := s.LayerSweep(nil)
		if err != nil {
			t.Fatal(err)
		}
		return rows, s
	}
	plain, _ := sweep(false)
	cached, s := sweep(true)
	if s.PrefixBlocks != 7 {
		t.Errorf("the prefix caches ran %d blocks per example, want 7 (blocks 0..6 once each)", s.PrefixBlocks)
	}
	if len(plain) != 3 || len(cached) != 3 {
		t.Fatalf("%d and %d rows", len(plain), len(cached))
	}
	for i := range plain {
		p, c := plain[i], cached[i]
		if p.X != c.X || c.Result.PrefixLayer != c.X || p.Result.PrefixLayer != -1 {
			t.Errorf("row %d: x %d vs %d, prefix layers %d and %d", i, p.X, c.X, p.Result.PrefixLayer, c.Result.PrefixLayer)
		}
		for j := range p.Result.Losses {
			if d := math.Abs(p.Result.Losses[j] - c.Result.Losses[j]); d > 1e-6 {
				t.Errorf("k=%d step %d: loss %.7f without the cache, %.7f with", p.X, j+1, p.Result.Losses[j], c.Result.Losses[j])
			}
		}
		if p.Result.ValAccuracy != c.Result.ValAccuracy {
			t.Errorf("k=%d: val accuracy %.2f vs %.2f", p.X, p.Result.ValAccuracy, c.Result.ValAccuracy)
		}
	}
}
