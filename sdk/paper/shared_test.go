package paper

import (
	"math"
	"slices"
	"testing"

	"github.com/visreft/visreft/sdk/experiment"
	"github.com/visreft/visreft/sdk/models/llava"
)

// TestRunsShareOneBase: ReFT at two ranks, LoRA, then ReFT again (after
// LoRA's adapters were on the shared base) train on one loaded base model
// and give exactly the losses and validation log-probabilities of runs that
// each load their own, with the feature and prefix caches, the base's
// evaluation included in the one load. Full fine-tuning still loads its own.
func TestRunsShareOneBase(t *testing.T) {
	methods := []experiment.Method{experiment.PaperReFT(4, "all"), experiment.PaperReFT(6, "1-7"), experiment.PaperLoRA(),
		experiment.PaperReFT(4, "0-7"), experiment.PaperFull()}
	results := func(shared bool) ([]*experiment.Result, int) {
		s := tinySetup(t, "", Shard{})
		s.NoSharedBase = !shared
		loads := 0
		newModel := s.NewModel
		s.NewModel = func() (*llava.Model, error) { loads++; return newModel() }
		if _, err := s.Base(); err != nil {
			t.Fatal(err)
		}
		var out []*experiment.Result
		for _, m := range methods {
			r, err := s.Run(m)
			if err != nil {
				t.Fatal(err)
			}
			s.releaseRun(r)
			out = append(out, r)
		}
		return out, loads
	}
	own, ownLoads := results(false)
	shared, sharedLoads := results(true)
	if sharedLoads != 2 { // the shared base, and full fine-tuning's own copy
		t.Errorf("the shared setup loaded the base %d times, want 2 (own copies: %d loads)", sharedLoads, ownLoads)
	}
	for i, m := range methods {
		a, b := own[i], shared[i]
		worst := 0.0
		for j := range a.Losses {
			worst = math.Max(worst, math.Abs(a.Losses[j]-b.Losses[j]))
		}
		for j, p := range a.ValResults["likelihood"].Predictions {
			for c, lp := range p.LogProbs {
				worst = math.Max(worst, math.Abs(lp-b.ValResults["likelihood"].Predictions[j].LogProbs[c]))
			}
		}
		if len(a.Losses) != len(b.Losses) || worst > 1e-6 {
			t.Errorf("run %d (%s): %d vs %d steps, losses and log-probs differ by %.3g on the shared base", i, m.Name, len(a.Losses), len(b.Losses), worst)
		}
	}
	t.Logf("%d loads with a shared base, %d with one per run", sharedLoads, ownLoads)
}

// TestStaleSharedModelsStayValid: a run's model on the shared base stays
// whole after a later Shared call (another run, a cache, an evaluation
// takes the base), and releasing that stale result frees only what the run
// added, never the weights the live context shares: a second identical run
// afterwards gives the same losses.
func TestStaleSharedModelsStayValid(t *testing.T) {
	s := tinySetup(t, "", Shard{})
	m := experiment.PaperReFT(4, "all")
	r1, err := s.Run(m)
	if err != nil {
		t.Fatal(err)
	}
	stale := r1.Model
	n := 0
	for range stale.Ctx.IterVariables() {
		n++
	}
	live, err := s.Shared()
	if err != nil {
		t.Fatal(err)
	}
	if live == stale {
		t.Fatal("Shared handed out the run's model again")
	}
	valid := func(what string, mm *llava.Model) {
		t.Helper()
		for v := range mm.Ctx.IterVariables() {
			if _, err := v.Value(); err != nil {
				t.Errorf("%s: %s: %v", what, v.Path(), err)
				return
			}
		}
	}
	valid("the run's model after a later Shared", stale)
	s.releaseRun(r1)
	valid("the live base after releasing the stale run", live)
	r2, err := s.Run(m)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(r1.Losses, r2.Losses) {
		t.Errorf("a second run on the shared base after the stale release: losses %v, the first run's %v", r2.Losses, r1.Losses)
	}
	t.Logf("the run's model had %d variables; losses %v", n, r2.Losses)
}
