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
)

// TestTrainFLOPsFromParameterList checks TrainFLOPs' matmul terms against
// the weight matrices listed by llava.Params (2 FLOPs per weight per
// token), its attention terms against 4·T²·width per layer, and the
// methods' backward rules against each other.
func TestTrainFLOPsFromParameterList(t *testing.T) {
	c := llava.NanoLLaVA()
	const text, targets = 60.0, 2.0
	P := float64(c.Vision.WithDefaults().NumPatches())
	T := P + text
	var llmW, visW, projW, patchW float64
	kept := c.Vision.WithDefaults().LayersKept
	for _, p := range llava.Params(c) {
		if len(p.Dims) < 2 || strings.Contains(p.Name, "embed_tokens") || strings.Contains(p.Name, "lm_head") ||
			strings.Contains(p.Name, "position_embedding") {
			continue
		}
		n := float64(p.Size())
		switch {
		case strings.HasPrefix(p.Name, "model.layers."):
			llmW += n
		case strings.HasPrefix(p.Name, "model.mm_projector."):
			projW += n
		case strings.Contains(p.Name, "patch_embedding"):
			patchW += n
		case strings.Contains(p.Name, "encoder.layers."):
			rest := p.Name[strings.Index(p.Name, "encoder.layers.")+len("encoder.layers."):]
			layer, err := strconv.Atoi(rest[:strings.Index(rest, ".")])
			if err != nil {
				t.Fatal(err)
			}
			if layer < kept {
				visW += n
			}
		}
	}
	q := c.Config.WithDefaults()
	L, Lv := float64(q.NumHiddenLayers), float64(kept)
	llmAtt := L * 4 * T * T * float64(q.HiddenSize)
	visAtt := Lv * 4 * P * P * float64(c.Vision.WithDefaults().HiddenSize)
	head := 2 * targets * float64(q.HiddenSize) * float64(q.VocabSize)

	full, err := TrainFLOPs(c, PaperFull(), text, targets, false)
	if err != nil {
		t.Fatal(err)
	}
	near := func(name string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > 1e-9*want {
			t.Errorf("%s: %.6g, want %.6g", name, got, want)
		}
	}
	near("LLM forward", full.LLMForward, 2*T*llmW+llmAtt+head)
	near("vision forward", full.VisionForward, 2*P*(visW+patchW)+visAtt)
	near("projector forward", full.ProjectorForward, 2*P*projW)
	near("full backward", full.Backward, 2*(2*T*llmW+llmAtt+head)+2*2*P*projW)

	reftAll, _ := TrainFLOPs(c, PaperReFT(4, "all"), text, targets, true)
	near("ReFT all layers, cached: no vision", reftAll.VisionForward+reftAll.ProjectorForward, 0)
	near("ReFT all layers backward", reftAll.Backward, 2*T*llmW+2*llmAtt+head)
	reftTop, _ := TrainFLOPs(c, PaperReFT(6, "18-23"), text, targets, true)
	near("ReFT on layers 18-23 backward", reftTop.Backward, (2*T*llmW+2*llmAtt)/4+head)
	lora, _ := TrainFLOPs(c, PaperLoRA(), text, targets, false)
	near("LoRA backward", lora.Backward, 2*T*llmW+2*llmAtt+head+2*P*projW+2*P*visW+2*visAtt)
	t.Logf("per example: ReFT %.3g, LoRA %.3g, full %.3g TFLOP (%.0f tokens)",
		reftAll.Total()/1e12, lora.Total()/1e12, full.Total()/1e12, T)
	if _, err := TrainFLOPs(c, Method{Name: "prefix"}, text, targets, false); err == nil {
		t.Error("an unknown method got a FLOPs count")
	}
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
