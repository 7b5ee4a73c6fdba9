package plot

import (
	"fmt"
	"image/color"
	"math"
	"sort"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// SweepPoint is one setting of a sweep: X is the swept value (a rank, the
// lowest intervened layer), Train and Val are accuracies in percent. NaN
// marks a run that is missing; it leaves a gap, never a zero.
type SweepPoint struct {
	X          float64
	Train, Val float64
}

// RankSweep draws the paper's Figure 4: train and validation accuracy
// against the LoReFT rank (the paper sweeps ranks 4..14 on all layers and
// finds lower ranks generalise better). Unless opt.NoPaper, the paper's
// values (PaperRankSweep) at the ranks it has within the sweep's range are
// drawn beside ours, dashed.
func RankSweep(points []SweepPoint, opt Options) (*Figure, error) {
	p := newPlot("LoReFT rank r", "accuracy (%)")
	lo, hi := xRange(points)
	var ref []SweepPoint
	if !opt.NoPaper {
		ref = PaperRankSweep
		if len(within(ref, lo, hi)) == 0 && len(points) > 0 {
			opt.Note = joinNote(opt.Note, "The paper's Figure 4 (ranks 4-14) has no rank in this sweep's range: not drawn.")
		}
	}
	legend, err := sweepSeries(p, points, within(ref, lo, hi))
	if err != nil {
		return nil, err
	}
	p.X.Min, p.X.Max = lo-0.5, hi+0.5
	p.X.Tick.Marker = integerTicks(lo, hi, labelStep(hi-lo))
	return newFigure(opt, "Accuracy vs LoReFT rank (all layers)", DefaultHeight, legend, p)
}

// LayerSweep draws the paper's Figure 5: train and validation accuracy when
// the interventions cover layers k..top, against the lowest layer k. As in
// the paper, k falls from left to right (top is the highest X, 23 for
// nanoLLaVA), so moving right adds lower layers.
//
// Unless opt.NoPaper, the paper's values (PaperLayerSweep) are drawn beside
// ours, dashed, at the layers the sweep covers, but only when
// opt.ModelLayers is 24: a layer index means the same thing only in a model
// of nanoLLaVA's depth. Mapping a small demo model's layers onto the
// paper's by relative depth (k/L) would put two different models, one with
// random weights, on one axis as if comparable, so for any other depth a
// note says the paper's curve is for 24 layers instead.
func LayerSweep(points []SweepPoint, opt Options) (*Figure, error) {
	lo, hi := xRange(points)
	top := fmt.Sprintf("%g", hi) // without the depth, the sweep's highest k is the best guess
	if opt.ModelLayers > 0 {
		top = fmt.Sprint(opt.ModelLayers - 1)
	}
	label := fmt.Sprintf("lowest intervened layer k (interventions on layers k..%s)", top)
	p := newPlot(label, "accuracy (%)")
	var ref []SweepPoint
	if !opt.NoPaper && len(points) > 0 {
		switch {
		case opt.ModelLayers != PaperLayers:
			model := "this model's depth was not given"
			if opt.ModelLayers > 0 {
				model = fmt.Sprintf("this model has %d", opt.ModelLayers)
			}
			opt.Note = joinNote(opt.Note, fmt.Sprintf(
				"The paper's Figure 5 curve is not drawn: it is for nanoLLaVA's %d decoder layers (%s).", PaperLayers, model))
		case len(within(PaperLayerSweep, lo, hi)) == 0:
			opt.Note = joinNote(opt.Note, "The paper's Figure 5 (layers 0-23) has no layer in this sweep's range: not drawn.")
		default:
			ref = within(PaperLayerSweep, lo, hi)
		}
	}
	legend, err := sweepSeries(p, points, ref)
	if err != nil {
		return nil, err
	}
	p.X.Min, p.X.Max = lo-0.5, hi+0.5
	p.X.Scale = gplot.InvertedScale{Normalizer: gplot.LinearScale{}}
	p.X.Tick.Marker = integerTicks(lo, hi, labelStep(hi-lo))
	return newFigure(opt, "Accuracy vs lowest intervened layer", DefaultHeight, legend, p)
}

// PaperLabel is the legend entry of the paper's values in the sweeps: the
// paper gives them only as plots, so they were read off its figures.
const PaperLabel = "paper (read off its figure)"

// within returns the points whose X lies in [lo, hi].
func within(points []SweepPoint, lo, hi float64) []SweepPoint {
	var out []SweepPoint
	for _, pt := range points {
		if pt.X >= lo && pt.X <= hi {
			out = append(out, pt)
		}
	}
	return out
}

// joinNote appends a paragraph to a figure note.
func joinNote(note, more string) string {
	if note == "" {
		return more
	}
	return note + "\n" + more
}

// labelStep labels every integer tick on short axes and every other one
// (then every fifth) on long axes, so labels never touch.
func labelStep(span float64) int {
	switch {
	case span <= 16:
		return 1
	case span <= 40:
		return 2
	default:
		return 5
	}
}

// xRange is the range of X over all points.
func xRange(points []SweepPoint) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, pt := range points {
		lo, hi = math.Min(lo, pt.X), math.Max(hi, pt.X)
	}
	return lo, hi
}

// sweepSeries adds the grid, the train and the validation lines to p and
// sets the y range; it returns the legend entries. ref, the paper's values,
// is drawn under ours, dashed, in lighter shades of the same colours (train
// blue, validation vermillion) with hollow markers, under one legend entry
// (PaperLabel).
func sweepSeries(p *gplot.Plot, points, ref []SweepPoint) ([]legendItem, error) {
	for _, pt := range points {
		if math.IsNaN(pt.X) || math.IsInf(pt.X, 0) {
			return nil, fmt.Errorf("plot: sweep point with X=%v", pt.X)
		}
	}
	p.Add(grid(true))
	var legend []legendItem
	ylo, yhi := math.Inf(1), math.Inf(-1)
	if len(ref) > 0 { // first, so that ours are drawn over the paper's
		rx, rtrain, rval := sortedSweep(ref)
		for i, s := range []struct {
			ys    []float64
			glyph draw.GlyphDrawer
		}{{rtrain, draw.RingGlyph{}}, {rval, draw.SquareGlyph{}}} {
			lo, hi := addReference(p, rx, s.ys, paperShade(seriesColor(i)), s.glyph)
			ylo, yhi = math.Min(ylo, lo), math.Max(yhi, hi)
		}
	}
	xs, train, val := sortedSweep(points)
	for i, s := range []struct {
		name  string
		ys    []float64
		glyph draw.GlyphDrawer
	}{{"train", train, draw.CircleGlyph{}}, {"validation", val, draw.BoxGlyph{}}} {
		it, lo, hi := addSeries(p, s.name, xs, s.ys, seriesColor(i), s.glyph)
		if it == nil {
			continue
		}
		legend = append(legend, *it)
		ylo, yhi = math.Min(ylo, lo), math.Max(yhi, hi)
	}
	if len(legend) == 0 {
		return nil, errNoData
	}
	if len(ref) > 0 {
		legend = append(legend, legendItem{label: PaperLabel, thumbs: []gplot.Thumbnailer{paperThumb{}}})
	}
	accuracyAxis(&p.Y, ylo, yhi)
	return legend, nil
}

// sortedSweep returns the points' X, Train and Val in ascending X.
func sortedSweep(points []SweepPoint) (xs, train, val []float64) {
	pts := append([]SweepPoint(nil), points...)
	sort.Slice(pts, func(i, j int) bool { return pts[i].X < pts[j].X })
	for _, pt := range pts {
		xs, train, val = append(xs, pt.X), append(train, pt.Train), append(val, pt.Val)
	}
	return xs, train, val
}

// paperThumb is the legend swatch of the paper's values: two short dashed
// lines, train's shade over validation's, so one entry names both.
type paperThumb struct{}

func (paperThumb) Thumbnail(c *draw.Canvas) {
	h := c.Max.Y - c.Min.Y
	for i, y := range []vg.Length{c.Max.Y - h/4, c.Min.Y + h/4} {
		c.StrokeLines(paperLine(paperShade(seriesColor(i))), []vg.Point{{X: c.Min.X, Y: y}, {X: c.Max.X, Y: y}})
	}
}

// paperShade is the lighter shade of a series colour the paper's values of
// that series are drawn in.
func paperShade(c color.RGBA) color.RGBA { return lighten(c, 0.3) }

// paperLine is the dashed line style of the paper's values.
func paperLine(c color.Color) draw.LineStyle {
	return draw.LineStyle{Color: c, Width: vg.Points(1.4), Dashes: []vg.Length{vg.Points(5), vg.Points(3)}}
}

// addReference adds a dashed line with hollow markers through the finite
// (x, y) pairs and returns the range of y.
func addReference(p *gplot.Plot, xs, ys []float64, c color.RGBA, glyph draw.GlyphDrawer) (float64, float64) {
	lo, hi := math.Inf(1), math.Inf(-1)
	var all plotter.XYs
	for _, seg := range segments(xs, ys) {
		if l, err := plotter.NewLine(seg); err == nil {
			l.LineStyle = paperLine(c)
			p.Add(l)
		}
		all = append(all, seg...)
		for _, v := range seg {
			lo, hi = math.Min(lo, v.Y), math.Max(hi, v.Y)
		}
	}
	if len(all) > 0 {
		sc, _ := plotter.NewScatter(all)
		sc.GlyphStyle = draw.GlyphStyle{Color: c, Radius: vg.Points(3.2), Shape: glyph}
		p.Add(sc)
	}
	return lo, hi
}

// addSeries adds a line with markers through the finite (x, y) pairs,
// broken where y is missing. It returns the legend entry (nil when no
// value is finite) and the range of y.
func addSeries(p *gplot.Plot, name string, xs, ys []float64, c color.Color, glyph draw.GlyphDrawer) (*legendItem, float64, float64) {
	ls := draw.LineStyle{Color: c, Width: vg.Points(1.8)}
	gs := draw.GlyphStyle{Color: c, Radius: vg.Points(3.6), Shape: glyph}
	var all plotter.XYs
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, seg := range segments(xs, ys) {
		l, err := plotter.NewLine(seg)
		if err != nil {
			continue
		}
		l.LineStyle = ls
		p.Add(l)
		all = append(all, seg...)
		for _, v := range seg {
			lo, hi = math.Min(lo, v.Y), math.Max(hi, v.Y)
		}
	}
	if len(all) == 0 {
		return nil, lo, hi
	}
	sc, _ := plotter.NewScatter(all)
	sc.GlyphStyle = gs
	p.Add(sc)
	line := &plotter.Line{LineStyle: ls}
	return &legendItem{label: name, thumbs: []gplot.Thumbnailer{line, sc}}, lo, hi
}

// segments splits (xs, ys) into runs of finite values.
func segments(xs, ys []float64) []plotter.XYs {
	var out []plotter.XYs
	var cur plotter.XYs
	for i := range xs {
		if i >= len(ys) || !finite(ys[i]) || !finite(xs[i]) {
			if len(cur) > 0 {
				out = append(out, cur)
			}
			cur = nil
			continue
		}
		cur = append(cur, plotter.XY{X: xs[i], Y: ys[i]})
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
