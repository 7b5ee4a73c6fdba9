package plot

import (
	"bytes"
	"errors"
	"fmt"
	"image/color"
	"io"
	"os"
	"path/filepath"
	"strings"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/visreft/visreft/sdk/fsutil"
	"github.com/visreft/visreft/sdk/notebook"
)

// SyntheticLabel is appended to the title of every figure whose
// Options.Synthetic is set, so a reader never mistakes a pipeline check on
// made-up data or random weights for a reproduced result.
const SyntheticLabel = " [synthetic data / random weights]"

// Default figure size in pixels (CSS px: the SVG is Width px wide in a
// browser, the PNG exactly Width x Height pixels).
const (
	DefaultWidth  = 640
	DefaultHeight = 420
)

// Options are the parts of a figure every kind shares.
type Options struct {
	Title    string // empty: the figure kind's default title
	Subtitle string // a grey line under the title (setting, data set, run)
	Note     string // footnote drawn at the bottom left (provenance, caveats)
	Width    int    // pixels; 0 = DefaultWidth
	Height   int    // pixels; 0 = DefaultHeight (Curves with accuracy: 1.5x)

	// Synthetic appends SyntheticLabel to the title, or " [Provenance]"
	// when Provenance says what the model and data are.
	Synthetic  bool
	Provenance string

	// Smooth (Curves only) is the weight of an exponential moving average
	// in [0, 1): 0 draws raw values, 0.9 is a typical smoothing. The raw
	// curve stays visible, faded, under the smoothed one.
	Smooth float64

	// NoPaper (RankSweep, LayerSweep) leaves out the paper's values, which
	// are otherwise drawn beside ours as dashed reference lines
	// (PaperRankSweep, PaperLayerSweep), as Methods draws Table 5's.
	NoPaper bool
	// ModelLayers (LayerSweep) is the swept model's number of decoder
	// layers. The paper's Figure 5 curve is drawn only when it is
	// PaperLayers (24, nanoLLaVA); otherwise (0 = not given) a note says
	// why it is missing.
	ModelLayers int
}

// title returns the title to draw: the caller's or def, plus the synthetic
// label when asked.
func (o Options) title(def string) string {
	t := o.Title
	if t == "" {
		t = def
	}
	label := SyntheticLabel
	if o.Provenance != "" {
		label = " [" + o.Provenance + "]"
	}
	if o.Synthetic && !strings.Contains(t, strings.TrimSpace(label)) {
		t += label
	}
	return t
}

// legendItem is one entry of the legend row drawn above the data.
type legendItem struct {
	label  string
	thumbs []gplot.Thumbnailer
}

// Figure is a rendered figure: its SVG is made when the figure is built,
// its PNG on demand.
type Figure struct {
	title, subtitle, note string
	wpx, hpx              int
	panels                []*gplot.Plot // stacked top to bottom, x axes aligned
	legend                []legendItem
	svg                   []byte
}

// newFigure lays out panels under a title and renders the SVG once, so a
// layout problem surfaces as an error from the figure's constructor.
func newFigure(opt Options, defTitle string, height int, legend []legendItem, panels ...*gplot.Plot) (*Figure, error) {
	if opt.Width < 0 || opt.Height < 0 {
		return nil, fmt.Errorf("plot: negative size %dx%d", opt.Width, opt.Height)
	}
	f := &Figure{
		title:    opt.title(defTitle),
		subtitle: opt.Subtitle,
		note:     opt.Note,
		wpx:      opt.Width,
		hpx:      opt.Height,
		panels:   panels,
		legend:   legend,
	}
	if f.wpx == 0 {
		f.wpx = DefaultWidth
	}
	if f.hpx == 0 {
		f.hpx = height
	}
	if f.wpx < 200 || f.hpx < 150 {
		return nil, fmt.Errorf("plot: figure %dx%d px is too small to be legible (min 200x150)", f.wpx, f.hpx)
	}
	var buf bytes.Buffer
	c := vgsvg.New(f.size())
	if err := f.drawOn(c); err != nil {
		return nil, err
	}
	if _, err := c.WriteTo(&buf); err != nil {
		return nil, err
	}
	f.svg = fixFonts(buf.Bytes())
	return f, nil
}

// size is the figure's size in points: a CSS pixel is 0.75 pt.
func (f *Figure) size() (vg.Length, vg.Length) {
	return vg.Length(f.wpx) * 0.75, vg.Length(f.hpx) * 0.75
}

// drawOn draws the figure, turning a gonum panic into an error.
func (f *Figure) drawOn(c vg.CanvasSizer) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("plot: drawing %q: %v", f.title, r)
		}
	}()
	f.draw(draw.New(c))
	return nil
}

// SVG returns the figure as a standalone SVG document.
func (f *Figure) SVG() []byte { return f.svg }

// HTML returns the SVG without its XML prologue, to inline in HTML.
func (f *Figure) HTML() string {
	s := string(f.svg)
	if i := strings.Index(s, "<svg"); i >= 0 {
		s = s[i:]
	}
	return s
}

// Title returns the title as drawn (with the synthetic label if any).
func (f *Figure) Title() string { return f.title }

// WritePNG renders the figure as a Width x Height pixel PNG.
func (f *Figure) WritePNG(w io.Writer) error {
	c := vgimg.NewWith(vgimg.UseWH(f.size()), vgimg.UseDPI(96))
	if err := f.drawOn(c); err != nil {
		return err
	}
	_, err := vgimg.PngCanvas{Canvas: c}.WriteTo(w)
	return err
}

// PNG returns the figure as PNG bytes.
func (f *Figure) PNG() ([]byte, error) {
	var buf bytes.Buffer
	err := f.WritePNG(&buf)
	return buf.Bytes(), err
}

// Save writes the figure to path atomically, as SVG or PNG after the
// extension (.svg, .png), creating the folder if needed.
func (f *Figure) Save(path string) error {
	ext := strings.ToLower(filepath.Ext(path))
	if ext != ".svg" && ext != ".png" {
		return fmt.Errorf("plot: save %s: extension must be .svg or .png", path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	if ext == ".svg" {
		return fsutil.WriteFile(path, f.svg)
	}
	return fsutil.WriteWith(path, f.WritePNG)
}

// Show displays the figure inline in a GoNB notebook, with caption under
// it if not empty; on a terminal it prints a one-line summary.
func (f *Figure) Show(caption string) {
	if caption == "" && !notebook.InNotebook() {
		caption = f.title
	}
	notebook.SVG(f.svg, caption)
}

// errNoData is returned when a figure would have nothing to draw.
var errNoData = errors.New("plot: no data to draw (all values missing)")

// fixFonts gives the SVG text fallback fonts: gonum names only the
// Liberation family it measured the text with, which few browsers have;
// Arial and Helvetica have the same metrics.
func fixFonts(svg []byte) []byte {
	return bytes.ReplaceAll(svg, []byte("font-family:Liberation Sans;"),
		[]byte("font-family:Liberation Sans,Arial,Helvetica,sans-serif;"))
}

// fill paints the whole canvas.
func fill(c draw.Canvas, col color.Color) {
	c.SetColor(col)
	c.Fill(c.Rectangle.Path())
}
