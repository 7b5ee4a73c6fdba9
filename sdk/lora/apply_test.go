package lora_test

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/dtypes/bfloat16"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/visreft/visreft/sdk/internal/testutil"
	"github.com/visreft/visreft/sdk/lora"
	"github.com/visreft/visreft/sdk/models/qwen2"
	"github.com/visreft/visreft/sdk/nn"
	"github.com/visreft/visreft/sdk/safetensors"
)

var tiny = qwen2.Config{VocabSize: 64, HiddenSize: 32, IntermediateSize: 48, NumHiddenLayers: 2,
	NumAttentionHeads: 4, NumKeyValueHeads: 2, RopeTheta: 10000, RMSNormEps: 1e-6}

func tinyModel(t testing.TB) *model.Scope {
	t.Helper()
	scope := model.NewStore().RootScope()
	if err := nn.InitRandom(scope, qwen2.Params(tiny), 1, 0.2, dtypes.Float32); err != nil {
		t.Fatal(err)
	}
	if err := scope.Store().SetRNGStateFromSeed(7); err != nil {
		t.Fatal(err)
	}
	return scope
}

var ids = [][]int32{{5, 9, 3, 7, 11, 2}}

// logits runs the tiny model (training or not) and returns flat logits.
func logits(t *testing.T, b compute.Backend, scope *model.Scope, training bool) []float32 {
	t.Helper()
	e := model.MustNewExec(b, scope.Store(), func(scope *model.Scope, ids *Node) *Node {
		g := ids.Graph()
		scope.Store().SetTraining(g, training)
		s := ids.Shape().Dimensions[1]
		idx := Iota(g, shapesInt(1, s), 1)
		in := qwen2.Input{Embeds: qwen2.Embed(scope, tiny, ids, dtypes.Float32), Positions: idx,
			Mask: nn.CausalPaddingMask(idx, idx, OnesLike(ConvertDType(idx, dtypes.Bool)))}
		return qwen2.LMHead(scope, tiny, qwen2.Decoder(scope, tiny, in).Final)
	})
	defer e.Finalize()
	out, err := e.Exec(ids)
	if err != nil {
		t.Fatal(err)
	}
	return tensors.MustCopyFlatData[float32](out[0])
}

var attnCfg = lora.Config{R: 4, Alpha: 8, TargetModules: []string{"q_proj", "v_proj", "o_proj"}, Seed: 3}

// randomizeB gives every lora_B random values, as training would.
func randomizeB(t *testing.T, scope *model.Scope, ps []nn.Param) {
	r := rand.New(rand.NewPCG(9, 9))
	for _, p := range ps {
		if !strings.HasSuffix(p.Name, ".lora_B") {
			continue
		}
		v := make([]float32, p.Size())
		for i := range v {
			v[i] = float32(0.3 * r.NormFloat64())
		}
		if err := nn.SetParam(scope, p.Name, tensors.FromFlatDataAndDimensions(v, p.Dims...)); err != nil {
			t.Fatal(err)
		}
	}
}

func TestApplyInitLikePEFT(t *testing.T) {
	b, scope := testutil.Backend(t), tinyModel(t)
	before := logits(t, b, scope, false)
	ps, err := lora.Apply(scope, qwen2.Params(tiny), attnCfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 2*3*tiny.NumHiddenLayers {
		t.Fatalf("%d adapter params, want %d", len(ps), 2*3*tiny.NumHiddenLayers)
	}
	if d := testutil.MaxAbsDiff(before, logits(t, b, scope, false)); d != 0 {
		t.Errorf("a fresh adapter (B = 0) changed the logits by %.3g", d)
	}
	vp, _ := nn.ScopeOf(scope, "model.layers.1.self_attn.v_proj.weight")
	if s := model.GetParamOr(vp, nn.LoRAScaleKey, 0.0); s != 2 {
		t.Errorf("scale %g, want alpha/r = 2", s)
	}
	a := tensors.MustCopyFlatData[float32](vp.GetVariable(nn.LoRAAName).MustValue())
	bound := 1 / math.Sqrt(32)
	sum2 := 0.0
	for _, x := range a {
		if math.Abs(float64(x)) > bound {
			t.Fatalf("lora_A value %g outside ±1/sqrt(in) = %g", x, bound)
		}
		sum2 += float64(x) * float64(x)
	}
	if std := math.Sqrt(sum2 / float64(len(a))); math.Abs(std-bound/math.Sqrt(3)) > 0.15*bound/math.Sqrt(3) {
		t.Errorf("lora_A std %g, uniform on ±%g has %g", std, bound, bound/math.Sqrt(3))
	}
	if _, err := lora.Apply(scope, qwen2.Params(tiny), attnCfg); err == nil {
		t.Error("a second Apply on the same modules was accepted")
	}
}

// TestMergeEqualsAdapter: logits with trained adapters equal logits of the
// merged base weights, and merging removes the adapters.
func TestMergeEqualsAdapter(t *testing.T) {
	b, scope := testutil.Backend(t), tinyModel(t)
	base := logits(t, b, scope, false)
	ps, err := lora.Apply(scope, qwen2.Params(tiny), attnCfg)
	if err != nil {
		t.Fatal(err)
	}
	randomizeB(t, scope, ps)
	adapted := logits(t, b, scope, false)
	if d := testutil.MaxAbsDiff(base, adapted); d < 1e-3 {
		t.Fatalf("adapters barely change the logits (%.3g): the test would prove nothing", d)
	}
	if err := lora.Merge(scope, ps); err != nil {
		t.Fatal(err)
	}
	q, _ := nn.ScopeOf(scope, "model.layers.0.self_attn.q_proj.weight")
	if q.GetVariable(nn.LoRAAName) != nil || q.GetVariable(nn.LoRABName) != nil {
		t.Error("adapter variables survive the merge")
	}
	if d := testutil.MaxAbsDiff(adapted, logits(t, b, scope, false)); d > 1e-5 {
		t.Errorf("merged logits differ from adapted ones by %.3g", d)
	}
}

// TestDropoutOnlyWhileTraining: lora_dropout changes training forwards
// (differently each step) and never inference.
func TestDropoutOnlyWhileTraining(t *testing.T) {
	b, scope := testutil.Backend(t), tinyModel(t)
	cfg := attnCfg
	cfg.Dropout = 0.5
	ps, err := lora.Apply(scope, qwen2.Params(tiny), cfg)
	if err != nil {
		t.Fatal(err)
	}
	randomizeB(t, scope, ps)
	eval := logits(t, b, scope, false)
	train1 := logits(t, b, scope, true)
	train2 := logits(t, b, scope, true)
	if d := testutil.MaxAbsDiff(eval, train1); d < 1e-4 {
		t.Errorf("dropout did not change a training forward (%.3g)", d)
	}
	if d := testutil.MaxAbsDiff(train1, train2); d < 1e-4 {
		t.Errorf("two training forwards drew the same dropout mask (%.3g)", d)
	}
	for _, p := range ps {
		scope, _ := nn.ScopeOf(scope, p.Name)
		scope.SetParam(lora.DropoutKey, 0.0)
	}
	if d := testutil.MaxAbsDiff(eval, logits(t, b, scope, true)); d > 1e-6 {
		t.Errorf("with dropout 0 a training forward differs from inference by %.3g", d)
	}
}

// TestSaveLoadPEFT: the adapter directory has PEFT's file names, tensor
// names and config fields, and loads back bit for bit.
func TestSaveLoadPEFT(t *testing.T) {
	b, scope := testutil.Backend(t), tinyModel(t)
	cfg := attnCfg
	cfg.Dropout = 0.05
	cfg.LayersToTransform = []int{1}
	ps, err := lora.Apply(scope, qwen2.Params(tiny), cfg)
	if err != nil {
		t.Fatal(err)
	}
	randomizeB(t, scope, ps)
	want := logits(t, b, scope, false)
	dir := t.TempDir()
	if err := lora.Save(dir, scope, cfg, ps, "tiny-qwen2"); err != nil {
		t.Fatal(err)
	}
	f, err := safetensors.Open(filepath.Join(dir, lora.WeightsFile))
	if err != nil {
		t.Fatal(err)
	}
	names := f.Names()
	f.Close()
	var wantNames []string
	for _, m := range []string{"q_proj", "v_proj", "o_proj"} {
		for _, ab := range []string{"lora_A", "lora_B"} {
			wantNames = append(wantNames, "base_model.model.model.layers.1.self_attn."+m+"."+ab+".weight")
		}
	}
	slices.Sort(wantNames)
	if !slices.Equal(names, wantNames) {
		t.Errorf("tensor names %v, want %v", names, wantNames)
	}
	raw, err := os.ReadFile(filepath.Join(dir, lora.ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	var js map[string]any
	if err := json.Unmarshal(raw, &js); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]any{"peft_type": "LORA", "r": 4.0, "lora_alpha": 8.0, "lora_dropout": 0.05,
		"bias": "none", "base_model_name_or_path": "tiny-qwen2", "task_type": "CAUSAL_LM"} {
		if js[k] != v {
			t.Errorf("adapter_config.json %s = %v, want %v", k, js[k], v)
		}
	}
	if tm, _ := json.Marshal(js["target_modules"]); string(tm) != `["q_proj","v_proj","o_proj"]` {
		t.Errorf("target_modules = %s", tm)
	}

	fresh := tinyModel(t)
	got, ps2, err := lora.Load(dir, fresh, qwen2.Params(tiny))
	if err != nil {
		t.Fatal(err)
	}
	if got.R != 4 || got.Alpha != 8 || got.Dropout != 0.05 || !slices.Equal(got.LayersToTransform, []int{1}) || len(ps2) != len(ps) {
		t.Errorf("loaded config %+v with %d params", got, len(ps2))
	}
	if d := testutil.MaxAbsDiff(want, logits(t, b, fresh, false)); d != 0 {
		t.Errorf("loaded adapter gives logits %.3g away from the saved one", d)
	}

	// An adapter of another rank does not fit its config.
	js["r"] = 2
	raw, _ = json.Marshal(js)
	os.WriteFile(filepath.Join(dir, lora.ConfigFile), raw, 0o644)
	if _, _, err := lora.Load(dir, tinyModel(t), qwen2.Params(tiny)); err == nil || !strings.Contains(err.Error(), "shape") {
		t.Errorf("rank mismatch: err = %v", err)
	}
}

func shapesInt(dims ...int) shapesT { return shapesMake(dtypes.Int32, dims...) }

type shapesT = shapes.Shape

var shapesMake = shapes.Make

// TestMergeRoundsBF16ToNearest: merging into a bf16 weight rounds the sum
// to nearest even as torch does: 1 + 0.006 is 1.0078125 in bf16, where
// truncation (GoMLX's bfloat16.FromFloat32) would give 1.
func TestMergeRoundsBF16ToNearest(t *testing.T) {
	scope := model.NewStore().RootScope()
	base := []nn.Param{{Name: "m.proj.weight", Dims: []int{1, 1}}}
	if err := nn.InitRandom(scope, base, 1, 0, dtypes.BFloat16); err != nil {
		t.Fatal(err)
	}
	if err := nn.SetParam(scope, "m.proj.weight", tensors.FromFlatDataAndDimensions([]bfloat16.BFloat16{bfloat16.FromFloat32(1)}, 1, 1)); err != nil {
		t.Fatal(err)
	}
	ps, err := lora.Apply(scope, base, lora.Config{R: 1, Alpha: 1, TargetModules: []string{"proj"}})
	if err != nil {
		t.Fatal(err)
	}
	nn.SetParam(scope, "m.proj.lora_A", tensors.FromFlatDataAndDimensions([]float32{0.5}, 1, 1))
	nn.SetParam(scope, "m.proj.lora_B", tensors.FromFlatDataAndDimensions([]float32{0.012}, 1, 1))
	if err := lora.Merge(scope, ps); err != nil {
		t.Fatal(err)
	}
	proj, _ := nn.ScopeOf(scope, "m.proj.weight")
	if got := tensors.MustCopyFlatData[bfloat16.BFloat16](proj.GetVariable("weight").MustValue())[0].Float32(); got != 1.0078125 {
		t.Errorf("merged bf16 weight %v, want 1.0078125", got)
	}
}
