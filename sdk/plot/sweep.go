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
// finds lower ranks generalise better).
func RankSweep(points []SweepPoint, opt Options) (*Figure, error) {
	p := newPlot("LoReFT rank r", "accuracy (%)")
	legend, err := sweepSeries(p, points)
	if err != nil {
		return nil, err
	}
	lo, hi := xRange(points)
	p.X.Min, p.X.Max = lo-0.5, hi+0.5
	p.X.Tick.Marker = integerTicks(lo, hi, labelStep(hi-lo))
	return newFigure(opt, "Accuracy vs LoReFT rank (all layers)", DefaultHeight, legend, p)
}

// LayerSweep draws the paper's Figure 5: train and validation accuracy when
// the interventions cover layers k..top, against the lowest layer k. As in
// the paper, k falls from left to right (top is the highest X, 23 for
// nanoLLaVA), so moving right adds lower layers.
func LayerSweep(points []SweepPoint, opt Options) (*Figure, error) {
	lo, hi := xRange(points)
	label := fmt.Sprintf("lowest intervened layer k (interventions on layers k..%g)", hi)
	p := newPlot(label, "accuracy (%)")
	legend, err := sweepSeries(p, points)
	if err != nil {
		return nil, err
	}
	p.X.Min, p.X.Max = lo-0.5, hi+0.5
	p.X.Scale = gplot.InvertedScale{Normalizer: gplot.LinearScale{}}
	p.X.Tick.Marker = integerTicks(lo, hi, labelStep(hi-lo))
	return newFigure(opt, "Accuracy vs lowest intervened layer", DefaultHeight, legend, p)
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
// sets the y range; it returns the legend entries.
func sweepSeries(p *gplot.Plot, points []SweepPoint) ([]legendItem, error) {
	for _, pt := range points {
		if math.IsNaN(pt.X) || math.IsInf(pt.X, 0) {
			return nil, fmt.Errorf("plot: sweep point with X=%v", pt.X)
		}
	}
	pts := append([]SweepPoint(nil), points...)
	sort.Slice(pts, func(i, j int) bool { return pts[i].X < pts[j].X })
	xs := make([]float64, len(pts))
	train := make([]float64, len(pts))
	val := make([]float64, len(pts))
	for i, pt := range pts {
		xs[i], train[i], val[i] = pt.X, pt.Train, pt.Val
	}
	p.Add(grid(true))
	var legend []legendItem
	ylo, yhi := math.Inf(1), math.Inf(-1)
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
	accuracyAxis(&p.Y, ylo, yhi)
	return legend, nil
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
