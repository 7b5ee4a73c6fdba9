package llava

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/visreft/visreft/sdk/models/qwen2"
	"github.com/visreft/visreft/sdk/nn"
)

// Phase tells a generation hook whether it runs on the prompt or on a
// generated token.
type Phase int

// Generation phases.
const (
	Prefill Phase = iota // the whole prompt, once
	Decode               // one new token per step
)

// GenerateOptions tune Generate.
type GenerateOptions struct {
	MaxNewTokens int
	Temperature  float64 // 0: greedy
	TopK         int     // with Temperature > 0: sample among the k most likely (0: all)
	Seed         uint64
	StopIDs      []int // a row stops after producing one of these (e.g. <|im_end|>)
	DType        dtypes.DType
	// Hook builds the decoder hook for a phase inside the graph, from the
	// extra inputs given for that phase (nil: no hook in that phase).
	// ReFT applies its interventions in Prefill only, as pyreft does, or in
	// both phases to intervene on every generated token.
	Hook         func(scope *model.Scope, phase Phase, extra []*Node) qwen2.Hook
	PrefillExtra []any // extra graph inputs for the Prefill hook (or Steer)
	// Steer, if set, is applied to the prompt (prefill) with ApplySteer, its
	// Inputs given as PrefillExtra: pyreft's behaviour. It replaces Hook's
	// Prefill phase, and a DecodeSteer's DecodeHook replaces its Decode phase.
	Steer       Steer
	DecodeExtra func(step int) []any
	// OnBuild, if set, is called each time a phase's graph is built (once
	// per input shape: each call is one compilation).
	OnBuild func(Phase)
}

// String names the phase: "prefill" or "decode".
func (p Phase) String() string {
	if p == Decode {
		return "decode"
	}
	return "prefill"
}

// Generator holds the compiled prefill and decode graphs of one model and
// option set, so that repeated calls (an evaluation loop) compile once per
// shape instead of once per call.
type Generator struct {
	m               *Model
	opt             GenerateOptions
	prefill, decode *model.Exec
	nPre, nDec      int
}

// NewGenerator prepares generation with opt; the graphs compile on first use.
// nPrefillExtra and nDecodeExtra are how many extra inputs the hook takes.
func NewGenerator(b compute.Backend, m *Model, opt GenerateOptions, nPrefillExtra, nDecodeExtra int) *Generator {
	if opt.DType == dtypes.InvalidDType {
		opt.DType = dtypes.Float32
	}
	gen := &Generator{m: m, opt: opt, nPre: nPrefillExtra, nDec: nDecodeExtra}
	c := m.Config.Config.WithDefaults()
	cacheOf := func(in []*Node, writeAt *Node) *qwen2.Cache {
		cache := &qwen2.Cache{}
		for l := range c.NumHiddenLayers {
			cache.Layers = append(cache.Layers, qwen2.LayerCache{K: in[2*l], V: in[2*l+1], WriteAt: writeAt})
		}
		return cache
	}
	outputs := func(logits *Node, cache *qwen2.Cache) []*Node {
		last := logits.Shape().Dimensions[1] - 1
		res := []*Node{ConvertDType(Squeeze(Slice(logits, AxisRange(), AxisElem(last), AxisRange()), 1), dtypes.Float32)}
		for _, lc := range cache.Layers {
			res = append(res, lc.K, lc.V)
		}
		return res
	}
	// prefill inputs: pixels, text ids, gather, valid, positions, writeAt, keyValid, extra..., caches...
	built := func(p Phase) {
		if opt.OnBuild != nil {
			opt.OnBuild(p)
		}
	}
	gen.prefill = model.MustNewExec(b, m.Ctx.Store(), func(scope *model.Scope, in []*Node) []*Node {
		built(Prefill)
		g := in[0].Graph()
		// in[0]: pixels [b, 3, H, W], or cached image features [b, n, hidden];
		// either is converted to opt.DType, the compute dtype.
		inp := Inputs{TextIDs: in[1], Gather: in[2], Valid: in[3], Positions: in[4], DType: opt.DType}
		inp.SetVision(in[0])
		if opt.Steer != nil {
			ApplySteer(scope, opt.Steer, &inp, in[7:7+gen.nPre])
		} else if opt.Hook != nil {
			inp.Hook = opt.Hook(scope, Prefill, in[7:7+gen.nPre])
		}
		cache := cacheOf(in[7+gen.nPre:], in[5])
		qIdx := Iota(g, in[4].Shape(), 1)
		kIdx := Iota(g, shapes.Make(dtypes.Int32, in[6].Shape().Dimensions...), 1)
		out := qwen2.Decoder(scope, m.Config.Config, qwen2.Input{Embeds: Embeds(scope, m.Config, inp), Positions: inp.Positions,
			Mask: nn.CausalPaddingMask(qIdx, kIdx, in[6]), Cache: cache, Hook: inp.Hook})
		return outputs(qwen2.LMHead(scope, m.Config.Config, out.Final), cache)
	})
	// decode inputs: token, position, writeAt, keyValid, extra..., caches...
	gen.decode = model.MustNewExec(b, m.Ctx.Store(), func(scope *model.Scope, in []*Node) []*Node {
		built(Decode)
		g := in[0].Graph()
		var hook qwen2.Hook
		if ds, ok := opt.Steer.(DecodeSteer); ok {
			hook = ds.DecodeHook(scope)
		} else if opt.Hook != nil {
			hook = opt.Hook(scope, Decode, in[4:4+gen.nDec])
		}
		cache := cacheOf(in[4+gen.nDec:], in[2])
		qIdx := Add(Iota(g, in[1].Shape(), 1), ConvertDType(in[2], dtypes.Int32))
		kIdx := Iota(g, shapes.Make(dtypes.Int32, in[3].Shape().Dimensions...), 1)
		out := qwen2.Decoder(scope, m.Config.Config, qwen2.Input{Embeds: qwen2.Embed(scope, m.Config.Config, in[0], opt.DType),
			Positions: in[1], Mask: nn.CausalPaddingMask(qIdx, kIdx, in[3]), Cache: cache, Hook: hook})
		return outputs(qwen2.LMHead(scope, m.Config.Config, out.Final), cache)
	})
	return gen
}

// Close frees the compiled graphs.
func (gen *Generator) Close() { gen.prefill.Finalize(); gen.decode.Finalize() }

// Generate continues a batch of prompts (a Layout of samples without
// targets) with the key/value cache: one compiled prefill, one compiled
// decode step. Returns the new ids of each row, stop id included.
func Generate(b compute.Backend, m *Model, bt Batch, pixels *tensors.Tensor, opt GenerateOptions) ([][]int, error) {
	nDec := 0
	if opt.DecodeExtra != nil {
		nDec = len(opt.DecodeExtra(0))
	}
	gen := NewGenerator(b, m, opt, len(opt.PrefillExtra), nDec)
	defer gen.Close()
	return gen.Run(bt, pixels, opt.PrefillExtra)
}

// Run generates for one batch; prefillExtra are the hook's inputs for it.
func (gen *Generator) Run(bt Batch, pixels *tensors.Tensor, prefillExtra []any) ([][]int, error) {
	opt, c := gen.opt, gen.m.Config.Config.WithDefaults()
	batch, L := len(bt.Valid), bt.Length
	maxLen := L + opt.MaxNewTokens
	zeros := tensors.FromShape(shapes.Make(opt.DType, batch, c.NumKeyValueHeads, maxLen, c.HeadDim))
	keyValid := make([][]bool, batch)
	nextPos := make([]int32, batch)
	for i := range batch {
		keyValid[i] = make([]bool, maxLen)
		copy(keyValid[i], bt.Valid[i])
		nextPos[i] = bt.Positions[i][L-1] + 1
	}
	caches := make([]any, 2*c.NumHiddenLayers)
	for i := range caches {
		caches[i] = zeros
	}
	args := append([]any{pixels, bt.TextIDs, bt.Gather, bt.Valid, bt.Positions, int32(0), keyValid}, prefillExtra...)
	out, err := gen.prefill.Exec(append(args, caches...)...)
	if err != nil {
		return nil, fmt.Errorf("llava: prefill: %w", err)
	}
	r := rand.New(rand.NewPCG(opt.Seed, 0x6e6))
	result := make([][]int, batch)
	done := make([]bool, batch)
	for step := range opt.MaxNewTokens {
		logits := tensors.MustCopyFlatData[float32](out[0])
		vocab := len(logits) / batch
		tokens := make([][]int32, batch)
		positions := make([][]int32, batch)
		for i := range batch {
			id := pick(logits[i*vocab:(i+1)*vocab], opt.Temperature, opt.TopK, r)
			if !done[i] {
				result[i] = append(result[i], id)
				done[i] = slices.Contains(opt.StopIDs, id)
			}
			tokens[i] = []int32{int32(id)}
			positions[i] = []int32{nextPos[i]}
			nextPos[i]++
			keyValid[i][L+step] = true
		}
		caches = caches[:0]
		for _, o := range out[1:] {
			caches = append(caches, o)
		}
		if allTrue(done) || step == opt.MaxNewTokens-1 {
			break
		}
		args := []any{tokens, positions, int32(L + step), keyValid}
		if opt.DecodeExtra != nil {
			args = append(args, opt.DecodeExtra(step)...)
		}
		if out, err = gen.decode.Exec(append(args, caches...)...); err != nil {
			return nil, fmt.Errorf("llava: decode step %d: %w", step, err)
		}
	}
	return result, nil
}

func allTrue(xs []bool) bool {
	for _, x := range xs {
		if !x {
			return false
		}
	}
	return true
}

// pick chooses the next id from one row of logits: argmax when temperature
// is 0, else a sample from softmax(logits/temperature) over the top k.
func pick(logits []float32, temperature float64, topK int, r *rand.Rand) int {
	best := 0
	for i, v := range logits {
		if v > logits[best] {
			best = i
		}
	}
	if temperature <= 0 {
		return best
	}
	idx := make([]int, len(logits))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int {
		switch {
		case logits[a] > logits[b]:
			return -1
		case logits[a] < logits[b]:
			return 1
		}
		return a - b
	})
	if topK > 0 && topK < len(idx) {
		idx = idx[:topK]
	}
	weights := make([]float64, len(idx))
	sum := 0.0
	for i, id := range idx {
		weights[i] = math.Exp((float64(logits[id]) - float64(logits[best])) / temperature)
		sum += weights[i]
	}
	u := r.Float64() * sum
	for i, w := range weights {
		if u -= w; u <= 0 {
			return idx[i]
		}
	}
	return idx[len(idx)-1]
}
