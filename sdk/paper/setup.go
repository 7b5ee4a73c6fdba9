// Package paper runs the experiments of "Representation Fine-Tuning for
// Vision-Language Models" (Table 4, Table 5, Figures 4, 5 and 1) on a
// preset: "demo" (a small random-weight nanoLLaVA-architecture model on
// synthetic CV-Bench-format data, CPU minutes) or "paper" (nanoLLaVA and
// CV-Bench, GPU). reproduce/ and the notebooks are thin shells over it.
package paper

import (
	gocontext "context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/gomlx/gomlx/backends"
	"github.com/visreft/visreft/sdk/backend"
	"github.com/visreft/visreft/sdk/cvbench"
	"github.com/visreft/visreft/sdk/demo"
	"github.com/visreft/visreft/sdk/experiment"
	"github.com/visreft/visreft/sdk/hub"
	"github.com/visreft/visreft/sdk/models/llava"
	"github.com/visreft/visreft/sdk/plot"
)

// Setup is what the experiments run on.
type Setup struct {
	Preset    string
	Backend   backends.Backend
	Choice    backend.Choice
	NewModel  func() (*llava.Model, error)
	Data      experiment.Data
	Synthetic bool  // synthetic data or random weights: every output says so
	Ranks     []int // Figure 4's ranks
	LayerRank int   // Figure 5's rank
	Lowest    []int // Figure 5's lowest intervened layers, top layer first
	NumLayers int
	EvalTrain int       // training examples scored for train accuracy (0: all)
	Progress  io.Writer // training progress bars (nil: none)
	// CheckpointRoot, when set, gives every run a checkpoint folder under it
	// (named by the method's configuration), so an interrupted experiment
	// resumes where it stopped.
	CheckpointRoot string
	features       *experiment.FeatureCache
	tune           func(*experiment.Method)
}

// PresetFromEnv is VISREFT_PRESET, "demo" when unset.
func PresetFromEnv() string {
	if p := os.Getenv("VISREFT_PRESET"); p != "" {
		return p
	}
	return "demo"
}

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
	s := &Setup{Preset: preset, Backend: b, Choice: choice, LayerRank: 6, Progress: os.Stderr}
	var ds *cvbench.Dataset
	switch preset {
	case "demo":
		if ds, err = demo.Data(); err != nil {
			return nil, err
		}
		s.NewModel = func() (*llava.Model, error) { return demo.Model(1) }
		s.Synthetic, s.Ranks, s.EvalTrain = true, []int{4, 6, 8, 10, 12, 14}, 16
		// Batch 4 instead of the paper's 1: on a CPU the vocabulary-wide LM
		// head dominates a step, and batching amortises it.
		s.tune = func(m *experiment.Method) { m.Train.BatchSize = 4 }
	case "paper":
		modelID, dataID := envOr("VISREFT_MODEL", llava.HubID), envOr("VISREFT_CVBENCH", cvbench.HubID)
		if ds, err = paperData(dataID); err != nil {
			return nil, err
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
		return nil, fmt.Errorf("preset %q is neither \"demo\" nor \"paper\"", preset)
	}
	m, err := s.NewModel()
	if err != nil {
		return nil, err
	}
	s.NumLayers = m.Config.NumHiddenLayers
	for k := s.NumLayers - 1; k >= 0; k-- {
		s.Lowest = append(s.Lowest, k)
	}
	train, val := ds.Split(cvbench.SplitOptions{Seed: 0, ValFraction: 0.2})
	if quick && preset == "demo" {
		train, val = train[:32], val[:16]
		s.Ranks, s.EvalTrain = []int{4, 12}, 8
		s.Lowest = s.Lowest[:min(2, len(s.Lowest))]
	}
	s.Data = experiment.Data{Train: train, Val: val}
	s.Synthetic = s.Synthetic || ds.Examples[0].Synthetic()
	return s, nil
}

// paperData is CV-Bench from a folder, the hub cache or the hub; "synthetic"
// generates a full-size synthetic set (2,638 rows at 384 px, cached) instead.
func paperData(id string) (*cvbench.Dataset, error) {
	if id != "synthetic" {
		return cvbench.Open(gocontext.Background(), id, hub.DefaultOptions(), true)
	}
	dir := filepath.Join(demo.CacheDir(), "cvbench-synthetic-fullsize-s1")
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
func (s *Setup) Run(m experiment.Method) (*experiment.Result, error) {
	s.tune(&m)
	m.Train.Progress = s.Progress
	opt := experiment.Options{EvalTrain: s.EvalTrain, Seed: 1}
	if s.CheckpointRoot != "" {
		key, err := json.Marshal(m)
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(append(key, s.Preset...))
		opt.CheckpointDir = filepath.Join(s.CheckpointRoot, fmt.Sprintf("%s-%x", m.Name, sum[:6]))
		opt.CheckpointEvery = 50
	}
	if m.VisionFrozen() {
		fc, err := s.featureCache()
		if err != nil {
			return nil, err
		}
		opt.Features = fc
	}
	return experiment.Run(gocontext.Background(), s.Backend, s.NewModel, s.Data, m, opt)
}

// featureCache computes the training images' features once per Setup.
func (s *Setup) featureCache() (*experiment.FeatureCache, error) {
	if s.features == nil {
		model, err := s.NewModel()
		if err != nil {
			return nil, err
		}
		if s.features, err = experiment.NewFeatureCache(s.Backend, model, experiment.Images(s.Data.Train), 8,
			experiment.DefaultFeatureBudget); err != nil {
			return nil, err
		}
	}
	return s.features, nil
}

// FigureOptions titles a figure and labels synthetic runs.
func (s *Setup) FigureOptions(title string) plot.Options {
	preset := "paper"
	if s.Synthetic {
		preset = "demo (random weights, synthetic CV-Bench-format data)"
	}
	return plot.Options{Title: title, Synthetic: s.Synthetic,
		Note: fmt.Sprintf("visreft, preset %s, backend %s", preset, s.Choice.Config)}
}

// DataInfo describes the split for results files.
func (s *Setup) DataInfo() map[string]any {
	return map[string]any{"train": len(s.Data.Train), "val": len(s.Data.Val), "synthetic": s.Synthetic,
		"split": "seed 0, 20 % validation"}
}
