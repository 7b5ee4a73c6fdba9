package plot

import (
	"image/color"
	"math"
	"strconv"

	"golang.org/x/image/font"
	gplot "gonum.org/v1/plot"
	pfont "gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Palette is the one set of series colours every figure uses (Okabe-Ito,
// readable by colour-blind readers). Series i takes Palette[i%len].
var Palette = []color.RGBA{
	{0x00, 0x72, 0xB2, 0xFF}, // blue
	{0xD5, 0x5E, 0x00, 0xFF}, // vermillion
	{0x00, 0x9E, 0x73, 0xFF}, // bluish green
	{0xCC, 0x79, 0xA7, 0xFF}, // reddish purple
	{0xE6, 0x9F, 0x00, 0xFF}, // orange
	{0x56, 0xB4, 0xE9, 0xFF}, // sky blue
	{0x00, 0x00, 0x00, 0xFF}, // black
}

// Font sizes in points. A figure of the default 640 px width is 480 pt
// wide, so a 10 pt tick label is 13 px when shown at its natural size and
// still about 12 px when a notebook shrinks it to 600 px.
const (
	sizeTitle    = 14
	sizeSubtitle = 11
	sizeAxis     = 11
	sizeTick     = 10
	sizeLegend   = 10
	sizeValue    = 9.5
	sizeNote     = 9
)

var (
	colText  = color.RGBA{0x22, 0x22, 0x22, 0xFF}
	colMuted = color.RGBA{0x55, 0x55, 0x55, 0xFF}
	colAxis  = color.RGBA{0x66, 0x66, 0x66, 0xFF}
	colGrid  = color.RGBA{0xE4, 0xE4, 0xE4, 0xFF}
)

// seriesColor returns the palette colour of series i.
func seriesColor(i int) color.RGBA { return Palette[i%len(Palette)] }

// lighten mixes c with white; f=0 keeps c, f=1 gives white.
func lighten(c color.RGBA, f float64) color.RGBA {
	mix := func(v uint8) uint8 { return uint8(math.Round(float64(v) + (255-float64(v))*f)) }
	return color.RGBA{mix(c.R), mix(c.G), mix(c.B), 0xFF}
}

// faded returns c with alpha a (0..1), for raw curves under a smoothed one.
func faded(c color.RGBA, a float64) color.NRGBA {
	return color.NRGBA{c.R, c.G, c.B, uint8(math.Round(255 * a))}
}

var textHandler = text.Plain{Fonts: pfont.DefaultCache}

// textStyle is the sans-serif style of one kind of text.
func textStyle(size float64, bold, italic bool, c color.Color) text.Style {
	f := pfont.Font{Typeface: "Liberation", Variant: "Sans"}
	if bold {
		f.Weight = font.WeightBold
	}
	if italic {
		f.Style = font.StyleItalic
	}
	return text.Style{
		Color:   c,
		Font:    pfont.From(f, vg.Length(size)),
		Handler: textHandler,
	}
}

// newPlot returns a gonum plot in the house style: sans-serif text, light
// axes, no built-in title or legend (the figure frame draws those outside
// the data area so they never cover data).
func newPlot(xlabel, ylabel string) *gplot.Plot {
	p := gplot.New()
	p.TextHandler = textHandler
	p.BackgroundColor = nil
	for _, a := range []*gplot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle = textStyle(sizeAxis, false, false, colText)
		a.Label.Padding = vg.Points(4)
		a.Tick.Label = textStyle(sizeTick, false, false, colMuted)
		a.LineStyle = draw.LineStyle{Color: colAxis, Width: vg.Points(0.75)}
		a.Tick.LineStyle = draw.LineStyle{Color: colAxis, Width: vg.Points(0.75)}
		a.Tick.Length = vg.Points(4)
		a.Padding = vg.Points(4)
		a.Tick.Marker = niceTicks{}
	}
	for _, a := range []*gplot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.XAlign = draw.XCenter
		a.Label.TextStyle.YAlign = draw.YBottom
	}
	p.Y.Tick.Label.XAlign = draw.XRight
	p.Y.Tick.Label.YAlign = draw.YCenter
	p.X.Tick.Label.XAlign = draw.XCenter
	p.X.Tick.Label.YAlign = draw.YTop
	p.X.Label.Text = xlabel
	p.Y.Label.Text = ylabel
	return p
}

// grid returns light grid lines; vertical ones only when vert is true.
func grid(vert bool) *plotter.Grid {
	g := plotter.NewGrid()
	g.Horizontal = draw.LineStyle{Color: colGrid, Width: vg.Points(0.6)}
	g.Vertical = draw.LineStyle{}
	if vert {
		g.Vertical = g.Horizontal
	}
	return g
}

// niceRange widens [lo, hi] by pad and rounds it outwards to multiples of
// step, clamped to [floor, ceil].
func niceRange(lo, hi, pad, step, floor, ceil float64) (float64, float64) {
	lo = math.Floor((lo-pad)/step) * step
	hi = math.Ceil((hi+pad)/step) * step
	lo = math.Max(lo, floor)
	hi = math.Min(hi, ceil)
	if hi <= lo {
		hi = lo + step
	}
	return lo, hi
}

// accuracyAxis sets an accuracy (%) axis to hold [lo, hi] with round
// ticks every 5 or 10 points.
func accuracyAxis(a *gplot.Axis, lo, hi float64) {
	step := 5.0
	if hi-lo > 30 {
		step = 10
	}
	a.Min, a.Max = niceRange(lo, hi, 2, step, 0, 100)
	a.Tick.Marker = stepTicks(step)
}

// stepTicks labels every multiple of its value.
type stepTicks float64

func (s stepTicks) Ticks(min, max float64) []gplot.Tick {
	step := float64(s)
	var ts []gplot.Tick
	for v := math.Ceil(min/step) * step; v <= max+step*1e-9; v += step {
		ts = append(ts, gplot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', -1, 64)})
	}
	return ts
}

// niceTicks labels 4 to 8 round values (steps of 1, 2 or 5 times a power
// of ten), the default of every axis.
type niceTicks struct{}

func (niceTicks) Ticks(min, max float64) []gplot.Tick {
	span := max - min
	if !(span > 0) || math.IsInf(span, 0) {
		return gplot.DefaultTicks{}.Ticks(min, max)
	}
	mag := math.Pow(10, math.Floor(math.Log10(span/5)))
	step := mag
	for _, m := range []float64{1, 2, 5, 10} {
		step = m * mag
		if span/step <= 7 {
			break
		}
	}
	digits := max0(-int(math.Floor(math.Log10(step) + 1e-9)))
	var ts []gplot.Tick
	for i := math.Ceil(min/step - 1e-9); i*step <= max+step*1e-9; i++ {
		v := i * step
		if v == 0 {
			v = 0 // not "-0"
		}
		ts = append(ts, gplot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', digits, 64)})
	}
	return ts
}

func max0(v int) int { return max(v, 0) }

// integerTicks puts a tick at every integer in [lo, hi], labelling every
// labelEvery-th one counted down from hi (the others are minor ticks) and
// lo too unless that would crowd its labelled neighbour.
func integerTicks(lo, hi float64, labelEvery int) gplot.ConstantTicks {
	var ts gplot.ConstantTicks
	lo = math.Ceil(lo)
	k := max(labelEvery, 1)
	labelLo := int(hi-lo)%k >= (k+1)/2
	for v := lo; v <= hi; v++ {
		t := gplot.Tick{Value: v}
		if int(hi-v)%k == 0 || (v == lo && labelLo) {
			t.Label = strconv.Itoa(int(v))
		}
		ts = append(ts, t)
	}
	return ts
}

// formatValue prints a value with at most digits decimals and no trailing
// zeros beyond one decimal ("65.7", "66.0", "0.019").
func formatValue(v float64, digits int) string {
	s := strconv.FormatFloat(v, 'f', digits, 64)
	if digits <= 0 {
		return s
	}
	for len(s) > 0 && s[len(s)-1] == '0' && len(s) > 2 && s[len(s)-2] != '.' {
		s = s[:len(s)-1]
	}
	return s
}
