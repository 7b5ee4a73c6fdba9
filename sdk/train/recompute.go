package train

import (
	"errors"
	"fmt"
	"math"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// Stages is a model split into a chain, the form gradient checkpointing
// needs: Embed maps a batch to the first hidden state, each Block maps a
// hidden state to the next (same shape and dtype), Head maps the last one
// to the scalar loss. Every stage also sees the batch (masks, positions).
type Stages struct {
	Embed  func(scope *model.Scope, batch []*Node) *Node
	Blocks []func(scope *model.Scope, h *Node, batch []*Node) *Node
	Head   func(scope *model.Scope, h *Node, batch []*Node) *Node
}

// Loss chains the stages into one LossFn.
func (s Stages) Loss() LossFn {
	return func(scope *model.Scope, batch []*Node) *Node {
		h := s.Embed(scope, batch)
		for _, blk := range s.Blocks {
			h = blk(scope, h, batch)
		}
		return s.Head(scope, h, batch)
	}
}

// NewStaged is New for a model split in stages. With Config.Recompute it
// trains with gradient checkpointing (see recompute); without, it trains
// the chained loss exactly as New would.
func NewStaged(b compute.Backend, scope *model.Scope, st Stages, strategy Strategy, data Source, cfg Config) (*Trainer, error) {
	if st.Embed == nil || st.Head == nil || len(st.Blocks) == 0 {
		return nil, errors.New("train: stages need an Embed, a Head and at least one Block")
	}
	t, err := newTrainer(b, scope, st.Loss(), &st, strategy, data, cfg)
	if err != nil {
		return nil, err
	}
	if cfg.Recompute {
		t.rc = &recompute{}
	}
	return t, nil
}

// recompute is gradient checkpointing without a remat pass in the
// compiler (GoMLX v0.26.0 has none): each stage is its own executable.
// The forward pass runs Embed and the Blocks forward-only, keeping just the
// hidden state between blocks (one [batch, seq, hidden] tensor per block)
// and freeing every activation inside a block with its executable. Head
// runs forward and backward at once. Then, from the last block down, a
// backward executable recomputes the block's forward from its stored input
// and differentiates the surrogate sum(out · g_out) (whose gradient is the
// vector-Jacobian product) with respect to the input and the block's
// trained variables, adding the latter to the accumulators. The context
// RNG is rewound to its state before each block so that dropout draws the
// same masks in the recomputation. The optimizer step is then the
// accumulation path's apply executable.
type recompute struct {
	embedFwd, embedBwd, head *model.Exec
	blockFwd, blockBwd       []*model.Exec
	embedTrains, checked     bool

	checkReplay bool    // tests: the backward executables also return their recomputed outputs
	replayDiff  float64 // max |recomputed - stored| hidden state seen
}

func (r *recompute) build(t *Trainer) error {
	st := t.stages
	var err error
	r.embedFwd = newExec(t, &err, func(scope *model.Scope, batch []*Node) *Node {
		scope.Store().SetTraining(batch[0].Graph(), true)
		return st.Embed(scope, batch)
	})
	r.embedBwd = newExec(t, &err, func(scope *model.Scope, in []*Node) []*Node {
		scope.Store().SetTraining(in[0].Graph(), true)
		out := st.Embed(scope, in[1:])
		res := r.vjp(t, out, in[0], nil)
		r.embedTrains = len(t.collect(out.Graph())) > 0
		return res
	})
	r.head = newExec(t, &err, func(scope *model.Scope, in []*Node) []*Node {
		h := in[0]
		scope.Store().SetTraining(h.Graph(), true)
		loss := lossScalar(st.Head(scope, h, in[1:]))
		vars := t.collect(h.Graph())
		grads := Gradient(loss, append([]*Node{h}, varNodes(vars, h.Graph())...)...)
		accumulate(vars, float32s(grads[1:]))
		return []*Node{loss, ConvertDType(grads[0], h.DType())}
	})
	for i, blk := range st.Blocks {
		r.blockFwd = append(r.blockFwd, newExec(t, &err, func(scope *model.Scope, in []*Node) *Node {
			scope.Store().SetTraining(in[0].Graph(), true)
			return sameShape(i, in[0], blk(scope, in[0], in[1:]))
		}))
		r.blockBwd = append(r.blockBwd, newExec(t, &err, func(scope *model.Scope, in []*Node) []*Node {
			h := in[0]
			scope.Store().SetTraining(h.Graph(), true)
			out := sameShape(i, h, blk(scope, h, in[2:]))
			res := r.vjp(t, out, in[1], h)
			if r.checkReplay {
				res = append(res, out)
			}
			return res
		}))
	}
	return err
}

// newExec makes one of the recomputation's executables over t's store; after
// the first error it makes nothing and leaves that error in *err.
func newExec[F model.ExecGraphFn](t *Trainer, err *error, fn F) *model.Exec {
	if *err != nil {
		return nil
	}
	var e *model.Exec
	e, *err = model.NewExec(t.backend, t.scope.Store(), fn)
	return e
}

func sameShape(i int, h, out *Node) *Node {
	if !out.Shape().Equal(h.Shape()) {
		panic(fmt.Sprintf("train: block %d maps %s to %s; blocks must keep the hidden state's shape", i, h.Shape(), out.Shape()))
	}
	return out
}

func varNodes(vars []*trainVar, g *Graph) []*Node {
	out := make([]*Node, len(vars))
	for i, tv := range vars {
		out[i] = tv.v.NodeValue(g)
	}
	return out
}

func float32s(xs []*Node) []*Node {
	out := make([]*Node, len(xs))
	for i, x := range xs {
		out[i] = ConvertDType(x, dtypes.Float32)
	}
	return out
}

// vjp accumulates the gradients of sum(out · gOut) with respect to the
// trained variables of out's graph and returns, when in is given, the
// gradient with respect to in (else the surrogate, as a dummy output).
func (r *recompute) vjp(t *Trainer, out, gOut, in *Node) []*Node {
	g := out.Graph()
	sur := ReduceAllSum(Mul(ConvertDType(out, dtypes.Float32), StopGradient(ConvertDType(gOut, dtypes.Float32))))
	vars := t.collect(g)
	wrt := varNodes(vars, g)
	if in != nil {
		wrt = append([]*Node{in}, wrt...)
	}
	if len(wrt) == 0 {
		return []*Node{sur}
	}
	grads := Gradient(sur, wrt...)
	if in == nil {
		accumulate(vars, float32s(grads))
		return []*Node{sur}
	}
	accumulate(vars, float32s(grads[1:]))
	return []*Node{ConvertDType(grads[0], in.DType())}
}

// gradients runs one micro-batch forward and backward, block by block.
func (r *recompute) gradients(t *Trainer, b []any) (float64, error) {
	if r.head == nil {
		if err := r.build(t); err != nil {
			return 0, err
		}
	}
	run := func(name string, e *model.Exec, args []any) ([]*tensors.Tensor, error) {
		t.noteCompile(name, b)
		return t.exec(e, args)
	}
	withBatch := func(xs ...any) []any { return append(xs, b...) }
	n := len(t.stages.Blocks)
	rngEmbed, err := t.rngState()
	if err != nil {
		return 0, err
	}
	out, err := run("embed", r.embedFwd, b)
	if err != nil {
		return 0, err
	}
	hs := []*tensors.Tensor{out[0]}
	defer func() {
		for _, h := range hs {
			h.FinalizeAll()
		}
	}()
	rngs := make([][]uint64, n)
	for i := range n {
		if rngs[i], err = t.rngState(); err != nil {
			return 0, err
		}
		if out, err = run(fmt.Sprintf("block%d", i), r.blockFwd[i], withBatch(hs[i])); err != nil {
			return 0, err
		}
		hs = append(hs, out[0])
	}
	if out, err = run("head", r.head, withBatch(hs[n])); err != nil {
		return 0, err
	}
	loss, grad := scalar(out[0]), out[1]
	after, err := t.rngState()
	if err != nil {
		return 0, err
	}
	for i := n - 1; i >= 0; i-- {
		if err := t.setRNG(rngs[i]); err != nil {
			return 0, err
		}
		out, err = run(fmt.Sprintf("block%d-backward", i), r.blockBwd[i], withBatch(hs[i], grad))
		grad.FinalizeAll()
		if err != nil {
			return 0, err
		}
		if r.checkReplay {
			r.replayDiff = math.Max(r.replayDiff, maxAbsDiff(out[1], hs[i+1]))
		}
		grad = out[0]
	}
	if !r.checked || r.embedTrains {
		if err := t.setRNG(rngEmbed); err != nil {
			return 0, err
		}
		if _, err = run("embed-backward", r.embedBwd, withBatch(grad)); err != nil {
			return 0, err
		}
	}
	grad.FinalizeAll()
	if err := t.setRNG(after); err != nil {
		return 0, err
	}
	if !r.checked {
		r.checked = true
		if err := catch(t.checkAllUsed); err != nil {
			return 0, err
		}
	}
	return loss, nil
}

func (t *Trainer) setRNG(state []uint64) error {
	return t.rngVar().SetValue(tensors.FromFlatDataAndDimensions(append([]uint64(nil), state...), len(state)))
}

func maxAbsDiff(a, b *tensors.Tensor) float64 {
	fa, err1 := asFloat32(a)
	fb, err2 := asFloat32(b)
	if err1 != nil || err2 != nil {
		return math.Inf(1)
	}
	x, y := tensors.MustCopyFlatData[float32](fa), tensors.MustCopyFlatData[float32](fb)
	m := 0.0
	for i := range x {
		m = math.Max(m, math.Abs(float64(x[i]-y[i])))
	}
	return m
}

func catch(fn func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	fn()
	return nil
}
