package experiment

import (
	"bufio"
	gocontext "context"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/visreft/visreft/sdk/lora"
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
	// ComputeDType is the run's compute dtype (see Options.ComputeDType).
	ComputeDType dtypes.DType
	// Progress receives the training bar of the timed run (the first step
	// includes compilation); nil draws none.
	Progress io.Writer
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
func Bench(cctx gocontext.Context, b compute.Backend, newModel func() (*llava.Model, error), d Data, m Method, opt BenchOptions) (*BenchResult, error) {
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
	m.Train.Progress, m.Train.CheckpointDir, m.Train.CheckpointEvery = opt.Progress, "", 0
	var marks []time.Duration
	m.Train.OnStep = func(info train.StepInfo) { marks = append(marks, info.Elapsed) }
	features := opt.Features
	if !m.VisionFrozen() {
		features = nil
	}
	ResetPeakRSS()
	res, err := Run(cctx, b, newModel, d, m, Options{Features: features, SkipEval: true, Seed: 1, ComputeDType: opt.ComputeDType})
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
		FirstStep: marks[0].Seconds(), PeakRSS: PeakRSS(), TrainableParams: res.TrainableParams, Compiles: res.Compiles}
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

// ResetPeakRSS resets the kernel's resident-set high-water mark of this
// process (Linux: writing 5 to /proc/self/clear_refs); elsewhere it does
// nothing and peakRSS reports the process's lifetime peak or 0.
func ResetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// PeakRSS is VmHWM from /proc/self/status in bytes, or 0 where unavailable.
func PeakRSS() int64 {
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
// targetTokens scored answer tokens (the LM head runs at those only). It
// counts the arithmetic the gradient needs (what MFU conventionally counts),
// from the trainable variables' places, without running anything.
//
// Costs. Forward: every matmul (2 FLOPs per multiply-add) and, per block,
// the attention's two T×T products (QKᵀ and PV). Backward through a block,
// from its output gradient: a matmul Y = XWᵀ costs its forward again for the
// input gradient dX = dY·W and again for the weight gradient dW = dYᵀX, each
// only when needed; the attention core's backward is up to four T×T
// products, dV = Pᵀ·dO, dP = dO·Vᵀ, dQ = dS·K and dK = dSᵀ·Q (dS being the
// softmax backward of dP), each only when needed.
//
// What is needed follows from where the trained variables sit. The loss's
// gradient runs down from the LM head; it must reach every trained variable
// and need go no lower than the lowest one:
//
//   - A block with nothing trained in it or below it needs no backward at
//     all. A block with something trained below it passes the gradient to
//     its input: all its input gradients (matmuls once, attention twice).
//   - ReFT on block outputs: an intervention on block k's output sits
//     between block k and block k+1. Its gradient is the gradient at block
//     k's output, so with lowest intervened block k the gradient passes
//     through blocks k+1..L-1 only: L-k-1 blocks, not L-k. Block k itself
//     needs no backward (nothing trained in it, nothing below it), nor does
//     anything under it. So ReFT on all 24 layers backpropagates through
//     23 blocks, on layers 18-23 through 5, on layer 23 alone through none
//     (only the head's input gradient). The intervention's own arithmetic is
//     left out; autodiff computes full-sequence input gradients although only
//     the intervened positions' rows of block k+1's are used, and that is
//     what is counted.
//   - ReFT on the projector output sits at the decoder's input: all L blocks
//     pass the gradient down, the projector and tower need none. On the
//     tower's block j output: tower blocks j+1.., the projector's input
//     gradients and all L decoder blocks.
//   - LoRA: the trained adapters sit inside the blocks (the paper's q_proj
//     and v_proj of every layer). Blocks above the lowest adapted block pass
//     the gradient down; the lowest one (block 0) needs the gradient only
//     down to its adapted modules' outputs: its MLP's input gradients (to
//     reach the attention output through the residual), o_proj's input
//     gradient, and of the attention core dV (for v_proj) and dP and dQ (for
//     q_proj) but not dK, and none of q/k/v_proj's input gradients. The
//     adapters' own arithmetic (rank 8) is left out. With the tower's
//     adapters frozen (the paper's code runs the tower under no_grad), no
//     gradient enters the projector or the tower; with LoRATrainTower it
//     does, down to the tower's block 0 in the same way.
//   - Full fine-tuning: trained weights get their weight gradients too (every
//     matmul twice in the decoder, the LM head twice). Block 0 passes the
//     gradient to its input because the token embeddings and the projector
//     below it train; the projector needs both weight gradients and its
//     second Linear's input gradient (to reach the first), but not the first
//     Linear's input gradient (the frozen tower is below).
//
// Norms, biases, activations, softmax, adapters and interventions are left
// out (under 1 % for the paper's configurations). Cached features (the
// projected image features) skip the tower and projector forward; they are
// an error for a method that trains through the vision side.
func TrainFLOPs(c llava.Config, m Method, textTokens, targetTokens float64, cachedFeatures bool) (FLOPs, error) {
	q := c.Config.WithDefaults()
	v := c.Vision.WithDefaults()
	P := float64(v.NumPatches())
	T := P + textTokens
	h, hd := float64(q.HiddenSize), float64(q.HeadDim)
	qDim, kvDim, inter := float64(q.NumAttentionHeads)*hd, float64(q.NumKeyValueHeads)*hd, float64(q.IntermediateSize)
	llm := blockCost{q: 2 * T * h * qDim, k: 2 * T * h * kvDim, v: 2 * T * h * kvDim, o: 2 * T * qDim * h,
		gate: 2 * T * h * inter, up: 2 * T * h * inter, down: 2 * T * inter * h, att: 2 * T * T * qDim}
	head := 2 * targetTokens * h * float64(q.VocabSize)
	hv, iv := float64(v.HiddenSize), float64(v.IntermediateSize)
	vis := blockCost{q: 2 * P * hv * hv, k: 2 * P * hv * hv, v: 2 * P * hv * hv, o: 2 * P * hv * hv,
		up: 2 * P * hv * iv, down: 2 * P * iv * hv, att: 2 * P * P * hv}
	patch := 2 * P * float64(v.NumChannels*v.PatchSize*v.PatchSize) * hv
	proj1, proj2 := 2*P*float64(c.MMHiddenSize)*h, 2*P*h*h
	L, Lv := q.NumHiddenLayers, v.LayersKept

	var f FLOPs
	f.LLMForward = float64(L)*llm.forward() + head
	if !cachedFeatures {
		f.VisionForward, f.ProjectorForward = float64(Lv)*vis.forward()+patch, proj1+proj2
	}
	t, err := trainedPlaces(c, m)
	if err != nil {
		return f, err
	}
	if cachedFeatures && t.vision() {
		return f, fmt.Errorf("experiment: method %q trains through the vision side, so its features cannot be cached", m.Name)
	}
	// Decoder, from the top down.
	if t.llm.any() {
		f.Backward += head // the head's input gradient: something trains below it
	}
	if t.headWeights {
		f.Backward += head
	}
	for i := range L {
		f.Backward += llm.backward(t.llm.inputNeeded(i), t.llm.blocks[i].out) + llm.weightGrads(t.llm.blocks[i].weights)
	}
	// Projector: Linear 0 (mm -> h), GELU, Linear 2 (h -> h).
	p := t.proj
	if p.weights[0] {
		f.Backward += proj1
	}
	if p.weights[1] {
		f.Backward += proj2
	}
	if t.vision() || p.out[0] {
		f.Backward += proj2 // Linear 2's input gradient reaches Linear 0 (and the tower)
	}
	if t.vision() {
		f.Backward += proj1 // Linear 0's input gradient reaches the tower
	}
	// Tower.
	for i := range Lv {
		f.Backward += vis.backward(t.tower.inputNeeded(i), t.tower.blocks[i].out) + vis.weightGrads(t.tower.blocks[i].weights)
	}
	if t.tower.bottom && t.patchWeights {
		f.Backward += patch
	}
	return f, nil
}

// blockCost is one transformer block's forward arithmetic per example: each
// projection's matmul (gate is 0 for SigLIP, whose fc1 is up and fc2 down)
// and att, one of the attention core's T×T products (2·T²·width).
type blockCost struct {
	q, k, v, o, gate, up, down float64
	att                        float64
}

func (b blockCost) forward() float64 { return b.q + b.k + b.v + b.o + b.gate + b.up + b.down + 2*b.att }

// Module kinds inside a block, for blockPlaces: the projections, and the
// norms before the attention (norm1) and before the MLP (norm2).
const (
	kq, kk, kv, ko, kgate, kup, kdown, knorm1, knorm2 = 0, 1, 2, 3, 4, 5, 6, 7, 8
	nKinds                                            = 9
)

// backward is the block's backward arithmetic when the gradient is needed
// at its input (in) and at the outputs of the modules marked in out (those
// with a trained weight, bias or adapter). Weight gradients are apart
// (weightGrads).
func (b blockCost) backward(in bool, out [nKinds]bool) float64 {
	qkvIn := in || out[knorm1] // q/k/v_proj's input gradients
	needQ, needK, needV := qkvIn || out[kq], qkvIn || out[kk], qkvIn || out[kv]
	attn := needQ || needK || needV
	x1 := attn || out[ko] || out[knorm2] // the residual after attention: the MLP's input gradients
	mid := x1 || out[kgate] || out[kup]  // gate/up outputs: down_proj's input gradient
	var f float64
	if mid {
		f += b.down
	}
	if x1 {
		f += b.gate + b.up
	}
	if attn {
		f += b.o
	}
	if needV {
		f += b.att // dV
	}
	if needQ || needK {
		f += b.att // dP
	}
	if needQ {
		f += b.att // dQ
	}
	if needK {
		f += b.att // dK
	}
	if qkvIn {
		f += b.q + b.k + b.v
	}
	return f
}

// weightGrads is the weight-gradient arithmetic of the block's fully trained
// projections.
func (b blockCost) weightGrads(w [nKinds]bool) float64 {
	var f float64
	for k, c := range []float64{b.q, b.k, b.v, b.o, b.gate, b.up, b.down} {
		if w[k] {
			f += c
		}
	}
	return f
}

// blockPlaces is what trains inside one block: out marks the modules whose
// output gradient is needed, weights the projections whose weight gradient
// is computed (full fine-tuning; adapters' are left out).
type blockPlaces struct {
	out, weights [nKinds]bool
}

// stackPlaces is what trains in a stack of blocks (decoder or tower).
type stackPlaces struct {
	blocks []blockPlaces
	// sites are the stream positions with an intervention: position i is
	// block i's input, i.e. block i-1's output.
	sites []int
	// bottom: something under block 0 trains (embeddings, or for the
	// decoder the projector or tower), so block 0's input gradient is needed.
	bottom bool
}

func (s stackPlaces) any() bool {
	if s.bottom || len(s.sites) > 0 {
		return true
	}
	for _, b := range s.blocks {
		if b.out != ([nKinds]bool{}) {
			return true
		}
	}
	return false
}

// inputNeeded reports whether block i must pass the gradient to its input:
// something trains below it (an intervention at or under its input, a
// trained module in a lower block, or whatever bottom stands for).
func (s stackPlaces) inputNeeded(i int) bool {
	if s.bottom {
		return true
	}
	for _, p := range s.sites {
		if p <= i {
			return true
		}
	}
	for j := range min(i, len(s.blocks)) {
		if s.blocks[j].out != ([nKinds]bool{}) {
			return true
		}
	}
	return false
}

// places is where method m's trained variables sit in model c.
type places struct {
	llm, tower   stackPlaces
	proj         struct{ out, weights [2]bool } // the projector's Linears 0 and 2
	projSite     bool                           // an intervention on the projector output
	headWeights  bool                           // lm_head trains
	patchWeights bool                           // the patch embedding's weight trains
}

func (t places) projector() bool { return t.projSite || t.proj.out[0] || t.proj.out[1] }
func (t places) vision() bool    { return t.tower.any() }

// moduleKinds maps a module's name inside a block to its kind (Qwen2 and
// SigLIP names).
var moduleKinds = map[string]int{
	"self_attn.q_proj": kq, "self_attn.k_proj": kk, "self_attn.v_proj": kv,
	"self_attn.o_proj": ko, "self_attn.out_proj": ko,
	"mlp.gate_proj": kgate, "mlp.up_proj": kup, "mlp.fc1": kup, "mlp.down_proj": kdown, "mlp.fc2": kdown,
	"input_layernorm": knorm1, "layer_norm1": knorm1, "post_attention_layernorm": knorm2, "layer_norm2": knorm2,
}

// trainedPlaces finds where m's trained variables sit: ReFT's sites from its
// specs, LoRA's trained adapters from its targets and the method's training
// strategy, full fine-tuning's trained weights from the strategy and the
// model's parameter list.
func trainedPlaces(c llava.Config, m Method) (places, error) {
	q, v := c.Config.WithDefaults(), c.Vision.WithDefaults()
	t := places{llm: stackPlaces{blocks: make([]blockPlaces, q.NumHiddenLayers)},
		tower: stackPlaces{blocks: make([]blockPlaces, v.LayersKept)}}
	// mark records a trained variable of module (its name without
	// ".weight"/".bias"); weight says its weight gradient is computed.
	mark := func(module string, weight bool) {
		switch {
		case module == "lm_head":
			t.headWeights = t.headWeights || weight
		case strings.HasSuffix(module, "embed_tokens"):
			t.llm.bottom = true
		case strings.Contains(module, "mm_projector."):
			i := 0
			if strings.HasSuffix(module, ".2") {
				i = 1
			}
			t.proj.out[i], t.proj.weights[i] = true, t.proj.weights[i] || weight
		case strings.Contains(module, "patch_embedding") || strings.Contains(module, "position_embedding"):
			t.tower.bottom = true
			t.patchWeights = t.patchWeights || (weight && strings.Contains(module, "patch_embedding"))
		default:
			st, rest := &t.llm, ""
			if _, r, ok := strings.Cut(module, "encoder.layers."); ok {
				st, rest = &t.tower, r
			} else if _, r, ok := strings.Cut(module, "model.layers."); ok {
				rest = r
			} else {
				return // final norms: the head's input gradient is counted anyway
			}
			num, name, _ := strings.Cut(rest, ".")
			i, err := strconv.Atoi(num)
			k, known := moduleKinds[name]
			if err != nil || !known || i >= len(st.blocks) {
				return
			}
			st.blocks[i].out[k] = true
			st.blocks[i].weights[k] = st.blocks[i].weights[k] || (weight && k < knorm1)
		}
	}
	switch m.Name {
	case "reft":
		for _, sp := range m.ReFT {
			switch sp.Component {
			case "", reft.BlockOutput, reft.VisionBlockOutput:
				st := &t.llm
				if sp.Component == reft.VisionBlockOutput {
					st = &t.tower
				}
				layers, err := reft.ParseLayers(sp.Layers, len(st.blocks))
				if err != nil {
					return t, err
				}
				for _, l := range layers {
					st.sites = append(st.sites, l+1) // block l's output is block l+1's input
				}
			case reft.ProjectorOutput:
				t.projSite = true
			default:
				return t, fmt.Errorf("experiment: no FLOPs model for ReFT component %q", sp.Component)
			}
		}
	case "lora":
		if m.LoRA == nil {
			return t, fmt.Errorf("experiment: method lora without a LoRA config")
		}
		st, err := m.strategy()
		if err != nil {
			return t, err
		}
		targets, err := lora.Targets(llava.Params(c), *m.LoRA)
		if err != nil {
			return t, err
		}
		for _, tg := range targets {
			if ok, err := st.Trains(tg.Module + ".lora_A"); err != nil {
				return t, err
			} else if ok {
				mark(tg.Module, false)
			}
		}
	case "full":
		st, err := m.strategy()
		if err != nil {
			return t, err
		}
		for _, p := range llava.Params(c) {
			ok, err := st.Trains(p.Name)
			if err != nil {
				return t, err
			}
			if module, isWeight := strings.CutSuffix(p.Name, ".weight"); ok && isWeight {
				mark(module, len(p.Dims) >= 2)
			} else if ok {
				mark(strings.TrimSuffix(p.Name, ".bias"), false)
			}
		}
	default:
		return t, fmt.Errorf("experiment: no FLOPs model for method %q", m.Name)
	}
	if t.vision() || t.projector() {
		t.llm.bottom = true
	}
	return t, nil
}
