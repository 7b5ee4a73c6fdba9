package paper

import (
	gocontext "context"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/visreft/visreft/sdk/cvbench"
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
		sel := r.Selection
		if sel.SelectionExamples != 2 || sel.ModelLoads < 2 || sel.EvalPasses < len(cands)-1 || sel.EvalExamples != int64(2*sel.EvalPasses) ||
			(sel.CachePasses > 0) != s.PrefixCache || (sel.CacheExamples > 0) != s.PrefixCache || r.SweepSeconds <= 0 {
			t.Errorf("%s: selection split %d (want 2 of 8), %d model loads, %d evaluations of %d examples, %d cache passes, sweep %.1f s",
				r.Strategy, sel.SelectionExamples, sel.ModelLoads, sel.EvalPasses, sel.EvalExamples, sel.CachePasses, r.SweepSeconds)
		}
		t.Logf("%s: chose %s (%.1f %%) for %.1f %% of the sweep, %d evaluations, %d model loads, %.0f s (sweep %.0f s); best %s (%.1f %%)",
			r.Strategy, r.Chosen, r.ChosenVal, r.Cost, sel.EvalPasses, sel.ModelLoads, sel.Seconds, r.SweepSeconds, r.Best, r.BestVal)
	}
	svg := string(fig.SVG())
	for _, want := range []string{"halving", "one-shot-loglik", "full sweep"} {
		if !strings.Contains(svg, want) {
			t.Errorf("figure lacks %q", want)
		}
	}
}

// TestSelectionNeverSeesValidation: a strategy chooses on a selection split
// held out of the training data, so its ranking and scores are the same
// whatever the validation split holds (here: the real one, then its
// examples replaced by other training ones); the selection split is an
// even quarter of each task's training examples, disjoint from what the
// candidates train on. Before, strategies scored on validation and the
// sweep's best there was compared with a choice made on the same split.
func TestSelectionNeverSeesValidation(t *testing.T) {
	s := tinySetup(t, "", Shard{})
	d := s.Data
	sd, _, err := experiment.SelectionData(d, experiment.Options{}, 0.25)
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]int{}
	for _, e := range sd.Train {
		keys[e.Key()]++
	}
	for _, e := range sd.Val {
		keys[e.Key()] += 10
	}
	if len(sd.Val) != 2 || len(sd.Train) != 6 || len(keys) != 8 {
		t.Fatalf("selection split %d, training %d, distinct %d of 8: %v", len(sd.Val), len(sd.Train), len(keys), keys)
	}
	for _, e := range d.Train {
		if k := keys[e.Key()]; k != 1 && k != 10 {
			t.Fatalf("%s is in both splits or neither (%d)", e.Key(), k)
		}
	}
	cands, _ := s.SweepCandidates()
	// Ranked by the right choice's mean log-likelihood: continuous, so any
	// dependence on the validation split shows (accuracies on 2 questions tie).
	o := experiment.SelectOptions{Candidates: cands, Budget: 0.5, Progress: s.Progress, Score: experiment.ScoreLogLik,
		Run:  experiment.Options{Seed: 1, EvalModes: s.EvalModes},
		Tune: func(m *experiment.Method) { m.Train.BatchSize = 4 }}
	other := d
	other.Val = append([]cvbench.Example(nil), d.Train[len(d.Train)-len(d.Val):]...)
	var got [2][]experiment.Scored
	for i, dv := range []experiment.Data{d, other} {
		sel, err := experiment.SelectHalving(gocontext.Background(), s.Backend, s.NewModel, dv, o)
		if err != nil {
			t.Fatal(err)
		}
		got[i] = sel.Ranked
	}
	if !reflect.DeepEqual(got[0], got[1]) {
		t.Errorf("the ranking depends on the validation split:\n%v\n%v", got[0], got[1])
	}
	t.Logf("ranked on the selection split: %v", got[0])
}
