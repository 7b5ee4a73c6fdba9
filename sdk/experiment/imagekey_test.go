package experiment

import (
	"bytes"
	"image/png"
	"testing"

	"github.com/visreft/visreft/sdk/cvbench"
	"github.com/visreft/visreft/sdk/demo"
	"github.com/visreft/visreft/sdk/internal/testutil"
)

// withImagesShifted gives each example the next one's image (the last the
// first's): the same questions, misaligned images.
func withImagesShifted(t *testing.T, xs []cvbench.Example) []cvbench.Example {
	t.Helper()
	out := make([]cvbench.Example, len(xs))
	for i := range xs {
		img, err := xs[(i+1)%len(xs)].Image()
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := png.Encode(&buf, img); err != nil {
			t.Fatal(err)
		}
		out[i] = xs[i].WithImage(buf.Bytes())
	}
	return out
}

// TestCachesRefuseOtherImages: the feature cache and the prefix cache are
// keyed by what the images show, so a cache of the real images is refused
// for blanked images and for misaligned ones with the same questions (the
// negative controls), and accepted for the same images re-encoded.
func TestCachesRefuseOtherImages(t *testing.T) {
	b := testutil.Backend(t)
	d := fidelityData(t, 4)
	m, err := demo.Model(1)
	if err != nil {
		t.Fatal(err)
	}
	fc, err := NewFeatureCache(b, m, Images(d.Train), 4, DefaultFeatureBudget)
	if err != nil {
		t.Fatal(err)
	}
	blanked, err := cvbench.Blanked(d.Train)
	if err != nil {
		t.Fatal(err)
	}
	shifted := withImagesShifted(t, d.Train)
	reencoded := withImagesShifted(t, withImagesShifted(t, withImagesShifted(t, withImagesShifted(t, d.Train))))
	if err := fc.Check(Images(d.Train)); err != nil {
		t.Errorf("the cache refuses its own images: %v", err)
	}
	if err := fc.Check(Images(reencoded)); err != nil {
		t.Errorf("the cache refuses its own images re-encoded as PNG: %v", err)
	}
	for name, xs := range map[string][]cvbench.Example{"blanked": blanked, "misaligned": shifted} {
		if err := fc.Check(Images(xs)); err == nil {
			t.Errorf("the feature cache accepts %s images", name)
		}
		if _, err := newSource(m, xs, d.Prompt, nil, fc); err == nil {
			t.Errorf("training data with %s images accepts the real images' feature cache", name)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
	if err := fc.Check(Images(append(d.Train, d.Val[0]))); err == nil {
		t.Error("the feature cache accepts more images than it holds")
	}

	pc, err := NewPrefixCache(b, m, d.Train, 0, PrefixOptions{Prompt: d.Prompt})
	if err != nil {
		t.Fatal(err)
	}
	for name, xs := range map[string][]cvbench.Example{"same": d.Train, "blanked": blanked, "misaligned": shifted} {
		src, err := newSource(m, xs, d.Prompt, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := pc.matches(src); (err == nil) != (name == "same") {
			t.Errorf("prefix cache of the real images, %s images: matches says %v", name, err)
		}
	}
}
