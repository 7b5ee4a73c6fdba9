package eval

import (
	"math"
	"testing"

	"github.com/visreft/visreft/sdk/backend"
	"github.com/visreft/visreft/sdk/cvbench"
	"github.com/visreft/visreft/sdk/demo"
)

// TestLikelihoodIsBatchInvariant: each choice's log-probability is the same
// whether examples are scored 1 or 8 samples per call (bookkeeping,
// padding and length buckets do not leak), and the prediction is the
// argmax. Scores are labelled synthetic.
func TestLikelihoodIsBatchInvariant(t *testing.T) {
	t.Setenv("VISREFT_CACHE", t.TempDir())
	m, err := demo.Model(3)
	if err != nil {
		t.Fatal(err)
	}
	ds, err := demo.Data()
	if err != nil {
		t.Fatal(err)
	}
	xs := ds.Examples[:5]
	b, err := backend.NewFromConfig(backend.CPUConfig)
	if err != nil {
		t.Fatal(err)
	}
	big, err := Evaluate(b, m, xs, Options{BatchSize: 8})
	if err != nil {
		t.Fatal(err)
	}
	one, err := Evaluate(b, m, xs, Options{BatchSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range big.Predictions {
		if len(p.LogProbs) != len(xs[i].Choices) {
			t.Fatalf("example %d: %d log-probs for %d choices", i, len(p.LogProbs), len(xs[i].Choices))
		}
		best := 0
		for c, v := range p.LogProbs {
			if d := math.Abs(v - one.Predictions[i].LogProbs[c]); d > 1e-3 {
				t.Errorf("example %d choice %d: %v in batches of 8, %v alone", i, c, v, one.Predictions[i].LogProbs[c])
			}
			if v >= 0 || math.IsNaN(v) {
				t.Errorf("example %d choice %d: log-prob %v", i, c, v)
			}
			if v > p.LogProbs[best] {
				best = c
			}
		}
		if p.Predicted != best || p.Correct != (best == xs[i].AnswerIndex()) {
			t.Errorf("example %d: predicted %d, argmax %d", i, p.Predicted, best)
		}
	}
	if !big.Scores.Synthetic {
		t.Error("scores on synthetic data are not marked synthetic")
	}
	total := 0
	for _, row := range big.Confusion {
		for _, n := range row {
			total += n
		}
	}
	if total != len(xs) {
		t.Errorf("confusion counts %d, want %d", total, len(xs))
	}
}

func TestGenerateModeParsesAnswers(t *testing.T) {
	t.Setenv("VISREFT_CACHE", t.TempDir())
	m, err := demo.Model(3)
	if err != nil {
		t.Fatal(err)
	}
	ds, err := demo.Data()
	if err != nil {
		t.Fatal(err)
	}
	b, err := backend.NewFromConfig(backend.CPUConfig)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Evaluate(b, m, ds.Examples[:3], Options{Mode: Generate, BatchSize: 2, MaxNewTokens: 4,
		Prompt: cvbench.PromptOptions{Format: cvbench.PromptChatML}})
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range r.Predictions {
		if p.Generated == "" {
			t.Errorf("example %d: nothing generated", i)
		}
		if want := ParseChoice(p.Generated, ds.Examples[i].Choices); p.Predicted != want {
			t.Errorf("example %d: predicted %d, parse gives %d", i, p.Predicted, want)
		}
	}
}
