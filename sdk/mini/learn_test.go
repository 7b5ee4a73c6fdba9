package mini_test

import (
	gocontext "context"
	"io"
	"math"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/backends"
	"github.com/visreft/visreft/sdk/backend"
	"github.com/visreft/visreft/sdk/cvbench"
	"github.com/visreft/visreft/sdk/demo"
	"github.com/visreft/visreft/sdk/eval"
	. "github.com/visreft/visreft/sdk/experiment"
	"github.com/visreft/visreft/sdk/models/llava"
)

// miniData is the demo preset's data on visreft-mini's questions that need
// the image and have two choices (2D relation, depth, distance: chance is
// 50 %), split as the preset splits it: nTrain training and nVal held-out
// validation examples.
func miniData(t testing.TB, nTrain, nVal int) Data {
	t.Helper()
	ds, err := demo.DataOf(demo.PresetDataOptions)
	if err != nil {
		t.Fatal(err)
	}
	train, val := ds.Split(cvbench.SplitOptions{Seed: 0, ValFraction: 0.2})
	two := func(xs []cvbench.Example, n int) []cvbench.Example {
		var out []cvbench.Example
		for _, x := range xs {
			if len(x.Choices) == 2 && len(out) < n {
				out = append(out, x)
			}
		}
		if len(out) < n {
			t.Fatalf("only %d two-choice examples, want %d", len(out), n)
		}
		return out
	}
	return Data{Train: two(train, nTrain), Val: two(val, nVal), Prompt: cvbench.PromptOptions{Format: cvbench.PromptPaper}}
}

func miniModel(t testing.TB) func() (*llava.Model, error) {
	t.Helper()
	if _, err := demo.MiniModel(); err != nil {
		t.Fatalf("visreft-mini is part of the checkout: %v", err)
	}
	return demo.MiniModel
}

// TestMiniFeatureCacheMatchesPixels: a ReFT run on visreft-mini through the
// cached image features takes the same steps (losses within 1e-5) and
// reaches the same validation log-probabilities (within 1e-4) and accuracy
// as the run that computes the tower and projector from pixels every step.
func TestMiniFeatureCacheMatchesPixels(t *testing.T) {
	newModel := miniModel(t)
	d := miniData(t, 16, 16)
	b, err := backend.NewFromConfig(backend.CPUConfig)
	if err != nil {
		t.Fatal(err)
	}
	m := PaperReFT(4, "all")
	m.Train.Progress, m.Train.BatchSize, m.Train.LR = io.Discard, 4, 1e-2
	opt := Options{Seed: 1, EvalTrain: -1, EvalModes: []eval.Mode{eval.Likelihood}}
	pixels, err := Run(gocontext.Background(), b, newModel, d, m, opt)
	if err != nil {
		t.Fatal(err)
	}
	cached, err := Run(gocontext.Background(), b, newModel, d, m, withFeatures(t, b, newModel, d, opt))
	if err != nil {
		t.Fatal(err)
	}
	if len(pixels.Losses) != len(cached.Losses) || len(pixels.Losses) == 0 {
		t.Fatalf("%d vs %d steps", len(pixels.Losses), len(cached.Losses))
	}
	for i := range pixels.Losses {
		if d := math.Abs(pixels.Losses[i] - cached.Losses[i]); d > 1e-5*math.Max(1, math.Abs(pixels.Losses[i])) {
			t.Errorf("step %d: loss %.7f from pixels, %.7f from cached features", i+1, pixels.Losses[i], cached.Losses[i])
		}
	}
	worst := 0.0
	for i, p := range pixels.ValResult.Predictions {
		for c, lp := range p.LogProbs {
			worst = math.Max(worst, math.Abs(lp-cached.ValResult.Predictions[i].LogProbs[c]))
		}
	}
	t.Logf("%d steps, loss %.4f -> %.4f; val accuracy %.1f %% (pixels) vs %.1f %% (cache); log-probs differ by at most %.2g",
		len(pixels.Losses), pixels.Losses[0], pixels.Losses[len(pixels.Losses)-1], pixels.ValAccuracy, cached.ValAccuracy, worst)
	if worst > 1e-4 {
		t.Errorf("validation log-probs differ by %.3g (tolerance 1e-4)", worst)
	}
	if pixels.ValAccuracy != cached.ValAccuracy {
		t.Errorf("validation accuracy %.2f %% from pixels, %.2f %% from cached features", pixels.ValAccuracy, cached.ValAccuracy)
	}
}

// withFeatures adds feature caches of d's images to opt.
func withFeatures(t *testing.T, b backends.Backend, newModel func() (*llava.Model, error), d Data, opt Options) Options {
	t.Helper()
	model, err := newModel()
	if err != nil {
		t.Fatal(err)
	}
	if opt.Features, err = NewFeatureCacheWith(b, model, Images(d.Train), FeatureOptions{}); err != nil {
		t.Fatal(err)
	}
	if opt.ValFeatures, err = NewFeatureCacheWith(b, model, Images(d.Val), FeatureOptions{}); err != nil {
		t.Fatal(err)
	}
	return opt
}

// lettered is the share (percent) of generated answers written as
// CV-Bench's answers are, "(X)" with X a choice's letter.
func lettered(r *eval.Result) float64 {
	n := 0
	for _, p := range r.Predictions {
		g := strings.TrimSpace(p.Generated)
		if len(g) >= 3 && g[0] == '(' && g[2] == ')' && g[1] >= 'A' && g[1] <= 'F' {
			n++
		}
	}
	return 100 * float64(n) / float64(max(1, len(r.Predictions)))
}

// TestMiniReFTLearnsTheAnswerFormat: on visreft-mini, the paper's LoReFT
// (rank 4, every layer, start/middle/end of the prompt), trained on 64
// CV-Bench-format questions through the feature cache, makes the model
// answer held-out questions in CV-Bench's letter format ("(B)") at least
// 90 % of the time, and halves the answer loss. What it does not show yet:
// that the accuracy gained comes through the image (see the issue note:
// visreft-mini's perception is still weak).
func TestMiniReFTLearnsTheAnswerFormat(t *testing.T) {
	if testing.Short() {
		t.Skip("trains on visreft-mini")
	}
	newModel := miniModel(t)
	d := miniData(t, 64, 32)
	b, err := backend.NewFromConfig(backend.CPUConfig)
	if err != nil {
		t.Fatal(err)
	}
	base, err := newModel()
	if err != nil {
		t.Fatal(err)
	}
	before, err := eval.Evaluate(b, base, d.Val, eval.Options{Mode: eval.Generate, MaxNewTokens: 5})
	if err != nil {
		t.Fatal(err)
	}
	m := PaperReFT(4, "all")
	m.Train.Progress, m.Train.BatchSize, m.Train.LR, m.Train.Epochs = io.Discard, 4, 4e-3, 2
	opt := Options{Seed: 1, EvalTrain: -1, EvalModes: []eval.Mode{eval.Generate}}
	tuned, err := Run(gocontext.Background(), b, newModel, d, m, withFeatures(t, b, newModel, d, opt))
	if err != nil {
		t.Fatal(err)
	}
	n := len(tuned.Losses)
	first, last := tuned.Losses[0], tuned.Losses[n-1]
	t.Logf("base: %.0f %% of answers lettered, accuracy %.1f %% (e.g. %q); LoReFT (%d steps, loss %.3f -> %.3f): %.0f %% lettered, accuracy %.1f %% (chance %.1f %%)",
		lettered(before), before.Summary()["accuracy"], before.Predictions[0].Generated, n, first, last, lettered(tuned.ValResult), tuned.ValAccuracy, tuned.ChanceAccuracy)
	if got := lettered(tuned.ValResult); got < 90 {
		t.Errorf("after LoReFT %.0f %% of the answers are lettered, want >= 90 %%", got)
	}
	if !(last < first/2) {
		t.Errorf("loss %.3f -> %.3f did not halve", first, last)
	}
}
