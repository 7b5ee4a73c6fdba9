package paper

import (
	gocontext "context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/visreft/visreft/sdk/backend"
	"github.com/visreft/visreft/sdk/cvbench"
	"github.com/visreft/visreft/sdk/demo"
	"github.com/visreft/visreft/sdk/eval"
	"github.com/visreft/visreft/sdk/experiment"
	"github.com/visreft/visreft/sdk/hub"
	"github.com/visreft/visreft/sdk/models/llava"
	"github.com/visreft/visreft/sdk/plot"
	"github.com/visreft/visreft/sdk/progress"
	"github.com/visreft/visreft/sdk/train"
)

// Setup is what the experiments run on.
type Setup struct {
	Preset    string
	Backend   compute.Backend
	Choice    backend.Choice
	NewModel  func() (*llava.Model, error)
	Data      experiment.Data
	Synthetic bool // synthetic data or random weights: every output says so
	// Provenance says in words what the model and the data are, for every
	// figure and results file ("random weights, synthetic ...").
	Provenance string
	Ranks      []int // Figure 4's ranks
	LayerRank  int   // Figure 5's rank
	Lowest     []int // Figure 5's lowest intervened layers, top layer first
	NumLayers  int
	EvalTrain  int       // training examples scored for train accuracy (0: all)
	Progress   io.Writer // training progress bars (nil: none)
	// CheckpointRoot, when set, gives every run a checkpoint folder under it
	// (named by the method's configuration), so an interrupted experiment
	// resumes where it stopped.
	CheckpointRoot string
	// ComputeDType is the runs' compute dtype and DTypeReason why it was
	// chosen (VISREFT_COMPUTE_DTYPE, or experiment.DefaultComputeDType).
	ComputeDType dtypes.DType
	DTypeReason  string
	// EvalModes are the evaluation protocols, headline first (generation,
	// then choice likelihood).
	EvalModes []eval.Mode
	// TorchDType is the base checkpoint's stored dtype (config.json).
	TorchDType string
	// ID is what the results are made from (preset, base model, data):
	// reproduce/ keeps results and checkpoints under ID.Dir().
	ID RunIdentity
	// OtherModel is set when the preset runs a model other than its own
	// (VISREFT_DEMO_MODEL for "demo", VISREFT_MODEL for "paper"): its
	// figures get a folder of their own (FiguresDir), so they never
	// overwrite the preset's.
	OtherModel bool
	// RunsDir, when set, stores every finished run's result
	// (<key>.json) and serves it to later calls: a sweep spread over
	// shards, or re-drawn, trains nothing twice.
	RunsDir string
	// Shard limits training to this process's share of AllRuns; NoTrain
	// trains nothing (figures from stored runs). Runs left out are listed
	// in Missing.
	// OnStep, if set, sees every optimizer step of every run the setup
	// trains, with the run's key (e.g. to draw live loss curves).
	OnStep  func(runKey string, info train.StepInfo)
	Shard   Shard
	NoTrain bool
	Missing []string
	// PrefixCache makes ReFT runs on decoder block outputs train from a
	// shared frozen-prefix cache (experiment.PrefixCache; same numbers,
	// less compute); PrefixBlocks counts the decoder blocks the caches have
	// run per training example so far, all caches together. On unless VISREFT_PREFIX_CACHE=0.
	PrefixCache       bool
	PrefixBlocks      int
	features, valFeat *experiment.FeatureCache
	prefix            *experiment.PrefixCache
	shared            sharedBase
	// NoSharedBase makes every run load its own base model (NewModel)
	// instead of sharing one (see Shared).
	NoSharedBase bool
	baseConfig   llava.Config
	tune         func(*experiment.Method)
	blank        *Setup // the blanked-image control's setup (Blanked)
}

// PromptFromEnv is the prompt template: the paper's
// ("<|user|>: {prompt}\n<|assistant|>: {response}") unless VISREFT_TEMPLATE
// says "chatml" (nanoLLaVA's model-card template); and the answer form:
// the correct choice's letter "(C)", as the paper trains, unless
// VISREFT_TARGET says "text" (the choice's text, "3").
func PromptFromEnv() (cvbench.PromptOptions, error) {
	var p cvbench.PromptOptions
	switch v := os.Getenv("VISREFT_TEMPLATE"); v {
	case "", "paper":
		p.Format = cvbench.PromptPaper
	case "chatml":
		p.Format = cvbench.PromptChatML
	default:
		return p, fmt.Errorf("VISREFT_TEMPLATE=%q is neither \"paper\" nor \"chatml\"", v)
	}
	switch v := os.Getenv("VISREFT_TARGET"); v {
	case "", "letter":
		p.Target = cvbench.TargetLetter
	case "text":
		p.Target = cvbench.TargetText
	default:
		return p, fmt.Errorf("VISREFT_TARGET=%q is neither \"letter\" nor \"text\"", v)
	}
	return p, nil
}

// PresetFromEnv is VISREFT_PRESET, "demo" when unset.
func PresetFromEnv() string {
	if p := os.Getenv("VISREFT_PRESET"); p != "" {
		return p
	}
	return "demo"
}

// Presets are the presets NewSetup builds.
var Presets = []string{"demo", "paper", "random"}

// NewSetup builds a preset. quick shrinks the demo preset further (fewer
// examples and sweep points) for notebooks executed in CI; it never
// applies to "paper". "paper" reads nanoLLaVA and CV-Bench from local
// folders named by VISREFT_MODEL / VISREFT_CVBENCH, the hub cache, or the
// hub; VISREFT_MODEL=random gives nanoLLaVA's architecture with random
// weights and VISREFT_CVBENCH=synthetic a full-size synthetic set (both
// labelled synthetic), so the paper's shapes run without the downloads.
func NewSetup(preset string, quick bool) (*Setup, error) {
	b, choice, err := backend.New()
	if err != nil {
		return nil, err
	}
	s := &Setup{Preset: preset, Backend: b, Choice: choice, LayerRank: 6, Progress: os.Stderr,
		EvalModes: defaultEvalModes()}
	prompt, err := PromptFromEnv()
	if err != nil {
		return nil, err
	}
	var ds *cvbench.Dataset
	dataName := ""
	layerStep := 1
	valFraction := cvbench.DefaultValFraction
	switch preset {
	case "demo":
		// visreft-mini: a nanoLLaVA-architecture model pretrained by visreft
		// on synthetic scenes, never on CV-Bench-format questions.
		if ds, err = demo.DataOf(demo.PresetDataOptions); err != nil {
			return nil, err
		}
		s.NewModel = demo.MiniModel
		s.OtherModel = os.Getenv(demo.EnvMiniModel) != ""
		dataName = "synthetic-demo"
		valFraction = demo.PresetValFraction
		s.Synthetic, s.Ranks, s.EvalTrain = true, []int{1, 4, 12}, 16
		layerStep = 2 // Figure 5 at every other lowest layer: 4 of 8
		s.Provenance = "visreft-mini (pretrained by visreft on synthetic scenes), synthetic CV-Bench-format data"
		// Batch 4 instead of the paper's 1: on a CPU per-op costs dominate a
		// step of a model this small, and batching amortises them.
		s.tune = func(m *experiment.Method) { m.Train.BatchSize = 4 }
	case "random":
		// A random-weight nanoLLaVA-architecture model on the small set:
		// for speed tests of the pipeline, not for results.
		if ds, err = demo.Data(); err != nil {
			return nil, err
		}
		s.NewModel = func() (*llava.Model, error) { return demo.Model(1) }
		dataName = "synthetic-small"
		s.Synthetic, s.Ranks, s.EvalTrain = true, []int{4, 6, 8, 10, 12, 14}, 16
		s.Provenance = "random weights, synthetic CV-Bench-format data"
		// Batch 4: the vocabulary-wide LM head dominates a CPU step, and
		// batching amortises it.
		s.tune = func(m *experiment.Method) { m.Train.BatchSize = 4 }
	case "paper":
		modelID, dataID := envOr("VISREFT_MODEL", llava.HubID), envOr("VISREFT_CVBENCH", cvbench.HubID)
		s.OtherModel = modelID != llava.HubID
		if ds, err = paperData(dataID); err != nil {
			return nil, err
		}
		dataName = dataID
		if dataID == "synthetic" {
			dataName = "synthetic-fullsize"
		}
		if modelID == "random" {
			// nanoLLaVA's full architecture with random weights: for speed
			// and memory runs on a GPU without the checkpoint.
			s.Synthetic = true
			s.NewModel = func() (*llava.Model, error) {
				tok, err := demo.Tokenizer()
				if err != nil {
					return nil, err
				}
				return llava.NewRandom(llava.NanoLLaVA(), 1, tok)
			}
		} else {
			s.NewModel = func() (*llava.Model, error) {
				return llava.Load(gocontext.Background(), modelID, llava.LoadOptions{Download: true, Tokenizer: demo.TokenizerPath()})
			}
		}
		s.Ranks = []int{4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14}
		s.tune = func(*experiment.Method) {}
	default:
		return nil, fmt.Errorf("preset %q is not one of %s", preset, strings.Join(Presets, ", "))
	}
	done := progress.Step(s.Progress, "building the base model ("+preset+" preset)")
	m, err := s.NewModel()
	if err != nil {
		return nil, err
	}
	done()
	s.NumLayers, s.TorchDType, s.baseConfig = m.Config.NumHiddenLayers, m.Config.TorchDType, m.Config
	if s.PrefixCache, err = PrefixCacheFromEnv(); err != nil {
		return nil, err
	}
	if s.ComputeDType, s.DTypeReason, err = computeDType(choice.GPU, s.TorchDType); err != nil {
		return nil, err
	}
	for k := s.NumLayers - 1; k >= 0; k-- {
		if k%layerStep == 0 {
			s.Lowest = append(s.Lowest, k)
		}
	}
	train, val := ds.Split(cvbench.SplitOptions{Seed: 0, ValFraction: valFraction})
	if quick && preset != "paper" {
		train, val = perTask(train, 8), perTask(val, 4)
		s.Ranks, s.EvalTrain = []int{4, 12}, 8
		s.Lowest = s.Lowest[:min(2, len(s.Lowest))]
	}
	s.Data = experiment.Data{Train: train, Val: val, Prompt: prompt}
	s.ID = RunIdentity{Preset: preset, Data: dataName, DataHash: dataHash(train, val)}
	if s.ID.Model, s.ID.ModelHash, err = modelIdentity(m, 1); err != nil {
		return nil, err
	}
	s.Synthetic = s.Synthetic || ds.Examples[0].Synthetic()
	if s.Provenance == "" {
		s.Provenance = paperProvenance(s.ID.Model, m.Dir == "", ds.Examples[0].Synthetic())
	}
	return s, nil
}

// perTask keeps the first n examples of each task, in order: a cut-down
// split that still asks every kind of question (Figure 1 scans depth).
func perTask(xs []cvbench.Example, n int) []cvbench.Example {
	seen := map[cvbench.Task]int{}
	var out []cvbench.Example
	for _, x := range xs {
		if seen[x.Task] < n {
			seen[x.Task]++
			out = append(out, x)
		}
	}
	return out
}

// paperProvenance says what the paper preset's model and data are.
func paperProvenance(model string, random, synthetic bool) string {
	m := model
	if random {
		m = "random weights (nanoLLaVA's architecture)"
	}
	d := "CV-Bench"
	if synthetic {
		d = "synthetic CV-Bench-format data"
	}
	return m + ", " + d
}

// paperData is CV-Bench from a folder, the hub cache or the hub; "synthetic"
// generates a full-size synthetic set (2,638 rows at 384 px, cached) instead.
func paperData(id string) (*cvbench.Dataset, error) {
	if id != "synthetic" {
		return cvbench.Open(gocontext.Background(), id, hub.DefaultOptions(), true)
	}
	dir := filepath.Join(demo.CacheDir(), fmt.Sprintf("cvbench-synthetic-fullsize-v%d-s1", cvbench.GeneratorVersion))
	if _, err := os.Stat(filepath.Join(dir, "test_3d.parquet")); err != nil {
		if err := cvbench.Generate(dir, cvbench.GenerateOptions{Seed: 1, Counts: cvbench.CVBenchCounts, ImageSize: 384}); err != nil {
			return nil, err
		}
	}
	return cvbench.LoadDir(dir)
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// Run trains and evaluates one method on the preset (ReFT runs share one
// cache of image features: the tower and projector are frozen for them).
//
// With RunsDir set, a run stored there is returned without training (its
// Model is nil then); a run of another shard, or any run with NoTrain,
// returns a *MissingRunError.
func (s *Setup) Run(m experiment.Method) (*experiment.Result, error) {
	key, err := s.RunKey(m)
	if err != nil {
		return nil, err
	}
	if r, ok, err := s.storedRun(key); ok || err != nil {
		return r, err
	}
	if s.NoTrain {
		return nil, &MissingRunError{key, "not trained yet (figures only draw stored runs)"}
	}
	if mine, err := s.owns(key); err != nil || !mine {
		if err == nil {
			err = &MissingRunError{key, "trained by another shard than " + s.Shard.String()}
		}
		return nil, err
	}
	s.tune(&m)
	m.Train.Progress = s.Progress
	if s.OnStep != nil {
		m.Train.OnStep = func(info train.StepInfo) { s.OnStep(key, info) }
	}
	opt := experiment.Options{EvalTrain: s.EvalTrain, Seed: 1, ComputeDType: s.ComputeDType, EvalModes: s.EvalModes}
	if s.CheckpointRoot != "" {
		opt.CheckpointDir = filepath.Join(s.CheckpointRoot, key)
		opt.CheckpointEvery = 50
		opt.Identity = s.ID.Map()
		opt.Identity["method"] = key
		opt.Identity["compute_dtype"] = experiment.DTypeName(s.ComputeDType)
	}
	if m.VisionFrozen() {
		if err := s.featureCaches(); err != nil {
			return nil, err
		}
		opt.Features, opt.ValFeatures = s.features, s.valFeat
		if opt.Prefix, err = s.prefixFor(m); err != nil {
			return nil, err
		}
	}
	r, err := experiment.Run(gocontext.Background(), s.Backend, s.newModelFor(m), s.Data, m, opt)
	if err != nil {
		return nil, err
	}
	return r, s.storeRun(key, r)
}

// featureCaches computes the training and validation images' features
// once per Setup, in the compute dtype.
func (s *Setup) featureCaches() error {
	if s.features != nil {
		return nil
	}
	model, err := s.Shared()
	if err != nil {
		return err
	}
	o := experiment.FeatureOptions{DType: s.ComputeDType, Progress: s.Progress, Name: "train features"}
	if s.features, err = experiment.NewFeatureCacheWith(s.Backend, model, experiment.Images(s.Data.Train), o); err != nil {
		return err
	}
	o.Name = "val features"
	s.valFeat, err = experiment.NewFeatureCacheWith(s.Backend, model, experiment.Images(s.Data.Val), o)
	return err
}

// computeDType is VISREFT_COMPUTE_DTYPE or the default for the device.
func computeDType(gpu bool, torchDType string) (dtypes.DType, string, error) {
	v := os.Getenv("VISREFT_COMPUTE_DTYPE")
	dt, err := experiment.ParseComputeDType(v)
	if err != nil {
		return dt, "", fmt.Errorf("VISREFT_COMPUTE_DTYPE: %w", err)
	}
	if dt != dtypes.InvalidDType {
		return dt, "VISREFT_COMPUTE_DTYPE=" + v, nil
	}
	dt, why := experiment.DefaultComputeDType(gpu, torchDType)
	return dt, why, nil
}

// FigureOptions titles a figure and labels synthetic runs, the protocol
// and the chance level.
func (s *Setup) FigureOptions(title string) plot.Options {
	preset := s.Preset
	if s.Synthetic {
		preset += " (" + s.Provenance + ")"
	}
	return plot.Options{Title: title, Synthetic: s.Synthetic, Provenance: s.Provenance, ModelLayers: s.NumLayers,
		Note: fmt.Sprintf("visreft, preset %s, %s, %s, backend %s; %s", preset,
			s.Data.PromptOptions().Format.String()+" template, "+experiment.AnswerForm(s.Data.PromptOptions()),
			experiment.DTypeName(s.ComputeDType), s.Choice.Config, s.ProtocolNote())}
}

// ProtocolNote says which evaluation the headline accuracies are and what
// chance is on the validation split.
func (s *Setup) ProtocolNote() string {
	p := "accuracy by generation (answer parsed, unparseable counts wrong)"
	if len(s.EvalModes) > 0 && s.EvalModes[0] == eval.Likelihood {
		p = "accuracy by choice likelihood"
	}
	return fmt.Sprintf("%s; chance %.1f %%", p, experiment.ChanceAccuracy(s.Data.Val))
}

// DataInfo describes the split for results files.
func (s *Setup) DataInfo() map[string]any {
	return map[string]any{"train": len(s.Data.Train), "val": len(s.Data.Val), "synthetic": s.Synthetic,
		"split": "seed 0, 20 % validation"}
}

// RecordConfig is what results files record about the setup: data,
// template, compute dtype (and why), protocols and the choices the paper
// leaves open.
func (s *Setup) RecordConfig() map[string]any {
	var modes []string
	for _, m := range s.EvalModes {
		modes = append(modes, m.String())
	}
	return map[string]any{"data": s.DataInfo(), "template": experiment.TemplateName(s.Data.PromptOptions()),
		"answer_form":   experiment.AnswerForm(s.Data.PromptOptions()),
		"compute_dtype": experiment.DTypeName(s.ComputeDType), "compute_dtype_reason": s.DTypeReason,
		"protocols": modes, "chance_accuracy": experiment.ChanceAccuracy(s.Data.Val),
		"choices": PaperSilentChoices, "prefix_cache": s.PrefixCache}
}

// PaperSilentChoices are the settings the paper does not state, each with
// what its tools would have done by default and so what visreft does.
var PaperSilentChoices = map[string]string{
	"image_in_template":   "the paper's template has no image slot: <image> opens the user turn on its own line, as LLaVA's conversation templates put it",
	"end_of_response":     "the response ends with the tokenizer's eos (<|im_end|> for nanoLLaVA), as pyreft's supervised data modules append tokenizer.eos_token",
	"protocol":            "\"validation accuracy\" of a generative model: greedy generation with the letter parsed (unparseable counts wrong) is the headline; choice likelihood is stored beside it",
	"compute_dtype":       "bf16 mixed precision (HF Trainer bf16=True): the frozen model computes in bf16, trainable parameters keep float32 masters, LoReFT's rotation stays float32 as in pyreft",
	"lora_tower_adapters": "PEFT's suffix match puts adapters on SigLIP's q/v too (counted in the 0.17 %), but nanoLLaVA runs the tower under no_grad, so they stay at their zero init",
	"recompute":           "gradient checkpointing for full fine-tuning per decoder block, as transformers' gradient_checkpointing_enable does",
	"schedule":            "HF Trainer defaults: linear decay without warmup, AdamW (0.9, 0.999, 1e-8), gradient clipping at 1.0",
}

// defaultEvalModes: generation with answer parsing is the headline (the
// paper's "validation accuracy" of a generative model), choice likelihood
// is stored beside it.
func defaultEvalModes() []eval.Mode { return []eval.Mode{eval.Generate, eval.Likelihood} }
