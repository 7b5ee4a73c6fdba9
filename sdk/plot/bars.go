package plot

import (
	"image/color"
	"math"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// colPaper is the colour of the paper's reported values in every figure:
// a neutral grey, so the reproduced value (in palette colour) stands out.
var colPaper = color.RGBA{0x8C, 0x8C, 0x8C, 0xFF}

// MethodResult is one row of the paper's Table 5: a fine-tuning method's
// validation accuracy in percent. Val NaN means the run is missing (drawn
// as "n/a", never as a zero bar); Paper 0 or NaN means no paper value.
type MethodResult struct {
	Method string
	Val    float64 // reproduced validation accuracy (%)
	Paper  float64 // the paper's reported value (%), 0 or NaN = none
}

// Methods draws Table 5 as a grouped bar chart: per method the reproduced
// validation accuracy and, where given, the paper's value beside it
// (grey, hatched), each bar labelled with its value.
func Methods(rows []MethodResult, opt Options) (*Figure, error) {
	if len(rows) == 0 {
		return nil, errNoData
	}
	hasPaper := false
	var ours, paper barSeries
	ours.fill, ours.edge = seriesColor(0), seriesColor(0)
	paper.fill, paper.edge, paper.hatch = lighten(colPaper, 0.55), colPaper, true
	width := 0.7
	for _, r := range rows {
		if finite(r.Paper) && r.Paper != 0 {
			hasPaper = true
			width = 0.36
		}
	}
	hi := 0.0
	names := make([]string, len(rows))
	for i, r := range rows {
		names[i] = r.Method
		xo, xp := float64(i), float64(i)
		if hasPaper {
			xo, xp = float64(i)-0.19, float64(i)+0.19
		}
		ours.add(xo, r.Val)
		if hasPaper {
			paper.add(xp, r.Paper)
		}
		for _, v := range []float64{r.Val, r.Paper} {
			if finite(v) {
				hi = math.Max(hi, v)
			}
		}
	}
	if len(ours.bars) == 0 && len(paper.bars) == 0 {
		return nil, errNoData
	}
	ours.width, paper.width = width, width

	p := newPlot("", "validation accuracy (%)")
	p.Add(grid(false))
	p.Add(&ours)
	legend := []legendItem{{label: "reproduced", thumbs: []gplot.Thumbnailer{&ours}}}
	if hasPaper {
		p.Add(&paper)
		legend = append(legend, legendItem{label: "paper (Table 5)", thumbs: []gplot.Thumbnailer{&paper}})
	}
	categoryAxis(&p.X, names)
	p.Y.Min = 0
	_, p.Y.Max = niceRange(0, hi*1.08, 0, 10, 0, math.Inf(1))
	p.Y.Tick.Marker = stepTicks(10)
	if p.Y.Max > 100 {
		p.Y.Tick.Marker = gplot.DefaultTicks{}
	}
	return newFigure(opt, "Validation accuracy by fine-tuning method", DefaultHeight, legend, p)
}

// categoryAxis labels positions 0..n-1 of a with names, without tick lines.
func categoryAxis(a *gplot.Axis, names []string) {
	var ts gplot.ConstantTicks
	for i, n := range names {
		ts = append(ts, gplot.Tick{Value: float64(i), Label: n})
	}
	a.Tick.Marker = ts
	a.Tick.Length = 0
	sty := textStyle(sizeAxis, false, false, colText)
	sty.XAlign, sty.YAlign = a.Tick.Label.XAlign, a.Tick.Label.YAlign
	a.Tick.Label = sty
	a.Min, a.Max = -0.5, float64(len(names))-0.5
}

// bar is one bar: centre x and value.
type bar struct{ x, v float64 }

// barSeries draws vertical bars from zero with their values written above;
// missing values are written "n/a" on the baseline.
type barSeries struct {
	bars    []bar
	missing []float64 // x of missing values
	width   float64   // in data units
	fill    color.Color
	edge    color.Color
	hatch   bool
}

func (b *barSeries) add(x, v float64) {
	if finite(v) {
		b.bars = append(b.bars, bar{x, v})
	} else {
		b.missing = append(b.missing, x)
	}
}

// Plot implements gplot.Plotter.
func (b *barSeries) Plot(c draw.Canvas, p *gplot.Plot) {
	trX, trY := p.Transforms(&c)
	lab := textStyle(sizeValue, false, false, colText)
	lab.XAlign, lab.YAlign = draw.XCenter, draw.YBottom
	y0 := trY(math.Max(0, p.Y.Min))
	for _, br := range b.bars {
		r := vg.Rectangle{
			Min: vg.Point{X: trX(br.x - b.width/2), Y: min(y0, trY(br.v))},
			Max: vg.Point{X: trX(br.x + b.width/2), Y: max(y0, trY(br.v))},
		}
		b.drawRect(c, r)
		c.FillText(lab, vg.Point{X: (r.Min.X + r.Max.X) / 2, Y: r.Max.Y + 2}, formatValue(br.v, 1))
	}
	lab.Color = colMuted
	for _, x := range b.missing {
		c.FillText(lab, vg.Point{X: trX(x), Y: y0 + 2}, "n/a")
	}
}

// drawRect fills r, hatches it if asked and outlines it.
func (b *barSeries) drawRect(c draw.Canvas, r vg.Rectangle) {
	c.SetColor(b.fill)
	c.Fill(r.Path())
	if b.hatch {
		in := draw.Canvas{Canvas: c.Canvas, Rectangle: r}
		h := r.Max.Y - r.Min.Y
		var lines [][]vg.Point
		for x := r.Min.X - h; x < r.Max.X; x += 4 {
			lines = append(lines, []vg.Point{{X: x, Y: r.Min.Y}, {X: x + h, Y: r.Max.Y}})
		}
		in.StrokeLines(draw.LineStyle{Color: b.edge, Width: vg.Points(0.6)}, in.ClipLinesXY(lines...)...)
	}
	if b.edge != nil && b.hatch {
		c.StrokeLines(draw.LineStyle{Color: b.edge, Width: vg.Points(0.8)},
			[]vg.Point{r.Min, {X: r.Min.X, Y: r.Max.Y}, r.Max, {X: r.Max.X, Y: r.Min.Y}, r.Min})
	}
}

// DataRange implements gplot.DataRanger.
func (b *barSeries) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, xmax = math.Inf(1), math.Inf(-1)
	for _, br := range b.bars {
		xmin, xmax = math.Min(xmin, br.x-b.width/2), math.Max(xmax, br.x+b.width/2)
		ymin, ymax = math.Min(ymin, br.v), math.Max(ymax, br.v)
	}
	return xmin, xmax, ymin, ymax
}

// Thumbnail implements gplot.Thumbnailer.
func (b *barSeries) Thumbnail(c *draw.Canvas) {
	r := c.Rectangle
	r.Min.X += 4
	r.Max.X -= 4
	b.drawRect(*c, r)
}
