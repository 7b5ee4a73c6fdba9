package experiment

import (
	gocontext "context"
	"fmt"
	"image"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/visreft/visreft/sdk/cvbench"
	"github.com/visreft/visreft/sdk/eval"
	"github.com/visreft/visreft/sdk/lora"
	"github.com/visreft/visreft/sdk/models/llava"
	"github.com/visreft/visreft/sdk/progress"
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
	// EvalModes are the evaluation protocols run on the validation split
	// (and the train subset), all stored in the Result; the first is the
	// headline accuracy (ValAccuracy, TrainAccuracy). Default: generation
	// with answer parsing (an unparseable answer counts wrong), then choice
	// likelihood. The paper reports "validation accuracy" of a generative
	// model without naming its protocol; generation is what such a model does.
	EvalModes []eval.Mode
	EvalBatch int
	// EvalMaxNewTokens caps generation in the Generate protocol (default
	// 5: an answer letter "(C)" and the end of turn take 4 tokens; the
	// letter is parsed from whatever comes).
	EvalMaxNewTokens int
	// ComputeDType is the dtype the model computes in: pixels or cached
	// features, embeddings, every frozen matmul, evaluation and generation.
	// Trainable variables keep float32 masters (train.Config.MasterFloat32)
	// and the ReFT interventions compute in float32, as pyreft's do.
	// Zero: float32. See DefaultComputeDType.
	ComputeDType dtypes.DType
	// Features, when set, replaces the vision tower and projector by cached
	// outputs of d.Train's images (same order); Run refuses it for methods
	// that train the tower or projector. ValFeatures is the same for d.Val.
	Features, ValFeatures *FeatureCache
	Seed                  uint64
	// CheckpointDir, when set, makes training checkpoint there every
	// CheckpointEvery optimizer steps (and at the end), and a run that finds
	// a checkpoint there resumes from it: an interrupted run loses at most
	// CheckpointEvery steps and ends with the weights an uninterrupted run has.
	CheckpointDir   string
	CheckpointEvery int
	// Identity (base model, data, method) is written into checkpoints;
	// resuming from a checkpoint of another identity is an error naming
	// what differs (see train.Config.Identity).
	Identity map[string]string
	// SkipEval trains only (benchmarks): the accuracies are NaN.
	SkipEval bool
	// Prefix, when set, trains from cached decoder block outputs of
	// d.Train (see PrefixCache): only for ReFT on decoder block outputs
	// whose lowest intervened layer is at least Prefix.Layer. Evaluation
	// runs the whole model as usual.
	Prefix *PrefixCache
}

// Result is one method's run.
type Result struct {
	Method          string `json:"method"`
	Config          Method `json:"config"`
	TrainableParams int64  `json:"trainable_params"` // as the paper counts them (Table 4)
	// TrainedParams are the parameters the optimizer updates: for the
	// paper's LoRA, TrainableParams less the vision tower's adapters, which
	// nanoLLaVA's reference code leaves at their zero-delta init.
	TrainedParams int64   `json:"trained_params"`
	TotalParams   int64   `json:"total_params"`
	SharePercent  float64 `json:"share_percent"`
	// Setting is what the run computed, in words: compute dtype,
	// recompute, trainable set, template, positions, protocol.
	Setting Setting `json:"setting"`
	// Protocol is the evaluation ValAccuracy and TrainAccuracy come from
	// ("generate" or "likelihood"); the others are in ValByProtocol.
	Protocol      string  `json:"protocol"`
	TrainAccuracy float64 `json:"train_accuracy"` // percent; NaN when not evaluated
	ValAccuracy   float64 `json:"val_accuracy"`   // percent
	// ValByProtocol and TrainByProtocol hold every protocol's accuracy.
	ValByProtocol   map[string]float64 `json:"val_accuracy_by_protocol"`
	TrainByProtocol map[string]float64 `json:"train_accuracy_by_protocol"`
	// ChanceAccuracy is a uniform guess's expected accuracy on the
	// validation split (percent): the mean of 1/choices, about 41.8 % on
	// real CV-Bench, not 25 %.
	ChanceAccuracy float64            `json:"chance_accuracy"`
	Val            map[string]float64 `json:"val_summary"`
	Losses         []float64          `json:"losses"`
	TrainSeconds   float64            `json:"train_seconds"`
	EvalSeconds    float64            `json:"eval_seconds"`
	ExamplesPerSec float64            `json:"examples_per_sec"`
	Compiles       int                `json:"compiles"` // training graphs compiled
	// EvalCompiles are the evaluation graphs compiled, per phase
	// ("likelihood", "prefill", "decode"): at most one per shape bucket and
	// phase over the whole run. EvalCompileSeconds is the wall time of the
	// calls that compiled (compilation plus that call's run).
	EvalCompiles       map[string]int `json:"eval_compiles"`
	EvalCompileSeconds float64        `json:"eval_compile_seconds"`
	// PrefixLayer is the decoder block whose cached output training
	// started from (Options.Prefix), or -1: training ran the whole model.
	PrefixLayer int                     `json:"prefix_layer"`
	Synthetic   bool                    `json:"synthetic"`
	ValResult   *eval.Result            `json:"-"` // the headline protocol's
	ValResults  map[string]*eval.Result `json:"val_results,omitempty"`
	// Model and Steer are the trained model, to generate with or save.
	Model *llava.Model `json:"-"`
	Steer llava.Steer  `json:"-"`
}

// Run trains method m on a fresh model from newModel over d.Train and
// evaluates it on d.Val (and on part of d.Train). Every run starts from
// the same base weights, so runs of a sweep are comparable.
func Run(cctx gocontext.Context, b compute.Backend, newModel func() (*llava.Model, error), d Data, m Method, opt Options) (*Result, error) {
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
	if res.TrainedParams, err = m.TrainedParams(model.Config); err != nil {
		return nil, err
	}
	opt = opt.withDefaults()
	res.Setting = m.Describe(model.Config, d.Prompt, opt.ComputeDType, opt.EvalModes)
	res.Protocol = opt.EvalModes[0].String()
	steer, err := prepare(b, model, m, opt.Seed)
	if err != nil {
		return nil, err
	}
	if (opt.Features != nil || opt.ValFeatures != nil) && !m.VisionFrozen() {
		return nil, fmt.Errorf("experiment: cached image features need a method that leaves the vision tower and projector alone; this %s run changes them", m.Name)
	}
	for _, fc := range []*FeatureCache{opt.Features, opt.ValFeatures} {
		if fc != nil && fc.DType != opt.ComputeDType {
			return nil, fmt.Errorf("experiment: the image features were computed in %s, the run computes in %s", fc.DType, opt.ComputeDType)
		}
	}
	if opt.ValFeatures != nil { // the training features are checked by newSource
		if err := opt.ValFeatures.Check(Images(d.Val)); err != nil {
			return nil, fmt.Errorf("experiment: validation features: %w", err)
		}
	}
	src, err := newSource(model, d.Train, d.Prompt, steer, opt.Features)
	if err != nil {
		return nil, err
	}
	res.PrefixLayer = -1
	if opt.Prefix != nil {
		if err := checkPrefix(opt.Prefix, model.Config, m, src, opt.ComputeDType); err != nil {
			return nil, err
		}
		src.prefix, res.PrefixLayer = opt.Prefix, opt.Prefix.Layer
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
		tcfg.Identity = opt.Identity
	}
	var tr *train.Trainer
	if opt.Prefix != nil {
		tr, err = train.NewStaged(b, model.Ctx, prefixStages(model.Config, steer, opt.ComputeDType, opt.Prefix.Layer), st, src, tcfg)
	} else {
		tr, err = newTrainer(b, model, steer, opt.ComputeDType, st, src, tcfg)
	}
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
	return res, res.evaluate(b, model, steer, d, opt, m.Name, tcfg.Progress)
}

// withDefaults fills in the evaluation and dtype defaults: 5 new tokens,
// generation then likelihood, float32.
func (opt Options) withDefaults() Options {
	if opt.EvalMaxNewTokens <= 0 {
		opt.EvalMaxNewTokens = 5
	}
	if len(opt.EvalModes) == 0 {
		opt.EvalModes = []eval.Mode{eval.Generate, eval.Likelihood}
	}
	if opt.ComputeDType == dtypes.InvalidDType {
		opt.ComputeDType = dtypes.Float32
	}
	return opt
}

// EvaluateBase evaluates model as it is, without fine-tuning, exactly as
// Run evaluates a trained one (same protocols, splits, features and
// compute dtype): the "base" row of Table 5. The model stays the caller's.
func EvaluateBase(b compute.Backend, model *llava.Model, d Data, opt Options, progress io.Writer) (*Result, error) {
	return EvaluateSteered(b, model, nil, "base", d, opt, progress)
}

// EvaluateSteered is EvaluateBase with steer applied (a training-free
// method, e.g. sdk/steer's vectors): a Result named name, nothing trained.
func EvaluateSteered(b compute.Backend, model *llava.Model, steer llava.Steer, name string, d Data, opt Options, progress io.Writer) (*Result, error) {
	d.Prompt = d.PromptOptions()
	opt = opt.withDefaults()
	res := &Result{Method: name, TotalParams: llava.CountParams(model.Config).Total, PrefixLayer: -1,
		Protocol: opt.EvalModes[0].String(), TrainAccuracy: math.NaN(), ValAccuracy: math.NaN(), ExamplesPerSec: math.NaN()}
	return res, res.evaluate(b, model, steer, d, opt, name, progress)
}

// evaluate fills res's accuracies: every protocol on d.Val and on part of
// d.Train (Options.EvalTrain), through one evaluator.
func (res *Result) evaluate(b compute.Backend, model *llava.Model, steer llava.Steer, d Data, opt Options, name string, progressTo io.Writer) error {
	start := time.Now()
	res.ChanceAccuracy = ChanceAccuracy(d.Val)
	res.ValByProtocol, res.TrainByProtocol = map[string]float64{}, map[string]float64{}
	res.ValResults = map[string]*eval.Result{}
	// One evaluator for the run: its graphs compile once per shape bucket
	// and phase, shared by the validation and train evaluations.
	ev := eval.NewEvaluator(b, model, eval.Options{Prompt: d.Prompt, BatchSize: opt.EvalBatch, Steer: steer,
		DType: opt.ComputeDType, MaxNewTokens: opt.EvalMaxNewTokens})
	defer ev.Close()
	bars := func(split string) func() {
		var bar *progress.Bar
		ev.SetProgress(func(done, total int) {
			if bar == nil {
				bar = progress.New(progressTo, fmt.Sprintf("eval %s %s", name, split), total)
			}
			bar.Set(done)
		})
		return func() { bar.Finish() }
	}
	var vf, tf eval.Features // nil unless cached (a nil *FeatureCache is not a nil interface)
	if opt.ValFeatures != nil {
		vf = opt.ValFeatures
	}
	if opt.Features != nil {
		tf = opt.Features
	}
	for _, mode := range opt.EvalModes {
		end := bars("val " + mode.String())
		val, err := ev.Evaluate(d.Val, mode, vf)
		end()
		if err != nil {
			return err
		}
		res.ValResults[mode.String()] = val
		res.ValByProtocol[mode.String()] = val.Summary()["accuracy"]
		if n := opt.EvalTrain; n >= 0 {
			xs := d.Train
			if n > 0 && n < len(xs) {
				xs = xs[:n]
			}
			end := bars("train " + mode.String())
			tr, err := ev.Evaluate(xs, mode, tf)
			end()
			if err != nil {
				return err
			}
			res.TrainByProtocol[mode.String()] = tr.Summary()["accuracy"]
		}
	}
	val := res.ValResults[res.Protocol]
	res.ValResult, res.Val = val, val.Summary()
	res.ValAccuracy, res.Synthetic = res.Val["accuracy"], val.Scores.Synthetic
	if v, ok := res.TrainByProtocol[res.Protocol]; ok {
		res.TrainAccuracy = v
	}
	res.EvalSeconds = time.Since(start).Seconds()
	res.EvalCompiles, res.EvalCompileSeconds = ev.Builds(), ev.CompileSeconds
	return nil
}

// prepare adds the method's variables to a fresh model and returns its
// Steer (ReFT) or nil.
func prepare(b compute.Backend, model *llava.Model, m Method, seed uint64) (llava.Steer, error) {
	switch m.Name {
	case "reft":
		st, err := NewReFTSteer(ReFTBase(model.Config, ""), model.Config.Vision.WithDefaults().NumPatches(), m.ReFT...)
		if err != nil {
			return nil, err
		}
		for _, set := range st.Sets() {
			if err := reft.Init(model.Ctx.At(reftScope), set, reft.InitOptions{Seed: seed, Backend: b}); err != nil {
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

// lossFn is the answer-token loss of nanoLLaVA on a source batch, computed
// in dtype dt (the pixels or features are converted on entry).
func lossFn(c llava.Config, steer llava.Steer, dt dtypes.DType) train.LossFn {
	return func(scope *model.Scope, in []*Node) *Node {
		inp := batchInputs(in, dt)
		llava.ApplySteer(scope, steer, &inp, in[8:])
		out := llava.ForwardHidden(scope, c, inp)
		return llava.AnswerLoss(scope, c, out.Final, in[5], in[6], in[7])
	}
}

// batchInputs reads a source batch's model inputs (see source.Batch for
// the layout), computing in dt.
func batchInputs(in []*Node, dt dtypes.DType) llava.Inputs {
	inp := llava.Inputs{TextIDs: in[1], Gather: in[2], Valid: in[3], Positions: in[4], DType: dt}
	inp.SetVision(in[0])
	return inp
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

// ChanceAccuracy is the expected accuracy (percent) of a uniform guess
// among each example's choices: the level "no information" scores.
func ChanceAccuracy(xs []cvbench.Example) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := 0.0
	for _, x := range xs {
		s += 1 / float64(max(len(x.Choices), 1))
	}
	return 100 * s / float64(len(xs))
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

// DefaultComputeDType is the compute dtype a run uses unless told: the
// checkpoint's dtype (config.json's torch_dtype, bfloat16 for nanoLLaVA) on
// a GPU, as the paper's bf16 mixed precision does; float32 anywhere else,
// since GoMLX's pure-Go backend rounds every bf16 result toward zero and a
// CPU gains nothing from bf16. float16 checkpoints compute in float32
// (GoMLX v0.26.0's float16 crashes). It returns the dtype and why.
func DefaultComputeDType(gpu bool, torchDType string) (dtypes.DType, string) {
	if !gpu {
		why := "float32 off the GPU (the pure-Go backend truncates bf16; a CPU gains nothing from it)"
		if on, _ := DefaultComputeDType(true, torchDType); on != dtypes.Float32 {
			why += "; on a GPU: " + DTypeName(on) + ", the checkpoint's dtype"
		}
		return dtypes.Float32, why
	}
	switch strings.ToLower(torchDType) {
	case "bfloat16", "bf16":
		return dtypes.BFloat16, "the checkpoint's dtype (bfloat16) on the GPU: the paper's bf16 mixed precision"
	case "float16", "fp16", "half":
		return dtypes.Float32, "float32: the checkpoint is float16, which GoMLX v0.26.0 cannot compute in"
	}
	return dtypes.Float32, "the checkpoint's dtype (float32) on the GPU"
}

// DTypeName is a dtype as results and checkpoints spell it: "float32",
// "bfloat16" (torch's and config.json's spelling).
func DTypeName(dt dtypes.DType) string { return strings.ToLower(dt.String()) }

// ParseComputeDType reads a compute dtype name: "bf16"/"bfloat16",
// "f32"/"float32", or "" / "auto" (zero: the default applies).
func ParseComputeDType(s string) (dtypes.DType, error) {
	switch strings.ToLower(s) {
	case "", "auto":
		return dtypes.InvalidDType, nil
	case "bf16", "bfloat16":
		return dtypes.BFloat16, nil
	case "f32", "float32", "fp32":
		return dtypes.Float32, nil
	}
	return dtypes.InvalidDType, fmt.Errorf("compute dtype %q is none of auto, bfloat16, float32", s)
}
