package cvbench

import (
	"image"
	"image/color"
	"image/draw"
	"math"

	"golang.org/x/image/vector"
)

// namedColor is a colour the synthetic questions can name.
type namedColor struct {
	name string
	c    color.RGBA
}

// palette holds colours far apart in hue so that a question's colour word
// is unambiguous, and none close to the backgrounds or the ground.
var palette = []namedColor{
	{"red", color.RGBA{215, 35, 35, 255}},
	{"green", color.RGBA{30, 150, 50, 255}},
	{"blue", color.RGBA{35, 80, 215, 255}},
	{"yellow", color.RGBA{240, 200, 20, 255}},
	{"purple", color.RGBA{135, 50, 190, 255}},
	{"orange", color.RGBA{245, 120, 15, 255}},
}

// shape names for 2D scenes (flat) and 3D scenes (shaded solids); the same
// index draws the same outline.
var (
	shapes2D = []string{"circle", "square", "triangle"}
	shapes3D = []string{"sphere", "cube", "cone"}
)

const (
	shapeCircle = iota
	shapeSquare
	shapeTriangle
)

// kind is an object category: a colour and a shape.
type kind struct{ color, shape int }

func (k kind) name(is3D bool) string {
	if is3D {
		return palette[k.color].name + " " + shapes3D[k.shape]
	}
	return palette[k.color].name + " " + shapes2D[k.shape]
}

func allKinds() []kind {
	var ks []kind
	for c := range palette {
		for s := range shapes2D {
			ks = append(ks, kind{c, s})
		}
	}
	return ks
}

// canvas draws anti-aliased filled shapes with golang.org/x/image/vector.
type canvas struct {
	img *image.RGBA
	z   vector.Rasterizer
}

func newCanvas(size int) *canvas {
	return &canvas{img: image.NewRGBA(image.Rect(0, 0, size, size))}
}

func (c *canvas) fillRect(r image.Rectangle, col color.Color) {
	draw.Draw(c.img, r, image.NewUniform(col), image.Point{}, draw.Src)
}

// polygon fills the closed polygon pts (x, y pairs in pixels).
func (c *canvas) polygon(col color.Color, pts ...[2]float64) {
	if len(pts) < 3 {
		return
	}
	minX, minY, maxX, maxY := pts[0][0], pts[0][1], pts[0][0], pts[0][1]
	for _, p := range pts[1:] {
		minX, maxX = math.Min(minX, p[0]), math.Max(maxX, p[0])
		minY, maxY = math.Min(minY, p[1]), math.Max(maxY, p[1])
	}
	r := image.Rect(int(math.Floor(minX)), int(math.Floor(minY)), int(math.Ceil(maxX)), int(math.Ceil(maxY))).
		Intersect(c.img.Bounds())
	if r.Empty() {
		return
	}
	c.z.Reset(r.Dx(), r.Dy())
	ox, oy := float64(r.Min.X), float64(r.Min.Y)
	c.z.MoveTo(float32(pts[0][0]-ox), float32(pts[0][1]-oy))
	for _, p := range pts[1:] {
		c.z.LineTo(float32(p[0]-ox), float32(p[1]-oy))
	}
	c.z.ClosePath()
	c.z.Draw(c.img, r, image.NewUniform(col), image.Point{})
}

// ellipse fills an axis-aligned ellipse.
func (c *canvas) ellipse(cx, cy, rx, ry float64, col color.Color) {
	const n = 64
	pts := make([][2]float64, n)
	for i := range pts {
		a := 2 * math.Pi * float64(i) / n
		pts[i] = [2]float64{cx + rx*math.Cos(a), cy + ry*math.Sin(a)}
	}
	c.polygon(col, pts...)
}

// line draws a segment of the given width.
func (c *canvas) line(x0, y0, x1, y1, w float64, col color.Color) {
	dx, dy := x1-x0, y1-y0
	l := math.Hypot(dx, dy)
	if l == 0 {
		return
	}
	nx, ny := -dy/l*w/2, dx/l*w/2
	c.polygon(col, [2]float64{x0 + nx, y0 + ny}, [2]float64{x1 + nx, y1 + ny},
		[2]float64{x1 - nx, y1 - ny}, [2]float64{x0 - nx, y0 - ny})
}

// flatShape draws a 2D object centred at (cx, cy) with half-size r, with a
// dark outline so that touching shapes stay separable.
func (c *canvas) flatShape(shape int, cx, cy, r float64, col color.RGBA) {
	outline := shade(col, 0.45)
	o := math.Max(1, r*0.08)
	switch shape {
	case shapeCircle:
		c.ellipse(cx, cy, r, r, outline)
		c.ellipse(cx, cy, r-o, r-o, col)
	case shapeSquare:
		s := r * 0.9
		c.polygon(outline, sq(cx, cy, s)...)
		c.polygon(col, sq(cx, cy, s-o)...)
	case shapeTriangle:
		c.polygon(outline, tri(cx, cy, r)...)
		c.polygon(col, tri(cx, cy, r-1.8*o)...)
	}
}

func sq(cx, cy, s float64) [][2]float64 {
	return [][2]float64{{cx - s, cy - s}, {cx + s, cy - s}, {cx + s, cy + s}, {cx - s, cy + s}}
}

// tri is an upward equilateral-ish triangle inscribed in the circle of radius r.
func tri(cx, cy, r float64) [][2]float64 {
	return [][2]float64{{cx, cy - r}, {cx + r*0.95, cy + r*0.8}, {cx - r*0.95, cy + r*0.8}}
}

// shade scales a colour towards black (f < 1) or white (f > 1).
func shade(c color.RGBA, f float64) color.RGBA {
	ch := func(v uint8) uint8 {
		x := float64(v) * f
		if f > 1 {
			x = float64(v) + (255-float64(v))*(f-1)
		}
		return uint8(math.Max(0, math.Min(255, math.Round(x))))
	}
	return color.RGBA{ch(c.R), ch(c.G), ch(c.B), 255}
}

// mix blends two colours, t in [0, 1].
func mix(a, b color.RGBA, t float64) color.RGBA {
	m := func(x, y uint8) uint8 { return uint8(math.Round(float64(x)*(1-t) + float64(y)*t)) }
	return color.RGBA{m(a.R, b.R), m(a.G, b.G), m(a.B, b.B), 255}
}
