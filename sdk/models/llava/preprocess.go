package llava

import (
	"image"
	"image/color"
	"image/draw"

	"github.com/gomlx/gomlx/core/tensors"
)

// ImageProcessor turns images into the vision tower's pixel_values as
// nanoLLaVA's process_images does with image_aspect_ratio "pad":
//
//  1. convert to RGB as Pillow's convert("RGB") does (alpha dropped, not
//     composited; see ToRGB);
//  2. pad to a square with Background, the image centred with floor
//     offsets (expand2square);
//  3. resize to Size×Size with Pillow's bicubic filter (ResizeBicubic);
//  4. x·(1/255) in float64 rounded to float32, then (x-mean)/std in
//     float32 (transformers' rescale and normalize), channels first.
//
// Steps 1-3 match Pillow 9.4 bit for bit on the committed fixtures
// (testdata/gen/preprocess), and step 4 is exact, so pixel values are
// identical to the Python pipeline's for any image both decode alike.
// JPEG decoders differ (libjpeg's fancy chroma upsampling vs Go's
// image/jpeg), so for JPEG files the match is only close.
//
// Order: nanoLLaVA pads before converting, in the image's own mode. For RGB
// and RGBA images that gives the same pixels; for grayscale ("L", "LA",
// 16-bit) images Pillow 9.4 raises a TypeError there, and a paletted image
// keeps its indices under a fresh one-colour palette (garbage colours).
// Converting first, as LLaVA's training loaders do (Image.open(..).
// convert("RGB")), is what this processor does for every image.
type ImageProcessor struct {
	Size int        // output side, the tower's image_size: 384
	Mean [3]float64 // image_mean: 0.5 each
	Std  [3]float64 // image_std: 0.5 each
}

// NanoLLaVAImages is nanoLLaVA's SigLipImageProcessor: 384×384, mean and
// std 0.5, so pixel values lie in [-1, 1].
func NanoLLaVAImages() ImageProcessor {
	return ImageProcessor{Size: 384, Mean: [3]float64{0.5, 0.5, 0.5}, Std: [3]float64{0.5, 0.5, 0.5}}
}

// Background is the padding colour, int(mean·255) per channel as
// nanoLLaVA computes it: (127, 127, 127).
func (p ImageProcessor) Background() color.RGBA {
	return color.RGBA{uint8(p.Mean[0] * 255), uint8(p.Mean[1] * 255), uint8(p.Mean[2] * 255), 255}
}

// Square returns the Size×Size RGB image the model sees, before
// normalisation (steps 1-3): useful to show, cache or compare.
func (p ImageProcessor) Square(img image.Image) *image.RGBA {
	return ResizeBicubic(ExpandToSquare(ToRGB(img), p.Background()), p.Size, p.Size)
}

// Pixels returns one image's pixel values, [3, Size, Size] flattened
// channels first.
func (p ImageProcessor) Pixels(img image.Image) []float32 {
	out := make([]float32, 3*p.Size*p.Size)
	p.normalize(p.Square(img), out)
	return out
}

// Batch returns the pixel values of imgs as one float32 tensor [len(imgs),
// 3, Size, Size], the vision tower's input.
func (p ImageProcessor) Batch(imgs ...image.Image) *tensors.Tensor {
	n := 3 * p.Size * p.Size
	flat := make([]float32, len(imgs)*n)
	for i, img := range imgs {
		p.normalize(p.Square(img), flat[i*n:(i+1)*n])
	}
	return tensors.FromFlatDataAndDimensions(flat, len(imgs), 3, p.Size, p.Size)
}

// normalize writes sq's pixel values channels first into out. Each channel
// maps 256 byte values, so a table holds transformers' exact arithmetic:
// float32(float64(v)·(1/255)), then (x - mean) / std in float32.
func (p ImageProcessor) normalize(sq *image.RGBA, out []float32) {
	const rescale = 1.0 / 255 // transformers' rescale_factor, 1/255 as a float64
	var lut [3][256]float32
	for c := range 3 {
		mean, std := float32(p.Mean[c]), float32(p.Std[c])
		for v := range 256 {
			x := float32(float64(v) * rescale)
			lut[c][v] = (x - mean) / std
		}
	}
	s := p.Size
	for y := range s {
		row := sq.Pix[y*sq.Stride:]
		for x := range s {
			for c := range 3 {
				out[(c*s+y)*s+x] = lut[c][row[4*x+c]]
			}
		}
	}
}

// ExpandToSquare is nanoLLaVA's expand2square: a square of side max(w, h)
// filled with bg, the image pasted at ((side-w)/2, (side-h)/2) rounded
// down. A square image is returned as is.
func ExpandToSquare(img *image.RGBA, bg color.RGBA) *image.RGBA {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w == h {
		return img
	}
	side := max(w, h)
	out := image.NewRGBA(image.Rect(0, 0, side, side))
	draw.Draw(out, out.Bounds(), &image.Uniform{C: bg}, image.Point{}, draw.Src)
	at := image.Pt((side-w)/2, (side-h)/2)
	draw.Draw(out, image.Rectangle{Min: at, Max: at.Add(b.Size())}, img, b.Min, draw.Src)
	return out
}

// ToRGB converts any image to an opaque RGB image as Pillow's
// convert("RGB") converts the image Pillow would have decoded from the
// same file: alpha is dropped, not composited, so a transparent pixel keeps
// its colour. Per Go image type (as image/png and image/gif decode):
//
//   - NRGBA (RGBA, LA PNGs) and Paletted (palette colours, tRNS alpha
//     dropped): the stored colour;
//   - Gray: replicated to R, G and B;
//   - Gray16 (16-bit grayscale PNGs, Pillow mode "I"): clipped to 255, as
//     Pillow converts "I" to "RGB" (it does not scale by 1/257);
//   - RGBA (8-bit RGB PNGs): copied when opaque; a translucent pixel is
//     un-premultiplied, which restores its colour only approximately;
//   - anything else (16-bit colour, YCbCr, CMYK...): Go's NRGBA
//     conversion, high byte (Pillow reads 16-bit colour PNGs the same way).
func ToRGB(img image.Image) *image.RGBA {
	b := img.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	set := func(x, y int, r, g, bl uint8) {
		i := out.PixOffset(x-b.Min.X, y-b.Min.Y)
		out.Pix[i], out.Pix[i+1], out.Pix[i+2], out.Pix[i+3] = r, g, bl, 255
	}
	straight := func(c color.Color) color.NRGBA { return color.NRGBAModel.Convert(c).(color.NRGBA) }
	switch m := img.(type) {
	case *image.NRGBA:
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				p := m.Pix[m.PixOffset(x, y):]
				set(x, y, p[0], p[1], p[2])
			}
		}
	case *image.RGBA:
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				p := m.Pix[m.PixOffset(x, y):]
				if p[3] == 255 {
					set(x, y, p[0], p[1], p[2])
				} else {
					c := straight(color.RGBA{p[0], p[1], p[2], p[3]})
					set(x, y, c.R, c.G, c.B)
				}
			}
		}
	case *image.Gray:
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				v := m.Pix[m.PixOffset(x, y)]
				set(x, y, v, v, v)
			}
		}
	case *image.Gray16:
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				v := uint8(min(m.Gray16At(x, y).Y, 255))
				set(x, y, v, v, v)
			}
		}
	case *image.Paletted:
		var lut [256]color.NRGBA // indices past the palette read as black, as image/png decodes them
		for i, c := range m.Palette[:min(len(m.Palette), 256)] {
			lut[i] = straight(c)
		}
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				c := lut[m.Pix[m.PixOffset(x, y)]]
				set(x, y, c.R, c.G, c.B)
			}
		}
	default:
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				c := straight(img.At(x, y))
				set(x, y, c.R, c.G, c.B)
			}
		}
	}
	return out
}
