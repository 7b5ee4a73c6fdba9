package mini_test

import (
	"image"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/visreft/visreft/sdk/backend"
	"github.com/visreft/visreft/sdk/demo"
	. "github.com/visreft/visreft/sdk/experiment"
	"github.com/visreft/visreft/sdk/mini"
)

// planted are features of n images x 16 tokens x 32 values: content noise
// of rms 1 plus, when scale > 0, a fixed random code per cell of rms scale.
func planted(n int, scale float64) [][][]float32 {
	r := rand.New(rand.NewPCG(1, 2))
	code := make([][]float64, 16)
	for c := range code {
		code[c] = make([]float64, 32)
		for k := range code[c] {
			code[c][k] = scale * r.NormFloat64()
		}
	}
	out := make([][][]float32, n)
	for i := range out {
		out[i] = make([][]float32, 16)
		for c := range out[i] {
			out[i][c] = make([]float32, 32)
			for k := range out[i][c] {
				out[i][c][k] = float32(r.NormFloat64() + code[c][k])
			}
		}
	}
	return out
}

// TestCellProbe: the probe finds a cell code planted at the content's
// scale in at least 95 % of held-out tokens, finds nothing (within 4
// points of chance, 6.25 %) where none is planted, and refuses a split
// that leaves nothing to score.
func TestCellProbe(t *testing.T) {
	got, err := mini.CellProbe(planted(300, 1), 200)
	if err != nil || got < 0.95 {
		t.Errorf("planted code: %.3f, %v; want >= 0.95", got, err)
	}
	got, err = mini.CellProbe(planted(300, 0), 200)
	if err != nil || math.Abs(got-1.0/16) > 0.04 {
		t.Errorf("no code: %.3f, %v; want chance 0.0625", got, err)
	}
	if _, err := mini.CellProbe(planted(10, 1), 10); err == nil {
		t.Error("fit on every image: no error")
	}
}

// TestMiniCellProbe measures visreft-mini's image tokens with CellProbe
// on the demo data's images (200 to fit, 100 held out) and states the
// score; it checks that the committed model's tokens keep their cell
// better than chance and far worse than a planted code (the README's
// diagnosis: 0.14).
func TestMiniCellProbe(t *testing.T) {
	m, err := demo.MiniModel()
	if err != nil {
		t.Fatal(err)
	}
	ds, err := demo.DataOf(demo.PresetDataOptions)
	if err != nil {
		t.Fatal(err)
	}
	var imgs []func() (image.Image, error)
	for _, x := range ds.Examples[:300] {
		imgs = append(imgs, x.Image)
	}
	b, err := backend.NewFromConfig(backend.CPUConfig)
	if err != nil {
		t.Fatal(err)
	}
	fc, err := NewFeatureCacheWith(b, m, imgs, FeatureOptions{})
	if err != nil {
		t.Fatal(err)
	}
	feats := make([][][]float32, fc.Len())
	for i := range feats {
		f, err := fc.Batch([]int{i})
		if err != nil {
			t.Fatal(err)
		}
		feats[i] = f.Value().([][][]float32)[0]
	}
	got, err := mini.CellProbe(feats, 200)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("visreft-mini (%s): image tokens' cell recovered for %.1f %% of held-out tokens (chance %.1f %%)", demo.MiniPath(), 100*got, 100.0/16)
	if got < 0.09 || got > 0.5 {
		t.Errorf("cell probe %.3f: outside what the committed model was measured at (0.14); a new model? update the README", got)
	}
}
