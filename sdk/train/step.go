package train

import (
	stdctx "context"
	"fmt"
	"math"
	"strings"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// hyper are the per-step scalars of the update, computed on the host in
// float64 as torch.optim.AdamW does: the decay factor 1 - lr·wd, the step
// size lr/(1-β1^t), sqrt(1-β2^t), and the gradient scale 1/micro-batches.
func (t *Trainer) hyper(micro int) ([]any, float64) {
	c := t.cfg
	lr := c.LR * c.Schedule.Factor(t.step, t.TotalSteps())
	n := float64(t.step + 1)
	bc1, bc2 := 1-math.Pow(c.Beta1, n), 1-math.Pow(c.Beta2, n)
	return []any{float32(1 - lr*c.WeightDecay), float32(lr / bc1), float32(math.Sqrt(bc2)), float32(1 / float64(micro))}, lr
}

const nHyper = 4

func (t *Trainer) trainStep(cctx stdctx.Context) (StepInfo, error) {
	k0 := t.step * t.cfg.AccumSteps
	micro := min(t.cfg.AccumSteps, t.totalMicro()-k0)
	hyper, lr := t.hyper(micro)
	info := StepInfo{LR: lr}
	if t.cfg.AccumSteps == 1 && !t.cfg.Recompute {
		b, err := t.batch(k0, &info)
		if err != nil {
			return info, err
		}
		if t.fused == nil {
			t.fused, err = model.NewExec(t.backend, t.scope.Store(), t.fusedGraph)
			if err != nil {
				return info, err
			}
		}
		t.noteCompile("fused", b)
		out, err := t.exec(t.fused, append(hyper, b...))
		if err != nil {
			return info, err
		}
		info.Loss, info.GradNorm = scalar(out[0]), scalar(out[1])
		if !tensors.ToScalar[bool](out[2]) {
			return info, t.nonFinite(info.Loss, info.GradNorm)
		}
		return info, nil
	}
	sum := 0.0
	for j := range micro {
		if err := cctx.Err(); err != nil {
			return info, t.interrupted(err)
		}
		b, err := t.batch(k0+j, &info)
		if err != nil {
			return info, err
		}
		loss, err := t.microGradients(b)
		if err != nil {
			return info, err
		}
		if math.IsNaN(loss) || math.IsInf(loss, 0) {
			return info, t.nonFinite(loss, math.NaN())
		}
		sum += loss
	}
	info.Loss = sum / float64(micro)
	if t.apply == nil {
		var err error
		if t.apply, err = model.NewExec(t.backend, t.scope.Store(), t.applyGraph); err != nil {
			return info, err
		}
	}
	t.noteCompile("apply", nil)
	out, err := t.exec(t.apply, hyper)
	if err != nil {
		return info, err
	}
	info.GradNorm = scalar(out[0])
	if !tensors.ToScalar[bool](out[1]) {
		return info, t.nonFinite(info.Loss, info.GradNorm)
	}
	return info, nil
}

// microGradients adds one micro-batch's gradients to the accumulators.
func (t *Trainer) microGradients(b []any) (float64, error) {
	if t.cfg.Recompute {
		return t.rc.gradients(t, b)
	}
	if t.grad == nil {
		var err error
		if t.grad, err = model.NewExec(t.backend, t.scope.Store(), t.gradGraph); err != nil {
			return 0, err
		}
	}
	t.noteCompile("grad", b)
	out, err := t.exec(t.grad, b)
	if err != nil {
		return 0, err
	}
	return scalar(out[0]), nil
}

// batch builds micro-batch k's inputs as tensors and counts its examples.
func (t *Trainer) batch(k int, info *StepInfo) ([]any, error) {
	epoch, idx := t.order.micro(k)
	longest := 0
	for _, i := range idx {
		longest = max(longest, t.data.Length(i))
	}
	seq, err := t.cfg.bucket(longest)
	if err != nil {
		return nil, fmt.Errorf("train: micro-batch %d: %w", k, err)
	}
	raw, err := t.data.Batch(idx, t.cfg.BatchSize, seq)
	if err != nil {
		return nil, err
	}
	out := make([]any, len(raw))
	var dims []string
	for i, x := range raw {
		tt, ok := x.(*tensors.Tensor)
		if !ok {
			var err error
			if tt, err = tensors.FromAnyValue(x); err != nil {
				return nil, fmt.Errorf("train: micro-batch %d, input %d: %w", k, i, err)
			}
		}
		out[i] = tt
		dims = append(dims, fmt.Sprint(tt.Shape().Dimensions))
	}
	t.shapes[shapeKey(dims)] = true
	t.examples += int64(len(idx))
	info.Epoch = epoch
	return out, nil
}

// noteCompile records an (executable, input shapes) pair: each distinct
// one is one compilation.
func (t *Trainer) noteCompile(exec string, b []any) {
	key := exec
	for _, x := range b {
		key += fmt.Sprint(x.(*tensors.Tensor).Shape().Dimensions)
	}
	t.compiles[key] = true
}

// exec runs e, turning panics of graph building into errors.
func (t *Trainer) exec(e *model.Exec, args []any) (out []*tensors.Tensor, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("train: %v", r)
		}
	}()
	out, err = e.Exec(args...)
	if err != nil {
		err = fmt.Errorf("train: %w", err)
	}
	return out, err
}

func scalar(t *tensors.Tensor) float64 {
	switch t.DType() {
	case dtypes.Float64:
		return tensors.ToScalar[float64](t)
	default:
		return float64(tensors.ToScalar[float32](t))
	}
}

// shapeKey names a batch's input shapes: "5x[2 32]" when all are alike.
func shapeKey(dims []string) string {
	for _, d := range dims {
		if d != dims[0] {
			return strings.Join(dims, " ")
		}
	}
	if len(dims) == 0 {
		return "[]"
	}
	return fmt.Sprintf("%dx%s", len(dims), dims[0])
}
