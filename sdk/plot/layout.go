package plot

import (
	"image/color"
	"strings"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Frame geometry in points.
const (
	marginLeft   = 10
	marginRight  = 16
	marginTop    = 10
	marginBottom = 8
	gapBelowHead = 8  // between the legend row and the plot
	gapAboveNote = 6  // between the x axis label and the note
	panelGap     = 14 // between stacked panels
	thumbWidth   = 22 // legend swatch width
	legendGap    = 16 // between legend entries
)

// draw lays the figure out top to bottom: title, subtitle, legend row,
// panels, note. Title and legend live outside the data area, so neither
// can cover data.
func (f *Figure) draw(dc draw.Canvas) {
	fill(dc, color.White)
	in := draw.Crop(dc, marginLeft, -marginRight, marginBottom, -marginTop)
	width := in.Max.X - in.Min.X
	y := in.Max.Y

	y = drawLines(in, textStyle(sizeTitle, true, false, colText), f.title, width, y)
	if f.subtitle != "" {
		y -= 2
		y = drawLines(in, textStyle(sizeSubtitle, false, false, colMuted), f.subtitle, width, y)
	}
	if len(f.legend) > 0 {
		y -= 6
		y = drawLegend(in, f.legend, y)
	}
	y -= gapBelowHead

	bottom := in.Min.Y
	if f.note != "" {
		sty := textStyle(sizeNote, false, true, colMuted)
		lines := wrap(f.note, sty, width)
		h := lineHeight(sty) * vg.Length(len(lines))
		drawLines(in, sty, f.note, width, bottom+h)
		bottom += h + gapAboveNote
	}

	area := in
	area.Min.Y, area.Max.Y = bottom, y
	if area.Max.Y-area.Min.Y < 40 {
		panic("not enough room left for the plot: shorten the title or note, or make the figure taller")
	}
	switch len(f.panels) {
	case 0:
	case 1:
		f.panels[0].Draw(area)
	default:
		rows := make([][]*gplot.Plot, len(f.panels))
		for i, p := range f.panels {
			rows[i] = []*gplot.Plot{p}
		}
		tiles := draw.Tiles{Rows: len(f.panels), Cols: 1, PadY: panelGap}
		cs := gplot.Align(rows, tiles, area)
		for i, p := range f.panels {
			p.Draw(cs[i][0])
		}
	}
}

// lineHeight is the distance between two lines of sty.
func lineHeight(sty text.Style) vg.Length {
	return sty.FontExtents().Height * 1.15
}

// drawLines draws txt word-wrapped to width, left-aligned, the first line's
// top at y; it returns the y below the last line.
func drawLines(c draw.Canvas, sty text.Style, txt string, width, y vg.Length) vg.Length {
	sty.XAlign = draw.XLeft
	sty.YAlign = draw.YTop
	for _, line := range wrap(txt, sty, width) {
		c.FillText(sty, vg.Point{X: c.Min.X, Y: y}, line)
		y -= lineHeight(sty)
	}
	return y
}

// wrap splits txt into lines no wider than width, breaking at spaces (a
// single word wider than width gets a line of its own).
func wrap(txt string, sty text.Style, width vg.Length) []string {
	var lines []string
	for _, para := range strings.Split(txt, "\n") {
		line := ""
		for _, w := range strings.Fields(para) {
			try := w
			if line != "" {
				try = line + " " + w
			}
			if line != "" && sty.Width(try) > width {
				lines = append(lines, line)
				try = w
			}
			line = try
		}
		lines = append(lines, line)
	}
	return lines
}

// drawLegend draws the entries in rows from the left, the first row's top
// at y; it returns the y below the last row.
func drawLegend(c draw.Canvas, items []legendItem, y vg.Length) vg.Length {
	sty := textStyle(sizeLegend, false, false, colText)
	sty.XAlign = draw.XLeft
	sty.YAlign = draw.YCenter
	h := lineHeight(sty)
	x := c.Min.X
	y -= h
	for _, it := range items {
		w := thumbWidth + 5 + sty.Width(it.label)
		if x > c.Min.X && x+w > c.Max.X {
			x = c.Min.X
			y -= h + 2
		}
		box := draw.Canvas{Canvas: c.Canvas, Rectangle: vg.Rectangle{
			Min: vg.Point{X: x, Y: y + 1},
			Max: vg.Point{X: x + thumbWidth, Y: y + h - 1},
		}}
		for _, t := range it.thumbs {
			t.Thumbnail(&box)
		}
		c.FillText(sty, vg.Point{X: x + thumbWidth + 5, Y: y + h/2}, it.label)
		x += w + legendGap
	}
	return y
}
