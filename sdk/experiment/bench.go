package experiment

import (
	"bufio"
	gocontext "context"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gomlx/gomlx/backends"
	"github.com/visreft/visreft/sdk/models/llava"
	"github.com/visreft/visreft/sdk/reft"
	"github.com/visreft/visreft/sdk/train"
)

// BenchOptions tune Bench.
type BenchOptions struct {
	Batch  int // examples per optimizer step
	Warmup int // steps run before timing (the first compiles the graphs); default 2
	Steps  int // timed steps; default 8
	// Features are cached image features, used for methods that leave the
	// vision tower and projector frozen (nil: pixels every step).
	Features *FeatureCache
	// PeakFLOPs is the device's peak FLOP/s in the compute dtype, for the
	// model FLOPs utilisation (0: unknown, MFU is 0).
	PeakFLOPs float64
}

// BenchResult is one method's training speed at one batch size.
type BenchResult struct {
	Method          string  `json:"method"`
	Batch           int     `json:"batch"`
	FeaturesCached  bool    `json:"features_cached"`
	Warmup          int     `json:"warmup_steps"`
	Steps           int     `json:"timed_steps"`
	ExamplesPerSec  float64 `json:"examples_per_sec"`    // over the timed steps (compilation excluded)
	StepSeconds     float64 `json:"median_step_seconds"` // median timed step
	FirstStep       float64 `json:"first_step_seconds"`  // compilation included
	SeqLen          float64 `json:"mean_seq_len"`        // image + text tokens per example
	FLOPsPerExample float64 `json:"flops_per_example"`   // see TrainFLOPs
	AchievedTFLOPs  float64 `json:"achieved_tflops"`
	MFU             float64 `json:"mfu"` // 0 when the peak is unknown
	PeakRSS         int64   `json:"peak_host_rss_bytes"`
	TrainableParams int64   `json:"trainable_params"`
	Compiles        int     `json:"compiles"`
}

// Bench times training steps of method m on the first examples of d.Train:
// Warmup steps, then Steps timed ones. The learning rate is lowered to
// 1e-6 (speed does not depend on it, and random-weight models stay finite);
// nothing is evaluated. The process's peak resident memory is reset before
// the run where Linux allows it (/proc/self/clear_refs) and read after.
func Bench(cctx gocontext.Context, b backends.Backend, newModel func() (*llava.Model, error), d Data, m Method, opt BenchOptions) (*BenchResult, error) {
	if opt.Batch <= 0 {
		opt.Batch = 1
	}
	if opt.Warmup <= 0 {
		opt.Warmup = 2
	}
	if opt.Steps <= 0 {
		opt.Steps = 8
	}
	total := opt.Warmup + opt.Steps
	if n := opt.Batch * total; len(d.Train) > n {
		d.Train = d.Train[:n]
	}
	m.Train.BatchSize, m.Train.AccumSteps, m.Train.MaxSteps, m.Train.LR = opt.Batch, 1, total, 1e-6
	m.Train.Progress, m.Train.CheckpointDir, m.Train.CheckpointEvery = nil, "", 0
	var marks []time.Duration
	m.Train.OnStep = func(info train.StepInfo) { marks = append(marks, info.Elapsed) }
	features := opt.Features
	if !m.VisionFrozen() {
		features = nil
	}
	resetPeakRSS()
	res, err := Run(cctx, b, newModel, d, m, Options{Features: features, SkipEval: true, Seed: 1})
	if err != nil {
		return nil, err
	}
	if len(marks) != total {
		return nil, fmt.Errorf("experiment: bench ran %d steps, want %d", len(marks), total)
	}
	steps := make([]float64, 0, opt.Steps)
	for i := opt.Warmup; i < total; i++ {
		steps = append(steps, (marks[i] - marks[i-1]).Seconds())
	}
	timed := (marks[total-1] - marks[opt.Warmup-1]).Seconds()
	out := &BenchResult{Method: m.Name, Batch: opt.Batch, FeaturesCached: features != nil, Warmup: opt.Warmup,
		Steps: opt.Steps, ExamplesPerSec: float64(opt.Steps*opt.Batch) / timed, StepSeconds: median(steps),
		FirstStep: marks[0].Seconds(), PeakRSS: peakRSS(), TrainableParams: res.TrainableParams, Compiles: res.Compiles}
	src, err := newSource(res.Model, d.Train, d.PromptOptions(), nil, nil)
	if err != nil {
		return nil, err
	}
	text, targets := 0, 0
	for _, sm := range src.samples {
		text += len(sm.IDs) - 1
		for _, t := range sm.Target {
			if t {
				targets++
			}
		}
	}
	n := float64(len(src.samples))
	out.SeqLen = float64(src.nImage) + float64(text)/n
	fl, err := TrainFLOPs(res.Model.Config, m, float64(text)/n, float64(targets)/n, features != nil)
	if err != nil {
		return nil, err
	}
	out.FLOPsPerExample = fl.Total()
	out.AchievedTFLOPs = out.FLOPsPerExample * out.ExamplesPerSec / 1e12
	if opt.PeakFLOPs > 0 {
		out.MFU = out.FLOPsPerExample * out.ExamplesPerSec / opt.PeakFLOPs
	}
	return out, nil
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s) == 0 {
		return math.NaN()
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// resetPeakRSS resets the kernel's resident-set high-water mark of this
// process (Linux: writing 5 to /proc/self/clear_refs); elsewhere it does
// nothing and peakRSS reports the process's lifetime peak or 0.
func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// peakRSS is VmHWM from /proc/self/status in bytes, or 0 where unavailable.
func peakRSS() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			fields := strings.Fields(rest)
			if len(fields) == 2 && fields[1] == "kB" {
				kb, err := strconv.ParseInt(fields[0], 10, 64)
				if err == nil {
					return kb * 1024
				}
			}
		}
	}
	return 0
}

// FLOPs is a training step's arithmetic per example, by part, counting a
// multiply-add as 2 FLOPs: matmuls (weights x activations) and attention
// (scores and weighted sums over the full, unmasked sequence, as computed).
type FLOPs struct {
	VisionForward, ProjectorForward, LLMForward float64
	Backward                                    float64
}

// Total is the sum of the parts.
func (f FLOPs) Total() float64 {
	return f.VisionForward + f.ProjectorForward + f.LLMForward + f.Backward
}

// TrainFLOPs estimates one example's training FLOPs for method m with
// textTokens text tokens (the image adds the tower's patches) and
// targetTokens scored answer tokens (the LM head runs at those only).
// Backward through a frozen part costs its matmuls once (input gradients)
// and its attention twice; through a trained part, its matmuls twice
// (input and weight gradients) and its attention twice. Which parts need a
// backward pass follows from the method: ReFT from its lowest intervened
// decoder layer up (and the vision side when it intervenes there), LoRA
// through everything (PEFT's q_proj/v_proj match reaches the tower), full
// fine-tuning through the decoder and the projector. Adapter and
// intervention arithmetic, norms and activations are left out (under 1 %
// for the paper's configurations).
func TrainFLOPs(c llava.Config, m Method, textTokens, targetTokens float64, cachedFeatures bool) (FLOPs, error) {
	q := c.Config.WithDefaults()
	v := c.Vision.WithDefaults()
	P := float64(v.NumPatches())
	T := P + textTokens
	h, hd := float64(q.HiddenSize), float64(q.HeadDim)
	qDim, kvDim := float64(q.NumAttentionHeads)*hd, float64(q.NumKeyValueHeads)*hd
	llmMat := 2 * T * (h*qDim + 2*h*kvDim + qDim*h + 3*h*float64(q.IntermediateSize)) // per layer
	llmAtt := 2 * 2 * T * T * qDim                                                    // per layer
	head := 2 * targetTokens * h * float64(q.VocabSize)
	hv := float64(v.HiddenSize)
	visMat := 2 * P * (4*hv*hv + 2*hv*float64(v.IntermediateSize))
	visAtt := 2 * 2 * P * P * hv
	patch := 2 * P * float64(v.NumChannels*v.PatchSize*v.PatchSize) * hv
	proj := 2 * P * (float64(c.MMHiddenSize)*h + h*h)
	L, Lv := float64(q.NumHiddenLayers), float64(v.LayersKept)

	var f FLOPs
	f.LLMForward = L*(llmMat+llmAtt) + head
	if !cachedFeatures {
		f.VisionForward, f.ProjectorForward = Lv*(visMat+visAtt)+patch, proj
	}
	frozen := func(layers, mat, att float64) float64 { return layers * (mat + 2*att) }
	switch m.Name {
	case "reft":
		lowest, vision := q.NumHiddenLayers, false
		for _, sp := range m.ReFT {
			if sp.Component != "" && sp.Component != reft.BlockOutput {
				vision = true
				continue
			}
			layers, err := reft.ParseLayers(sp.Layers, q.NumHiddenLayers)
			if err != nil {
				return f, err
			}
			lowest = min(lowest, slices.Min(layers))
		}
		llmLayers := L - float64(lowest)
		if vision { // gradients reach the tower through every decoder layer
			llmLayers = L
		}
		f.Backward = frozen(llmLayers, llmMat, llmAtt) + head
		if vision {
			f.Backward += proj + frozen(Lv, visMat, visAtt)
		}
	case "lora":
		f.Backward = frozen(L, llmMat, llmAtt) + head + proj + frozen(Lv, visMat, visAtt)
	case "full":
		f.Backward = L*(2*llmMat+2*llmAtt) + 2*head + 2*proj
	default:
		return f, fmt.Errorf("experiment: no FLOPs model for method %q", m.Name)
	}
	return f, nil
}
