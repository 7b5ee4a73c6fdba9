package cvbench

import "testing"

// TestBlankedKeepsTextDropsImage: Blanked keeps questions, choices and
// answers, and every image becomes the same uniform grey of the first's size.
func TestBlankedKeepsTextDropsImage(t *testing.T) {
	dir := t.TempDir()
	if err := Generate(dir, GenerateOptions{Seed: 3, ImageSize: 64, Counts: TaskCounts{Count: 2, Relation: 2, Depth: 2, Distance: 2}}); err != nil {
		t.Fatal(err)
	}
	ds, err := LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	bl, err := Blanked(ds.Examples)
	if err != nil {
		t.Fatal(err)
	}
	for i, x := range bl {
		o := ds.Examples[i]
		if x.Prompt != o.Prompt || x.Answer != o.Answer || x.Idx != o.Idx {
			t.Fatalf("row %d: text changed", i)
		}
		img, err := x.Image()
		if err != nil {
			t.Fatal(err)
		}
		orig, _ := o.Image()
		if img.Bounds() != orig.Bounds() {
			t.Fatalf("row %d: size %v, want %v", i, img.Bounds(), orig.Bounds())
		}
		b := img.Bounds()
		for y := b.Min.Y; y < b.Max.Y; y += 7 {
			for xx := b.Min.X; xx < b.Max.X; xx += 7 {
				if r, g, bb, _ := img.At(xx, y).RGBA(); r != g || g != bb || r>>8 != 128 {
					t.Fatalf("row %d: pixel (%d,%d) is not grey 128", i, xx, y)
				}
			}
		}
	}
}
