package experiment

import (
	gocontext "context"
	"fmt"
	"image"
	"io"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/gomlx/gomlx/backends"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/visreft/visreft/sdk/cvbench"
	"github.com/visreft/visreft/sdk/eval"
	"github.com/visreft/visreft/sdk/lora"
	"github.com/visreft/visreft/sdk/models/llava"
	"github.com/visreft/visreft/sdk/reft"
	"github.com/visreft/visreft/sdk/train"
)

// Data is a CV-Bench-format split and how its examples are prompted.
type Data struct {
	Train, Val []cvbench.Example
	Prompt     cvbench.PromptOptions // ChatML, letter targets by default
}

// PromptOptions is how the examples are prompted: d.Prompt, or ChatML
// with letter targets when it is unset.
func (d Data) PromptOptions() cvbench.PromptOptions {
	if d.Prompt == (cvbench.PromptOptions{}) {
		return cvbench.PromptOptions{Format: cvbench.PromptChatML}
	}
	return d.Prompt
}

// Options tune Run.
type Options struct {
	// EvalTrain caps how many training examples are scored for the train
	// accuracy (Figure 4 plots it); 0 scores all, -1 none.
	EvalTrain int
	EvalMode  eval.Mode
	EvalBatch int
	// Features, when set, replaces the vision tower and projector by cached
	// outputs; Run refuses it for methods that train the tower or projector.
	Features *FeatureCache
	Seed     uint64
	// CheckpointDir, when set, makes training checkpoint there every
	// CheckpointEvery optimizer steps (and at the end), and a run that finds
	// a checkpoint there resumes from it: an interrupted run loses at most
	// CheckpointEvery steps and ends with the weights an uninterrupted run has.
	CheckpointDir   string
	CheckpointEvery int
	// SkipEval trains only (benchmarks): the accuracies are NaN.
	SkipEval bool
}

// Result is one method's run.
type Result struct {
	Method          string             `json:"method"`
	Config          Method             `json:"config"`
	TrainableParams int64              `json:"trainable_params"`
	TotalParams     int64              `json:"total_params"`
	SharePercent    float64            `json:"share_percent"`
	TrainAccuracy   float64            `json:"train_accuracy"` // percent; NaN when not evaluated
	ValAccuracy     float64            `json:"val_accuracy"`   // percent
	Val             map[string]float64 `json:"val_summary"`
	Losses          []float64          `json:"losses"`
	TrainSeconds    float64            `json:"train_seconds"`
	EvalSeconds     float64            `json:"eval_seconds"`
	ExamplesPerSec  float64            `json:"examples_per_sec"`
	Compiles        int                `json:"compiles"`
	Synthetic       bool               `json:"synthetic"`
	ValResult       *eval.Result       `json:"-"`
	// Model and Steer are the trained model, to generate with or save.
	Model *llava.Model `json:"-"`
	Steer llava.Steer  `json:"-"`
}

// Run trains method m on a fresh model from newModel over d.Train and
// evaluates it on d.Val (and on part of d.Train). Every run starts from
// the same base weights, so runs of a sweep are comparable.
func Run(cctx gocontext.Context, b backends.Backend, newModel func() (*llava.Model, error), d Data, m Method, opt Options) (*Result, error) {
	d.Prompt = d.PromptOptions()
	model, err := newModel()
	if err != nil {
		return nil, err
	}
	res := &Result{Method: m.Name, Config: m, TotalParams: llava.CountParams(model.Config).Total}
	if res.TrainableParams, err = m.TrainableParams(model.Config); err != nil {
		return nil, err
	}
	res.SharePercent = 100 * float64(res.TrainableParams) / float64(res.TotalParams)
	steer, err := prepare(b, model, m, opt.Seed)
	if err != nil {
		return nil, err
	}
	if opt.Features != nil && !m.VisionFrozen() {
		return nil, fmt.Errorf("experiment: cached image features need a method that leaves the vision tower and projector alone; this %s run changes them", m.Name)
	}
	src, err := newSource(model, d.Train, d.Prompt, steer, opt.Features)
	if err != nil {
		return nil, err
	}
	st, err := m.strategy()
	if err != nil {
		return nil, err
	}
	tcfg := m.Train
	if len(tcfg.Buckets) == 0 {
		tcfg.Buckets = buckets(src)
	}
	if opt.CheckpointDir != "" {
		tcfg.CheckpointDir, tcfg.CheckpointEvery = opt.CheckpointDir, max(opt.CheckpointEvery, 1)
	}
	tr, err := train.New(b, model.Ctx, lossFn(model.Config, steer), st, src, tcfg)
	if err != nil {
		return nil, err
	}
	if opt.CheckpointDir != "" {
		if _, err := os.Stat(filepath.Join(opt.CheckpointDir, train.StateFile)); err == nil {
			if err := tr.Resume(opt.CheckpointDir); err != nil {
				return nil, err
			}
			fmt.Fprintf(orDiscard(tcfg.Progress), "resuming %s from step %d of %d (%s)\n", m.Name, tr.Step(), tr.TotalSteps(), opt.CheckpointDir)
		}
	}
	start := time.Now()
	tres, err := tr.Run(cctx)
	if err != nil {
		return nil, err
	}
	res.TrainSeconds, res.Losses = time.Since(start).Seconds(), tres.Losses
	res.ExamplesPerSec, res.Compiles = tres.ExamplesPerSec, tres.Compiles

	res.Model, res.Steer = model, steer
	res.TrainAccuracy, res.ValAccuracy = math.NaN(), math.NaN()
	if opt.SkipEval {
		return res, nil
	}
	start = time.Now()
	eopt := eval.Options{Mode: opt.EvalMode, Prompt: d.Prompt, BatchSize: opt.EvalBatch, Steer: steer}
	val, err := eval.Evaluate(b, model, d.Val, eopt)
	if err != nil {
		return nil, err
	}
	res.ValResult, res.Val = val, val.Summary()
	res.ValAccuracy, res.Synthetic = res.Val["accuracy"], val.Scores.Synthetic
	if n := opt.EvalTrain; n >= 0 {
		xs := d.Train
		if n > 0 && n < len(xs) {
			xs = xs[:n]
		}
		tr, err := eval.Evaluate(b, model, xs, eopt)
		if err != nil {
			return nil, err
		}
		res.TrainAccuracy = tr.Summary()["accuracy"]
	}
	res.EvalSeconds = time.Since(start).Seconds()
	return res, nil
}

// prepare adds the method's variables to a fresh model and returns its
// Steer (ReFT) or nil.
func prepare(b backends.Backend, model *llava.Model, m Method, seed uint64) (llava.Steer, error) {
	switch m.Name {
	case "reft":
		st, err := NewReFTSteer(ReFTBase(model.Config, ""), model.Config.Vision.WithDefaults().NumPatches(), m.ReFT...)
		if err != nil {
			return nil, err
		}
		for _, set := range st.Sets() {
			if err := reft.Init(model.Ctx.In(reftScope), set, reft.InitOptions{Seed: seed, Backend: b}); err != nil {
				return nil, err
			}
		}
		return st, nil
	case "lora":
		cfg := *m.LoRA
		cfg.Seed = seed
		_, err := lora.Apply(model.Ctx, llava.Params(model.Config), cfg)
		return nil, err
	}
	return nil, nil
}

// lossFn is the answer-token loss of nanoLLaVA on a source batch.
func lossFn(c llava.Config, steer llava.Steer) train.LossFn {
	return func(ctx *context.Context, in []*Node) *Node {
		inp := llava.Inputs{TextIDs: in[1], Gather: in[2], Valid: in[3], Positions: in[4]}
		if in[0].Rank() == 3 {
			inp.ImageFeat = in[0]
		} else {
			inp.Pixels = in[0]
		}
		llava.ApplySteer(ctx, steer, &inp, in[8:])
		out := llava.ForwardHidden(ctx, c, inp)
		return llava.AnswerLoss(ctx, c, out.Final, in[5], in[6], in[7])
	}
}

// buckets rounds sequence lengths up to multiples of 16 above the data's
// shortest: a handful of shapes.
func buckets(s *source) []int {
	lo, hi := 1<<30, 0
	for i := range s.Len() {
		lo, hi = min(lo, s.Length(i)), max(hi, s.Length(i))
	}
	var out []int
	for l := (lo + 15) / 16 * 16; ; l += 16 {
		out = append(out, l)
		if l >= hi {
			return out
		}
	}
}

// Images returns the image loaders of xs, for NewFeatureCache.
func Images(xs []cvbench.Example) []func() (image.Image, error) {
	out := make([]func() (image.Image, error), len(xs))
	for i, x := range xs {
		out[i] = x.Image
	}
	return out
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}
