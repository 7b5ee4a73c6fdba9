package experiment

import (
	gocontext "context"
	"encoding/json"
	"io"
	"math"
	"strings"
	"testing"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/visreft/visreft/sdk/cvbench"
	"github.com/visreft/visreft/sdk/demo"
	"github.com/visreft/visreft/sdk/internal/testutil"
	"github.com/visreft/visreft/sdk/models/llava"
)

// fidelityData is a few demo examples in the paper's template.
func fidelityData(t testing.TB, n int) Data {
	t.Helper()
	ds, err := demo.Data()
	if err != nil {
		t.Fatal(err)
	}
	return Data{Train: ds.Examples[:n], Val: ds.Examples[n : 2*n], Prompt: cvbench.PromptOptions{Format: cvbench.PromptPaper}}
}

// frozenParams are the graph's parameter nodes of variables outside the
// intervention scope (the frozen model's weights).
func frozenParams(scope *model.Scope, g *Graph) map[*Node]string {
	out := map[*Node]string{}
	for v := range scope.IterVariables() {
		if strings.HasPrefix(v.Path(), "/"+reftScope+"/") || !v.InUseByGraph(g) {
			continue
		}
		out[v.NodeValue(g)] = v.Path()
	}
	return out
}

// weightOperand follows n back through dtype conversions and reshapes to a
// frozen weight, if it is one.
func weightOperand(n *Node, frozen map[*Node]string) (string, bool) {
	for range 8 {
		if name, ok := frozen[n]; ok {
			return name, true
		}
		switch n.Type() {
		case NodeTypeConvertDType, NodeTypeReshape, NodeTypeTranspose, NodeTypeBroadcastInDim:
			n = n.Inputs()[0]
		default:
			return "", false
		}
	}
	return "", false
}

// trainingGraphStats builds ReFT's training graph (loss and gradients of
// the interventions) for one batch in compute dtype dt and returns the
// loss and, per output dtype, the DotGenerals that multiply by a frozen
// weight.
func trainingGraphStats(t *testing.T, dt dtypes.DType) (float64, map[dtypes.DType][]string) {
	t.Helper()
	b := testutil.Backend(t)
	m, err := demo.Model(1)
	if err != nil {
		t.Fatal(err)
	}
	d := fidelityData(t, 4)
	method := PaperReFT(4, "all")
	steer, err := prepare(b, m, method, 1)
	if err != nil {
		t.Fatal(err)
	}
	src, err := newSource(m, d.Train, d.Prompt, steer, nil)
	if err != nil {
		t.Fatal(err)
	}
	args, err := src.Batch([]int{0, 1}, 2, buckets(src)[len(buckets(src))-1])
	if err != nil {
		t.Fatal(err)
	}
	dots := map[dtypes.DType][]string{}
	e := model.MustNewExec(b, m.Ctx.Store(), func(scope *model.Scope, in []*Node) *Node {
		loss := lossFn(m.Config, steer, dt)(scope, in)
		g := loss.Graph()
		var wrt []*Node
		for v := range scope.IterVariables() {
			if strings.HasPrefix(v.Path(), "/"+reftScope+"/") && v.InUseByGraph(g) {
				wrt = append(wrt, v.NodeValue(g))
			}
		}
		grads := Gradient(loss, wrt...)
		frozen := frozenParams(scope, g)
		for _, n := range g.Nodes() {
			if n.Type() != NodeTypeDotGeneral {
				continue
			}
			for _, op := range n.Inputs() {
				if name, ok := weightOperand(op, frozen); ok {
					dots[n.DType()] = append(dots[n.DType()], name)
					break
				}
			}
		}
		return Add(loss, MulScalar(ReduceAllSum(ConvertDType(grads[0], dtypes.Float32)), 0))
	})
	defer e.Finalize()
	out, err := e.Exec(args...)
	if err != nil {
		t.Fatal(err)
	}
	return float64(tensors.MustCopyFlatData[float32](out[0])[0]), dots
}

// TestComputeDTypeBF16: with compute dtype bf16 every matmul by a frozen
// weight of the training graph (SigLIP, projector, decoder, LM head; the
// forward and the backward to the interventions) runs in bf16, while the
// interventions stay float32; the loss agrees with float32's within bf16
// tolerance. Before the compute dtype existed, the f32 pixels made every
// matmul float32 whatever the checkpoint's dtype.
func TestComputeDTypeBF16(t *testing.T) {
	l32, d32 := trainingGraphStats(t, dtypes.Float32)
	l16, d16 := trainingGraphStats(t, dtypes.BFloat16)
	c := llava.Demo()
	// forward alone: SigLIP (q, k, v, o, fc1, fc2 per kept layer, patch
	// embedding), projector (2), decoder (7 per layer), LM head.
	minDots := 6*c.Vision.LayersKept + 1 + 2 + 7*c.NumHiddenLayers + 1
	t.Logf("frozen-weight matmuls: f32 run %d f32; bf16 run %d bf16, %d f32; loss f32 %.5f bf16 %.5f",
		len(d32[dtypes.Float32]), len(d16[dtypes.BFloat16]), len(d16[dtypes.Float32]), l32, l16)
	if n := len(d16[dtypes.BFloat16]); n < minDots {
		t.Errorf("only %d matmuls by frozen weights in bf16, want at least %d", n, minDots)
	}
	if f := d16[dtypes.Float32]; len(f) > 0 {
		t.Errorf("%d matmuls by frozen weights still run in float32 with compute dtype bf16, e.g. %s", len(f), f[0])
	}
	if len(d32[dtypes.BFloat16]) > 0 {
		t.Errorf("bf16 matmuls in a float32 run")
	}
	if rel := math.Abs(l16-l32) / math.Abs(l32); rel > 0.03 || math.IsNaN(rel) {
		t.Errorf("bf16 loss %.5f vs float32 %.5f: relative %.3g over bf16 tolerance 0.03", l16, l32, rel)
	}
}

// TestPaperFullRecomputeSameGradients: full fine-tuning of nanoLLaVA's
// architecture with per-decoder-block recompute (PaperFull) gives the
// gradients of the whole graph (read back from AdamW's first moment after
// one step: m = (1-β1)·g), to 1e-6 in float32.
func TestPaperFullRecomputeSameGradients(t *testing.T) {
	b := testutil.Backend(t)
	d := fidelityData(t, 2)
	grads := func(recompute bool) (map[string][]float32, int) {
		m, err := demo.Model(1)
		if err != nil {
			t.Fatal(err)
		}
		method := PaperFull()
		if !method.Train.Recompute {
			t.Fatal("PaperFull does not ask for gradient checkpointing")
		}
		src, err := newSource(m, d.Train, d.Prompt, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		st, _ := method.strategy()
		cfg := method.Train
		cfg.Progress, cfg.MaxSteps, cfg.BatchSize, cfg.ClipNorm, cfg.Shuffle = io.Discard, 1, 2, 0, false
		cfg.Buckets, cfg.Recompute = buckets(src), recompute
		tr, err := newTrainer(b, m, nil, dtypes.Float32, st, src, cfg)
		if err != nil {
			t.Fatal(err)
		}
		res, err := tr.Run(gocontext.Background())
		if err != nil {
			t.Fatal(err)
		}
		out := map[string][]float32{}
		for _, name := range tr.Trainable() {
			mom, _ := tr.Moments(name)
			out[name] = tensors.MustCopyFlatData[float32](mom)
		}
		return out, res.Compiles
	}
	whole, cw := grads(false)
	staged, cs := grads(true)
	if len(whole) != len(staged) || len(whole) == 0 {
		t.Fatalf("%d trained variables whole, %d staged", len(whole), len(staged))
	}
	worst, scale := 0.0, 0.0
	for name, a := range whole {
		s := staged[name]
		if len(s) != len(a) {
			t.Fatalf("%s: not trained with recompute", name)
		}
		for i := range a {
			worst = math.Max(worst, math.Abs(float64(a[i]-s[i]))/0.1)
			scale = math.Max(scale, math.Abs(float64(a[i]))/0.1)
		}
	}
	t.Logf("%d variables: max gradient difference %.3g (max |g| %.3g); compiles %d whole, %d staged", len(whole), worst, scale, cw, cs)
	if worst > 1e-6*math.Max(1, scale) {
		t.Errorf("recompute changes the gradients by %.3g", worst)
	}
	if cs <= cw {
		t.Errorf("staged run compiled %d executables, the whole graph %d: recompute did not engage", cs, cw)
	}
}

// TestPaperLoRATrainsOnlyTheLLM: the paper's LoRA counts the tower's
// adapters (Table 4's 0.17 %) but trains only the language model's, as
// nanoLLaVA's no_grad tower does; it uses the image-feature cache; the
// explicit option trains the tower's too.
func TestPaperLoRATrainsOnlyTheLLM(t *testing.T) {
	c := llava.NanoLLaVA()
	m := PaperLoRA()
	total, err := m.TrainableParams(c)
	if err != nil {
		t.Fatal(err)
	}
	trained, err := m.TrainedParams(c)
	if err != nil {
		t.Fatal(err)
	}
	share := 100 * float64(total) / float64(llava.CountParams(c).Total)
	t.Logf("counted %d (%.4f %%), trained %d", total, share, trained)
	if total != 1_744_896 || math.Abs(share-0.1711) > 1e-4 {
		t.Errorf("LoRA counts %d (%.4f %%), the paper's reading is 1,744,896 (0.17 %%)", total, share)
	}
	if trained != 1_744_896-958_464 {
		t.Errorf("LoRA trains %d parameters, want the LLM's %d", trained, 1_744_896-958_464)
	}
	if !m.VisionFrozen() {
		t.Error("the paper's LoRA cannot use the image-feature cache")
	}
	st, _ := m.strategy()
	for name, want := range map[string]bool{
		"model.layers.3.self_attn.q_proj.lora_A":                                                true,
		"model.vision_tower.vision_tower.vision_model.encoder.layers.3.self_attn.q_proj.lora_A": false,
	} {
		if got, _ := st.Trains(name); got != want {
			t.Errorf("trains %s: %v, want %v", name, got, want)
		}
	}
	m.LoRATrainTower = true
	if n, _ := m.TrainedParams(c); n != total || m.VisionFrozen() {
		t.Errorf("LoRATrainTower: trains %d of %d, vision frozen %v", n, total, m.VisionFrozen())
	}
}

// TestRunRecordsPaperSetting: a run on the paper's template records it,
// evaluates by generation (headline) and by likelihood, reports chance,
// and trains LoRA through the feature cache with the tower's adapters
// untouched.
func TestRunRecordsPaperSetting(t *testing.T) {
	b := testutil.Backend(t)
	d := fidelityData(t, 4)
	newModel := func() (*llava.Model, error) { return demo.Model(1) }
	base, err := newModel()
	if err != nil {
		t.Fatal(err)
	}
	fc, err := NewFeatureCache(b, base, Images(d.Train), 4, DefaultFeatureBudget)
	if err != nil {
		t.Fatal(err)
	}
	vfc, err := NewFeatureCache(b, base, Images(d.Val), 4, DefaultFeatureBudget)
	if err != nil {
		t.Fatal(err)
	}
	m := PaperLoRA()
	m.Train.Progress, m.Train.BatchSize = io.Discard, 4
	res, err := Run(gocontext.Background(), b, newModel, d, m, Options{EvalTrain: 2, Seed: 1, Features: fc, ValFeatures: vfc})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("setting %+v; val %v; chance %.1f", res.Setting, res.ValByProtocol, res.ChanceAccuracy)
	if !strings.HasPrefix(res.Setting.Template, "paper:") || res.Protocol != "generate" {
		t.Errorf("template %q, protocol %q", res.Setting.Template, res.Protocol)
	}
	for _, p := range []string{"generate", "likelihood"} {
		if _, ok := res.ValByProtocol[p]; !ok {
			t.Errorf("no %s accuracy", p)
		}
	}
	if want := ChanceAccuracy(d.Val); res.ChanceAccuracy != want || !(want > 0 && want < 100) {
		t.Errorf("chance %.2f, want %.2f", res.ChanceAccuracy, want)
	}
	if !strings.Contains(res.Setting.Trainable, "stay frozen") || res.TrainedParams >= res.TrainableParams {
		t.Errorf("trainable %q: trained %d of %d", res.Setting.Trainable, res.TrainedParams, res.TrainableParams)
	}
	tower := res.Model.Ctx.At("model").At("vision_tower").At("vision_tower").At("vision_model").At("encoder").
		At("layers").At("0").At("self_attn").At("q_proj").GetVariable("lora_B")
	if tower == nil {
		t.Fatal("no LoRA adapter on the tower")
	}
	for _, v := range tensors.MustCopyFlatData[float32](tower.MustValue()) {
		if v != 0 {
			t.Fatal("the tower's lora_B moved from its zero init")
		}
	}
}

// TestResultJSONRoundTripsNaN: a result with numbers not measured (NaN)
// is written (encoding/json refuses NaN) and read back with NaN there.
func TestResultJSONRoundTripsNaN(t *testing.T) {
	r := Result{Method: "reft", TrainAccuracy: math.NaN(), ValAccuracy: 50, ChanceAccuracy: 41.8,
		Val: map[string]float64{"accuracy": 50, "acc_Count": math.NaN()}, Losses: []float64{2, 1},
		ValByProtocol: map[string]float64{"generate": 50}}
	data, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back Result
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if !math.IsNaN(back.TrainAccuracy) || back.ValAccuracy != 50 || !math.IsNaN(back.Val["acc_Count"]) ||
		back.Val["accuracy"] != 50 || back.Method != "reft" || len(back.Losses) != 2 || back.ValByProtocol["generate"] != 50 {
		t.Errorf("round trip: %s -> %+v", data, back)
	}
}

// TestLongWorkShowsProgress: caching image features (one tower pass per
// training image, minutes at nanoLLaVA's size) draws a bar that reaches
// its total, and a bench run draws the training bar per step (the bench
// printed nothing for 16 minutes before).
func TestLongWorkShowsProgress(t *testing.T) {
	b := testutil.Backend(t)
	d := fidelityData(t, 4)
	m, err := demo.Model(1)
	if err != nil {
		t.Fatal(err)
	}
	var buf strings.Builder
	if _, err := NewFeatureCacheWith(b, m, Images(d.Train), FeatureOptions{Batch: 2, Progress: &buf}); err != nil {
		t.Fatal(err)
	}
	if out := buf.String(); !strings.Contains(out, "image features") || !strings.Contains(out, "4/4") {
		t.Errorf("feature cache progress: %q", out)
	}
	buf.Reset()
	newModel := func() (*llava.Model, error) { return demo.Model(1) }
	if _, err := Bench(gocontext.Background(), b, newModel, d, PaperReFT(4, "all"), BenchOptions{Batch: 1, Warmup: 1, Steps: 1, Progress: &buf}); err != nil {
		t.Fatal(err)
	}
	if out := buf.String(); !strings.Contains(out, "train reft") || !strings.Contains(out, "2/2") {
		t.Errorf("bench progress: %q", out)
	}
}
