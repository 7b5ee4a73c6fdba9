package train

import (
	stdctx "context"
	"math"
	"testing"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/visreft/visreft/sdk/internal/testutil"
	"github.com/visreft/visreft/sdk/nn"
)

// quadratic is 0.5·Σ_rows weight·||w - x||² / Σ weight for the variable
// toy.w: its gradient is mean(w - x).
func quadratic(scope *model.Scope, batch []*Node) *Node {
	w := nn.Weight(scope.At("toy"), batch[0].Graph(), "w", batch[0].DType(), 2)
	d := Sub(batch[0], ExpandLeftToRank(w, 2))
	per := MulScalar(ReduceSum(Square(d), -1), 0.5)
	return Div(ReduceAllSum(Mul(per, batch[1])), ReduceAllSum(batch[1]))
}

// adamwByHand is torch.optim.AdamW's single-tensor loop in float64.
func adamwByHand(w, target []float64, steps int, lr, wd float64) []float64 {
	const b1, b2, eps = 0.9, 0.999, 1e-8
	w = append([]float64(nil), w...)
	m, v := make([]float64, len(w)), make([]float64, len(w))
	for s := 1; s <= steps; s++ {
		for i := range w {
			g := w[i] - target[i]
			w[i] *= 1 - lr*wd
			m[i] += (1 - b1) * (g - m[i])
			v[i] = b2*v[i] + (1-b2)*g*g
			bc1, bc2 := 1-math.Pow(b1, float64(s)), 1-math.Pow(b2, float64(s))
			w[i] -= lr / bc1 * m[i] / (math.Sqrt(v[i])/math.Sqrt(bc2) + eps)
		}
	}
	return w
}

func TestAdamWMatchesHandComputation(t *testing.T) {
	b := testutil.Backend(t)
	for _, wd := range []float64{0, 0.1} {
		scope := model.NewStore().RootScope()
		setVar(t, scope, "toy.w", []float32{1, -2}, 2)
		cfg := quiet()
		cfg.LR, cfg.WeightDecay, cfg.ClipNorm, cfg.Schedule = 0.1, wd, 0, Schedule{Kind: Constant}
		cfg.MaxSteps = 4
		tr, err := New(b, scope, quadratic, Full([]string{"toy."}, nil), vectors{{3, 0.5}}, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tr.Run(stdctx.Background()); err != nil {
			t.Fatal(err)
		}
		want := adamwByHand([]float64{1, -2}, []float64{3, 0.5}, 4, 0.1, wd)
		got := getVar(t, scope, "toy.w")
		for i := range want {
			if !closeTo(float64(got[i]), want[i], 1e-6) {
				t.Errorf("wd %g: w[%d] = %.8f, torch's AdamW gives %.8f", wd, i, got[i], want[i])
			}
		}
	}
}

// TestWeightDecaySkipsExcluded: with zero gradients AdamW only decays, and
// only where it should: not biases, norms, or the configured exclusions.
func TestWeightDecaySkipsExcluded(t *testing.T) {
	b := testutil.Backend(t)
	scope := model.NewStore().RootScope()
	names := []string{"m.proj.weight", "m.proj.bias", "m.layers.0.input_layernorm.weight", "m.norm.weight",
		"m.layer_norm1.weight", "m.embed_tokens.weight", "m.keep_me.weight"}
	for _, n := range names {
		setVar(t, scope, n, []float32{2, 2}, 2)
	}
	loss := func(scope *model.Scope, batch []*Node) *Node {
		sum := ReduceAllSum(batch[0])
		for _, n := range names {
			scope, v := nn.ScopeOf(scope, n)
			sum = Add(sum, MulScalar(ReduceAllSum(nn.Weight(scope, batch[0].Graph(), v, batch[0].DType(), 2)), 0))
		}
		return sum
	}
	cfg := quiet()
	cfg.LR, cfg.WeightDecay, cfg.MaxSteps, cfg.Schedule = 0.1, 0.5, 1, Schedule{Kind: Constant}
	cfg.NoDecay = []string{`keep_me`}
	tr, err := New(b, scope, loss, Full([]string{"m."}, nil), vectors{{1}}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Run(stdctx.Background()); err != nil {
		t.Fatal(err)
	}
	decayed := map[string]bool{"m.proj.weight": true, "m.embed_tokens.weight": true}
	for _, n := range names {
		want := float32(2)
		if decayed[n] {
			want = 2 * (1 - 0.1*0.5)
		}
		if got := getVar(t, scope, n); got[0] != want {
			t.Errorf("%s = %v after one step, want %v", n, got[0], want)
		}
	}
}

// TestClipScalesByGlobalNorm: gradients (3) and (4) have global norm 5; a
// limit of 1 scales both by 1/5, which AdamW's first moment shows.
func TestClipScalesByGlobalNorm(t *testing.T) {
	b := testutil.Backend(t)
	scope := model.NewStore().RootScope()
	setVar(t, scope, "a.w", []float32{0}, 1)
	setVar(t, scope, "b.w", []float32{0}, 1)
	loss := func(scope *model.Scope, batch []*Node) *Node {
		g := batch[0].Graph()
		a := nn.Weight(scope.At("a"), g, "w", batch[0].DType(), 1)
		bb := nn.Weight(scope.At("b"), g, "w", batch[0].DType(), 1)
		return Add(MulScalar(ReduceAllSum(a), 3), MulScalar(ReduceAllSum(bb), 4))
	}
	var norms []float64
	cfg := quiet()
	cfg.ClipNorm, cfg.MaxSteps = 1, 1
	cfg.OnStep = func(s StepInfo) { norms = append(norms, s.GradNorm) }
	tr, err := New(b, scope, loss, Full([]string{"a.", "b."}, nil), vectors{{1}}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Run(stdctx.Background()); err != nil {
		t.Fatal(err)
	}
	if len(norms) != 1 || !closeTo(norms[0], 5, 1e-6) {
		t.Errorf("reported gradient norms %v, want [5]", norms)
	}
	for name, g := range map[string]float64{"a.w": 3, "b.w": 4} {
		m, _ := tr.Moments(name)
		got := float64(m.Value().([]float32)[0])
		if want := 0.1 * g * 1 / (5 + 1e-6); !closeTo(got, want, 1e-6) {
			t.Errorf("%s: exp_avg %.7f, want (1-β1)·g·clip/norm = %.7f", name, got, want)
		}
	}
}
