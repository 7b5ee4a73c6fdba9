package plot

import (
	"fmt"
	"math"
	"strconv"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// ShareRow is one row of the paper's Table 4: the share of all model
// parameters a method trains, in percent. NaN = not measured; Paper 0 or
// NaN = no paper value.
type ShareRow struct {
	Method string
	Ours   float64 // measured share (%)
	Paper  float64 // the paper's reported share (%)
}

// ParamShare draws Table 4 as a dot plot on a log-scale x axis (the shares
// span four decades: 0.019 %, 0.17 %, 60.99 %), one row per method, the
// measured share and the paper's just below it, each with its value.
// Dots rather than bars: on a log axis a bar's length depends on where the
// axis happens to start.
func ParamShare(rows []ShareRow, opt Options) (*Figure, error) {
	if len(rows) == 0 {
		return nil, errNoData
	}
	ours := &dotSeries{glyph: draw.GlyphStyle{Color: seriesColor(0), Radius: vg.Points(4.5), Shape: draw.CircleGlyph{}}}
	paper := &dotSeries{glyph: draw.GlyphStyle{Color: colPaper, Radius: vg.Points(4.5), Shape: draw.BoxGlyph{}}}
	lo, hi := math.Inf(1), math.Inf(-1)
	names := make([]string, len(rows))
	hasPaper := false
	for i, r := range rows {
		names[len(rows)-1-i] = r.Method // first row on top
		y := float64(len(rows) - 1 - i)
		if r.Ours <= 0 && finite(r.Ours) {
			return nil, fmt.Errorf("plot: %s share %v %% cannot go on a log axis", r.Method, r.Ours)
		}
		if finite(r.Ours) {
			ours.add(r.Ours, y+0.16)
			lo, hi = math.Min(lo, r.Ours), math.Max(hi, r.Ours)
		}
		if finite(r.Paper) && r.Paper > 0 {
			paper.add(r.Paper, y-0.16)
			lo, hi = math.Min(lo, r.Paper), math.Max(hi, r.Paper)
			hasPaper = true
		}
	}
	if math.IsInf(lo, 1) {
		return nil, errNoData
	}
	p := newPlot("trainable parameters (% of all, log scale)", "")
	p.Add(grid(true))
	p.Add(ours)
	legend := []legendItem{{label: "measured", thumbs: []gplot.Thumbnailer{ours}}}
	if hasPaper {
		p.Add(paper)
		legend = append(legend, legendItem{label: "paper (Table 4)", thumbs: []gplot.Thumbnailer{paper}})
	}
	categoryAxis(&p.Y, names)
	p.Y.Tick.Label.XAlign = draw.XRight
	p.Y.Tick.Label.YAlign = draw.YCenter
	p.X.Scale = gplot.LogScale{}
	p.X.Min = math.Pow(10, math.Floor(math.Log10(lo)))
	p.X.Max = math.Pow(10, math.Ceil(math.Log10(hi)))
	if p.X.Max/p.X.Min < 100 {
		p.X.Min /= 10
	}
	p.X.Tick.Marker = percentLogTicks{}
	return newFigure(opt, "Share of parameters trained, by method", DefaultHeight, legend, p)
}

// formatShare prints a share with the paper's precision: two significant
// digits below 1 %, two decimals above ("0.019", "0.17", "60.99").
func formatShare(v float64) string {
	if v >= 1 {
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
	return strconv.FormatFloat(v, 'g', 2, 64)
}

// percentLogTicks puts labelled ticks at powers of ten ("0.01 %") and
// unlabelled ones at 2..9 times them.
type percentLogTicks struct{}

func (percentLogTicks) Ticks(min, max float64) []gplot.Tick {
	var ts []gplot.Tick
	for e := math.Floor(math.Log10(min)); e <= math.Ceil(math.Log10(max)); e++ {
		base := math.Pow(10, e)
		ts = append(ts, gplot.Tick{Value: base, Label: strconv.FormatFloat(base, 'f', -1, 64) + " %"})
		for m := 2.0; m < 10; m++ {
			ts = append(ts, gplot.Tick{Value: m * base})
		}
	}
	return ts
}

// dotSeries draws one glyph per (x, y) with the value of x written beside
// it: on the right, or on the left near the axis's right end.
type dotSeries struct {
	pts   [][2]float64
	glyph draw.GlyphStyle
}

func (d *dotSeries) add(x, y float64) { d.pts = append(d.pts, [2]float64{x, y}) }

// Plot implements gplot.Plotter.
func (d *dotSeries) Plot(c draw.Canvas, p *gplot.Plot) {
	trX, trY := p.Transforms(&c)
	lab := textStyle(sizeValue, false, false, colText)
	lab.YAlign = draw.YCenter
	gap := d.glyph.Radius + 4
	for _, pt := range d.pts {
		at := vg.Point{X: trX(pt[0]), Y: trY(pt[1])}
		c.DrawGlyph(d.glyph, at)
		s := lab
		s.XAlign, at.X = draw.XLeft, at.X+gap
		if p.X.Norm(pt[0]) > 0.8 {
			s.XAlign, at.X = draw.XRight, at.X-2*gap
		}
		c.FillText(s, at, formatShare(pt[0])+" %")
	}
}

// DataRange implements gplot.DataRanger (x only; the caller sets y).
func (d *dotSeries) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, xmax = math.Inf(1), math.Inf(-1)
	ymin, ymax = math.Inf(1), math.Inf(-1)
	for _, pt := range d.pts {
		xmin, xmax = math.Min(xmin, pt[0]), math.Max(xmax, pt[0])
		ymin, ymax = math.Min(ymin, pt[1]), math.Max(ymax, pt[1])
	}
	return xmin, xmax, ymin, ymax
}

// Thumbnail implements gplot.Thumbnailer.
func (d *dotSeries) Thumbnail(c *draw.Canvas) { c.DrawGlyph(d.glyph, c.Center()) }
