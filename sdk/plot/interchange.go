package plot

import (
	"fmt"
	"math"
	"slices"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/vg/draw"
)

// InterchangeSeries is one layer's distributed-interchange result: the
// transfer (0: patching changes nothing, 1: the patched run predicts what
// the source run does) for each subspace rank.
type InterchangeSeries struct {
	Layer    int
	Rank     []int
	Transfer []float64
}

// Interchange draws transfer against the rank of the patched subspace
// (log₂ axis), one line per decoder layer.
func Interchange(series []InterchangeSeries, opt Options) (*Figure, error) {
	if len(series) == 0 {
		return nil, fmt.Errorf("plot: no interchange series")
	}
	p := newPlot("rank of the patched subspace", "transfer")
	p.Add(grid(true))
	p.X.Scale = gplot.LogScale{}
	var legend []legendItem
	var ranks []int
	glyphs := []draw.GlyphDrawer{draw.CircleGlyph{}, draw.SquareGlyph{}, draw.TriangleGlyph{}, draw.CrossGlyph{}}
	lo, hi := 0.0, 1.0
	for i, s := range series {
		if len(s.Rank) != len(s.Transfer) {
			return nil, fmt.Errorf("plot: layer %d has %d ranks for %d transfers", s.Layer, len(s.Rank), len(s.Transfer))
		}
		xs := make([]float64, len(s.Rank))
		for j, r := range s.Rank {
			if r <= 0 {
				return nil, fmt.Errorf("plot: layer %d: rank %d is not positive", s.Layer, r)
			}
			xs[j] = float64(r)
			ranks = append(ranks, r)
		}
		item, ylo, yhi := addSeries(p, fmt.Sprintf("layer %d", s.Layer), xs, s.Transfer, seriesColor(i), glyphs[i%len(glyphs)])
		if item != nil {
			legend = append(legend, *item)
			lo, hi = math.Min(lo, ylo), math.Max(hi, yhi)
		}
	}
	slices.Sort(ranks)
	ranks = slices.Compact(ranks)
	var ticks gplot.ConstantTicks
	for _, r := range ranks {
		ticks = append(ticks, gplot.Tick{Value: float64(r), Label: fmt.Sprint(r)})
	}
	p.X.Tick.Marker = ticks
	p.X.Min, p.X.Max = float64(ranks[0])/1.3, float64(ranks[len(ranks)-1])*1.3
	p.Y.Min, p.Y.Max = niceRange(lo, hi, 0.02, 0.1, math.Inf(-1), math.Inf(1))
	return newFigure(opt, "DII transfer vs subspace rank", DefaultHeight, legend, p)
}
