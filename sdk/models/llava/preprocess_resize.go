package llava

import (
	"fmt"
	"image"
	"math"
)

// ResizeBicubic resizes an opaque RGB image to w×h exactly as Pillow's
// Image.resize((w, h), Image.BICUBIC) does on an "RGB" image, bit for bit:
// a separable convolution, horizontal pass then vertical pass, with the
// cubic kernel a = -0.5, its support (2) stretched by the downscale factor
// (antialiasing), weights normalised to sum 1 then rounded to 22-bit fixed
// point, and each pass rounded and clipped to uint8 (libImaging/Resample.c,
// ImagingResample, 8 bits per channel). An image already w×h is copied, as
// Pillow copies it. Alpha is ignored and set to 255.
func ResizeBicubic(src *image.RGBA, w, h int) *image.RGBA {
	b := src.Bounds()
	inW, inH := b.Dx(), b.Dy()
	if inW <= 0 || inH <= 0 || w <= 0 || h <= 0 {
		panic(fmt.Sprintf("llava.ResizeBicubic: cannot resize %dx%d to %dx%d", inW, inH, w, h))
	}
	out := image.NewRGBA(image.Rect(0, 0, w, h))
	// cur is what the next pass reads: pixel (x, y) at cur[y*stride+4*x].
	cur, stride := src.Pix[src.PixOffset(b.Min.X, b.Min.Y):], src.Stride
	vert := newCoeffs(inH, h)
	if w != inW {
		// Only the source rows the vertical pass reads are resampled.
		horiz := newCoeffs(inW, w)
		first, last := vert.bounds[0], vert.bounds[2*h-2]+vert.bounds[2*h-1]
		tmp := make([]uint8, 4*w*(last-first))
		for y := first; y < last; y++ {
			horiz.pass(tmp[4*w*(y-first):], 4, cur[y*stride:], 4, w)
		}
		for i := 0; i < len(vert.bounds); i += 2 {
			vert.bounds[i] -= first
		}
		cur, stride = tmp, 4*w
	}
	if h == inH { // nothing to do vertically (first is 0 then)
		for y := range h {
			copy(out.Pix[y*out.Stride:y*out.Stride+4*w], cur[y*stride:])
		}
		return opaque(out)
	}
	// The vertical pass is the same 1-D pass down each column: input
	// pixels stride bytes apart, output pixels out.Stride apart.
	for x := range w {
		vert.pass(out.Pix[4*x:], out.Stride, cur[4*x:], stride, h)
	}
	return opaque(out)
}

func opaque(m *image.RGBA) *image.RGBA {
	for i := 3; i < len(m.Pix); i += 4 {
		m.Pix[i] = 255
	}
	return m
}

// precisionBits is Pillow's fixed-point precision for 8-bit resampling:
// 32 bits less 8 for the value and 2 for overshoot.
const precisionBits = 32 - 8 - 2

// coeffs are one axis's resampling weights: output i reads inputs
// bounds[2i] .. bounds[2i]+bounds[2i+1]-1 with weights k[i*ksize:].
type coeffs struct {
	ksize  int
	bounds []int
	k      []int32
}

// newCoeffs is Pillow's precompute_coeffs then normalize_coeffs_8bpc for
// the bicubic filter and the whole input (box 0..inSize). Every product
// that C computes separately is rounded separately here (float64(...)), so
// that no fused multiply-add changes a weight.
func newCoeffs(inSize, outSize int) coeffs {
	scale := float64(float32(inSize)) / float64(outSize)
	filterscale := scale
	if filterscale < 1 {
		filterscale = 1
	}
	support := 2 * filterscale
	ksize := int(math.Ceil(support))*2 + 1
	c := coeffs{ksize: ksize, bounds: make([]int, 2*outSize), k: make([]int32, outSize*ksize)}
	w := make([]float64, ksize)
	for xx := range outSize {
		center := float64(float64(xx)+0.5) * scale
		ss := 1 / filterscale
		xmin := int(center - support + 0.5)
		if xmin < 0 {
			xmin = 0
		}
		xmax := int(center + support + 0.5)
		if xmax > inSize {
			xmax = inSize
		}
		xmax -= xmin
		ww := 0.0
		for x := range xmax {
			w[x] = bicubic(float64(float64(x+xmin)-center+0.5) * ss)
			ww += w[x]
		}
		for x := range xmax {
			if ww != 0 {
				w[x] /= ww
			}
			v := float64(w[x] * (1 << precisionBits))
			if w[x] < 0 {
				c.k[xx*ksize+x] = int32(-0.5 + v)
			} else {
				c.k[xx*ksize+x] = int32(0.5 + v)
			}
		}
		c.bounds[2*xx], c.bounds[2*xx+1] = xmin, xmax
	}
	return c
}

// bicubic is Pillow's bicubic_filter, the cubic convolution kernel with
// a = -0.5 and support 2.
func bicubic(x float64) float64 {
	const a = -0.5
	if x < 0 {
		x = -x
	}
	if x < 1 {
		return float64(float64(float64(float64((a+2)*x)-(a+3))*x)*x) + 1
	}
	if x < 2 {
		return float64(float64(float64(float64(float64(x-5)*x)+8)*x)-4) * a
	}
	return 0
}

// pass resamples n output pixels along one axis for the R, G and B bytes:
// output i (at out[i*outStep:]) sums the input pixels at
// in[(bounds[2i]+j)*inStep:] times the weights, in 32-bit integers as
// Pillow does, then rounds (the 1<<21 start) and clips to uint8.
func (c coeffs) pass(out []uint8, outStep int, in []uint8, inStep int, n int) {
	for i := range n {
		xmin, xmax := c.bounds[2*i], c.bounds[2*i+1]
		k := c.k[i*c.ksize : i*c.ksize+xmax]
		var s0, s1, s2 int32 = 1 << (precisionBits - 1), 1 << (precisionBits - 1), 1 << (precisionBits - 1)
		for j, kj := range k {
			p := in[(xmin+j)*inStep:]
			s0 += int32(p[0]) * kj
			s1 += int32(p[1]) * kj
			s2 += int32(p[2]) * kj
		}
		o := out[i*outStep:]
		o[0], o[1], o[2] = clip8(s0), clip8(s1), clip8(s2)
	}
}

// clip8 is Pillow's clip8: drop the fixed-point fraction (arithmetic
// shift, so negatives floor) and clamp to 0..255.
func clip8(v int32) uint8 {
	v >>= precisionBits
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}
