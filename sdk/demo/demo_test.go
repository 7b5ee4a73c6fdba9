package demo

import (
	"image"
	"image/color"
	"os"
	"testing"

	"github.com/visreft/visreft/sdk/backend"
)

// TestDemoModelAnswers: the demo model loads with the real tokenizer and
// answers (nonsense: random weights) through the whole pipeline.
func TestDemoModelAnswers(t *testing.T) {
	t.Setenv("VISREFT_CACHE", t.TempDir())
	m, err := Model(1)
	if err != nil {
		t.Fatal(err)
	}
	b, err := backend.NewFromConfig(backend.CPUConfig)
	if err != nil {
		t.Fatal(err)
	}
	img := image.NewRGBA(image.Rect(0, 0, 50, 40))
	img.Set(3, 4, color.RGBA{255, 0, 0, 255})
	ans, err := m.Answer(b, img, "Which object is closer?", 3)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("random-weight answer: %q", ans)
}

func TestDemoDataIsGeneratedOnce(t *testing.T) {
	t.Setenv("VISREFT_CACHE", t.TempDir())
	ds, err := Data()
	if err != nil {
		t.Fatal(err)
	}
	want := DataOptions.Counts.Count + DataOptions.Counts.Relation + DataOptions.Counts.Depth + DataOptions.Counts.Distance
	if len(ds.Examples) != want || !ds.Examples[0].Synthetic() {
		t.Fatalf("%d examples (synthetic: %v), want %d synthetic", len(ds.Examples), ds.Examples[0].Synthetic(), want)
	}
}

// TestRootFindsTheCheckout: Root holds testdata/ (the tokenizer is there),
// and VISREFT_ROOT overrides it (binaries built with -trimpath, as the GPU
// kit's are, have no source path to start from).
func TestRootFindsTheCheckout(t *testing.T) {
	if _, err := os.Stat(TokenizerPath()); err != nil {
		t.Fatalf("Root %s: %v", Root(), err)
	}
	t.Setenv("VISREFT_ROOT", "/elsewhere")
	if Root() != "/elsewhere" {
		t.Errorf("VISREFT_ROOT ignored: %s", Root())
	}
}
