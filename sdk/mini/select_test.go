package mini_test

import (
	gocontext "context"
	"io"
	"math"
	"testing"

	"github.com/visreft/visreft/sdk/backend"
	"github.com/visreft/visreft/sdk/eval"
	. "github.com/visreft/visreft/sdk/experiment"
)

// TestSelectStrategiesOnMini: both strategies rank every candidate once
// and spend at most their budget. Successive halving over 3 candidates at
// budget 0.5 trains 3 on n0 and 2 on 2·n0 examples. The one-shot strategy
// trains one LoReFT on the candidates' union (layers 0.., rank 4); its
// score for that same configuration is the trained intervention's own
// score on the selection split (a quarter of the training data held out),
// which an ordinary run of it on the same split reaches (truncation
// to the same sites and rank changes nothing end to end), compared by the
// mean log-likelihood of the right choice.
func TestSelectStrategiesOnMini(t *testing.T) {
	newModel := miniModel(t)
	d := miniData(t, 24, 12)
	b, err := backend.NewFromConfig(backend.CPUConfig)
	if err != nil {
		t.Fatal(err)
	}
	cands := []Candidate{{Lowest: 6, Rank: 1}, {Lowest: 4, Rank: 2}, {Lowest: 0, Rank: 4}}
	tune := func(m *Method) { m.Train.BatchSize, m.Train.LR = 4, 1e-2 }
	o := SelectOptions{Candidates: cands, Tune: tune, Budget: 0.5, PrefixCache: true, Progress: io.Discard,
		Run: withFeatures(t, b, newModel, d, Options{Seed: 1, EvalModes: []eval.Mode{eval.Likelihood}})}
	check := func(sel *Selection) {
		t.Helper()
		seen := map[Candidate]bool{}
		for _, s := range sel.Ranked {
			seen[s.Candidate] = true
		}
		if len(sel.Ranked) != len(cands) || len(seen) != len(cands) {
			t.Errorf("%s: ranked %v, want each of %v once", sel.Strategy, sel.Ranked, cands)
		}
		if sel.SweepExamples != 3*24 || sel.CostShare() > 0.5 || sel.TrainExamples == 0 {
			t.Errorf("%s: %d training examples of a %d-example sweep (budget 0.5)", sel.Strategy, sel.TrainExamples, sel.SweepExamples)
		}
		t.Logf("%s: %v; cost %d examples (%.0f %% of the sweep), %d scored; %s", sel.Strategy, sel.Ranked,
			sel.TrainExamples, 100*sel.CostShare(), sel.EvalExamples, sel.Notes)
	}
	halving, err := SelectHalving(gocontext.Background(), b, newModel, d, o)
	if err != nil {
		t.Fatal(err)
	}
	check(halving)
	// 36 examples for rounds weighing 3 + 2·2 = 7: n0 = 36/7 = 5.14, rounds of 5 and 10.
	if halving.TrainExamples != 3*5+2*10 || halving.Ranked[0].Round != 1 || halving.Ranked[2].Round != 0 || halving.Ranked[0].Examples != 10 {
		t.Errorf("halving rounds: %d examples, ranked %+v", halving.TrainExamples, halving.Ranked)
	}
	// One-shot scores by the choices' log-likelihood here: a continuous
	// score, so that its score of the trained configuration itself can be
	// compared with the ordinary run's to 1e-5 (12 questions' accuracy
	// could not tell a one-question difference from noise).
	oo := o
	oo.Score = ScoreLogLik
	one, err := SelectOneShot(gocontext.Background(), b, newModel, d, oo)
	if err != nil {
		t.Fatal(err)
	}
	check(one)
	if one.TrainExamples != 18 || one.SelectionExamples != 6 {
		t.Errorf("one-shot trained on %d examples and scored on %d, want all 18 left of 24 (budget 36) and 6 held out", one.TrainExamples, one.SelectionExamples)
	}
	m := cands[2].Method(8)
	tune(&m)
	m.Train.Progress = io.Discard
	// The same configuration trained and scored as the strategy splits the data.
	sd, sro, err := SelectionData(d, o.Run, 0.25)
	if err != nil {
		t.Fatal(err)
	}
	direct, err := Run(gocontext.Background(), b, newModel, sd, m, sro)
	if err != nil {
		t.Fatal(err)
	}
	want := ScoreOf(direct.ValResults["likelihood"], ScoreLogLik)
	for _, s := range one.Ranked {
		if s.Candidate == cands[2] && math.Abs(s.Score-want) > 1e-5 {
			t.Errorf("one-shot's log-likelihood score of the trained configuration itself %.6f, the run's own %.6f", s.Score, want)
		}
	}
}
