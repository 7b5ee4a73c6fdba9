package steer

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/visreft/visreft/sdk/backend"
	"github.com/visreft/visreft/sdk/cvbench"
	"github.com/visreft/visreft/sdk/demo"
	"github.com/visreft/visreft/sdk/eval"
	"github.com/visreft/visreft/sdk/models/llava"
	"github.com/visreft/visreft/sdk/sample"
)

// fixture is visreft-mini, a CPU backend and n demo questions of every task.
func fixture(t *testing.T, n int) (compute.Backend, *llava.Model, []cvbench.Example) {
	t.Helper()
	b, err := backend.NewFromConfig(backend.CPUConfig)
	if err != nil {
		t.Fatal(err)
	}
	m, err := demo.MiniModel()
	if err != nil {
		t.Fatal(err)
	}
	ds, err := demo.Data()
	if err != nil {
		t.Fatal(err)
	}
	per := map[cvbench.Task]int{}
	var xs []cvbench.Example
	for _, x := range ds.Examples {
		if per[x.Task] < n {
			per[x.Task]++
			xs = append(xs, x)
		}
	}
	return b, m, xs
}

var prompt = cvbench.PromptOptions{Format: cvbench.PromptPaper}

// TestCaptureMatchesTheForward: every captured activation equals the block
// output of a direct forward of that one sequence (batch 1, its own
// padding) at its last answer token, with the right answer appended for
// Pos and Wrong's choice for Neg: within 1e-6 in float32.
func TestCaptureMatchesTheForward(t *testing.T) {
	b, m, xs := fixture(t, 2)
	layers := []int{0, 3, 7}
	p, err := Capture(b, m, xs, prompt, layers, CaptureOptions{Batch: 3})
	if err != nil {
		t.Fatal(err)
	}
	nImage := m.Config.Vision.WithDefaults().NumPatches()
	e := model.MustNewExec(b, m.Ctx.Store(), func(scope *model.Scope, in []*Node) []*Node {
		inp := llava.Inputs{TextIDs: in[1], Gather: in[2], Valid: in[3], Positions: in[4], DType: dtypes.Float32}
		inp.SetVision(in[0])
		out := llava.ForwardHidden(scope, m.Config, inp)
		// Identity: on GoMLX v0.28.8's Go backend, returning a block's
		// output that later ops also read panics at run time ("index out
		// of range"); a copy as the output does not.
		return []*Node{Identity(out.Hidden[0]), Identity(out.Hidden[3]), Identity(out.Hidden[7])}
	})
	defer e.Finalize()
	worst := 0.0
	for i, x := range xs {
		img, err := x.Image()
		if err != nil {
			t.Fatal(err)
		}
		for side, c := range []int{x.AnswerIndex(), Wrong(x, i)} {
			if c == x.AnswerIndex() && side == 1 {
				t.Fatalf("question %d: the wrong choice is the answer", i)
			}
			s, err := sample.Encode(m, x, prompt, cvbench.Letter(c))
			if err != nil {
				t.Fatal(err)
			}
			bt, err := llava.Layout([]llava.Sample{s}, nImage, 0)
			if err != nil {
				t.Fatal(err)
			}
			// the last answer token: the id before <|im_end|>, after the image splice
			last := len(s.IDs) - 2 - 1 + nImage
			out, err := e.Exec(m.Images.Batch(img), bt.TextIDs, bt.Gather, bt.Valid, bt.Positions)
			if err != nil {
				t.Fatal(err)
			}
			for k := range layers {
				h := tensors.MustCopyFlatData[float32](out[k])
				want := h[last*p.Hidden : (last+1)*p.Hidden]
				got := p.Pos[k][i]
				if side == 1 {
					got = p.Neg[k][i]
				}
				for j := range want {
					worst = math.Max(worst, math.Abs(float64(got[j]-want[j])))
				}
			}
		}
	}
	t.Logf("%d questions x 2 answers x %d layers: captured vs direct forward differ by at most %.2g", len(xs), len(layers), worst)
	if worst > 1e-6 {
		t.Errorf("captured activations differ from the forward's by %.3g (tolerance 1e-6)", worst)
	}
}

// planted are paired activations whose difference is one known unit
// direction d times a varying strength, on top of large shared variation
// in other directions and small unshared noise.
func planted(n, hidden int, seed uint64) (pos, neg [][]float32, d []float32) {
	r := rand.New(rand.NewPCG(seed, 1))
	unit := func() []float64 {
		v := make([]float64, hidden)
		s := 0.0
		for j := range v {
			v[j] = r.NormFloat64()
			s += v[j] * v[j]
		}
		for j := range v {
			v[j] /= math.Sqrt(s)
		}
		return v
	}
	dir := unit()
	nuisance := [][]float64{unit(), unit(), unit()}
	for range n {
		p, q := make([]float32, hidden), make([]float32, hidden)
		strength := 2 + r.NormFloat64()*0.5
		coef := []float64{10 * r.NormFloat64(), 5 * r.NormFloat64(), 3 * r.NormFloat64()}
		for j := range hidden {
			shared := 0.0
			for k, u := range nuisance {
				shared += coef[k] * u[j]
			}
			p[j] = float32(shared + strength*dir[j] + 0.05*r.NormFloat64())
			q[j] = float32(shared + 0.05*r.NormFloat64())
		}
		pos, neg = append(pos, p), append(neg, q)
	}
	return pos, neg, toF32(dir)
}

// TestBuildersRecoverAPlantedDirection: both builders find the planted
// direction (cosine >= 0.99) and scale it to the mean strength (2, within
// 10 %), though the activations vary 5x more along other directions.
func TestBuildersRecoverAPlantedDirection(t *testing.T) {
	pos, neg, d := planted(200, 64, 3)
	p := &Pairs{Layers: []int{2}, Pos: [][][]float32{pos}, Neg: [][][]float32{neg}, Norms: []float64{10}, Hidden: 64, ImageTokens: 16}
	for _, method := range Builders {
		v, err := Build(p, method)
		if err != nil {
			t.Fatal(err)
		}
		got := v.At(2)
		n := 0.0
		for _, x := range got {
			n += float64(x) * float64(x)
		}
		cos := Cosine(got, d)
		t.Logf("%s: cosine with the planted direction %.5f, norm %.3f", method, cos, math.Sqrt(n))
		if cos < 0.99 || math.Abs(math.Sqrt(n)-2) > 0.2 {
			t.Errorf("%s: cosine %.4f (want >= 0.99), norm %.3f (want 2 +- 0.2)", method, cos, math.Sqrt(n))
		}
		// A steerer adds the unit direction times the activations' mean norm.
		if sc := v.Scaled(2); math.Abs(l2(sc)-10) > 1e-4 || Cosine(sc, got) < 1-1e-6 {
			t.Errorf("%s: scaled vector of norm %.4f (want 10), cosine with the built one %.6f", method, l2(sc), Cosine(sc, got))
		}
	}
	if _, err := Build(p, "sae"); err == nil {
		t.Error("an unknown method was accepted")
	}
}

// TestZeroSteerChangesNoLogit: a zero vector, or zero scales, leave every
// choice's log-probability exactly as the unsteered model's; the captured
// mean difference at a large scale changes them (so the comparison can fail).
func TestZeroSteerChangesNoLogit(t *testing.T) {
	b, m, xs := fixture(t, 2)
	base, err := eval.Evaluate(b, m, xs, eval.Options{Mode: eval.Likelihood, Prompt: prompt})
	if err != nil {
		t.Fatal(err)
	}
	p, err := Capture(b, m, xs, prompt, []int{4}, CaptureOptions{})
	if err != nil {
		t.Fatal(err)
	}
	v, err := Build(p, MeanDiff)
	if err != nil {
		t.Fatal(err)
	}
	zero := *v
	zero.Vecs = [][]float32{make([]float32, v.Hidden)}
	diff := func(st *Steerer) float64 {
		r, err := eval.Evaluate(b, m, xs, eval.Options{Mode: eval.Likelihood, Prompt: prompt, Steer: st})
		if err != nil {
			t.Fatal(err)
		}
		worst := 0.0
		for i, pr := range r.Predictions {
			for c, lp := range pr.LogProbs {
				worst = math.Max(worst, math.Abs(lp-base.Predictions[i].LogProbs[c]))
			}
		}
		return worst
	}
	zv, _ := New(&zero, 4, Scales{Text: 3, Image: 3})
	zs, _ := New(v, 4, Scales{})
	big, _ := New(v, 4, Scales{Text: 1, Image: 1})
	dz, ds, db := diff(zv), diff(zs), diff(big)
	t.Logf("log-prob changes: zero vector %g, zero scales %g, mean difference at scale 1 %.3g", dz, ds, db)
	if dz != 0 || ds != 0 {
		t.Errorf("a zero steer changed log-probabilities by %g / %g", dz, ds)
	}
	if db < 1e-3 {
		t.Errorf("the mean difference at scale 1 changed log-probabilities by only %g", db)
	}
}

// TestVectorsSaveAndLoad: vectors round-trip bit for bit with their
// metadata; a file of another format or a missing layer is refused naming
// the file and the field.
func TestVectorsSaveAndLoad(t *testing.T) {
	pos, neg, _ := planted(20, 32, 5)
	v, err := Build(&Pairs{Layers: []int{1, 6}, Pos: [][][]float32{pos, neg}, Neg: [][][]float32{neg, pos}, Norms: []float64{3.5, 0.25}, Hidden: 32, ImageTokens: 64, Source: "planted"}, PCA)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "vectors.safetensors")
	if err := Save(path, v, map[string]string{"model": "visreft-mini abc"}); err != nil {
		t.Fatal(err)
	}
	got, extra, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.Method != PCA || got.Hidden != 32 || got.ImageTokens != 64 || got.Examples != 20 || got.Source != "planted" ||
		len(got.Layers) != 2 || got.Layers[1] != 6 || extra["model"] != "visreft-mini abc" || len(extra) != 1 ||
		len(got.Norms) != 2 || got.Norms[0] != 3.5 || got.Norms[1] != 0.25 {
		t.Fatalf("loaded %+v, extra %v", got, extra)
	}
	for i := range v.Vecs {
		for j := range v.Vecs[i] {
			if math.Float32bits(v.Vecs[i][j]) != math.Float32bits(got.Vecs[i][j]) {
				t.Fatalf("layer %d value %d: %g != %g", v.Layers[i], j, got.Vecs[i][j], v.Vecs[i][j])
			}
		}
	}
	if err := Save(path, v, map[string]string{"method": "x"}); err == nil {
		t.Error("extra metadata overwrote Save's own")
	}
	other := filepath.Join(dir, "other.safetensors")
	bad := *v
	bad.Method = "sae"
	if err := Save(other, &bad, nil); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Load(other); err == nil || !strings.Contains(err.Error(), other) || !strings.Contains(err.Error(), `"method"`) {
		t.Errorf("unknown method: err %v", err)
	}
	if err := os.WriteFile(other, []byte("not a safetensors file"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Load(other); err == nil || !strings.Contains(err.Error(), other) {
		t.Errorf("garbage: err %v", err)
	}
}
