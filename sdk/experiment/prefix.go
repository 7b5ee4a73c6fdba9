package experiment

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"math"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/visreft/visreft/sdk/cvbench"
	"github.com/visreft/visreft/sdk/models/llava"
	"github.com/visreft/visreft/sdk/progress"
	"github.com/visreft/visreft/sdk/reft"
	"github.com/visreft/visreft/sdk/train"
)

// PrefixCache holds, for every training example, the decoder's residual
// stream after block Layer (before any intervention there): what the
// frozen part of nanoLLaVA below an intervention set computes. Decoder
// interventions at layers >= Layer never change it (they edit block
// outputs, and no block below sees them), so a ReFT run whose lowest
// intervened layer is at least Layer trains from the cache through the
// blocks above it only: the tower, the projector and blocks 0..Layer run
// once per example for the whole sweep instead of once per example and
// epoch and run. Memory: tokens x hidden x 4 bytes an example (nanoLLaVA,
// about 800 tokens: 3.2 MiB).
type PrefixCache struct {
	// Layer is the block whose output is cached (0-based).
	Layer int
	// DType is the dtype the prefix computed in; the values are kept as
	// float32 (which holds bfloat16 values exactly).
	DType dtypes.DType
	// Blocks counts the decoder blocks run over each example to make the
	// cache (Layer+1; Advance adds the blocks it runs): the prefix's cost.
	Blocks  int
	states  [][]float32 // [example][length*hidden], the valid positions in order
	lengths []int
	hidden  int
	key     [32]byte // the examples' encoded ids and prompt (see sourceKey)
}

// PrefixOptions tune NewPrefixCache.
type PrefixOptions struct {
	Prompt   cvbench.PromptOptions // as the runs prompt (zero: Data's default)
	Features *FeatureCache         // the examples' image features (nil: pixels through the tower)
	Batch    int                   // examples per call (default 8)
	Budget   int64                 // bytes (default DefaultFeatureBudget)
	DType    dtypes.DType          // compute dtype (default float32)
	Progress io.Writer             // a progress bar (nil: none)
}

// NewPrefixCache runs model m's tower, projector and decoder blocks
// 0..layer over examples xs (a run's Data.Train, in order) and keeps block
// layer's output at every valid position.
func NewPrefixCache(b compute.Backend, m *llava.Model, xs []cvbench.Example, layer int, o PrefixOptions) (*PrefixCache, error) {
	if layer < 0 || layer >= m.Config.NumHiddenLayers {
		return nil, fmt.Errorf("experiment: prefix cache at layer %d: the decoder has layers 0..%d", layer, m.Config.NumHiddenLayers-1)
	}
	o = o.withDefaults()
	src, err := newSource(m, xs, o.Prompt, nil, o.Features)
	if err != nil {
		return nil, err
	}
	key, err := src.key()
	if err != nil {
		return nil, err
	}
	pc := &PrefixCache{Layer: -1, DType: o.DType, hidden: m.Config.HiddenSize, key: key}
	var tokens int64
	for i := range src.Len() {
		pc.lengths = append(pc.lengths, src.Length(i))
		tokens += int64(src.Length(i))
	}
	if need := tokens * int64(pc.hidden) * 4; need > o.Budget {
		return nil, fmt.Errorf("experiment: caching block outputs of %d examples (%d tokens) needs %d MiB, over the %d MiB budget",
			len(xs), tokens, need>>20, o.Budget>>20)
	}
	return pc, pc.run(b, m, src, layer, o, fmt.Sprintf("prefix to layer %d", layer))
}

func (o PrefixOptions) withDefaults() PrefixOptions {
	if o.Prompt == (cvbench.PromptOptions{}) {
		o.Prompt = Data{}.PromptOptions()
	}
	if o.Batch <= 0 {
		o.Batch = 8
	}
	if o.Budget <= 0 {
		o.Budget = DefaultFeatureBudget
	}
	if o.DType == dtypes.InvalidDType {
		o.DType = dtypes.Float32
	}
	return o
}

// Advance moves the cache up to block layer's output by running blocks
// Layer+1..layer over the cached states (in place): a sweep that visits
// its lowest layers in increasing order runs each block once per example.
// xs must be the examples the cache was made from.
func (pc *PrefixCache) Advance(b compute.Backend, m *llava.Model, xs []cvbench.Example, layer int, o PrefixOptions) error {
	if layer < pc.Layer || layer >= m.Config.NumHiddenLayers {
		return fmt.Errorf("experiment: prefix cache at layer %d cannot move to layer %d (only up, to at most %d)", pc.Layer, layer, m.Config.NumHiddenLayers-1)
	}
	o = o.withDefaults()
	if o.DType != pc.DType {
		return fmt.Errorf("experiment: prefix cache computed in %s, advanced in %s", pc.DType, o.DType)
	}
	src, err := newSource(m, xs, o.Prompt, nil, nil)
	if err != nil {
		return err
	}
	if err := pc.matches(src); err != nil {
		return err
	}
	src.prefix = pc
	return pc.run(b, m, src, layer, o, fmt.Sprintf("prefix %d to %d", pc.Layer, layer))
}

// run computes block layer's output for every example of src: from the
// embeddings when src has no prefix, else from pc's states.
func (pc *PrefixCache) run(b compute.Backend, m *llava.Model, src *source, layer int, o PrefixOptions, name string) error {
	from := pc.Layer // blocks from+1..layer run
	st := stages(m.Config, nil, o.DType)
	e := model.MustNewExec(b, m.Ctx.Store(), func(scope *model.Scope, in []*Node) *Node {
		var h *Node
		if src.prefix != nil {
			h = ConvertDType(in[0], o.DType)
		} else {
			h = st.Embed(scope, in)
		}
		for i := from + 1; i <= layer; i++ {
			h = st.Blocks[i](scope, h, in)
		}
		return ConvertDType(h, dtypes.Float32)
	})
	defer e.Finalize()
	bar := progress.New(o.Progress, name, src.Len())
	defer bar.Finish()
	out := make([][]float32, src.Len())
	for start := 0; start < src.Len(); start += o.Batch {
		var idx []int
		seqLen := 0
		for i := start; i < min(start+o.Batch, src.Len()); i++ {
			idx = append(idx, i)
			seqLen = max(seqLen, src.Length(i))
		}
		seqLen = (seqLen + 15) / 16 * 16 // a handful of shapes
		args, err := src.Batch(idx, o.Batch, seqLen)
		if err != nil {
			return err
		}
		res, err := e.Exec(args...)
		if err != nil {
			return fmt.Errorf("experiment: %s: %w", name, err)
		}
		flat := tensors.MustCopyFlatData[float32](res[0])
		for j, i := range idx {
			n := pc.lengths[i]
			row := flat[j*seqLen*pc.hidden : (j+1)*seqLen*pc.hidden]
			out[i] = append([]float32(nil), row[(seqLen-n)*pc.hidden:]...) // left-padded: the valid positions end the row
		}
		bar.Set(start + len(idx))
	}
	pc.states, pc.Layer = out, layer
	pc.Blocks += layer - from
	return nil
}

// Len is the number of cached examples.
func (pc *PrefixCache) Len() int { return len(pc.states) }

// Bytes is the cache's memory.
func (pc *PrefixCache) Bytes() int64 {
	var n int64
	for _, s := range pc.states {
		n += int64(len(s)) * 4
	}
	return n
}

// batch stacks the states of examples idx into rows of seqLen positions,
// left-padded with zeros as llava.Layout pads: [rows, seqLen, hidden].
// Rows past len(idx) repeat the first example (source.Batch's padding rows).
func (pc *PrefixCache) batch(idx []int, rows, seqLen int) (*tensors.Tensor, error) {
	flat := make([]float32, rows*seqLen*pc.hidden)
	for r := range rows {
		i := idx[min(r, len(idx)-1)]
		if i < 0 || i >= len(pc.states) {
			return nil, fmt.Errorf("experiment: no cached prefix for example %d", i)
		}
		n := pc.lengths[i]
		if n > seqLen {
			return nil, fmt.Errorf("experiment: example %d has %d positions, the batch %d", i, n, seqLen)
		}
		copy(flat[(r*seqLen+seqLen-n)*pc.hidden:], pc.states[i])
	}
	return tensors.FromFlatDataAndDimensions(flat, rows, seqLen, pc.hidden), nil
}

// matches reports whether src encodes the examples the cache was made from.
func (pc *PrefixCache) matches(src *source) error {
	k, err := src.key()
	if err != nil {
		return err
	}
	if k != pc.key || src.Len() != len(pc.states) {
		return fmt.Errorf("experiment: the prefix cache was made from other examples, images or another prompt (%d cached, %d given)", len(pc.states), src.Len())
	}
	return nil
}

// key hashes what the source feeds the model: every example's image (its
// digest), ids, prompt length and targets, in order.
func (s *source) key() ([32]byte, error) {
	imgs, err := s.imageKeys()
	if err != nil {
		return [32]byte{}, err
	}
	h := sha256.New()
	var buf [4]byte
	for i, sm := range s.samples {
		h.Write(imgs[i][:])
		binary.LittleEndian.PutUint32(buf[:], uint32(len(sm.IDs)))
		h.Write(buf[:])
		binary.LittleEndian.PutUint32(buf[:], uint32(sm.PromptLen))
		h.Write(buf[:])
		for j, id := range sm.IDs {
			binary.LittleEndian.PutUint32(buf[:], uint32(id))
			if sm.Target != nil && sm.Target[j] {
				buf[3] |= 0x80
			}
			h.Write(buf[:])
		}
	}
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out, nil
}

// LowestDecoderLayer is the lowest decoder layer m's interventions edit,
// and whether m can train from a PrefixCache at all: a ReFT method whose
// interventions are all on decoder block outputs.
func (m Method) LowestDecoderLayer(c llava.Config) (int, bool, error) {
	if m.Name != "reft" {
		return 0, false, nil
	}
	st, err := NewReFTSteer(ReFTBase(c, ""), c.Vision.WithDefaults().NumPatches(), m.ReFT...)
	if err != nil {
		return 0, false, err
	}
	if st.TouchesVision() || st.Decoder == nil {
		return 0, false, nil
	}
	low := c.NumHiddenLayers
	for _, it := range st.Decoder.Interventions {
		if it.Component == reft.BlockOutput {
			low = min(low, it.Layer)
		}
	}
	return low, true, nil
}

// prefixStages is stages from a PrefixCache at layer k: the cached block
// output (batch input 0) is the start, block k's interventions are the
// first stage, then blocks k+1.. and the head as in stages. Chained, they
// compute what stages computes from the embeddings, given that block k's
// output is what the cache holds.
func prefixStages(c llava.Config, steer llava.Steer, dt dtypes.DType, k int) train.Stages {
	full := stages(c, steer, dt)
	atK := func(scope *model.Scope, h *Node, batch []*Node) *Node {
		if steer != nil {
			if hook := steer.Hook(scope, batch[8:]); hook != nil {
				h = hook(k, h)
			}
		}
		return h
	}
	return train.Stages{
		Embed:  func(scope *model.Scope, batch []*Node) *Node { return ConvertDType(batch[0], dt) },
		Blocks: append([]func(*model.Scope, *Node, []*Node) *Node{atK}, full.Blocks[k+1:]...),
		Head:   full.Head,
	}
}

// checkPrefix refuses a prefix cache that m's run cannot train from.
func checkPrefix(pc *PrefixCache, c llava.Config, m Method, src *source, dt dtypes.DType) error {
	low, ok, err := m.LowestDecoderLayer(c)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("experiment: a prefix cache needs ReFT on decoder block outputs only; this %s run is not", m.Name)
	}
	if low < pc.Layer {
		return fmt.Errorf("experiment: the prefix cache holds block %d's output, but the run intervenes at layer %d below it", pc.Layer, low)
	}
	if pc.DType != dt {
		return fmt.Errorf("experiment: the prefix cache was computed in %s, the run computes in %s", pc.DType, dt)
	}
	return pc.matches(src)
}

// MaxPrefixDiff is the largest absolute difference between two caches'
// states (+Inf when they hold different examples or shapes).
func MaxPrefixDiff(a, b *PrefixCache) float64 {
	if len(a.states) != len(b.states) {
		return math.Inf(1)
	}
	worst := 0.0
	for i := range a.states {
		if len(a.states[i]) != len(b.states[i]) {
			return math.Inf(1)
		}
		for j, v := range a.states[i] {
			worst = math.Max(worst, math.Abs(float64(v-b.states[i][j])))
		}
	}
	return worst
}
