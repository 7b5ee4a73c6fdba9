package siglip

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/visreft/visreft/sdk/internal/testutil"
	"github.com/visreft/visreft/sdk/nn"
)

// tiny is small enough for the pure-Go backend: 8x8 images of 4x4 patches
// (4 tokens), 3 layers of which the first 2 are kept, under nanoLLaVA's
// prefix so that the prefix path is exercised.
var tiny = Config{HiddenSize: 16, IntermediateSize: 24, NumHiddenLayers: 3, NumAttentionHeads: 2,
	NumChannels: 3, ImageSize: 8, PatchSize: 4, HiddenAct: "gelu_pytorch_tanh", LayerNormEps: 1e-6,
	LayersKept: 2, Prefix: PrefixNanoLLaVA}

var (
	backendOnce sync.Once
	backendOne  compute.Backend
	backendErr  error
)

func randomModel(t testing.TB, c Config, seed uint64) *model.Scope {
	t.Helper()
	scope := model.NewStore().RootScope()
	if err := nn.InitRandom(scope, Params(c), seed, 0.3, dtypes.Float32); err != nil {
		t.Fatal(err)
	}
	return scope
}

func randomPixels(c Config, batch int, seed uint64) *tensors.Tensor {
	c = c.WithDefaults()
	r := rand.New(rand.NewPCG(seed, 1))
	vals := make([]float32, batch*c.NumChannels*c.ImageSize*c.ImageSize)
	for i := range vals {
		vals[i] = float32(r.Float64()*2 - 1)
	}
	return tensors.FromFlatDataAndDimensions(vals, batch, c.NumChannels, c.ImageSize, c.ImageSize)
}

// run executes fn over pixels and returns each output's flat values.
func run(t *testing.T, scope *model.Scope, fn func(scope *model.Scope, pixels *Node) []*Node, pixels *tensors.Tensor) [][]float32 {
	t.Helper()
	e := model.MustNewExec(testutil.Backend(t), scope.Store(), fn)
	defer e.Finalize()
	out, err := e.Exec(pixels)
	if err != nil {
		t.Fatal(err)
	}
	res := make([][]float32, len(out))
	for i, o := range out {
		res[i] = tensors.MustCopyFlatData[float32](o)
	}
	return res
}

// TestParamCounts: so400m as nanoLLaVA keeps it. Per layer: 2 LayerNorms
// (2x2,304), 4 projections (4x(1152²+1152) = 5,313,024), fc1 (4304x1152 +
// 4304 = 4,962,512), fc2 (1152x4304 + 1152 = 4,959,360): 15,239,504.
// Embeddings: conv 1152x3x14x14 + 1152 = 678,528 and positions 729x1152 =
// 839,808. post_layernorm 2,304. 26 layers: 397,747,744 in all.
func TestParamCounts(t *testing.T) {
	total, by := nn.Count(Params(NanoLLaVA()))
	if total != 397_747_744 {
		t.Errorf("nanoLLaVA tower: total %d, want 397,747,744", total)
	}
	want := map[string]int64{ComponentEmbeddings: 1_518_336, ComponentLayers: 26 * 15_239_504, ComponentUnused: 2_304}
	for k, v := range want {
		if by[k] != v {
			t.Errorf("component %s: %d, want %d", k, by[k], v)
		}
	}
	// The published so400m vision model without its pooling head: one more layer.
	if total27, _ := nn.Count(Params(So400m())); total27 != 397_747_744+15_239_504 {
		t.Errorf("so400m (27 layers): %d", total27)
	}
	ps := Params(NanoLLaVA())
	if ps[0].Name != "model.vision_tower.vision_tower.vision_model.embeddings.patch_embedding.weight" ||
		!slices.Equal(ps[0].Dims, []int{1152, 3, 14, 14}) {
		t.Errorf("first param %s %v", ps[0].Name, ps[0].Dims)
	}
	if p := Params(So400m())[2]; p.Name != "vision_model.embeddings.position_embedding.weight" || !slices.Equal(p.Dims, []int{729, 1152}) {
		t.Errorf("position embedding %s %v", p.Name, p.Dims)
	}
	for _, p := range ps {
		if strings.Contains(p.Name, "layers.26.") {
			t.Errorf("deleted layer listed: %s", p.Name)
		}
	}
}

func TestValidate(t *testing.T) {
	if err := NanoLLaVA().Validate(); err != nil {
		t.Fatal(err)
	}
	if err := (Config{}).Validate(); err != nil {
		t.Errorf("all-default config: %v", err)
	}
	bad := Config{HiddenSize: 10, NumAttentionHeads: 3, ImageSize: 8, PatchSize: 14, HiddenAct: "relu",
		NumHiddenLayers: 2, LayersKept: 3, Prefix: "vision_model", LayerNormEps: -1}
	err := bad.Validate()
	if err == nil {
		t.Fatal("bad config accepted")
	}
	for _, field := range []string{"hidden_size (10)", "image_size (8)", "LayersKept (3)", "hidden_act", "layer_norm_eps", "Prefix"} {
		if !strings.Contains(err.Error(), field) {
			t.Errorf("error does not name %s: %v", field, err)
		}
	}
}

// builtParams builds Forward's graph for c without running it and returns
// the variables it read, by Hugging Face name. Variables are created with
// their shapes only, so this works for full-size models without memory.
func builtParams(t *testing.T, c Config, batch int) (map[string][]int, Output) {
	t.Helper()
	c = c.WithDefaults()
	scope := model.NewStore().RootScope()
	g := NewGraph(testutil.Backend(t), "shapes")
	pixels := Parameter(g, "pixels", shapes.Make(dtypes.Float32, batch, c.NumChannels, c.ImageSize, c.ImageSize))
	out := Forward(scope, c, pixels, nil)
	used := map[string][]int{}
	for v := range scope.IterVariables() {
		used[nn.HFName(v.Scope(), v.Name())] = v.Shape().Dimensions
	}
	return used, out
}

// checkParamsMatchGraph: Forward reads exactly the params Params lists,
// with their shapes, except the unused post_layernorm.
func checkParamsMatchGraph(t *testing.T, c Config, used map[string][]int) {
	t.Helper()
	n := 0
	for _, p := range Params(c) {
		dims, ok := used[p.Name]
		switch {
		case p.Component == ComponentUnused:
			if ok {
				t.Errorf("%s is read by Forward", p.Name)
			}
		case !ok:
			t.Errorf("%s listed but not read", p.Name)
		case !slices.Equal(dims, p.Dims):
			t.Errorf("%s: graph reads %v, Params lists %v", p.Name, dims, p.Dims)
		default:
			n++
		}
	}
	if n != len(used) {
		t.Errorf("graph reads %d variables, %d of them listed", len(used), n)
	}
}

func TestTinyGraphReadsParams(t *testing.T) {
	used, out := builtParams(t, tiny, 2)
	checkParamsMatchGraph(t, tiny, used)
	if d := out.Last.Shape().Dimensions; !slices.Equal(d, []int{2, 4, 16}) || len(out.Hidden) != 2 {
		t.Errorf("last %v, %d hidden states", d, len(out.Hidden))
	}
	// PostLayerNorm reads exactly the params Forward leaves unused.
	scope := model.NewStore().RootScope()
	g := NewGraph(testutil.Backend(t), "post")
	PostLayerNorm(scope, tiny, Parameter(g, "h", shapes.Make(dtypes.Float32, 2, 4, 16)))
	var names []string
	for v := range scope.IterVariables() {
		names = append(names, nn.HFName(v.Scope(), v.Name()))
	}
	slices.Sort(names)
	if want := []string{tiny.Prefix + "post_layernorm.bias", tiny.Prefix + "post_layernorm.weight"}; !slices.Equal(names, want) {
		t.Errorf("PostLayerNorm reads %v", names)
	}
}

// TestSo400mGraphShapes builds nanoLLaVA's full tower (26 layers, 729
// tokens, 1152 wide) without executing it: at ~640 GFLOP an image, a run
// on the pure-Go backend with 2 cores takes minutes. Shape inference runs
// through every op, so this proves the graph is well formed and reads
// exactly the checkpoint's tensors.
func TestSo400mGraphShapes(t *testing.T) {
	start := time.Now()
	c := NanoLLaVA()
	used, out := builtParams(t, c, 1)
	checkParamsMatchGraph(t, c, used)
	if d := out.Last.Shape().Dimensions; !slices.Equal(d, []int{1, 729, 1152}) || len(out.Hidden) != 26 {
		t.Errorf("last %v, %d hidden states", d, len(out.Hidden))
	}
	if d := out.Embeddings.Shape().Dimensions; !slices.Equal(d, []int{1, 729, 1152}) {
		t.Errorf("embeddings %v", d)
	}
	t.Logf("built the 26-layer graph in %v", time.Since(start))
}

// TestPatchEmbeddingIsConvolution compares Embeddings with a stride-patch
// convolution computed by loops on the host, on 10x10 images with 4x4
// patches so that, as at 384/14, the last pixels fall outside every patch.
func TestPatchEmbeddingIsConvolution(t *testing.T) {
	c := Config{HiddenSize: 5, IntermediateSize: 4, NumHiddenLayers: 1, NumAttentionHeads: 1,
		NumChannels: 3, ImageSize: 10, PatchSize: 4}.WithDefaults()
	scope := randomModel(t, c, 7)
	pixels := randomPixels(c, 2, 8)
	got := run(t, scope, func(scope *model.Scope, px *Node) []*Node {
		return []*Node{Embeddings(scope, c, px)}
	}, pixels)[0]

	value := func(name string) []float32 { return testutil.Float32Var(t, scope, name) }
	w, bias := value("embeddings.patch_embedding.weight"), value("embeddings.patch_embedding.bias")
	pos := value("embeddings.position_embedding.weight")
	x := tensors.MustCopyFlatData[float32](pixels)
	P, C, S, G, H := c.PatchSize, c.NumChannels, c.ImageSize, c.Grid(), c.HiddenSize
	maxDiff := 0.0
	for b := range 2 {
		for gy := range G {
			for gx := range G {
				p := gy*G + gx
				for o := range H {
					sum := float64(bias[o])
					for ch := range C {
						for i := range P {
							for j := range P {
								sum += float64(w[((o*C+ch)*P+i)*P+j]) * float64(x[((b*C+ch)*S+gy*P+i)*S+gx*P+j])
							}
						}
					}
					sum += float64(pos[p*H+o])
					maxDiff = math.Max(maxDiff, math.Abs(sum-float64(got[(b*G*G+p)*H+o])))
				}
			}
		}
	}
	if maxDiff > 1e-5 {
		t.Errorf("patch embedding differs from the convolution by %.3g", maxDiff)
	}
}

// TestHooksInOrder: the hook sees layers 0..LayersKept-1 in order, its
// result becomes the residual stream, and Hidden holds the hooked values.
func TestHooksInOrder(t *testing.T) {
	scope := randomModel(t, tiny, 1)
	pixels := randomPixels(tiny, 2, 2)
	var calls []int
	outs := run(t, scope, func(scope *model.Scope, px *Node) []*Node {
		calls = calls[:0]
		plain := Forward(scope, tiny, px, nil)
		identity := Forward(scope, tiny, px, func(layer int, h *Node) *Node { return h })
		shifted := Forward(scope, tiny, px, func(layer int, h *Node) *Node {
			calls = append(calls, layer)
			if layer == 0 {
				return AddScalar(h, 1)
			}
			return h
		})
		return []*Node{plain.Last, identity.Last, shifted.Last, shifted.Hidden[0], plain.Hidden[0]}
	}, pixels)
	if !slices.Equal(calls, []int{0, 1}) {
		t.Errorf("hook calls %v, want [0 1]", calls)
	}
	if d := testutil.MaxAbsDiff(outs[0], outs[1]); d != 0 {
		t.Errorf("identity hook changed the output by %.3g", d)
	}
	if d := testutil.MaxAbsDiff(outs[0], outs[2]); d < 1e-3 {
		t.Errorf("a hook at layer 0 did not reach the output (diff %.3g)", d)
	}
	for i := range outs[3] {
		if math.Abs(float64(outs[3][i]-outs[4][i]-1)) > 1e-5 {
			t.Fatalf("Hidden[0] is not the hooked value at %d: %v vs %v", i, outs[3][i], outs[4][i])
		}
	}
}

// TestBatchRowsIndependent: each image's features depend on that image
// alone (patchify must not mix batch rows), and bf16 compute stays close
// to float32.
func TestBatchRowsIndependent(t *testing.T) {
	scope := randomModel(t, tiny, 3)
	pixels := randomPixels(tiny, 2, 4)
	flat := tensors.MustCopyFlatData[float32](pixels)
	n := len(flat) / 2
	second := tensors.FromFlatDataAndDimensions(slices.Clone(flat[n:]), 1, 3, 8, 8)
	fn := func(scope *model.Scope, px *Node) []*Node {
		f32 := Forward(scope, tiny, px, nil).Last
		bf := Forward(scope, tiny, ConvertDType(px, dtypes.BFloat16), nil).Last
		return []*Node{f32, ConvertDType(bf, dtypes.Float32)}
	}
	both := run(t, scope, fn, pixels)
	alone := run(t, scope, fn, second)
	m := len(both[0]) / 2
	if d := testutil.MaxAbsDiff(both[0][m:], alone[0]); d > 1e-5 {
		t.Errorf("row 1 depends on row 0: diff %.3g", d)
	}
	// bf16 (8 significant bits) through two layers: a sanity bound, not
	// parity. The pure-Go backend of GoMLX v0.26.0 converts float32 to bf16
	// by truncation (bfloat16.FromFloat32), not round-to-nearest as torch and
	// XLA do, which about doubles the error: 3.0% here.
	var diff, size float64
	for i := range both[0] {
		diff += math.Abs(float64(both[0][i] - both[1][i]))
		size += math.Abs(float64(both[0][i]))
	}
	if diff > 0.05*size {
		t.Errorf("bf16 differs from f32 by %.3g%% on average", 100*diff/size)
	}
	t.Logf("bf16 vs f32: mean |diff| %.3g%% of mean |value|", 100*diff/size)
}

// TestGradientFiniteDifference checks d loss / d weight from GoMLX's
// reverse mode against central differences, for the patch convolution
// (through patchify, every layer and the position add) and a layer-0 q_proj
// weight (through attention), with loss = Σ Last ⊙ R for a fixed R.
func TestGradientFiniteDifference(t *testing.T) {
	scope := randomModel(t, tiny, 5)
	pixels := randomPixels(tiny, 2, 6)
	names := []string{
		tiny.Prefix + "embeddings.patch_embedding.weight",
		tiny.Prefix + "encoder.layers.0.self_attn.q_proj.weight",
	}
	r := rand.New(rand.NewPCG(9, 9))
	weights := make([]float32, 2*4*16)
	for i := range weights {
		weights[i] = float32(r.NormFloat64())
	}
	loss := func(scope *model.Scope, px *Node) *Node {
		last := Forward(scope, tiny, px, nil).Last
		return ReduceAllSum(Mul(last, Const(px.Graph(), tensors.FromFlatDataAndDimensions(weights, 2, 4, 16))))
	}
	grads := run(t, scope, func(scope *model.Scope, px *Node) []*Node {
		l := loss(scope, px)
		var vs []*Node
		for _, name := range names {
			scope, v := nn.ScopeOf(scope, name)
			vs = append(vs, scope.GetVariable(v).NodeValue(px.Graph()))
		}
		return append([]*Node{l}, Gradient(l, vs...)...)
	}, pixels)

	e := model.MustNewExec(testutil.Backend(t), scope.Store(), loss)
	defer e.Finalize()
	eval := func() float64 {
		out, err := e.Exec(pixels)
		if err != nil {
			t.Fatal(err)
		}
		return float64(out[0].Value().(float32))
	}
	const h = 1e-2
	for k, name := range names {
		scope, v := nn.ScopeOf(scope, name)
		variable := scope.GetVariable(v)
		orig, _ := variable.Value()
		base := tensors.MustCopyFlatData[float32](orig)
		dims := orig.Shape().Dimensions
		for _, i := range []int{0, 7, len(base) / 2, len(base) - 1} {
			at := func(delta float32) float64 {
				vals := slices.Clone(base)
				vals[i] += delta
				if err := variable.SetValue(tensors.FromFlatDataAndDimensions(vals, dims...)); err != nil {
					t.Fatal(err)
				}
				return eval()
			}
			fd := (at(h) - at(-h)) / (2 * h)
			got := float64(grads[1+k][i])
			t.Logf("%s[%d]: gradient %.5f, finite difference %.5f", name, i, got, fd)
			if math.Abs(fd-got) > 5e-3*math.Max(1, math.Abs(fd)) {
				t.Errorf("%s[%d]: gradient %.5f, finite difference %.5f", name, i, got, fd)
			}
		}
		if err := variable.SetValue(tensors.FromFlatDataAndDimensions(base, dims...)); err != nil {
			t.Fatal(err)
		}
	}
}
