package eval

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/visreft/visreft/sdk/cvbench"
	"github.com/visreft/visreft/sdk/demo"
	"github.com/visreft/visreft/sdk/internal/testutil"
	"github.com/visreft/visreft/sdk/models/llava"
)

// TestLikelihoodIsBatchInvariant: each choice's log-probability is the same
// whether examples are scored 1 or 8 samples per call (bookkeeping,
// padding and length buckets do not leak), and the prediction is the
// argmax. Scores are labelled synthetic.
func TestLikelihoodIsBatchInvariant(t *testing.T) {
	m, ds := demoModelAndData(t)
	xs := ds.Examples[:5]
	b := testutil.Backend(t)
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
	m, ds := demoModelAndData(t)
	b := testutil.Backend(t)
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

func TestWriteResults(t *testing.T) {
	xs := []cvbench.Example{
		{Idx: 1, Type: "2D", Task: "Count", Source: cvbench.SourceCOCO, Choices: []string{"1", "2"}, Answer: "(A)"},
		{Idx: 2, Type: "3D", Task: "Depth", Source: cvbench.SourceOmni3D, Choices: []string{"x", "y"}, Answer: "(B)"},
	}
	preds := []Prediction{newPrediction(xs[0]), newPrediction(xs[1])}
	preds[0].Predicted, preds[0].Correct = 0, true
	preds[1].Predicted = 0
	r, err := summarize(xs, preds, Likelihood)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := r.WriteJSON(filepath.Join(dir, "r.json")); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteCSV(filepath.Join(dir, "r.csv")); err != nil {
		t.Fatal(err)
	}
	var back jsonResult
	data, _ := os.ReadFile(filepath.Join(dir, "r.json"))
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if *back.Summary["accuracy"] != 50 || back.Summary["acc_2d"] != nil || *back.Summary["acc_3d"] != 0 {
		t.Errorf("summary %v", back.Summary) // 2D needs ADE20K and COCO: NaN -> null
	}
	if back.Confusion[0][0] != 1 || back.Confusion[1][0] != 1 {
		t.Errorf("confusion %v", back.Confusion)
	}
	csvData, _ := os.ReadFile(filepath.Join(dir, "r.csv"))
	if lines := strings.Count(string(csvData), "\n"); lines != 3 {
		t.Errorf("csv has %d lines, want header + 2", lines)
	}
}

// demoModelAndData is the demo model (random weights) and its synthetic
// data, generated into a fresh cache.
func demoModelAndData(t *testing.T) (*llava.Model, *cvbench.Dataset) {
	t.Helper()
	t.Setenv("VISREFT_CACHE", t.TempDir())
	m, err := demo.Model(3)
	if err != nil {
		t.Fatal(err)
	}
	ds, err := demo.Data()
	if err != nil {
		t.Fatal(err)
	}
	return m, ds
}
