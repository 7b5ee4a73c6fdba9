package plot

import (
	"fmt"
	"math"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// SelectionSeries is one site-selection strategy at several budgets: the
// cost it spent (percent of the full sweep's training examples) and the
// validation accuracy of the configuration it chose (percent, that
// configuration's full training run).
type SelectionSeries struct {
	Strategy string
	Cost     []float64
	Accuracy []float64
}

// Selection draws accuracy of the chosen configuration against cost, one
// line per strategy, with the full sweep's best as a point at its cost
// (100 %) and a dotted line 1 point below it (the target).
func Selection(series []SelectionSeries, sweepBest float64, opt Options) (*Figure, error) {
	if len(series) == 0 {
		return nil, fmt.Errorf("plot: no selection series")
	}
	p := newPlot("training cost (% of the full sweep's examples)", "accuracy of the choice (%)")
	p.Add(grid(true))
	glyphs := []draw.GlyphDrawer{draw.CircleGlyph{}, draw.BoxGlyph{}, draw.CircleGlyph{}} // filled
	var lines []line
	for _, s := range series {
		lines = append(lines, line{s.Strategy, "costs", s.Cost, s.Accuracy})
	}
	legend, lo, hi, err := addNamedSeries(p, lines, glyphs)
	if err != nil {
		return nil, err
	}
	lo, hi = math.Min(lo, sweepBest-1), math.Max(hi, sweepBest)
	if !math.IsNaN(sweepBest) {
		c := seriesColor(len(series))
		sc, _ := plotter.NewScatter(plotter.XYs{{X: 100, Y: sweepBest}})
		sc.GlyphStyle = draw.GlyphStyle{Color: c, Radius: vg.Points(5), Shape: draw.PyramidGlyph{}}
		p.Add(sc)
		target, _ := plotter.NewLine(plotter.XYs{{X: 0, Y: sweepBest - 1}, {X: 100, Y: sweepBest - 1}})
		target.LineStyle = draw.LineStyle{Color: c, Width: vg.Points(1), Dashes: []vg.Length{vg.Points(2), vg.Points(3)}}
		p.Add(target)
		legend = append(legend, legendItem{label: fmt.Sprintf("full sweep's best (%.1f %%)", sweepBest), thumbs: []gplot.Thumbnailer{sc}},
			legendItem{label: "1 point below it", thumbs: []gplot.Thumbnailer{target}})
	}
	p.X.Min, p.X.Max = 0, 105
	p.Y.Min, p.Y.Max = niceRange(lo, hi, 0.05, 5, 0, 100)
	return newFigure(opt, "Site selection: accuracy of the chosen configuration vs cost", DefaultHeight, legend, p)
}

// line is one named series of a line plot; xName names its x values in errors.
type line struct {
	name, xName string
	x, y        []float64
}

// addNamedSeries draws each line in its palette colour with glyphs[i%len], and
// returns the legend and the y range drawn (+Inf, -Inf when nothing was).
func addNamedSeries(p *gplot.Plot, lines []line, glyphs []draw.GlyphDrawer) ([]legendItem, float64, float64, error) {
	var legend []legendItem
	lo, hi := math.Inf(1), math.Inf(-1)
	for i, l := range lines {
		if len(l.x) != len(l.y) {
			return nil, lo, hi, fmt.Errorf("plot: %s has %d %s for %d accuracies", l.name, len(l.x), l.xName, len(l.y))
		}
		item, ylo, yhi := addSeries(p, l.name, l.x, l.y, seriesColor(i), glyphs[i%len(glyphs)])
		if item != nil {
			legend = append(legend, *item)
			lo, hi = math.Min(lo, ylo), math.Max(hi, yhi)
		}
	}
	return legend, lo, hi, nil
}
