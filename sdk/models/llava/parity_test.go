package llava

import (
	gocontext "context"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/visreft/visreft/sdk/safetensors"
)

// goldenDir holds fixtures made by HF transformers with
// testdata/gen/models/make_fixtures.py (run on the GPU machine).
var goldenDir = filepath.Join("..", "..", "..", "testdata", "models", "nanollava_tiny")

// TestParityWithTransformers loads the tiny nanoLLaVA-architecture
// checkpoint written by transformers, runs the same inputs, and compares
// image features, every block's output and the logits with transformers'
// (max abs error, tolerance 1e-4 in float32).
func TestParityWithTransformers(t *testing.T) {
	if _, err := os.Stat(filepath.Join(goldenDir, "golden.safetensors")); err != nil {
		t.Skipf("no golden fixtures in %s yet: run testdata/gen/models/make_fixtures.py with transformers (GPU machine)", goldenDir)
	}
	m, err := Load(gocontext.Background(), goldenDir, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	g, err := safetensors.Open(filepath.Join(goldenDir, "golden.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	read := func(name string) []float32 {
		v, err := g.ReadFloat32(name)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	idsInfo, _ := g.Info("input_ids")
	raw, _ := g.Read("input_ids")
	rows, cols := int(idsInfo.Shape[0]), int(idsInfo.Shape[1])
	var samples []Sample
	for r := range rows {
		ids := make([]int, cols)
		for c := range cols {
			ids[c] = int(int64(binary.LittleEndian.Uint64(raw[8*(r*cols+c):])))
		}
		samples = append(samples, Sample{IDs: ids})
	}
	n := m.Config.Vision.WithDefaults().NumPatches()
	bt, err := Layout(samples, n, 0)
	if err != nil {
		t.Fatal(err)
	}
	pxInfo, _ := g.Info("pixel_values")
	dims := make([]int, len(pxInfo.Shape))
	for i, d := range pxInfo.Shape {
		dims[i] = int(d)
	}
	px := tensors.FromFlatDataAndDimensions(read("pixel_values"), dims...)
	be, _ := tinyModel(t, tinyLLaVA())
	logits, embeds := run(t, be, m.Ctx, m.Config, bt, px)
	report := func(name string, got [][][]float32, want []float32) {
		worst := 0.0
		i := 0
		for _, a := range got {
			for _, b := range a {
				for _, v := range b {
					worst = math.Max(worst, math.Abs(float64(v-want[i])))
					i++
				}
			}
		}
		t.Logf("%s: max abs error %.3g", name, worst)
		if worst > 1e-4 {
			t.Errorf("%s: max abs error %.3g > 1e-4", name, worst)
		}
	}
	report("inputs_embeds", embeds, read("inputs_embeds"))
	report("logits", logits, read("logits"))
}
