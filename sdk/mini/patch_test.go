package mini

import (
	gocontext "context"
	"image/color"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/visreft/visreft/sdk/cvbench"
	"github.com/visreft/visreft/sdk/safetensors"
)

// TestPatchLabelsMatchThePixels: on 2D scenes (flat colours), at least
// 90 % of the tokens labelled with an object hold a pixel of its colour,
// at least 95 % of the background tokens hold none, and every object
// labels the token holding its centre with its colour and shape (2D
// objects do not overlap; a 3D solid's centre token may be a nearer one's).
func TestPatchLabelsMatchThePixels(t *testing.T) {
	sc, err := cvbench.NewScenes(cvbench.GenerateOptions{Seed: SceneSeed(12), ImageSize: 64,
		Counts: cvbench.TaskCounts{Count: 40, Relation: 40, Depth: 40, Distance: 40}})
	if err != nil {
		t.Fatal(err)
	}
	const side = 8
	colours := cvbench.Colors()
	var objRight, obj, bgRight, bg int
	for i := range sc.Len() {
		img, f, err := sc.Image(i)
		if err != nil {
			t.Fatal(err)
		}
		colour, shape := PatchLabels(f, side)
		if len(colour) != side*side || len(shape) != side*side {
			t.Fatalf("scene %d: %d and %d labels for %d tokens", i, len(colour), len(shape), side*side)
		}
		is2D := f.Task.Type() == cvbench.Type2D
		for _, o := range f.All {
			cell := min(side-1, int(o.Center[1]*side))*side + min(side-1, int(o.Center[0]*side))
			c, s, _ := strings.Cut(o.Name, " ")
			if colour[cell] == 0 || (is2D && (colours[colour[cell]-1] != c || patchShapes[shape[cell]-1] != s)) {
				t.Errorf("scene %d: the token at %s's centre is labelled %d/%d", i, o.Name, colour[cell], shape[cell])
			}
		}
		if !is2D {
			continue
		}
		b := img.Bounds()
		step := b.Dx() / side
		for k, c := range colour {
			drawn := map[string]bool{}
			for y := (k / side) * step; y < (k/side+1)*step; y++ {
				for x := (k % side) * step; x < (k%side+1)*step; x++ {
					drawn[cvbench.ColorName(color.RGBAModel.Convert(img.At(x, y)).(color.RGBA))] = true
				}
			}
			delete(drawn, "")
			if c != 0 {
				obj++
				if drawn[colours[c-1]] {
					objRight++
				}
			} else {
				bg++
				if len(drawn) == 0 {
					bgRight++
				}
			}
		}
	}
	t.Logf("2D tokens: labelled with an object and holding its colour %d of %d; background holding no palette colour %d of %d", objRight, obj, bgRight, bg)
	if obj == 0 || float64(objRight) < 0.9*float64(obj) || float64(bgRight) < 0.95*float64(bg) {
		t.Errorf("labels disagree with the pixels: objects %d of %d, background %d of %d", objRight, obj, bgRight, bg)
	}
}

// TestPatchLossTrainsAndIsNotSaved: a tiny run with the per-patch loss
// trains (its loss falls), the model folder it writes holds no patch
// head, and its card says the loss was used.
func TestPatchLossTrainsAndIsNotSaved(t *testing.T) {
	if testing.Short() {
		t.Skip("trains for half a minute")
	}
	dir := t.TempDir()
	o := tinyOptions(t, dir, 30)
	o.PatchLoss, o.EvalItems = 1, -1
	rep, err := Pretrain(gocontext.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if first, last := rep.Losses[0], tailMean(rep.Losses, 5); last > first/2 {
		t.Errorf("loss %.3f -> %.3f in %d steps: not learning", first, last, rep.Steps)
	}
	st, err := safetensors.Open(filepath.Join(o.Out, WeightsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, name := range st.Names() {
		if strings.Contains(name, "patch_head") {
			t.Errorf("the saved model holds %s", name)
		}
	}
	card, err := os.ReadFile(filepath.Join(o.Out, CardFile))
	if err != nil || !strings.Contains(string(card), "Per-patch loss (weight 1,") {
		t.Errorf("the model card does not describe the per-patch loss (%v)", err)
	}
}
