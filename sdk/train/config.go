package train

import (
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
)

// Config holds a run's hyperparameters. Zero values are literal (a zero
// ClipNorm means no clipping): start from DefaultConfig, which carries the
// defaults of Hugging Face's TrainingArguments and torch.optim.AdamW.
type Config struct {
	LR          float64  `json:"lr"`
	Schedule    Schedule `json:"schedule"`
	Epochs      int      `json:"epochs"`    // passes over the data (ignored when MaxSteps > 0)
	MaxSteps    int      `json:"max_steps"` // optimizer steps; 0: Epochs decide
	BatchSize   int      `json:"batch_size"`
	AccumSteps  int      `json:"accum_steps"` // micro-batches per optimizer step (gradient accumulation)
	WeightDecay float64  `json:"weight_decay"`
	// NoDecay lists extra regular expressions (searched in Hugging Face
	// names) of variables weight decay must skip, on top of DefaultNoDecay.
	NoDecay []string `json:"no_decay"`
	Beta1   float64  `json:"beta1"`
	Beta2   float64  `json:"beta2"`
	Eps     float64  `json:"eps"`
	// ClipNorm is the global gradient-norm limit (torch's clip_grad_norm_); 0 disables clipping.
	ClipNorm float64 `json:"clip_norm"`
	// MasterFloat32 keeps bf16 trainable variables as float32 masters (see the package doc).
	MasterFloat32 bool `json:"master_float32"`
	// Seed drives the data order and the context RNG (dropout).
	Seed    uint64 `json:"seed"`
	Shuffle bool   `json:"shuffle"`
	// Buckets are the padded sequence lengths, ascending; a batch is padded
	// to the smallest bucket holding its longest example, so at most
	// len(Buckets) shapes are ever compiled. Empty: powers of two from 16.
	Buckets []int `json:"buckets"`
	// Recompute trains a Stages model block by block, recomputing each
	// block's activations in the backward pass (gradient checkpointing).
	Recompute bool `json:"recompute"`

	// CheckpointDir, with CheckpointEvery > 0 (optimizer steps), enables
	// periodic checkpoints; the final step is always checkpointed then.
	CheckpointDir   string `json:"-"`
	CheckpointEvery int    `json:"-"`
	// KeepCheckpoints is how many checkpoint weight files to keep (at least 1).
	KeepCheckpoints int `json:"-"`

	// Identity names what the run trains on, e.g. {"base_model": ...,
	// "data": ..., "method": ...}: checkpoints record it, and Resume refuses
	// a checkpoint whose identity differs in any key (naming the key and
	// both values), so a run never resumes onto another model or data set.
	Identity map[string]string `json:"identity,omitempty"`

	// Progress receives the progress bar; nil draws none.
	Progress io.Writer `json:"-"`
	// OnStep is called after every optimizer step (e.g. to plot live in a notebook).
	OnStep func(StepInfo) `json:"-"`
}

// DefaultConfig is Hugging Face Trainer's defaults with the paper's shared
// settings: lr 1e-3, one epoch, batch 1, AdamW (0.9, 0.999, 1e-8), no
// weight decay, gradient clipping at 1.0, linear decay without warmup,
// float32 master weights, shuffled data, seed 42, a progress bar on stderr.
func DefaultConfig() Config {
	return Config{LR: 1e-3, Schedule: Schedule{Kind: Linear}, Epochs: 1, BatchSize: 1, AccumSteps: 1,
		Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, ClipNorm: 1, MasterFloat32: true, Seed: 42, Shuffle: true,
		KeepCheckpoints: 1, Progress: os.Stderr}
}

// DefaultNoDecay are the names weight decay skips, after Hugging Face's
// get_decay_parameter_names: biases and every normalisation's parameters
// (LayerNorm, RMSNorm; "layer_norm1", "input_layernorm", "model.norm", ...).
var DefaultNoDecay = []string{`bias`, `layernorm`, `rmsnorm`, `(?:^|[._])norm\d*(?:$|\.)`}

// Validate reports every problem at once.
func (c Config) Validate() error {
	var errs []string
	bad := func(cond bool, format string, args ...any) {
		if cond {
			errs = append(errs, fmt.Sprintf(format, args...))
		}
	}
	bad(c.LR <= 0, "lr must be > 0, got %g", c.LR)
	bad(c.MaxSteps < 0, "max_steps must be >= 0, got %d", c.MaxSteps)
	bad(c.MaxSteps == 0 && c.Epochs <= 0, "epochs must be > 0 when max_steps is 0, got %d", c.Epochs)
	bad(c.BatchSize <= 0, "batch_size must be > 0, got %d", c.BatchSize)
	bad(c.AccumSteps <= 0, "accum_steps must be > 0, got %d", c.AccumSteps)
	bad(c.WeightDecay < 0, "weight_decay must be >= 0, got %g", c.WeightDecay)
	bad(c.Beta1 < 0 || c.Beta1 >= 1, "beta1 must be in [0, 1), got %g", c.Beta1)
	bad(c.Beta2 < 0 || c.Beta2 >= 1, "beta2 must be in [0, 1), got %g", c.Beta2)
	bad(c.Eps <= 0, "eps must be > 0, got %g", c.Eps)
	bad(c.ClipNorm < 0, "clip_norm must be >= 0, got %g", c.ClipNorm)
	bad(c.CheckpointEvery < 0, "checkpoint_every must be >= 0, got %d", c.CheckpointEvery)
	bad(c.CheckpointEvery > 0 && c.CheckpointDir == "", "checkpoint_every is set but checkpoint_dir is empty")
	for i, b := range c.Buckets {
		bad(b <= 0 || (i > 0 && b <= c.Buckets[i-1]), "buckets must be positive and ascending, got %v", c.Buckets)
	}
	if err := c.Schedule.validate(); err != nil {
		errs = append(errs, err.Error())
	}
	for _, re := range c.NoDecay {
		if _, err := regexp.Compile(re); err != nil {
			errs = append(errs, fmt.Sprintf("no_decay %q: %v", re, err))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("train config: %s", strings.Join(errs, "; "))
	}
	return nil
}

// bucket is the padded length for a longest example of n tokens.
func (c Config) bucket(n int) (int, error) {
	if len(c.Buckets) == 0 {
		b := 16
		for b < n {
			b *= 2
		}
		return b, nil
	}
	for _, b := range c.Buckets {
		if n <= b {
			return b, nil
		}
	}
	return 0, fmt.Errorf("an example has %d tokens, more than the largest bucket %d: truncate it or add a bucket",
		n, c.Buckets[len(c.Buckets)-1])
}

// Schedule kinds.
const (
	Constant = "constant" // lr throughout (after any warmup)
	Linear   = "linear"   // linear warmup, then linear decay to 0 at the last step
)

// Schedule multiplies the learning rate by a factor of the optimizer step,
// exactly as transformers' get_constant_schedule_with_warmup and
// get_linear_schedule_with_warmup do: step k (0-based) uses lr·f(k), so with
// warmup the first step has lr 0.
type Schedule struct {
	Kind        string  `json:"kind"`         // Constant or Linear; "" is Constant
	WarmupSteps int     `json:"warmup_steps"` // wins over WarmupRatio
	WarmupRatio float64 `json:"warmup_ratio"` // of the total steps, rounded up
}

func (s Schedule) validate() error {
	if s.Kind != "" && s.Kind != Constant && s.Kind != Linear {
		return fmt.Errorf("schedule kind %q unknown (constant or linear)", s.Kind)
	}
	if s.WarmupSteps < 0 || s.WarmupRatio < 0 || s.WarmupRatio > 1 {
		return fmt.Errorf("warmup steps %d / ratio %g out of range", s.WarmupSteps, s.WarmupRatio)
	}
	return nil
}

func (s Schedule) warmup(total int) int {
	if s.WarmupSteps > 0 {
		return s.WarmupSteps
	}
	w := s.WarmupRatio * float64(total)
	n := int(w)
	if float64(n) < w {
		n++
	}
	return n
}

// Factor is the multiplier of the base lr at 0-based optimizer step of total.
func (s Schedule) Factor(step, total int) float64 {
	w := s.warmup(total)
	if step < w {
		return float64(step) / float64(max(1, w))
	}
	if s.Kind != Linear {
		return 1
	}
	return max(0, float64(total-step)/float64(max(1, total-w)))
}
