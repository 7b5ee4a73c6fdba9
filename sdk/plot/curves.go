package plot

import (
	"fmt"
	"math"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Curve is one training run: loss per step and, optionally, accuracy (%)
// at evaluation steps. NaN values are gaps.
type Curve struct {
	Name    string
	Step    []float64 // x of Loss
	Loss    []float64
	AccStep []float64 // x of Acc; nil = Step
	Acc     []float64 // accuracy (%), optional
}

// Curves draws training curves: loss against step for each run and, when
// any run has accuracy values, a second panel below with accuracy against
// the same steps. Options.Smooth draws an exponential moving average over
// the faded raw loss.
func Curves(series []Curve, opt Options) (*Figure, error) {
	if opt.Smooth < 0 || opt.Smooth >= 1 {
		return nil, fmt.Errorf("plot: Smooth %v outside [0, 1)", opt.Smooth)
	}
	loss := newPlot("step", "training loss")
	loss.Add(grid(true))
	acc := newPlot("step", "accuracy (%)")
	acc.Add(grid(true))
	var legend []legendItem
	xlo, xhi := math.Inf(1), math.Inf(-1)
	alo, ahi := math.Inf(1), math.Inf(-1)
	nLoss, nAcc := 0, 0
	for i, cv := range series {
		if len(cv.Loss) > len(cv.Step) {
			return nil, fmt.Errorf("plot: curve %q has %d losses for %d steps", cv.Name, len(cv.Loss), len(cv.Step))
		}
		col := seriesColor(i)
		ls := draw.LineStyle{Color: col, Width: vg.Points(1.8)}
		if len(cv.Step) > 60 && opt.Smooth == 0 {
			ls.Width = vg.Points(1.2) // dense raw curves stay legible
		}
		segs := segments(cv.Step, cv.Loss)
		if opt.Smooth > 0 {
			raw := draw.LineStyle{Color: faded(col, 0.28), Width: vg.Points(1)}
			addLines(loss, segs, raw)
			segs = segments(cv.Step, EMA(cv.Loss, opt.Smooth))
		}
		n := addLines(loss, segs, ls)
		nLoss += n
		for _, s := range segs {
			for _, v := range s {
				xlo, xhi = math.Min(xlo, v.X), math.Max(xhi, v.X)
			}
		}
		accX := cv.AccStep
		if accX == nil {
			accX = cv.Step
		}
		if len(cv.Acc) > len(accX) {
			return nil, fmt.Errorf("plot: curve %q has %d accuracies for %d steps", cv.Name, len(cv.Acc), len(accX))
		}
		it, lo, hi := addSeries(acc, cv.Name, accX, cv.Acc, col, draw.CircleGlyph{})
		if it != nil {
			nAcc++
			alo, ahi = math.Min(alo, lo), math.Max(ahi, hi)
			for _, x := range accX {
				if finite(x) {
					xlo, xhi = math.Min(xlo, x), math.Max(xhi, x)
				}
			}
		}
		if n > 0 || it != nil {
			name := cv.Name
			if name == "" {
				name = fmt.Sprintf("run %d", i+1)
			}
			legend = append(legend, legendItem{label: name, thumbs: []gplot.Thumbnailer{&plotter.Line{LineStyle: ls}}})
		}
	}
	if nLoss == 0 && nAcc == 0 {
		return nil, errNoData
	}
	if xhi == xlo {
		xlo, xhi = xlo-1, xhi+1
	}
	panels := []*gplot.Plot{loss}
	height := DefaultHeight
	if nAcc > 0 {
		accuracyAxis(&acc.Y, alo, ahi)
		panels = append(panels, acc)
		loss.X.Label.Text = ""
		height = DefaultHeight * 3 / 2
	}
	if nLoss == 0 {
		panels = panels[1:]
	}
	for _, p := range panels {
		p.X.Min, p.X.Max = xlo, xhi
	}
	return newFigure(opt, "Training curves", height, legend, panels...)
}

// addLines adds one line per segment; it returns the number of points.
func addLines(p *gplot.Plot, segs []plotter.XYs, ls draw.LineStyle) int {
	n := 0
	for _, s := range segs {
		l, err := plotter.NewLine(s)
		if err != nil {
			continue
		}
		l.LineStyle = ls
		p.Add(l)
		n += len(s)
	}
	return n
}

// EMA smooths values with an exponential moving average of the given
// weight (0 = none, 0.9 = strong), bias-corrected so the first values are
// not pulled towards zero. NaN values stay NaN and do not move the average.
func EMA(values []float64, weight float64) []float64 {
	out := make([]float64, len(values))
	var s, w float64
	for i, v := range values {
		if !finite(v) {
			out[i] = math.NaN()
			continue
		}
		s = weight*s + (1-weight)*v
		w = weight*w + (1 - weight)
		out[i] = s / w
	}
	return out
}
