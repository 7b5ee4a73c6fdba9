package plot

import (
	"fmt"
	"math"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// ScaleSeries is one steering site (a layer, a builder, where it is added)
// at several scales: accuracy (%) at each scale.
type ScaleSeries struct {
	Name     string
	Scale    []float64
	Accuracy []float64
}

// SteerScales draws accuracy against the steering vector's scale, one line
// per site, with chance and the best image-blind rule as dotted levels
// (NaN: not drawn).
func SteerScales(series []ScaleSeries, chance, blind float64, opt Options) (*Figure, error) {
	if len(series) == 0 {
		return nil, fmt.Errorf("plot: no steering series")
	}
	p := newPlot("scale (x the layer's mean activation norm)", "accuracy (%)")
	p.Add(grid(true))
	glyphs := []draw.GlyphDrawer{draw.CircleGlyph{}, draw.BoxGlyph{}, draw.TriangleGlyph{}, draw.PyramidGlyph{}}
	var lines []line
	for _, s := range series {
		lines = append(lines, line{s.Name, "scales", s.Scale, s.Accuracy})
	}
	legend, lo, hi, err := addNamedSeries(p, lines, glyphs)
	if err != nil {
		return nil, err
	}
	xlo, xhi := math.Inf(1), math.Inf(-1)
	for _, s := range series {
		for _, x := range s.Scale {
			xlo, xhi = math.Min(xlo, x), math.Max(xhi, x)
		}
	}
	for k, level := range []struct {
		name string
		y    float64
	}{{"chance", chance}, {"best image-blind rule", blind}} {
		if math.IsNaN(level.y) {
			continue
		}
		l, _ := plotter.NewLine(plotter.XYs{{X: xlo, Y: level.y}, {X: xhi, Y: level.y}})
		l.LineStyle = draw.LineStyle{Color: colPaper, Width: vg.Points(1), Dashes: []vg.Length{vg.Points(2 + 2*float64(k)), vg.Points(3)}}
		p.Add(l)
		legend = append(legend, legendItem{label: fmt.Sprintf("%s (%.1f %%)", level.name, level.y), thumbs: []gplot.Thumbnailer{l}})
		lo, hi = math.Min(lo, level.y), math.Max(hi, level.y)
	}
	pad := 0.05 * math.Max(1, xhi-xlo)
	p.X.Min, p.X.Max = xlo-pad, xhi+pad
	p.Y.Min, p.Y.Max = niceRange(lo, hi, 0.05, 5, 0, 100)
	return newFigure(opt, "Steering vectors: accuracy vs scale", DefaultHeight, legend, p)
}
