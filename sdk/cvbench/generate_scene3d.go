package cvbench

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"sort"
	"sync"
)

// camera is a pinhole camera at height h above a ground plane, looking at
// the horizon: a ground point (x, z) appears at column s/2 + f*x/z and row
// horizon + f*h/z, and an object of height H is f*H/z pixels tall. So the
// nearer of two objects is larger, lower in the image and drawn over the
// farther one: the perspective cues the Depth and Distance tasks rely on.
type camera struct {
	size, horizon, f, h float64
}

func newCamera(size int) camera {
	s := float64(size)
	return camera{size: s, horizon: 0.36 * s, f: 0.9 * s, h: 1.6}
}

func (c camera) project(x, z float64) (px, py float64) {
	return c.size/2 + c.f*x/z, c.horizon + c.f*c.h/z
}

// solid is an object standing on the ground at (x, z).
type solid struct {
	k      kind
	x, z   float64
	height float64 // world units
}

// box is the solid's image bounding box [x0, y0, x1, y1].
func (o solid) box(cam camera) [4]float64 {
	px, py := cam.project(o.x, o.z)
	s := cam.f * o.height / o.z
	return [4]float64{px - 0.5*s, py - s, px + 0.5*s, py}
}

// center is the box's centre as fractions of the image side.
func (o solid) center(cam camera) [2]float64 {
	b := o.box(cam)
	return [2]float64{(b[0] + b[2]) / 2 / cam.size, (b[1] + b[3]) / 2 / cam.size}
}

// placed describes o as SceneFacts.All lists it.
func (o solid) placed(cam camera) Placed {
	b := o.box(cam)
	return Placed{Name: o.k.name(true), Center: o.center(cam), Size: (b[3] - b[1]) / cam.size, Depth: o.z}
}

func placedAll(cam camera, objs []solid) []Placed {
	out := make([]Placed, len(objs))
	for i, o := range objs {
		out[i] = o.placed(cam)
	}
	return out
}

func (o solid) boxList(cam camera) []float64 {
	b := o.box(cam)
	return []float64{round1(b[0]), round1(b[1]), round1(b[2]), round1(b[3])}
}

func round1(v float64) float64 { return math.Round(v*10) / 10 }

func boxesApart(a, b [4]float64, margin float64) bool {
	return a[2]+margin < b[0] || b[2]+margin < a[0] || a[3]+margin < b[1] || b[3]+margin < a[1]
}

// inView reports whether the solid is fully inside the image with a margin.
func (o solid) inView(cam camera) bool {
	b := o.box(cam)
	m := 0.03 * cam.size
	return b[0] > m && b[2] < cam.size-m && b[3] < cam.size-m && b[1] > cam.horizon*0.5
}

// groundCache holds painted backgrounds by (size, tint): every 3D scene
// starts from a copy of one, which saves most of the drawing time.
var groundCache sync.Map // groundKey -> *image.RGBA

type groundKey struct{ size, tint int }

// groundTints is the number of ground colour variants.
const groundTints = 5

// ground paints sky, ground and a perspective grid on the ground, in one of
// groundTints tints.
func ground(c *canvas, cam camera, r *rng) {
	key := groundKey{int(cam.size), r.intn(groundTints)}
	if bg, ok := groundCache.Load(key); ok {
		copy(c.img.Pix, bg.(*image.RGBA).Pix)
		return
	}
	s := int(cam.size)
	hz := int(cam.horizon)
	sky0, sky1 := color.RGBA{150, 190, 232, 255}, color.RGBA{218, 232, 246, 255}
	g0, g1 := color.RGBA{186, 178, 160, 255}, color.RGBA{140, 130, 110, 255}
	tint := 1 + 0.03*float64(key.tint-groundTints/2)
	g0, g1 = shade(g0, tint), shade(g1, tint)
	for y := 0; y < s; y++ {
		col := mix(sky0, sky1, float64(y)/float64(max(1, hz)))
		if y >= hz {
			col = mix(g0, g1, float64(y-hz)/float64(max(1, s-hz)))
		}
		c.fillRect(image.Rect(0, y, s, y+1), col)
	}
	lw := math.Max(1, cam.size/320)
	line := color.RGBA{120, 112, 96, 255}
	for x := -12.0; x <= 12; x += 2 {
		x0, y0 := cam.project(x, 1.2)
		x1, y1 := cam.project(x, 60)
		c.line(x0, y0, x1, y1, lw, line)
	}
	for _, z := range []float64{2, 3, 4, 5.5, 7.5, 10, 14, 20, 30} {
		_, y := cam.project(0, z)
		c.line(0, y, cam.size, y, lw, line)
	}
	bg := image.NewRGBA(c.img.Rect)
	copy(bg.Pix, c.img.Pix)
	groundCache.Store(key, bg)
}

// draw paints the solid with its shadow; shading comes from the upper left.
func (o solid) draw(c *canvas, cam camera) {
	px, py := cam.project(o.x, o.z)
	s := cam.f * o.height / o.z
	col := palette[o.k.color].c
	c.ellipse(px+0.08*s, py, 0.58*s, 0.12*s, color.NRGBA{40, 30, 20, 90})
	switch o.k.shape {
	case shapeCircle: // sphere
		rad := 0.5 * s
		cx, cy := px, py-rad
		c.ellipse(cx, cy, rad, rad, shade(col, 0.55))
		c.ellipse(cx-0.04*s, cy-0.04*s, rad*0.92, rad*0.92, shade(col, 0.8))
		c.ellipse(cx-0.08*s, cy-0.08*s, rad*0.75, rad*0.75, col)
		c.ellipse(cx-0.14*s, cy-0.14*s, rad*0.45, rad*0.45, shade(col, 1.25))
		c.ellipse(cx-0.18*s, cy-0.18*s, rad*0.18, rad*0.18, shade(col, 1.6))
	case shapeSquare: // cube in oblique view
		a, d := 0.4*s, 0.14*s
		x0, x1, y0, y1 := px-a, px+a-d, py-2*a+d, py
		c.polygon(shade(col, 1.3), [2]float64{x0, y0}, [2]float64{x1, y0}, [2]float64{x1 + d, y0 - d}, [2]float64{x0 + d, y0 - d})
		c.polygon(shade(col, 0.65), [2]float64{x1, y1}, [2]float64{x1, y0}, [2]float64{x1 + d, y0 - d}, [2]float64{x1 + d, y1 - d})
		c.polygon(col, sqRect(x0, y0, x1, y1)...)
	case shapeTriangle: // cone
		rx, ry := 0.42*s, 0.1*s
		c.ellipse(px, py-ry, rx, ry, shade(col, 0.7))
		c.polygon(col, [2]float64{px, py - s}, [2]float64{px + rx, py - ry}, [2]float64{px - rx, py - ry})
		c.polygon(shade(col, 0.72), [2]float64{px, py - s}, [2]float64{px + rx, py - ry}, [2]float64{px + 0.3*rx, py - 0.1*ry})
	}
}

func sqRect(x0, y0, x1, y1 float64) [][2]float64 {
	return [][2]float64{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}}
}

// distinctKinds draws n kinds with pairwise different colours and shapes
// (n <= number of shapes).
func distinctKinds(r *rng, n int) []kind {
	cols, shs := r.perm(len(palette)), r.perm(len(shapes3D))
	out := make([]kind, n)
	for i := range out {
		out[i] = kind{cols[i], shs[i]}
	}
	return out
}

// randomSolid places a solid at a random visible ground position with depth
// in [zmin, zmax].
func randomSolid(r *rng, cam camera, k kind, zmin, zmax float64) solid {
	for {
		o := solid{k: k, z: r.uniform(zmin, zmax), height: r.uniform(1.15, 1.35)}
		half := (cam.size/2 - 0.08*cam.size) * o.z / cam.f
		o.x = r.uniform(-half, half)
		if o.inView(cam) {
			return o
		}
	}
}

// addDistractors places up to n extra solids of other kinds that overlap
// nothing already placed.
func addDistractors(r *rng, cam camera, objs []solid, n int, avoid []kind) []solid {
	for range n {
		k := kind{r.intn(len(palette)), r.intn(len(shapes3D))}
		for _, a := range avoid {
			if k.color == a.color {
				k.color = (k.color + 1 + r.intn(len(palette)-1)) % len(palette)
			}
		}
		for try := 0; try < 20; try++ {
			d := randomSolid(r, cam, k, 4, 15)
			ok := true
			for _, o := range objs {
				ok = ok && boxesApart(d.box(cam), o.box(cam), 0.02*cam.size)
			}
			if ok {
				objs = append(objs, d)
				break
			}
		}
	}
	return objs
}

// paint draws the ground and the solids far to near, so near ones occlude.
func paint(size int, r *rng, cam camera, objs []solid) *image.RGBA {
	c := newCanvas(size)
	ground(c, cam, r)
	sorted := append([]solid(nil), objs...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].z > sorted[j].z })
	for _, o := range sorted {
		o.draw(c, cam)
	}
	return c.img
}

func renderDepth(r *rng, size int, sp spec) scene {
	cam := newCamera(size)
	ks := distinctKinds(r, 2) // ks[0] is named first in the question
	// A third of the scenes add occlusion as a cue: the near object hides
	// 15-45% of the far one's width.
	occlude := r.coin(1.0 / 3)
	var near, far solid
	for {
		near = randomSolid(r, cam, ks[sp.answer], 3.5, 6.5)
		far = randomSolid(r, cam, ks[1-sp.answer], near.z*1.7, math.Min(16, near.z*2.6))
		nb := near.box(cam)
		if occlude {
			wf := cam.f * far.height / far.z
			ov := r.uniform(0.15, 0.45)
			px := nb[2] + wf*(0.5-ov) // to the right of the near object...
			if r.coin(0.5) {
				px = nb[0] - wf*(0.5-ov) // ...or to its left
			}
			far.x = (px - cam.size/2) * far.z / cam.f
			if far.inView(cam) {
				break
			}
			continue
		}
		if boxesApart(nb, far.box(cam), 0.03*cam.size) {
			break
		}
	}
	objs := addDistractors(r, cam, []solid{near, far}, r.intn(3), ks)
	first, second := near, far
	if sp.answer == 1 {
		first, second = far, near
	}
	a, b := ks[0].name(true), ks[1].name(true)
	return scene{
		img:      paint(size, r, cam, objs),
		question: fmt.Sprintf("Which object is closer to the camera taking this photo, the %s or the %s?", a, b),
		choices:  []string{a, b},
		answer:   sp.answer,
		bbox:     [][]float64{first.boxList(cam), second.boxList(cam)},
		centers:  [][2]float64{first.center(cam), second.center(cam)},
		all:      placedAll(cam, objs),
	}
}

func renderDistance(r *rng, size int, sp spec) scene {
	cam := newCamera(size)
	ks := distinctKinds(r, 3) // reference, first named, second named
	var ref, near, far solid
	for ok := false; !ok; {
		ref = randomSolid(r, cam, ks[0], 5, 10)
		near = randomSolid(r, cam, ks[1+sp.answer], 3.5, 15)
		far = randomSolid(r, cam, ks[2-sp.answer], 3.5, 15)
		dn, df := math.Hypot(near.x-ref.x, near.z-ref.z), math.Hypot(far.x-ref.x, far.z-ref.z)
		rx, ry := cam.project(ref.x, ref.z)
		nx, ny := cam.project(near.x, near.z)
		fx, fy := cam.project(far.x, far.z)
		in, ifar := math.Hypot(nx-rx, ny-ry), math.Hypot(fx-rx, fy-ry)
		m := 0.03 * cam.size
		ok = df >= 2*dn && ifar >= 1.8*in && in > 0.12*cam.size &&
			boxesApart(ref.box(cam), near.box(cam), m) && boxesApart(ref.box(cam), far.box(cam), m) &&
			boxesApart(near.box(cam), far.box(cam), m)
	}
	objs := addDistractors(r, cam, []solid{ref, near, far}, r.intn(2), ks)
	first, second := near, far
	if sp.answer == 1 {
		first, second = far, near
	}
	rn, a, b := ks[0].name(true), ks[1].name(true), ks[2].name(true)
	return scene{
		img: paint(size, r, cam, objs),
		question: fmt.Sprintf("Estimate the real-world distances between objects in this image. Which object is closer to the %s, the %s or the %s?",
			rn, a, b),
		choices: []string{a, b},
		answer:  sp.answer,
		bbox:    [][]float64{ref.boxList(cam), first.boxList(cam), second.boxList(cam)},
		centers: [][2]float64{ref.center(cam), first.center(cam), second.center(cam)},
		all:     placedAll(cam, objs),
	}
}
