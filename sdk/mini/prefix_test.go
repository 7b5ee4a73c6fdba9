package mini_test

import (
	gocontext "context"
	"io"
	"math"
	"strings"
	"testing"

	"github.com/gomlx/compute"
	"github.com/visreft/visreft/sdk/backend"
	"github.com/visreft/visreft/sdk/eval"
	. "github.com/visreft/visreft/sdk/experiment"
	"github.com/visreft/visreft/sdk/models/llava"
)

// TestPrefixCacheSameLosses: LoReFT on visreft-mini's layers 3..7 trained
// from cached block-3 outputs (the tower, projector and blocks 0..3 run once
// per example, before training) takes the same steps as the run through
// the whole model: losses within 1e-6 (f32), the same validation
// log-probabilities and accuracy. A cache made at block 1 and advanced to
// block 3 holds the same states; a cache below the lowest intervened
// layer also trains the same run (blocks 2..3 then run in the graph). A
// cache above the lowest layer, a LoRA run and other examples are refused.
func TestPrefixCacheSameLosses(t *testing.T) {
	newModel := miniModel(t)
	d := miniData(t, 16, 16)
	b, m, opt, whole := wholeModelRun(t, newModel, d)
	model, err := newModel()
	if err != nil {
		t.Fatal(err)
	}
	po := PrefixOptions{Prompt: d.PromptOptions(), Features: opt.Features}
	at3, err := NewPrefixCache(b, model, d.Train, 3, po)
	if err != nil {
		t.Fatal(err)
	}
	at1, err := NewPrefixCache(b, model, d.Train, 1, po)
	if err != nil {
		t.Fatal(err)
	}
	compare := func(name string, pc *PrefixCache) {
		o := opt
		o.Prefix = pc
		r, err := Run(gocontext.Background(), b, newModel, d, m, o)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if r.PrefixLayer != pc.Layer || len(r.Losses) != len(whole.Losses) || len(r.Losses) == 0 {
			t.Fatalf("%s: prefix layer %d, %d steps (whole model: %d)", name, r.PrefixLayer, len(r.Losses), len(whole.Losses))
		}
		worstLoss := 0.0
		for i := range r.Losses {
			worstLoss = math.Max(worstLoss, math.Abs(r.Losses[i]-whole.Losses[i]))
		}
		worstLP := 0.0
		for i, p := range whole.ValResult.Predictions {
			for c, lp := range p.LogProbs {
				worstLP = math.Max(worstLP, math.Abs(lp-r.ValResult.Predictions[i].LogProbs[c]))
			}
		}
		t.Logf("%s: %d steps, loss %.5f -> %.5f; losses differ by at most %.2g, val log-probs by %.2g; val accuracy %.1f %% vs %.1f %%",
			name, len(r.Losses), r.Losses[0], r.Losses[len(r.Losses)-1], worstLoss, worstLP, r.ValAccuracy, whole.ValAccuracy)
		if worstLoss > 1e-6 {
			t.Errorf("%s: training losses differ from the whole model's by %.3g (tolerance 1e-6)", name, worstLoss)
		}
		if worstLP > 1e-5 || r.ValAccuracy != whole.ValAccuracy {
			t.Errorf("%s: val log-probs differ by %.3g (tolerance 1e-5), accuracy %.2f vs %.2f", name, worstLP, r.ValAccuracy, whole.ValAccuracy)
		}
	}
	compare("cache at block 3", at3)
	compare("cache at block 1", at1)
	if err := at1.Advance(b, model, d.Train, 3, po); err != nil {
		t.Fatal(err)
	}
	if diff := MaxPrefixDiff(at1, at3); at1.Layer != 3 || at1.Blocks != 4 || diff > 1e-6 {
		t.Errorf("advanced 1 -> 3: layer %d, %d blocks run, states differ from a fresh block-3 cache by %.3g (tolerance 1e-6)", at1.Layer, at1.Blocks, diff)
	}

	for _, c := range []struct {
		name string
		m    Method
		pc   *PrefixCache
		want string
	}{
		{"cache above the lowest layer", PaperReFT(4, "2-7"), at3, "layer 2 below it"},
		{"LoRA", PaperLoRA(), at3, "needs ReFT"},
	} {
		o := opt
		o.Prefix = c.pc
		c.m.Train.Progress = io.Discard
		if _, err := Run(gocontext.Background(), b, newModel, d, c.m, o); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err %v, want one saying %q", c.name, err, c.want)
		}
	}
	other := d
	other.Train = d.Val
	o := opt
	o.Prefix, o.Features = at3, opt.ValFeatures
	if _, err := Run(gocontext.Background(), b, newModel, other, m, o); err == nil || !strings.Contains(err.Error(), "other examples") {
		t.Errorf("cache of other examples: err %v", err)
	}
}

// TestPrefixCacheMixedPadding: the cache pass and training pad an example
// to different lengths and the run is still the whole model's. Count
// questions (3-6 options) and two-choice questions differ in prompt length
// across a padding step (a multiple of 16 positions; asserted), interleaved so
// that every training batch of 4 mixes them: a cache made one example per
// call pads each to its own length, one made 16 per call pads all to the
// longest, and training pads each batch to its own bucket. Losses within
// 1e-6 of the run through the whole model (f32), as TestPrefixCacheSameLosses.
func TestPrefixCacheMixedPadding(t *testing.T) {
	newModel := miniModel(t)
	two := miniData(t, 8, 4)
	counts := countData(t, 20, 4)
	d := two
	d.Train = nil
	for i := range 8 {
		d.Train = append(d.Train, counts.Train[i], two.Train[i])
	}
	d.Val = append(two.Val[:2:2], counts.Val[:2]...)
	model, err := newModel()
	if err != nil {
		t.Fatal(err)
	}
	lengths := map[int]bool{}
	for _, x := range d.Train {
		r := x.Render(d.PromptOptions())
		lengths[len(model.Tokenizer.Encode(r.Prompt))] = true
	}
	lo, hi := math.MaxInt, 0
	for n := range lengths {
		lo, hi = min(lo, n), max(hi, n)
	}
	p := model.Config.Vision.WithDefaults().NumPatches() // image tokens
	if (lo+p+15)/16 == (hi+p+15)/16 {
		t.Fatalf("prompt lengths %d..%d tokens + %d image tokens: no mix of padding lengths", lo, hi, p)
	}
	b, m, opt, whole := wholeModelRun(t, newModel, d)
	for _, per := range []int{1, 16} {
		pc, err := NewPrefixCache(b, model, d.Train, 3, PrefixOptions{Prompt: d.PromptOptions(), Features: opt.Features, Batch: per})
		if err != nil {
			t.Fatal(err)
		}
		o := opt
		o.Prefix = pc
		r, err := Run(gocontext.Background(), b, newModel, d, m, o)
		if err != nil {
			t.Fatal(err)
		}
		worst := 0.0
		for i := range whole.Losses {
			worst = math.Max(worst, math.Abs(r.Losses[i]-whole.Losses[i]))
		}
		t.Logf("cache pass of %d per call, prompts %d..%d tokens: %d steps, losses differ by at most %.2g", per, lo, hi, len(r.Losses), worst)
		if len(r.Losses) != len(whole.Losses) || worst > 1e-6 {
			t.Errorf("cache pass of %d per call: %d steps (whole: %d), losses differ by %.3g (tolerance 1e-6)", per, len(r.Losses), len(whole.Losses), worst)
		}
	}
}

// wholeModelRun is the reference of the prefix-cache tests: LoReFT on
// layers 3..7 (batch 4, lr 1e-2) trained through the whole model with
// cached image features, scored by likelihood.
func wholeModelRun(t *testing.T, newModel func() (*llava.Model, error), d Data) (compute.Backend, Method, Options, *Result) {
	t.Helper()
	b, err := backend.NewFromConfig(backend.CPUConfig)
	if err != nil {
		t.Fatal(err)
	}
	m := PaperReFT(4, "3-7")
	m.Train.Progress, m.Train.BatchSize, m.Train.LR = io.Discard, 4, 1e-2
	opt := withFeatures(t, b, newModel, d, Options{Seed: 1, EvalTrain: -1, EvalModes: []eval.Mode{eval.Likelihood}})
	whole, err := Run(gocontext.Background(), b, newModel, d, m, opt)
	if err != nil {
		t.Fatal(err)
	}
	return b, m, opt, whole
}
