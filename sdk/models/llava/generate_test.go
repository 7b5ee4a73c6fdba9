package llava

import (
	gocontext "context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/visreft/visreft/sdk/internal/testutil"
	"github.com/visreft/visreft/sdk/nn"
	"github.com/visreft/visreft/sdk/safetensors"
)

// argmaxLast runs the full forward on one sample and returns the argmax of
// its last position's logits.
func argmaxLast(t *testing.T, be compute.Backend, m *Model, ids []int, px *tensors.Tensor) int {
	t.Helper()
	bt, err := Layout([]Sample{{IDs: ids}}, 4, 0)
	if err != nil {
		t.Fatal(err)
	}
	lg, _ := run(t, be, m.Ctx, m.Config, bt, px)
	row := lg[0][bt.Length-1]
	best := 0
	for i, v := range row {
		if v > row[best] {
			best = i
		}
	}
	return best
}

// TestGreedyGenerateMatchesFullForward: cached, batched, left-padded greedy
// generation produces what re-running the whole model on the growing
// sequence produces, row by row.
func TestGreedyGenerateMatchesFullForward(t *testing.T) {
	c := tinyLLaVA()
	be, scope := tinyModel(t, c)
	m := &Model{Config: c, Ctx: scope}
	prompts := [][]int{{3, ImageToken, 5}, {1, 2, 8, ImageToken, 5, 6, 7}}
	px, rows := pixelsOf(3, 2)
	var samples []Sample
	for _, p := range prompts {
		samples = append(samples, Sample{IDs: p})
	}
	bt, err := Layout(samples, 4, 0)
	if err != nil {
		t.Fatal(err)
	}
	const n = 4
	got, err := Generate(be, m, bt, px, GenerateOptions{MaxNewTokens: n})
	if err != nil {
		t.Fatal(err)
	}
	if slices.Equal(got[0], got[1]) {
		t.Errorf("both rows generated %v: the comparison would prove little", got[0])
	}
	for i, p := range prompts {
		one := tensors.FromFlatDataAndDimensions(rows[i], 1, 3, 8, 8)
		ids := slices.Clone(p)
		var want []int
		for range n {
			next := argmaxLast(t, be, m, ids, one)
			want = append(want, next)
			ids = append(ids, next)
		}
		if !slices.Equal(got[i], want) {
			t.Errorf("row %d: generated %v, the full forward gives %v", i, got[i], want)
		}
	}
}

func TestGenerateStopsAtStopID(t *testing.T) {
	c := tinyLLaVA()
	be, scope := tinyModel(t, c)
	m := &Model{Config: c, Ctx: scope}
	bt, _ := Layout([]Sample{{IDs: []int{3, ImageToken, 5}}}, 4, 0)
	px, _ := pixelsOf(3, 1)
	free, err := Generate(be, m, bt, px, GenerateOptions{MaxNewTokens: 3})
	if err != nil {
		t.Fatal(err)
	}
	stopped, err := Generate(be, m, bt, px, GenerateOptions{MaxNewTokens: 3, StopIDs: []int{free[0][0]}})
	if err != nil {
		t.Fatal(err)
	}
	if len(stopped[0]) != 1 || stopped[0][0] != free[0][0] {
		t.Errorf("with stop id %d: %v (free run %v)", free[0][0], stopped[0], free[0])
	}
}

// writeCheckpoint saves scope's params of c as a nanoLLaVA-format folder.
func writeCheckpoint(t *testing.T, scope *model.Scope, c Config, dir string) {
	t.Helper()
	var ts []safetensors.Tensor
	for _, p := range Params(c) {
		scope, name := nn.ScopeOf(scope, p.Name)
		vals := tensors.MustCopyFlatData[float32](scope.GetVariable(name).MustValue())
		shape := make([]int64, len(p.Dims))
		for i, d := range p.Dims {
			shape[i] = int64(d)
		}
		tt, err := safetensors.FromFloat32(p.Name, "F32", shape, vals)
		if err != nil {
			t.Fatal(err)
		}
		ts = append(ts, tt)
	}
	if err := safetensors.Write(filepath.Join(dir, "model.safetensors"), ts, nil); err != nil {
		t.Fatal(err)
	}
	v := *c.VisionConfig
	cfg := map[string]any{"vocab_size": c.VocabSize, "hidden_size": c.HiddenSize, "intermediate_size": c.IntermediateSize,
		"num_hidden_layers": c.NumHiddenLayers, "num_attention_heads": c.NumAttentionHeads,
		"num_key_value_heads": c.NumKeyValueHeads, "rope_theta": c.RopeTheta, "rms_norm_eps": c.RMSNormEps,
		"mm_hidden_size": c.MMHiddenSize, "mm_projector_type": "mlp2x_gelu", "vision_config": v}
	data, _ := json.Marshal(cfg)
	if err := os.WriteFile(filepath.Join(dir, "config.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestLoadBindsByNameAndChecks: a checkpoint folder in nanoLLaVA's format
// loads to the same logits as the model that wrote it; a broken one fails
// naming the tensor.
func TestLoadBindsByNameAndChecks(t *testing.T) {
	c := tinyLLaVA()
	v := c.Vision
	v.LayersKept, v.Prefix = 0, ""
	c.VisionConfig = &v // 3 layers in the file; nanoLLaVA keeps 2
	be, scope := tinyModel(t, c)
	dir := t.TempDir()
	writeCheckpoint(t, scope, c, dir)
	m, err := Load(gocontext.Background(), dir, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if m.Config.Vision.LayersKept != 2 {
		t.Fatalf("vision layers kept: %d, want 2", m.Config.Vision.LayersKept)
	}
	bt, _ := Layout([]Sample{{IDs: []int{3, ImageToken, 5}}}, 4, 0)
	px, _ := pixelsOf(5, 1)
	want, _ := run(t, be, scope, c, bt, px)
	got, _ := run(t, be, m.Ctx, m.Config, bt, px)
	if d := testutil.MaxAbsDiff(got[0][2], want[0][2]); d != 0 {
		t.Errorf("loaded model's logits differ by %.3g", d)
	}

	// Drop one tensor: the load must fail and name it.
	f, _ := safetensors.Open(filepath.Join(dir, "model.safetensors"))
	var keep []safetensors.Tensor
	for _, n := range f.Names() {
		if n == "model.mm_projector.2.bias" {
			continue
		}
		info, _ := f.Info(n)
		raw, _ := f.Read(n)
		keep = append(keep, safetensors.Tensor{Name: n, DType: info.DType, Shape: info.Shape, Data: raw})
	}
	f.Close()
	if err := safetensors.Write(filepath.Join(dir, "model.safetensors"), keep, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(gocontext.Background(), dir, LoadOptions{}); err == nil || !strings.Contains(err.Error(), "missing: model.mm_projector.2.bias") {
		t.Errorf("load of a checkpoint without a tensor: %v", err)
	}
}
