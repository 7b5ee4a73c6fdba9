package llava

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	_ "image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// fixtures are made by testdata/gen/preprocess/make_fixtures.py with Pillow.
var fixtures = filepath.Join("..", "..", "..", "testdata", "preprocess", "fixtures")

type fixtureIndex struct {
	Pillow  string `json:"pillow"`
	Size    int    `json:"size"`
	Resizes []struct {
		Input, Want   string
		Width, Height int
	} `json:"resizes"`
	Cases []struct {
		Name    string             `json:"name"`
		Mode    string             `json:"mode"`
		SHA256  string             `json:"pixels_sha256"`
		Samples map[string]float64 `json:"samples"`
	} `json:"cases"`
}

func loadIndex(t *testing.T) fixtureIndex {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(fixtures, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	var idx fixtureIndex
	if err := json.Unmarshal(data, &idx); err != nil {
		t.Fatal(err)
	}
	return idx
}

// diffRGB compares the R, G and B bytes of two images of the same size.
func diffRGB(a, b *image.RGBA) (maxDiff, differ int) {
	r := a.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			for ch := range 3 {
				d := int(a.Pix[a.PixOffset(x, y)+ch]) - int(b.Pix[b.PixOffset(x, y)+ch])
				if d != 0 {
					differ++
					maxDiff = max(maxDiff, d, -d)
				}
			}
		}
	}
	return maxDiff, differ
}

func loadPNG(t *testing.T, name string) image.Image {
	t.Helper()
	f, err := os.Open(filepath.Join(fixtures, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return img
}

// goTypes are the image types Go's PNG decoder gives for Pillow's modes:
// each ToRGB path is exercised by some fixture.
var goTypes = map[string]string{"RGB": "*image.RGBA", "P": "*image.Paletted", "RGBA": "*image.NRGBA",
	"L": "*image.Gray", "LA": "*image.NRGBA", "I": "*image.Gray16", "I;16": "*image.Gray16"}

// TestPreprocessMatchesPillow runs every fixture through the processor and
// compares the 384×384 uint8 image with Pillow's (exact equality required)
// and the normalised float32 values with the Python pipeline's by hash.
func TestPreprocessMatchesPillow(t *testing.T) {
	idx := loadIndex(t)
	p := NanoLLaVAImages()
	if idx.Size != p.Size || len(idx.Cases) < 10 {
		t.Fatalf("index: size %d, %d cases", idx.Size, len(idx.Cases))
	}
	worst := 0
	for _, c := range idx.Cases {
		img := loadPNG(t, c.Name+".png")
		if want, got := goTypes[c.Mode], fmt.Sprintf("%T", img); want != got {
			t.Errorf("%s: Pillow mode %s decodes in Go as %s, want %s", c.Name, c.Mode, got, want)
		}
		start := time.Now()
		sq := p.Square(img)
		elapsed := time.Since(start)
		want := loadPNG(t, c.Name+".want.png").(*image.RGBA)
		maxDiff, differ := diffRGB(sq, want)
		worst = max(worst, maxDiff)
		t.Logf("%-13s %-4s %v: max |Go - Pillow| %d, %d values differ", c.Name, c.Mode, elapsed.Round(time.Millisecond), maxDiff, differ)
		if differ > 0 {
			t.Errorf("%s: %d of %d uint8 values differ from Pillow %s (max %d)", c.Name, differ, 3*p.Size*p.Size, idx.Pillow, maxDiff)
		}

		px := p.Pixels(img)
		buf := make([]byte, 4*len(px))
		for i, v := range px {
			binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(v))
		}
		sum := sha256.Sum256(buf)
		if got := hex.EncodeToString(sum[:]); got != c.SHA256 {
			t.Errorf("%s: normalised pixels differ from numpy's (sha256 %s, want %s)", c.Name, got, c.SHA256)
		}
		s := p.Size
		for key, at := range map[string]int{"c0_y0_x0": 0, "c1_y191_x200": (1*s+191)*s + 200, "c2_y383_x383": (2*s+383)*s + 383} {
			if float64(px[at]) != c.Samples[key] {
				t.Errorf("%s: pixel %s = %v, numpy %v", c.Name, key, px[at], c.Samples[key])
			}
		}
	}
	t.Logf("Pillow %s: max |Go - Pillow| over all %d cases: %d", idx.Pillow, len(idx.Cases), worst)
}

// TestResizeBicubicOffSquare: one-pass and non-square resizes, which the
// square pipeline never does, match Pillow too.
func TestResizeBicubicOffSquare(t *testing.T) {
	idx := loadIndex(t)
	if len(idx.Resizes) == 0 {
		t.Fatal("no resize fixtures")
	}
	for _, r := range idx.Resizes {
		got := ResizeBicubic(ToRGB(loadPNG(t, r.Input)), r.Width, r.Height)
		want := loadPNG(t, r.Want).(*image.RGBA)
		if got.Bounds() != want.Bounds() {
			t.Fatalf("%s: bounds %v, want %v", r.Want, got.Bounds(), want.Bounds())
		}
		if maxDiff, differ := diffRGB(got, want); differ > 0 {
			t.Errorf("%s: %d values differ from Pillow (max %d)", r.Want, differ, maxDiff)
		}
	}
}

// TestExpandToSquareOffsets: floor offsets, background elsewhere.
func TestExpandToSquareOffsets(t *testing.T) {
	bg := NanoLLaVAImages().Background()
	if bg != (color.RGBA{127, 127, 127, 255}) {
		t.Fatalf("background %v, want (127,127,127)", bg)
	}
	red := color.RGBA{255, 0, 0, 255}
	for _, tc := range []struct{ w, h, x0, y0 int }{{5, 2, 0, 1}, {2, 5, 1, 0}, {4, 1, 0, 1}, {3, 3, 0, 0}} {
		img := image.NewRGBA(image.Rect(0, 0, tc.w, tc.h))
		for i := 0; i < len(img.Pix); i += 4 {
			copy(img.Pix[i:], []uint8{255, 0, 0, 255})
		}
		sq := ExpandToSquare(img, bg)
		side := max(tc.w, tc.h)
		if sq.Bounds() != image.Rect(0, 0, side, side) {
			t.Fatalf("%dx%d: bounds %v", tc.w, tc.h, sq.Bounds())
		}
		for y := range side {
			for x := range side {
				inside := x >= tc.x0 && x < tc.x0+tc.w && y >= tc.y0 && y < tc.y0+tc.h
				want := bg
				if inside {
					want = red
				}
				if got := sq.RGBAAt(x, y); got != want {
					t.Errorf("%dx%d at (%d,%d): %v, want %v", tc.w, tc.h, x, y, got, want)
				}
			}
		}
	}
}

// TestToRGBDropsAlpha: translucent and transparent pixels keep their
// colour (no compositing onto white or black), sub-images keep their
// offsets.
func TestToRGBDropsAlpha(t *testing.T) {
	n := image.NewNRGBA(image.Rect(0, 0, 2, 1))
	n.SetNRGBA(0, 0, color.NRGBA{10, 200, 30, 0})
	n.SetNRGBA(1, 0, color.NRGBA{250, 5, 60, 128})
	rgb := ToRGB(n)
	if got := rgb.RGBAAt(0, 0); got != (color.RGBA{10, 200, 30, 255}) {
		t.Errorf("transparent pixel: %v", got)
	}
	if got := rgb.RGBAAt(1, 0); got != (color.RGBA{250, 5, 60, 255}) {
		t.Errorf("translucent pixel: %v", got)
	}
	big := image.NewRGBA(image.Rect(0, 0, 40, 30))
	for i := range big.Pix {
		big.Pix[i] = uint8(i * 7)
	}
	for i := 3; i < len(big.Pix); i += 4 {
		big.Pix[i] = 255
	}
	sub := big.SubImage(image.Rect(5, 3, 26, 17)).(*image.RGBA)
	flat := ToRGB(sub)
	if flat.Bounds().Min != (image.Point{}) || flat.RGBAAt(0, 0) != big.RGBAAt(5, 3) {
		t.Fatalf("sub-image: bounds %v, first pixel %v want %v", flat.Bounds(), flat.RGBAAt(0, 0), big.RGBAAt(5, 3))
	}
	p := NanoLLaVAImages()
	if !slices.Equal(p.Pixels(sub), p.Pixels(flat)) {
		t.Errorf("a sub-image preprocesses differently from its copy")
	}
}

// TestBatch: rows of Batch are the images' Pixels, in order.
func TestBatch(t *testing.T) {
	p := NanoLLaVAImages()
	a, b := loadPNG(t, "rgb_37x23.png"), loadPNG(t, "l_64x40.png")
	batch := p.Batch(a, b)
	if d := batch.Shape().Dimensions; !slices.Equal(d, []int{2, 3, 384, 384}) {
		t.Fatalf("batch shape %v", d)
	}
	n := 3 * 384 * 384
	var flat []float32
	batch.MustConstFlatData(func(f any) { flat = slices.Clone(f.([]float32)) })
	if !slices.Equal(flat[:n], p.Pixels(a)) || !slices.Equal(flat[n:], p.Pixels(b)) {
		t.Errorf("batch rows differ from Pixels")
	}
	lo, hi := slices.Min(flat), slices.Max(flat)
	if lo < -1 || hi > 1 {
		t.Errorf("pixel values in [%v, %v], want within [-1, 1]", lo, hi)
	}
}
