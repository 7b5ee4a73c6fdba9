package train

import (
	stdctx "context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
)

// LossFn builds the scalar training loss of one batch (the inputs a
// Source's Batch returned, in order) over the model held in scope, whose
// scope paths are Hugging Face names. It must be a float scalar.
type LossFn func(scope *model.Scope, batch []*Node) *Node

// StepInfo describes one finished optimizer step, for the progress bar and
// the OnStep hook.
type StepInfo struct {
	Step, TotalSteps int // Step counts finished steps, from 1
	Epoch            int
	Loss             float64 // mean over the step's micro-batches
	GradNorm         float64 // global norm before clipping
	LR               float64 // the rate the step used
	Examples         int64   // examples seen so far (padding rows not counted)
	ExamplesPerSec   float64 // over this Run, compilation included
	Elapsed          time.Duration
	Shapes           int // distinct batch shapes met so far (each compiled once per executable)
}

// Result summarises a Run.
type Result struct {
	Steps          int
	Examples       int64
	Loss           float64   // the last step's
	Losses         []float64 // every step's, from step 1 (restored on resume)
	Elapsed        time.Duration
	ExamplesPerSec float64
	Shapes         []string // distinct batch shapes, e.g. "[2 16] [2 16] ..."
	Compiles       int      // graphs compiled, over all executables
}

// Trainer runs one training configuration. It is not safe for concurrent use.
type Trainer struct {
	backend  compute.Backend
	scope    *model.Scope
	loss     LossFn
	stages   *Stages
	strategy Strategy
	match    *matcher
	decay    decayRule
	data     Source
	cfg      Config
	order    *order

	vars      []*trainVar
	byKey     map[string]*trainVar
	origDType map[string]dtypes.DType

	fused, grad, apply *model.Exec
	rc                 *recompute

	step     int
	examples int64
	losses   []float64
	shapes   map[string]bool
	compiles map[string]bool
	ckptPath string
	ckptStep int
}

// New prepares a run of loss over data with strategy on the model held in
// scope. It marks every variable of scope trainable or frozen by strategy,
// turns trained bf16 variables into float32 masters (Config.MasterFloat32)
// and seeds the context RNG with Config.Seed. Nothing is compiled yet.
func New(b compute.Backend, scope *model.Scope, loss LossFn, strategy Strategy, data Source, cfg Config) (*Trainer, error) {
	if loss == nil {
		return nil, errors.New("train: no loss function")
	}
	if cfg.Recompute {
		return nil, errors.New("train: Recompute needs a model split in Stages: use NewStaged")
	}
	return newTrainer(b, scope, loss, nil, strategy, data, cfg)
}

func newTrainer(b compute.Backend, scope *model.Scope, loss LossFn, st *Stages, strategy Strategy, data Source, cfg Config) (*Trainer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if data == nil || data.Len() == 0 {
		return nil, errors.New("train: no training examples")
	}
	m, err := strategy.matcher()
	if err != nil {
		return nil, err
	}
	d, err := newDecayRule(cfg)
	if err != nil {
		return nil, err
	}
	if cfg.KeepCheckpoints < 1 {
		cfg.KeepCheckpoints = 1
	}
	t := &Trainer{backend: b, scope: scope, loss: loss, stages: st, strategy: strategy, match: m, decay: d, data: data, cfg: cfg,
		order: &order{n: data.Len(), batch: cfg.BatchSize, shuffle: cfg.Shuffle, seed: cfg.Seed},
		byKey: map[string]*trainVar{}, origDType: map[string]dtypes.DType{},
		shapes: map[string]bool{}, compiles: map[string]bool{}}
	t.mark()
	if cfg.MasterFloat32 {
		for v := range scope.IterVariables() {
			if v.Trainable && !internal(v) && (v.DType() == dtypes.BFloat16 || v.DType() == dtypes.Float16) {
				if err := toFloat32(v); err != nil {
					return nil, fmt.Errorf("train: %s: %w", hfName(v), err)
				}
				t.origDType[varKey(v)] = dtypes.BFloat16
			}
		}
	}
	if err := scope.Store().SetRNGStateFromSeed(int64(cfg.Seed)); err != nil {
		return nil, fmt.Errorf("train: seeding the RNG: %w", err)
	}
	return t, nil
}

// totalMicro is the number of micro-batches of the whole run.
func (t *Trainer) totalMicro() int {
	if t.cfg.MaxSteps > 0 {
		return t.cfg.MaxSteps * t.cfg.AccumSteps
	}
	return t.cfg.Epochs * t.order.perEpoch()
}

// TotalSteps is the number of optimizer steps of the whole run.
func (t *Trainer) TotalSteps() int {
	return (t.totalMicro() + t.cfg.AccumSteps - 1) / t.cfg.AccumSteps
}

// Step is the number of optimizer steps done (restored by Resume).
func (t *Trainer) Step() int { return t.step }

// Run trains until the last step, or until cctx is cancelled (then it
// returns an error wrapping cctx.Err() that names the last checkpoint; a
// new Trainer can Resume from it), or until a loss or gradient is not
// finite (a *NonFiniteError). Run may be called again after an interruption.
func (t *Trainer) Run(cctx stdctx.Context) (Result, error) {
	if err := t.zeroAccumulators(); err != nil {
		return t.result(0, 0), err
	}
	total := t.TotalSteps()
	bar := newBar(t.cfg.Progress, t.strategy.Name, total)
	defer bar.finish()
	start, startExamples := time.Now(), t.examples
	for t.step < total {
		if err := cctx.Err(); err != nil {
			return t.result(time.Since(start), startExamples), t.interrupted(err)
		}
		seen := t.examples
		info, err := t.trainStep(cctx)
		if err != nil {
			t.examples = seen // the step is redone from its start
			return t.result(time.Since(start), startExamples), err
		}
		t.step++
		t.losses = append(t.losses, info.Loss)
		info.Step, info.TotalSteps, info.Shapes = t.step, total, len(t.shapes)
		info.Examples, info.Elapsed = t.examples, time.Since(start)
		info.ExamplesPerSec = float64(t.examples-startExamples) / info.Elapsed.Seconds()
		if t.cfg.CheckpointEvery > 0 && (t.step%t.cfg.CheckpointEvery == 0 || t.step == total) {
			if err := t.Checkpoint(t.cfg.CheckpointDir); err != nil {
				return t.result(time.Since(start), startExamples), err
			}
		}
		bar.update(info)
		if t.cfg.OnStep != nil {
			t.cfg.OnStep(info)
		}
	}
	return t.result(time.Since(start), startExamples), nil
}

func (t *Trainer) result(elapsed time.Duration, startExamples int64) Result {
	r := Result{Steps: t.step, Examples: t.examples, Losses: append([]float64(nil), t.losses...), Elapsed: elapsed,
		Compiles: len(t.compiles)}
	if len(t.losses) > 0 {
		r.Loss = t.losses[len(t.losses)-1]
	}
	if elapsed > 0 {
		r.ExamplesPerSec = float64(t.examples-startExamples) / elapsed.Seconds()
	}
	for s := range t.shapes {
		r.Shapes = append(r.Shapes, s)
	}
	sort.Strings(r.Shapes)
	return r
}

func (t *Trainer) interrupted(cause error) error {
	where := "no checkpoint was written"
	if t.ckptPath != "" {
		where = fmt.Sprintf("the last checkpoint is step %d in %s", t.ckptStep, t.ckptPath)
	}
	return fmt.Errorf("train: interrupted after step %d (%s): %w", t.step, where, cause)
}

// NonFiniteError stops a run whose loss or gradient norm is NaN or Inf.
// The failed step changed nothing: the weights in memory are those after
// step Step-1, and no checkpoint was written over the last good one.
type NonFiniteError struct {
	Step           int     // the failed step, from 1
	Loss, GradNorm float64 // what was seen (GradNorm NaN when the loss already failed)
	Checkpoint     string  // the last good checkpoint's directory, "" if none
	CheckpointStep int
}

func (e *NonFiniteError) Error() string {
	kept := "no checkpoint had been written"
	if e.Checkpoint != "" {
		kept = fmt.Sprintf("the last good checkpoint (step %d) is kept in %s", e.CheckpointStep, e.Checkpoint)
	}
	return fmt.Sprintf("train: step %d: loss %v, gradient norm %v: not finite, training stopped; "+
		"the weights are left as after step %d and %s", e.Step, e.Loss, e.GradNorm, e.Step-1, kept)
}

func (t *Trainer) nonFinite(loss, norm float64) error {
	return &NonFiniteError{Step: t.step + 1, Loss: loss, GradNorm: norm, Checkpoint: t.ckptPath, CheckpointStep: t.ckptStep}
}
