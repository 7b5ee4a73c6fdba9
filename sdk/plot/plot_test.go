package plot

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"image/color"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// svgDoc is what the tests read back from a figure's SVG.
type svgDoc struct {
	texts  []svgText
	styles []string // style attribute of every <path>
}

type svgText struct {
	x    float64
	text string
}

// parseSVG checks that b is well-formed XML with an <svg> root and
// collects its texts and path styles.
func parseSVG(t *testing.T, b []byte) svgDoc {
	t.Helper()
	var doc svgDoc
	dec := xml.NewDecoder(bytes.NewReader(b))
	var inText *svgText
	root := ""
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed XML: %v", err)
		}
		switch el := tok.(type) {
		case xml.StartElement:
			if root == "" {
				root = el.Name.Local
			}
			attr := func(n string) string {
				for _, a := range el.Attr {
					if a.Name.Local == n {
						return a.Value
					}
				}
				return ""
			}
			switch el.Name.Local {
			case "text":
				x, _ := strconv.ParseFloat(attr("x"), 64)
				inText = &svgText{x: x}
			case "path":
				doc.styles = append(doc.styles, attr("style"))
			}
		case xml.CharData:
			if inText != nil {
				inText.text += string(el)
			}
		case xml.EndElement:
			if el.Name.Local == "text" && inText != nil {
				doc.texts = append(doc.texts, *inText)
				inText = nil
			}
		}
	}
	if root != "svg" {
		t.Fatalf("SVG root element is %q", root)
	}
	return doc
}

// has reports whether some text element reads exactly s.
func (d svgDoc) has(s string) bool {
	for _, tx := range d.texts {
		if tx.text == s {
			return true
		}
	}
	return false
}

func (d svgDoc) mustHave(t *testing.T, ss ...string) {
	t.Helper()
	for _, s := range ss {
		if !d.has(s) {
			t.Errorf("SVG has no text %q; texts: %v", s, d.texts)
		}
	}
}

// fills counts filled shapes (markers, bars) of colour c, legend swatch
// included.
func (d svgDoc) fills(c color.RGBA) int {
	want := fmt.Sprintf("fill:#%02X%02X%02X", c.R, c.G, c.B)
	n := 0
	for _, s := range d.styles {
		if s == want {
			n++
		}
	}
	return n
}

// strokes counts stroked lines of colour c.
func (d svgDoc) strokes(c color.RGBA) int {
	want := fmt.Sprintf("stroke:#%02X%02X%02X;", c.R, c.G, c.B)
	n := 0
	for _, s := range d.styles {
		if strings.Contains(s, want) {
			n++
		}
	}
	return n
}

func sweep() []SweepPoint {
	var pts []SweepPoint
	for r := 4; r <= 14; r++ {
		pts = append(pts, SweepPoint{X: float64(r), Train: 60 + float64(r), Val: 70 - float64(r)})
	}
	pts[3].Val = math.NaN()
	pts[7].Val = math.NaN()
	pts[10].Train = math.NaN()
	return pts
}

func TestRankSweep(t *testing.T) {
	f, err := RankSweep(sweep(), Options{Title: "Rank sweep test", Note: "a footnote"})
	if err != nil {
		t.Fatal(err)
	}
	d := parseSVG(t, f.SVG())
	d.mustHave(t, "Rank sweep test", "LoReFT rank r", "accuracy (%)", "train", "validation", "a footnote", "4", "14")
	// Markers: one per finite value plus the legend swatch; NaN is skipped.
	if got := d.fills(seriesColor(0)); got != 10+1 {
		t.Errorf("train markers = %d, want 11", got)
	}
	if got := d.fills(seriesColor(1)); got != 9+1 {
		t.Errorf("validation markers = %d, want 10", got)
	}
	// Validation has gaps at ranks 7 and 11: three segments, plus legend.
	if got := d.strokes(seriesColor(1)); got != 3+1 {
		t.Errorf("validation line pieces = %d, want 4", got)
	}
	// A NaN drawn as zero would pull the axis down to 0.
	if d.has("0") || d.has("20") {
		t.Errorf("y axis reaches 0: a missing value was drawn as zero")
	}
}

func TestLayerSweepInvertedAxis(t *testing.T) {
	var pts []SweepPoint
	for k := 23; k >= 0; k-- {
		pts = append(pts, SweepPoint{X: float64(k), Train: 80 - float64(k), Val: 75 - float64(k)})
	}
	f, err := LayerSweep(pts, Options{})
	if err != nil {
		t.Fatal(err)
	}
	d := parseSVG(t, f.SVG())
	d.mustHave(t, "Accuracy vs lowest intervened layer",
		"lowest intervened layer k (interventions on layers k..23)", "accuracy (%)")
	if d.fills(seriesColor(0)) != 24+1 || d.fills(seriesColor(1)) != 24+1 {
		t.Errorf("markers: train %d, val %d, want 25 each", d.fills(seriesColor(0)), d.fills(seriesColor(1)))
	}
	x := map[string]float64{}
	for _, tx := range d.texts {
		x[tx.text] = tx.x
	}
	if !(x["23"] < x["15"] && x["15"] < x["0"]) {
		t.Errorf("layer axis not inverted: x(23)=%v x(15)=%v x(0)=%v", x["23"], x["15"], x["0"])
	}
}

func TestMethods(t *testing.T) {
	rows := PaperMethods()
	rows[0].Val, rows[1].Val = 63.9, 65.2
	f, err := Methods(rows, Options{Title: "Methods test"})
	if err != nil {
		t.Fatal(err)
	}
	d := parseSVG(t, f.SVG())
	d.mustHave(t, "Methods test", "validation accuracy (%)", "ReFT", "LoRA", "Full",
		"63.9", "65.2", "65.7", "66.0", "51.7", "n/a", "reproduced", "paper (Table 5)")
	if got := d.fills(seriesColor(0)); got != 2+1 {
		t.Errorf("reproduced bars = %d, want 3 (2 + legend)", got)
	}
	if got := d.fills(lighten(colPaper, 0.55)); got != 3+1 {
		t.Errorf("paper bars = %d, want 4 (3 + legend)", got)
	}

	f, err = Methods([]MethodResult{{Method: "ReFT", Val: 61}, {Method: "LoRA", Val: 62}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	d = parseSVG(t, f.SVG())
	if d.has("paper (Table 5)") || d.fills(lighten(colPaper, 0.55)) != 0 {
		t.Error("paper bars drawn without paper values")
	}
	if got := d.fills(seriesColor(0)); got != 2+1 {
		t.Errorf("bars = %d, want 3", got)
	}
}

func TestParamShare(t *testing.T) {
	rows := PaperShares()
	rows[0].Ours, rows[2].Ours = 0.0193, 60.99
	f, err := ParamShare(rows, Options{Title: "Share test"})
	if err != nil {
		t.Fatal(err)
	}
	d := parseSVG(t, f.SVG())
	d.mustHave(t, "Share test", "trainable parameters (% of all, log scale)", "ReFT", "LoRA", "Full",
		"0.019 %", "0.17 %", "60.99 %", "0.01 %", "100 %", "measured", "paper (Table 4)")
	if got := d.fills(seriesColor(0)); got != 2+1 {
		t.Errorf("measured dots = %d, want 3", got)
	}
	if got := d.fills(colPaper); got != 3+1 {
		t.Errorf("paper dots = %d, want 4", got)
	}
	if _, err := ParamShare([]ShareRow{{Method: "x", Ours: 0}}, Options{}); err == nil {
		t.Error("a zero share on a log axis was accepted")
	}
}

func TestCurves(t *testing.T) {
	c := Curve{Name: "reft", Step: []float64{0, 1, 2, 3, 4}, Loss: []float64{2, 1.5, math.NaN(), 1, 0.8},
		AccStep: []float64{2, 4}, Acc: []float64{55, 60}}
	f, err := Curves([]Curve{c, {Name: "lora", Step: []float64{0, 2, 4}, Loss: []float64{2.2, 1.4, 0.9}}},
		Options{Title: "Curves test", Smooth: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	d := parseSVG(t, f.SVG())
	d.mustHave(t, "Curves test", "training loss", "accuracy (%)", "step", "reft", "lora")
	if got := d.fills(seriesColor(0)); got != 2 {
		t.Errorf("accuracy markers = %d, want 2", got)
	}
	if w, h := f.wpx, f.hpx; w != DefaultWidth || h != DefaultHeight*3/2 {
		t.Errorf("two-panel default size %dx%d", w, h)
	}

	f, err = Curves([]Curve{c}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	c.Acc = nil
	f, err = Curves([]Curve{c}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if parseSVG(t, f.SVG()).has("accuracy (%)") {
		t.Error("accuracy panel drawn without accuracy values")
	}
	if _, err := Curves([]Curve{c}, Options{Smooth: 1}); err == nil {
		t.Error("Smooth 1 accepted")
	}
}

func TestEMA(t *testing.T) {
	got := EMA([]float64{1, math.NaN(), 3}, 0.5)
	want := []float64{1, math.NaN(), 1.75 / 0.75}
	for i := range want {
		if !(got[i] == want[i] || math.IsNaN(got[i]) && math.IsNaN(want[i])) && math.Abs(got[i]-want[i]) > 1e-12 {
			t.Errorf("EMA[%d] = %v, want %v", i, got[i], want[i])
		}
	}
}

func TestNoData(t *testing.T) {
	nan := math.NaN()
	checks := map[string]error{}
	_, checks["rank"] = RankSweep([]SweepPoint{{X: 4, Train: nan, Val: nan}}, Options{})
	_, checks["layer"] = LayerSweep(nil, Options{})
	_, checks["methods"] = Methods([]MethodResult{{Method: "ReFT", Val: nan}}, Options{})
	_, checks["share"] = ParamShare([]ShareRow{{Method: "ReFT", Ours: nan}}, Options{})
	_, checks["curves"] = Curves([]Curve{{Name: "x", Step: []float64{1}, Loss: []float64{nan}}}, Options{})
	for name, err := range checks {
		if !errors.Is(err, errNoData) {
			t.Errorf("%s: err = %v, want no-data error", name, err)
		}
	}
}

func TestSyntheticLabel(t *testing.T) {
	f, err := RankSweep(sweep(), Options{Title: "Smoke", Synthetic: true})
	if err != nil {
		t.Fatal(err)
	}
	want := "Smoke" + SyntheticLabel
	if f.Title() != want {
		t.Errorf("title %q, want %q", f.Title(), want)
	}
	parseSVG(t, f.SVG()).mustHave(t, want)
	if got := (Options{Title: want, Synthetic: true}).title(""); got != want {
		t.Errorf("label added twice: %q", got)
	}
	f, _ = RankSweep(sweep(), Options{Title: "Real"})
	if bytes.Contains(f.SVG(), []byte("synthetic")) {
		t.Error("synthetic label without Synthetic")
	}
}

func TestPNGAndSave(t *testing.T) {
	f, err := Methods(PaperMethods(), Options{Width: 500, Height: 360})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "new", "folder")
	for _, name := range []string{"m.png", "m.svg"} {
		if err := f.Save(filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "m.png"))
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if s := img.Bounds().Size(); s.X != 500 || s.Y != 360 {
		t.Errorf("PNG is %v, want 500x360", s)
	}
	b, _ = os.ReadFile(filepath.Join(dir, "m.svg"))
	if !bytes.Equal(b, f.SVG()) {
		t.Error("saved SVG differs from SVG()")
	}
	if err := f.Save(filepath.Join(dir, "m.pdf")); err == nil {
		t.Error("unknown extension accepted")
	}
	if _, err := Methods(PaperMethods(), Options{Width: 100}); err == nil {
		t.Error("illegibly small figure accepted")
	}
	if !strings.HasPrefix(f.HTML(), "<svg") {
		t.Error("HTML() keeps the XML prologue")
	}
}

func TestLiveOutsideNotebook(t *testing.T) {
	var log bytes.Buffer
	l := NewLive(Options{Title: "live"}, 3)
	l.Log = &log
	for s := 1; s <= 6; s++ {
		l.Loss("reft", s, 1/float64(s))
	}
	l.Accuracy("reft", 6, 58.5)
	if n := strings.Count(log.String(), "\n"); n != 2 {
		t.Errorf("%d summary lines after 7 updates every 3, want 2:\n%s", n, log.String())
	}
	if got := l.Summary(); got != "step 6: reft loss 0.1667 acc 58.5%" {
		t.Errorf("summary %q", got)
	}
	cs := l.Curves()
	if len(cs) != 1 || len(cs[0].Loss) != 6 || len(cs[0].Acc) != 1 || cs[0].AccStep[0] != 6 {
		t.Fatalf("curves %+v", cs)
	}
	f, err := l.Figure()
	if err != nil {
		t.Fatal(err)
	}
	parseSVG(t, f.SVG()).mustHave(t, "live", "reft", "accuracy (%)")
	if err := l.Done(); err != nil {
		t.Fatal(err)
	}
}

// dashed counts stroked paths drawn with a dash pattern.
func (d svgDoc) dashed() int {
	n := 0
	for _, s := range d.styles {
		if strings.Contains(s, "stroke-dasharray:") && !strings.Contains(s, "stroke-dasharray:none") {
			n++
		}
	}
	return n
}

// allText is every text element joined by spaces (wrapped notes included).
func (d svgDoc) allText() string {
	var b strings.Builder
	for _, tx := range d.texts {
		b.WriteString(tx.text + " ")
	}
	return b.String()
}

// TestRankSweepDrawsPaperReference: Figure 4's paper values are drawn beside
// ours, dashed, under the legend entry PaperLabel, at the paper's ranks
// within the sweep's range; NoPaper leaves them out.
func TestRankSweepDrawsPaperReference(t *testing.T) {
	var pts []SweepPoint
	for r := 4; r <= 14; r++ {
		pts = append(pts, SweepPoint{X: float64(r), Train: 90, Val: 88})
	}
	f, err := RankSweep(pts, Options{})
	if err != nil {
		t.Fatal(err)
	}
	d := parseSVG(t, f.SVG())
	d.mustHave(t, "paper (read off its figure)")
	// train and validation lines, plus the legend swatch's two
	if got := d.dashed(); got != 2+2 {
		t.Errorf("dashed paths = %d, want 4 (2 lines + 2 in the swatch)", got)
	}
	// hollow markers at the paper's 6 ranks, in the paper's shade of each
	// series, plus its line and the swatch's line
	for i := range 2 {
		if got := d.strokes(paperShade(seriesColor(i))); got != 6+1+1 {
			t.Errorf("series %d: paper strokes = %d, want 8", i, got)
		}
	}
	// the y axis reaches down to the paper's values (58.4 .. 64.5)
	d.mustHave(t, "60")

	// ranks 1..5 hold only the paper's rank 4
	f, err = RankSweep([]SweepPoint{{X: 1, Train: 50, Val: 50}, {X: 5, Train: 52, Val: 51}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := parseSVG(t, f.SVG()).strokes(paperShade(seriesColor(1))); got != 1+1 {
		t.Errorf("ranks 1-5: paper validation strokes = %d, want 2 (rank 4 + swatch)", got)
	}
	f, err = RankSweep([]SweepPoint{{X: 1, Train: 50, Val: 50}, {X: 2, Train: 52, Val: 51}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	d = parseSVG(t, f.SVG())
	if d.has(PaperLabel) || !strings.Contains(d.allText(), "ranks 4-14") {
		t.Errorf("ranks 1-2: paper drawn or no note: %s", d.allText())
	}

	f, err = RankSweep(pts, Options{NoPaper: true})
	if err != nil {
		t.Fatal(err)
	}
	if d := parseSVG(t, f.SVG()); d.has(PaperLabel) || d.dashed() != 0 {
		t.Error("paper values drawn with NoPaper")
	}
}

// TestLayerSweepDrawsPaperReference: Figure 5's paper curve is drawn only for
// a 24-layer model, at the sweep's layers; otherwise a note says why not.
func TestLayerSweepDrawsPaperReference(t *testing.T) {
	var pts []SweepPoint
	for k := 23; k >= 0; k-- {
		pts = append(pts, SweepPoint{X: float64(k), Train: 90, Val: 88})
	}
	f, err := LayerSweep(pts, Options{ModelLayers: 24})
	if err != nil {
		t.Fatal(err)
	}
	d := parseSVG(t, f.SVG())
	d.mustHave(t, "paper (read off its figure)", "40") // Figure 5's plateau is ~0.39-0.41
	if got := d.dashed(); got != 2+2 {
		t.Errorf("dashed paths = %d, want 4", got)
	}
	for i := range 2 {
		if got := d.strokes(paperShade(seriesColor(i))); got != 24+1+1 {
			t.Errorf("series %d: paper strokes = %d, want 26", i, got)
		}
	}
	// layers 16..23 only: the paper's 8 points there
	f, err = LayerSweep(pts[:8], Options{ModelLayers: 24})
	if err != nil {
		t.Fatal(err)
	}
	if got := parseSVG(t, f.SVG()).strokes(paperShade(seriesColor(0))); got != 8+1+1 {
		t.Errorf("layers 16-23: paper train strokes = %d, want 10", got)
	}

	demo := []SweepPoint{{X: 1, Train: 52, Val: 49}, {X: 0, Train: 55, Val: 50}}
	for _, layers := range []int{0, 2} {
		f, err := LayerSweep(demo, Options{ModelLayers: layers, Note: "a footnote"})
		if err != nil {
			t.Fatal(err)
		}
		d := parseSVG(t, f.SVG())
		if d.has(PaperLabel) || d.dashed() != 0 {
			t.Errorf("%d layers: the paper's 24-layer curve was drawn", layers)
		}
		if txt := d.allText(); !strings.Contains(txt, "a footnote") || !strings.Contains(txt, "24 decoder layers") {
			t.Errorf("%d layers: note %q does not say the paper's curve is for 24 layers", layers, txt)
		}
	}
	f, err = LayerSweep(pts, Options{ModelLayers: 24, NoPaper: true})
	if err != nil {
		t.Fatal(err)
	}
	if d := parseSVG(t, f.SVG()); d.has(PaperLabel) || strings.Contains(d.allText(), "24 decoder layers") {
		t.Error("paper values or their note drawn with NoPaper")
	}
}

// TestPaperSweepValues: PaperRankSweep and PaperLayerSweep are the values
// read off the paper's Figures 4 and 5 (fractions there, percent here).
func TestPaperSweepValues(t *testing.T) {
	check := func(name string, pts []SweepPoint, xs []float64, train, val string) {
		t.Helper()
		tr, va := strings.Fields(train), strings.Fields(val)
		if len(pts) != len(xs) || len(tr) != len(xs) || len(va) != len(xs) {
			t.Fatalf("%s: %d points, want %d", name, len(pts), len(xs))
		}
		for i, pt := range pts {
			wt, _ := strconv.ParseFloat(tr[i], 64)
			wv, _ := strconv.ParseFloat(va[i], 64)
			if pt.X != xs[i] || math.Abs(pt.Train-100*wt) > 1e-9 || math.Abs(pt.Val-100*wv) > 1e-9 {
				t.Errorf("%s[%d] = %+v, want x %g train %g val %g", name, i, pt, xs[i], 100*wt, 100*wv)
			}
		}
	}
	check("PaperRankSweep", PaperRankSweep, []float64{4, 6, 8, 10, 12, 14},
		".640 .645 .623 .638 .621 .584", ".619 .642 .633 .644 .619 .602")
	var ks []float64
	for k := 23; k >= 0; k-- {
		ks = append(ks, float64(k))
	}
	check("PaperLayerSweep", PaperLayerSweep, ks,
		".397 .416 .389 .402 .392 .390 .407 .400 .537 .557 .557 .561 .594 .600 .624 .601 .577 .617 .630 .613 .651 .645 .646 .645",
		".383 .413 .383 .386 .403 .402 .405 .400 .548 .543 .587 .566 .585 .612 .607 .620 .608 .629 .631 .615 .669 .653 .645 .642")
	if PaperLayers != 24 {
		t.Errorf("PaperLayers = %d", PaperLayers)
	}
}

func TestSelectionFigure(t *testing.T) {
	f, err := Selection([]SelectionSeries{
		{Strategy: "halving", Cost: []float64{5, 10, 20}, Accuracy: []float64{61, 64, 66}},
		{Strategy: "one-shot", Cost: []float64{4, 7, 14}, Accuracy: []float64{58, math.NaN(), 65}},
	}, 66.5, Options{Note: "demo"})
	if err != nil {
		t.Fatal(err)
	}
	d := parseSVG(t, f.SVG())
	d.mustHave(t, "halving", "one-shot", "full sweep's best (66.5 %)", "1 point below it", "demo")
	if got := d.fills(seriesColor(0)); got != 3+1 {
		t.Errorf("halving markers = %d, want 4", got)
	}
	if got := d.fills(seriesColor(1)); got != 2+1 {
		t.Errorf("one-shot markers = %d (a NaN is not drawn), want 3", got)
	}
	if _, err := Selection(nil, 1, Options{}); err == nil {
		t.Error("no series: no error")
	}
}

// TestLayerSweepLabelsTheModelsTopLayer: Figure 5 on an 8-layer model,
// swept at every other lowest layer (6, 4, 2, 0), says the interventions
// reach layer 7, the model's top, not the sweep's highest k.
func TestLayerSweepLabelsTheModelsTopLayer(t *testing.T) {
	var pts []SweepPoint
	for _, k := range []float64{6, 4, 2, 0} {
		pts = append(pts, SweepPoint{X: k, Train: 50, Val: 45})
	}
	f, err := LayerSweep(pts, Options{ModelLayers: 8})
	if err != nil {
		t.Fatal(err)
	}
	d := parseSVG(t, f.SVG())
	d.mustHave(t, "lowest intervened layer k (interventions on layers k..7)")
}
