package cvbench

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"strconv"
)

// scene is one drawn image with its question, before it becomes a row.
type scene struct {
	img         *image.RGBA
	question    string
	choices     []string
	answer      int
	targetClass string
	targetSize  *int64
	bbox        [][]float64
	// centers are the named objects' centres in the image, in the order
	// SceneFacts.Objects names them, as fractions of the side (nil on
	// Count scenes, whose object is several).
	centers [][2]float64
	// all is every object drawn (Scenes report it as SceneFacts.All).
	all []Placed
}

// gridCells is the side of the layout grid of 2D scenes: objects sit one per
// cell, so they never overlap and are easy to count.
const gridCells = 4

// background2D paints an ADE20K-like room (wall over floor) or a COCO-like
// plain backdrop, in muted colours none of the palette's.
func background2D(c *canvas, r *rng, src Source) {
	s := c.img.Bounds().Dx()
	if src == SourceADE20K {
		walls := []color.RGBA{{226, 222, 210, 255}, {214, 222, 226, 255}, {228, 218, 222, 255}}
		floors := []color.RGBA{{190, 176, 158, 255}, {178, 178, 172, 255}, {196, 186, 170, 255}}
		split := s * (50 + r.intn(15)) / 100
		c.fillRect(image.Rect(0, 0, s, split), walls[r.intn(len(walls))])
		c.fillRect(image.Rect(0, split, s, s), floors[r.intn(len(floors))])
		c.fillRect(image.Rect(0, split-max(1, s/128), s, split+max(1, s/128)), color.RGBA{150, 140, 130, 255})
		return
	}
	bgs := []color.RGBA{{236, 236, 230, 255}, {225, 232, 238, 255}, {238, 230, 220, 255}}
	bg := bgs[r.intn(len(bgs))]
	c.fillRect(c.img.Bounds(), bg)
	// faint stripes give the backdrop some texture without hiding objects
	for y := 0; y < s; y += max(4, s/16) {
		c.fillRect(image.Rect(0, y, s, y+max(1, s/96)), shade(bg, 0.96))
	}
}

// cellPlace is an object placed in a grid cell.
type cellPlace struct {
	k      kind
	cx, cy float64
	r      float64
}

// placeInCell puts an object in grid cell (col, row), jittered but always
// inside the cell.
func placeInCell(r *rng, size, col, row int, k kind, jitter float64) cellPlace {
	cell := float64(size) / gridCells
	rad := cell * r.uniform(0.25, 0.32)
	j := cell * jitter
	return cellPlace{
		k:  k,
		cx: (float64(col)+0.5)*cell + r.uniform(-j, j),
		cy: (float64(row)+0.5)*cell + r.uniform(-j, j),
		r:  rad,
	}
}

func (p cellPlace) draw(c *canvas) { c.flatShape(p.k.shape, p.cx, p.cy, p.r, palette[p.k.color].c) }

// placed describes p as SceneFacts.All lists it.
func (p cellPlace) placed(size int) Placed {
	return Placed{Name: p.k.name(false), Center: [2]float64{p.cx / float64(size), p.cy / float64(size)}, Size: p.r / float64(size)}
}

// area is the object's area in pixels, used as target_size.
func (p cellPlace) area() int64 {
	switch p.k.shape {
	case shapeCircle:
		return int64(math.Round(math.Pi * p.r * p.r))
	case shapeSquare:
		return int64(math.Round(4 * 0.81 * p.r * p.r))
	}
	return int64(math.Round(0.95 * 1.8 * p.r * p.r)) // triangle: base 1.9r, height 1.8r
}

// otherKind draws a kind different from all of avoid; half the time it
// shares the colour or the shape of avoid[0], to make counting a real test.
func otherKind(r *rng, avoid ...kind) kind {
	for {
		k := kind{r.intn(len(palette)), r.intn(len(shapes2D))}
		if r.coin(0.5) && len(avoid) > 0 {
			if r.coin(0.5) {
				k.color = avoid[0].color
			} else {
				k.shape = avoid[0].shape
			}
		}
		ok := true
		for _, a := range avoid {
			ok = ok && k != a
		}
		if ok {
			return k
		}
	}
}

// maxCount is the largest count a Count scene draws.
const maxCount = 6

// countChoices returns n distinct counts including truth at position ans.
// The others are drawn uniformly from 0..maxCount without truth, so the
// truth's rank among the choices is uniform whatever the choices are: no
// rule blind to the image ("the second smallest") beats chance. (Version
// 2 drew them from three below the truth up, and "the second smallest
// option" scored 46.7 % against 22.8 % chance.)
func countChoices(r *rng, truth, n, ans int) []string {
	var pool []int
	for v := range maxCount + 1 {
		if v != truth {
			pool = append(pool, v)
		}
	}
	p := r.perm(len(pool))
	out := make([]string, 0, n)
	for i := 0; len(out) < n-1; i++ {
		out = append(out, strconv.Itoa(pool[p[i]]))
	}
	out = append(out, "")
	copy(out[ans+1:], out[ans:])
	out[ans] = strconv.Itoa(truth)
	return out
}

func renderCount(r *rng, size int, sp spec) scene {
	c := newCanvas(size)
	background2D(c, r, sp.source)
	target := kind{r.intn(len(palette)), r.intn(len(shapes2D))}
	truth := r.intn(maxCount + 1)
	nDistract := 2 + r.intn(4)
	cells := r.perm(gridCells * gridCells)
	var objs []cellPlace
	for i := 0; i < truth+nDistract; i++ {
		k := target
		if i >= truth {
			k = otherKind(r, target)
		}
		objs = append(objs, placeInCell(r, size, cells[i]%gridCells, cells[i]/gridCells, k, 0.1))
	}
	var all []Placed
	for _, o := range objs {
		o.draw(c)
		all = append(all, o.placed(size))
	}
	name := target.name(false)
	sc := scene{
		img:         c.img,
		question:    fmt.Sprintf("How many %ss are in the image?", name),
		choices:     countChoices(r, truth, sp.nChoices, sp.answer),
		answer:      sp.answer,
		targetClass: name,
		all:         all,
	}
	if sp.source == SourceCOCO && truth > 0 {
		a := objs[0].area()
		sc.targetSize = &a
	}
	return sc
}

func renderRelation(r *rng, size int, sp spec) scene {
	c := newCanvas(size)
	background2D(c, r, sp.source)
	a := kind{r.intn(len(palette)), r.intn(len(shapes2D))}
	b := kind{(a.color + 1 + r.intn(len(palette)-1)) % len(palette), (a.shape + 1 + r.intn(len(shapes2D)-1)) % len(shapes2D)}
	horizontal := r.coin(0.5)
	// a and b share a row (or column) and are at least two cells apart on
	// the other axis, so the relation is never ambiguous.
	line, p, q := r.intn(gridCells), r.intn(gridCells), 0
	for q = r.intn(gridCells); abs(q-p) < 2; q = r.intn(gridCells) {
	}
	ca, ra, cb, rb := p, line, q, line
	truth, other := "left", "right"
	if p > q {
		truth, other = "right", "left"
	}
	if !horizontal {
		ca, ra, cb, rb = line, p, line, q
		truth, other = "above", "below"
		if p > q {
			truth, other = "below", "above"
		}
	}
	pa := placeInCell(r, size, ca, ra, a, 0.06)
	pb := placeInCell(r, size, cb, rb, b, 0.06)
	used := map[int]bool{ra*gridCells + ca: true, rb*gridCells + cb: true}
	all := []Placed{pa.placed(size), pb.placed(size)}
	for range r.intn(4) {
		cell := r.intn(gridCells * gridCells)
		if used[cell] {
			continue
		}
		used[cell] = true
		d := placeInCell(r, size, cell%gridCells, cell/gridCells, otherKind(r, a, b), 0.1)
		d.draw(c)
		all = append(all, d.placed(size))
	}
	pa.draw(c)
	pb.draw(c)
	an, bn := a.name(false), b.name(false)
	choices := []string{truth, other}
	if sp.answer == 1 {
		choices = []string{other, truth}
	}
	sc := scene{
		img: c.img,
		question: fmt.Sprintf("Considering the relative positions of the %s and the %s in the image, where is the %s located with respect to the %s?",
			an, bn, an, bn),
		choices:     choices,
		answer:      sp.answer,
		targetClass: an,
		centers:     [][2]float64{{pa.cx / float64(size), pa.cy / float64(size)}, {pb.cx / float64(size), pb.cy / float64(size)}},
		all:         all,
	}
	if sp.source == SourceCOCO {
		area := pa.area()
		sc.targetSize = &area
	}
	return sc
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
