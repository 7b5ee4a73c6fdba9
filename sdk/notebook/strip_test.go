package notebook

import (
	"image"
	"image/color"
	"strings"
	"testing"
)

// TestStripFoldsTheImageSpan: unmarked image positions fold into one
// chip, marked ones stay single and outlined, every edit is in the legend
// with its count, and the terminal form brackets the edited tokens.
func TestStripFoldsTheImageSpan(t *testing.T) {
	toks := []Token{{Text: "How", Marks: []string{"a"}}, {Text: " many"}}
	for j := range 6 {
		tk := Token{Image: true}
		if j < 2 {
			tk.Marks = []string{"b"}
		}
		toks = append(toks, tk)
	}
	toks = append(toks, Token{Text: "?\n", Marks: []string{"a", "c"}})
	h := StripHTML("t", toks)
	for _, want := range []string{"▦ image ×4", "␣many", "?⏎", "a: 2 positions", "b: 2 positions", "c: 1 positions", `class="visreft-strip"`} {
		if !strings.Contains(h, want) {
			t.Errorf("strip lacks %q:\n%s", want, h)
		}
	}
	if got, want := StripText("", toks), "[How]1 ␣many [<img>]2 [<img>]2 <image x4>[?⏎]1,3 \n  1: a\n  2: b\n  3: c\n"; got != want {
		t.Errorf("text strip %q, want %q", got, want)
	}
}

// TestEnlarge: a 32 px image becomes 192 px of square pixels; a large one
// is left alone.
func TestEnlarge(t *testing.T) {
	small := image.NewRGBA(image.Rect(0, 0, 32, 30))
	small.Set(1, 0, color.RGBA{255, 0, 0, 255})
	big := Enlarge(small, 192)
	if b := big.Bounds(); b.Dx() != 224 || b.Dy() != 210 {
		t.Fatalf("enlarged to %v, want 224x210 (factor 7)", b)
	}
	if r, _, _, _ := big.At(13, 6).RGBA(); r != 0xffff {
		t.Errorf("pixel (1,0) did not become a 7x7 block")
	}
	if Enlarge(big, 192) != big {
		t.Errorf("a large image was scaled")
	}
}
