package experiment

import (
	gocontext "context"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/visreft/visreft/sdk/backend"
	"github.com/visreft/visreft/sdk/demo"
	"github.com/visreft/visreft/sdk/models/llava"
	"github.com/visreft/visreft/sdk/reft"
)

// flopsRef is the arithmetic of nanoLLaVA's parts, computed from the weight
// matrices llava.Params lists (2 FLOPs per weight per token) and from
// 4·T²·width of attention per layer, independently of TrainFLOPs' own
// formulas.
type flopsRef struct {
	T, P float64
	// one decoder layer's and one tower layer's matmuls per module kind, on
	// the whole sequence; and their forward attention (2 T×T products)
	llm, vis           map[string]float64
	llmAtt, visAtt     float64
	llmBlock, visBlock float64 // a layer's matmuls
	L, Lv              int
	proj0, proj2       float64
	patch, head        float64
}

func newFlopsRef(t *testing.T, c llava.Config, text, targets float64) flopsRef {
	t.Helper()
	vc, q := c.Vision.WithDefaults(), c.Config.WithDefaults()
	r := flopsRef{P: float64(vc.NumPatches()), llm: map[string]float64{}, vis: map[string]float64{},
		L: q.NumHiddenLayers, Lv: vc.LayersKept}
	r.T = r.P + text
	for _, p := range llava.Params(c) {
		module, ok := strings.CutSuffix(p.Name, ".weight")
		if !ok || len(p.Dims) < 2 {
			continue
		}
		n := float64(p.Size())
		switch {
		case strings.HasPrefix(module, "model.layers.0."):
			r.llm[strings.TrimPrefix(module, "model.layers.0.")] += 2 * r.T * n
		case strings.Contains(module, "encoder.layers.0."):
			r.vis[module[strings.Index(module, "encoder.layers.0.")+len("encoder.layers.0."):]] += 2 * r.P * n
		case module == "model.mm_projector.0":
			r.proj0 = 2 * r.P * n
		case module == "model.mm_projector.2":
			r.proj2 = 2 * r.P * n
		case strings.Contains(module, "patch_embedding"):
			r.patch = 2 * r.P * n
		case module == "lm_head":
			r.head = 2 * targets * n
		}
	}
	for _, w := range r.llm {
		r.llmBlock += w
	}
	for _, w := range r.vis {
		r.visBlock += w
	}
	if len(r.llm) != 7 || len(r.vis) != 6 {
		t.Fatalf("modules per layer: decoder %v, tower %v", r.llm, r.vis)
	}
	r.llmAtt = 4 * r.T * r.T * float64(q.HiddenSize)
	r.visAtt = 4 * r.P * r.P * float64(vc.HiddenSize)
	return r
}

// passLLM and passVis are n frozen blocks passing the gradient to their
// input: matmuls once, attention twice.
func (r flopsRef) passLLM(n int) float64 { return float64(n) * (r.llmBlock + 2*r.llmAtt) }
func (r flopsRef) passVis(n int) float64 { return float64(n) * (r.visBlock + 2*r.visAtt) }

func nearFLOPs(t *testing.T, name string, got, want float64) {
	t.Helper()
	if math.Abs(got-want) > 1e-9*want {
		t.Errorf("%s: %.6g, want %.6g (%+.3g)", name, got, want, got-want)
	}
}

// TestTrainFLOPsFromParameterList checks TrainFLOPs' forward terms against
// the weight matrices listed by llava.Params and 4·T²·width of attention
// per layer.
func TestTrainFLOPsFromParameterList(t *testing.T) {
	c := llava.NanoLLaVA()
	const text, targets = 60.0, 2.0
	r := newFlopsRef(t, c, text, targets)
	full, err := TrainFLOPs(c, PaperFull(), text, targets, false)
	if err != nil {
		t.Fatal(err)
	}
	nearFLOPs(t, "LLM forward", full.LLMForward, float64(r.L)*(r.llmBlock+r.llmAtt)+r.head)
	nearFLOPs(t, "vision forward", full.VisionForward, float64(r.Lv)*(r.visBlock+r.visAtt)+r.patch)
	nearFLOPs(t, "projector forward", full.ProjectorForward, r.proj0+r.proj2)
	cached, _ := TrainFLOPs(c, PaperReFT(4, "all"), text, targets, true)
	nearFLOPs(t, "ReFT, cached features: no vision", cached.VisionForward+cached.ProjectorForward, 0)
	if _, err := TrainFLOPs(c, Method{Name: "prefix"}, text, targets, false); err == nil {
		t.Error("an unknown method got a FLOPs count")
	}
}

// TestTrainFLOPsReFTBackwardSkipsLowestBlock: an intervention on block k's
// output needs the gradient at that output only, so ReFT on layers k..23
// backpropagates through the L-k-1 blocks above k (and the head's input
// gradient), not through block k itself: 23 blocks for "all", 5 for
// "18-23", none for "23". The old count took L-k blocks.
func TestTrainFLOPsReFTBackwardSkipsLowestBlock(t *testing.T) {
	c := llava.NanoLLaVA()
	const text, targets = 60.0, 2.0
	r := newFlopsRef(t, c, text, targets)
	for k := 0; k < r.L; k++ {
		layers := strconv.Itoa(k) + "-23"
		if k == 0 {
			layers = "all"
		}
		f, err := TrainFLOPs(c, PaperReFT(6, layers), text, targets, true)
		if err != nil {
			t.Fatal(err)
		}
		nearFLOPs(t, "ReFT on layers "+layers+" backward", f.Backward, r.passLLM(r.L-k-1)+r.head)
	}
	// Only the lowest layer matters: "3;20" is "3-23".
	a, _ := TrainFLOPs(c, PaperReFT(6, "3;20"), text, targets, true)
	nearFLOPs(t, "ReFT on layers 3;20 backward", a.Backward, r.passLLM(r.L-4)+r.head)
}

// TestTrainFLOPsBackwardByPlace: LoRA's lowest adapted block needs its
// backward only down to its adapters (no dK, no q/k/v input gradients) and,
// with no adapter trained in the tower, no gradient enters the projector or
// the tower; full fine-tuning adds weight gradients and stops at the
// projector's first Linear; ReFT on the vision side backpropagates exactly
// down to its site. The old count gave LoRA a full frozen backward through
// all 24 blocks, the projector and the whole tower whatever trained, full
// fine-tuning both projector input gradients, and every vision-side ReFT
// the whole tower and the projector.
func TestTrainFLOPsBackwardByPlace(t *testing.T) {
	c := llava.NanoLLaVA()
	const text, targets = 60.0, 2.0
	r := newFlopsRef(t, c, text, targets)
	// block 0 of LoRA on q_proj and v_proj: MLP, o_proj input gradients and
	// three of the four T×T products (dV, dP, dQ; not dK)
	lowestLLM := r.llm["mlp.gate_proj"] + r.llm["mlp.up_proj"] + r.llm["mlp.down_proj"] + r.llm["self_attn.o_proj"] + 1.5*r.llmAtt
	lowestVis := r.vis["mlp.fc1"] + r.vis["mlp.fc2"] + r.vis["self_attn.out_proj"] + 1.5*r.visAtt

	// LoRA on the language model's q_proj and v_proj only.
	llmOnly := PaperLoRA()
	llmOnly.LoRA.TargetModules, llmOnly.LoRA.TargetRegex = nil, `model\.layers\.\d+\.self_attn\.(q|v)_proj`
	lo, err := TrainFLOPs(c, llmOnly, text, targets, false)
	if err != nil {
		t.Fatal(err)
	}
	llmOnlyWant := r.passLLM(r.L-1) + lowestLLM + r.head
	nearFLOPs(t, "LoRA on the decoder's q/v backward", lo.Backward, llmOnlyWant)
	loCached, err := TrainFLOPs(c, llmOnly, text, targets, true)
	if err != nil {
		t.Fatal(err)
	}
	nearFLOPs(t, "LoRA on the decoder's q/v backward with cached features", loCached.Backward, llmOnlyWant)

	// The paper's LoRA (q_proj/v_proj by suffix, which reaches the tower):
	// whether the tower's adapters train is the method's strategy's call
	// (the paper's code runs the tower under no_grad).
	lora, err := TrainFLOPs(c, PaperLoRA(), text, targets, false)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := PaperLoRA().strategy()
	towerTrains, _ := st.Trains("model.vision_tower.vision_tower.vision_model.encoder.layers.0.self_attn.q_proj.lora_A")
	want := llmOnlyWant
	if towerTrains {
		want = r.passLLM(r.L) + r.head + r.proj0 + r.proj2 + r.passVis(r.Lv-1) + lowestVis
		if _, err := TrainFLOPs(c, PaperLoRA(), text, targets, true); err == nil {
			t.Error("cached features accepted for a method that trains the tower")
		}
	}
	nearFLOPs(t, "the paper's LoRA backward (tower adapters trained: "+strconv.FormatBool(towerTrains)+")", lora.Backward, want)

	// Full fine-tuning of the tower's top block alone: every decoder block
	// and the projector pass the gradient down; the block needs all its
	// input-side gradients (its first norm trains) and its weight gradients.
	top := Method{Name: "full", FullInclude: []string{"model.vision_tower.vision_tower.vision_model.encoder.layers." + strconv.Itoa(r.Lv-1) + "."}}
	ft, err := TrainFLOPs(c, top, text, targets, false)
	if err != nil {
		t.Fatal(err)
	}
	nearFLOPs(t, "full fine-tuning of the tower's top block backward", ft.Backward,
		r.passLLM(r.L)+r.head+r.proj0+r.proj2+2*r.visBlock+2*r.visAtt)
	if _, err := TrainFLOPs(c, top, text, targets, true); err == nil {
		t.Error("cached features accepted for a method that trains the tower")
	}

	full, err := TrainFLOPs(c, PaperFull(), text, targets, false)
	if err != nil {
		t.Fatal(err)
	}
	// every decoder matmul twice (input and weight gradients), attention
	// twice, the head twice; the projector's weight gradients and its second
	// Linear's input gradient
	nearFLOPs(t, "full backward", full.Backward,
		float64(r.L)*(2*r.llmBlock+2*r.llmAtt)+2*r.head+r.proj0+2*r.proj2)

	spec := func(comp reft.Component, layers string) Method {
		m := PaperReFT(4, layers)
		m.ReFT[0].Component = comp
		return m
	}
	po, err := TrainFLOPs(c, spec(reft.ProjectorOutput, "0"), text, targets, false)
	if err != nil {
		t.Fatal(err)
	}
	nearFLOPs(t, "ReFT on the projector output backward", po.Backward, r.passLLM(r.L)+r.head)
	vb, err := TrainFLOPs(c, spec(reft.VisionBlockOutput, "20"), text, targets, false)
	if err != nil {
		t.Fatal(err)
	}
	nearFLOPs(t, "ReFT on the tower's block 20 backward", vb.Backward,
		r.passLLM(r.L)+r.head+r.proj0+r.proj2+r.passVis(r.Lv-21))
	t.Logf("per example: ReFT %.3g, LoRA (decoder q/v) %.3g, full %.3g TFLOP (%.0f tokens)",
		mustFLOPs(t, c, PaperReFT(4, "all"), text, targets).Total()/1e12, lo.Total()/1e12, full.Total()/1e12, r.T)
}

func mustFLOPs(t *testing.T, c llava.Config, m Method, text, targets float64) FLOPs {
	t.Helper()
	f, err := TrainFLOPs(c, m, text, targets, true)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestBenchTimesSteps runs Bench on the demo model: warm-up and timed
// steps are counted apart and the derived numbers are consistent.
func TestBenchTimesSteps(t *testing.T) {
	t.Setenv("VISREFT_CACHE", t.TempDir())
	ds, err := demo.Data()
	if err != nil {
		t.Fatal(err)
	}
	b, err := backend.NewFromConfig(backend.CPUConfig)
	if err != nil {
		t.Fatal(err)
	}
	d := Data{Train: ds.Examples[:16]}
	r, err := Bench(gocontext.Background(), b, func() (*llava.Model, error) { return demo.Model(1) }, d, PaperReFT(4, "all"),
		BenchOptions{Batch: 2, Warmup: 1, Steps: 3, PeakFLOPs: 1e12})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", *r)
	if r.Steps != 3 || r.Warmup != 1 || r.Batch != 2 || r.ExamplesPerSec <= 0 || r.StepSeconds <= 0 {
		t.Errorf("bench result %+v", *r)
	}
	if want := r.FLOPsPerExample * r.ExamplesPerSec / 1e12; math.Abs(r.MFU-want) > 1e-12 || r.AchievedTFLOPs != want {
		t.Errorf("MFU %g, achieved %g TFLOP/s, want %g", r.MFU, r.AchievedTFLOPs, want)
	}
	if r.SeqLen <= 16 || r.TrainableParams <= 0 {
		t.Errorf("sequence length %g, trainable %d", r.SeqLen, r.TrainableParams)
	}
}
