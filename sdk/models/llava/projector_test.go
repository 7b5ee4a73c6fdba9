package llava

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/visreft/visreft/sdk/backend"
	"github.com/visreft/visreft/sdk/internal/testutil"
	"github.com/visreft/visreft/sdk/models/qwen2"
	"github.com/visreft/visreft/sdk/models/siglip"
	"github.com/visreft/visreft/sdk/nn"
)

// TestProjectorParams: 1152x1024 + 1024 and 1024x1024 + 1024.
func TestProjectorParams(t *testing.T) {
	total, _ := nn.Count(ProjectorParams(NanoLLaVA()))
	if total != 2_230_272 {
		t.Errorf("projector: %d params, want 2,230,272", total)
	}
}

// TestPaperTrainableShare: the paper's 60.99% trainable share for full
// fine-tuning is (LLM + projector) / all, with the 26-layer tower and its
// unused post_layernorm counted.
func TestPaperTrainableShare(t *testing.T) {
	c := NanoLLaVA()
	llm, _ := nn.Count(qwen2.Params(c.Config))
	proj, _ := nn.Count(ProjectorParams(c))
	vision, _ := nn.Count(siglip.Params(c.Vision))
	share := 100 * float64(llm+proj) / float64(llm+proj+vision)
	if math.Abs(share-60.99) > 0.005 {
		t.Errorf("trainable share %.4f%%, the paper says 60.99%%", share)
	}
}

// TestProjectMatchesHost compares Project with a host computation in
// float64 using the exact erf GELU, on a small config, and checks that the
// tanh approximation would have failed the same tolerance.
func TestProjectMatchesHost(t *testing.T) {
	c := Config{Config: qwen2.Config{HiddenSize: 6}, MMHiddenSize: 5}
	scope := model.NewStore().RootScope()
	if err := nn.InitRandom(scope, ProjectorParams(c), 3, 0.8, dtypes.Float32); err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(4, 4))
	x := make([]float32, 2*3*5)
	for i := range x {
		x[i] = float32(2 * r.NormFloat64())
	}
	b, err := backend.NewFromConfig(backend.CPUConfig)
	if err != nil {
		t.Fatal(err)
	}
	e := model.MustNewExec(b, scope.Store(), func(scope *model.Scope, x *Node) *Node { return Project(scope, c, x) })
	defer e.Finalize()
	out, err := e.Exec(tensors.FromFlatDataAndDimensions(x, 2, 3, 5))
	if err != nil {
		t.Fatal(err)
	}
	if d := out[0].Shape().Dimensions; len(d) != 3 || d[0] != 2 || d[1] != 3 || d[2] != 6 {
		t.Fatalf("output shape %v, want [2 3 6]", d)
	}
	got := tensors.MustCopyFlatData[float32](out[0])

	value := func(name string) []float32 { return testutil.Float32Var(t, scope, name) }
	w0, b0 := value("model.mm_projector.0.weight"), value("model.mm_projector.0.bias")
	w2, b2 := value("model.mm_projector.2.weight"), value("model.mm_projector.2.bias")
	erf := func(v float64) float64 { return 0.5 * v * (1 + math.Erf(v/math.Sqrt2)) }
	tanh := func(v float64) float64 {
		return 0.5 * v * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(v+0.044715*v*v*v)))
	}
	host := func(gelu func(float64) float64) []float64 {
		var res []float64
		for row := range 6 {
			hid := make([]float64, 6)
			for o := range 6 {
				s := float64(b0[o])
				for i := range 5 {
					s += float64(w0[o*5+i]) * float64(x[row*5+i])
				}
				hid[o] = gelu(s)
			}
			for o := range 6 {
				s := float64(b2[o])
				for i := range 6 {
					s += float64(w2[o*6+i]) * hid[i]
				}
				res = append(res, s)
			}
		}
		return res
	}
	maxDiff := func(want []float64) float64 {
		m := 0.0
		for i := range want {
			m = math.Max(m, math.Abs(want[i]-float64(got[i])))
		}
		return m
	}
	const tol = 1e-5
	if d := maxDiff(host(erf)); d > tol {
		t.Errorf("projector differs from the host erf-GELU computation by %.3g", d)
	}
	if d := maxDiff(host(tanh)); d <= tol {
		t.Errorf("the tanh GELU also matches (diff %.3g): the test cannot tell them apart", d)
	}
}
