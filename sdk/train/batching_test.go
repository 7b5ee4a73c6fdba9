package train

import (
	stdctx "context"
	"math"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"
)

// TestAccumulationEqualsBigBatch: two micro-batches of one example equal
// one batch of two (every example has 2 answer tokens, so the mean of
// micro-batch means is the batch mean).
func TestAccumulationEqualsBigBatch(t *testing.T) {
	data := tinyData(6, 8, 3)
	s := strategies[2] // full fine-tuning, no dropout
	run := func(batch, accum int) *Trainer {
		cfg := quiet()
		cfg.Epochs, cfg.BatchSize, cfg.AccumSteps = 2, batch, accum
		tr, _ := newTiny(t, s, data, cfg)
		if _, err := tr.Run(stdctx.Background()); err != nil {
			t.Fatal(err)
		}
		return tr
	}
	big, small := run(2, 1), run(1, 2)
	if big.Step() != 6 || small.Step() != 6 {
		t.Fatalf("steps %d and %d, want 6", big.Step(), small.Step())
	}
	worst := 0.0
	for _, tv := range big.vars {
		a, b := floatsOf(t, tv), floatsOf(t, small.byKey[tv.key])
		for i := range a {
			worst = math.Max(worst, math.Abs(float64(a[i]-b[i])))
		}
	}
	t.Logf("max |batch 2 - 2 x batch 1| over all weights after 6 steps: %.3g", worst)
	if worst > 2e-5 {
		t.Errorf("accumulated and big-batch weights differ by %.3g", worst)
	}
}

func floatsOf(t *testing.T, tv *trainVar) []float32 {
	f, err := asFloat32(tv.v.MustValue())
	if err != nil {
		t.Fatal(err)
	}
	return tensors.MustCopyFlatData[float32](f)
}

// TestBucketingBoundsShapes: 24 examples of 3..40 tokens in batches of 2
// compile at most one graph per bucket.
func TestBucketingBoundsShapes(t *testing.T) {
	data := tinyData(24, 38, 4)
	lengths := map[int]bool{}
	for i := range data.Len() {
		lengths[data.Length(i)] = true
	}
	cfg := quiet()
	cfg.BatchSize, cfg.Buckets = 2, []int{8, 16, 32, 64}
	tr, _ := newTiny(t, strategies[1], data, cfg)
	res, err := tr.Run(stdctx.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d distinct lengths, %d steps, shapes %v, %d compilations", len(lengths), res.Steps, res.Shapes, res.Compiles)
	if len(res.Shapes) > 4 || res.Compiles != len(res.Shapes) || len(lengths) < 10 {
		t.Errorf("%d shapes, %d compilations for %d lengths", len(res.Shapes), res.Compiles, len(lengths))
	}
	cfg.Buckets = []int{8, 16}
	tr, _ = newTiny(t, strategies[1], data, cfg)
	if _, err := tr.Run(stdctx.Background()); err == nil || !contains(err.Error(), "largest bucket 16") {
		t.Errorf("an example longer than every bucket: %v", err)
	}
}

func TestTokensBatchPadsAndShifts(t *testing.T) {
	src := Tokens{Examples: []TokenExample{{IDs: []int32{5, 6, 7}, Answer: []bool{false, false, true}}}, Pad: 0}
	b, err := src.Batch([]int{0}, 2, 4)
	if err != nil {
		t.Fatal(err)
	}
	ids, labels, w, valid := b[TokIDs].([][]int32), b[TokLabels].([][]int32), b[TokWeights].([][]float32), b[TokValid].([][]bool)
	if ids[0][2] != 7 || ids[0][3] != 0 || labels[0][1] != 7 || w[0][1] != 1 || w[0][0] != 0 || w[0][2] != 0 ||
		!valid[0][2] || valid[0][3] || valid[1][0] || w[1][0] != 0 {
		t.Errorf("batch %v", b)
	}
}

// TestSchedules pins transformers' lambdas: warmup from 0, then linear
// decay to 0 at the last step, or constant.
func TestSchedules(t *testing.T) {
	lin := Schedule{Kind: Linear, WarmupSteps: 2}
	for step, want := range []float64{0, 0.5, 1, 0.75, 0.5, 0.25} {
		if got := lin.Factor(step, 6); math.Abs(got-want) > 1e-12 {
			t.Errorf("linear step %d: %g, want %g", step, got, want)
		}
	}
	if got := (Schedule{Kind: Constant, WarmupRatio: 0.25}).Factor(1, 8); got != 0.5 {
		t.Errorf("constant with 2 warmup steps at step 1: %g", got)
	}
	if got := (Schedule{Kind: Linear}).Factor(0, 10); got != 1 {
		t.Errorf("linear without warmup starts at %g", got)
	}
}
