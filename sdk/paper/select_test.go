package paper

import (
	"math"
	"strings"
	"testing"

	"github.com/visreft/visreft/sdk/experiment"
)

// TestSelectAgainstTheSweep: Select runs each strategy over the sweep's
// candidates (Figure 4's ranks on all layers, Figure 5's lowest layers at
// its rank), within the budget, and measures each first choice by its own
// run in the sweep against the sweep's best; the figure names both.
func TestSelectAgainstTheSweep(t *testing.T) {
	s := tinySetup(t, "", Shard{})
	cands, runs := s.SweepCandidates()
	// Ranks 4, 6 on all layers; rank 6 from layers 1 and 0, the latter Figure 4's rank 6 again.
	if len(cands) != 3 || len(runs) != 3 {
		t.Fatalf("candidates %v", cands)
	}
	rows, fig, err := s.Select(Strategies, []float64{0.5}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(Strategies) {
		t.Fatalf("%d rows, want one per strategy", len(rows))
	}
	// The sweep's own results, read back run by run: the rows' chosen and
	// best accuracies must be these, not numbers derived from each other.
	val := map[experiment.Candidate]float64{}
	bestVal := math.Inf(-1)
	for _, c := range cands {
		res, err := s.Run(runs[c])
		if err != nil {
			t.Fatal(err)
		}
		val[c] = res.ValAccuracy
		bestVal = max(bestVal, res.ValAccuracy)
	}
	for _, r := range rows {
		want, ok := val[r.Chosen]
		if !ok {
			t.Errorf("%s chose %v, not a sweep candidate", r.Strategy, r.Chosen)
		}
		if r.Cost > 50 || r.Cost <= 0 || r.ChosenVal != want || r.BestVal != bestVal || val[r.Best] != bestVal || r.Gap != bestVal-want {
			t.Errorf("%s: cost %.1f %%, chosen %v at %.1f %% (its run: %.1f %%), best %v at %.1f %% (the sweep's best: %.1f %%), gap %.1f",
				r.Strategy, r.Cost, r.Chosen, r.ChosenVal, want, r.Best, r.BestVal, bestVal, r.Gap)
		}
		t.Logf("%s: chose %s (%.1f %%) for %.1f %% of the sweep; best %s (%.1f %%)", r.Strategy, r.Chosen, r.ChosenVal, r.Cost, r.Best, r.BestVal)
	}
	svg := string(fig.SVG())
	for _, want := range []string{"halving", "one-shot-loglik", "full sweep"} {
		if !strings.Contains(svg, want) {
			t.Errorf("figure lacks %q", want)
		}
	}
}
