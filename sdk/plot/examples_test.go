package plot

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// exampleNote labels every example figure: the numbers are invented.
const exampleNote = "Example data: invented numbers to show the figure's layout, not results."

// exampleFigures builds each figure kind from plausible, clearly labelled
// made-up data.
func exampleFigures(t *testing.T) map[string]*Figure {
	t.Helper()
	figs := map[string]*Figure{}
	must := func(name string, f *Figure, err error) {
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		figs[name] = f
	}

	var ranks []SweepPoint
	for r := 4; r <= 14; r++ {
		x := float64(r - 4)
		ranks = append(ranks, SweepPoint{X: float64(r), Train: 70 + 1.1*x + 0.8*math.Sin(x), Val: 65.7 - 0.55*x + 0.6*math.Cos(1.7*x)})
	}
	ranks[5].Val = math.NaN() // a missing run leaves a gap
	f, err := RankSweep(ranks, Options{Title: "Figure 4 (example): accuracy vs LoReFT rank", Subtitle: "nanoLLaVA, CV-Bench, all 24 layers, positions f1+l1", Note: exampleNote})
	must("rank_sweep", f, err)

	var layers []SweepPoint
	for k := 23; k >= 0; k-- {
		n := float64(23 - k)
		val := 48 + 0.3*n
		if k <= 15 {
			val = 58 + 0.45*float64(15-k)
		}
		layers = append(layers, SweepPoint{X: float64(k), Train: val + 3 + 0.2*n, Val: val})
	}
	f, err = LayerSweep(layers, Options{Title: "Figure 5 (example): accuracy vs lowest intervened layer", Subtitle: "LoReFT rank 6", Note: exampleNote,
		ModelLayers: 24})
	must("layer_sweep", f, err)
	f, err = LayerSweep([]SweepPoint{{X: 1, Train: 52, Val: 49}, {X: 0, Train: 55, Val: 50}},
		Options{Title: "Figure 5 on the 2-layer demo model", Synthetic: true, Note: exampleNote, ModelLayers: 2})
	must("layer_sweep_demo", f, err)

	rows := PaperMethods()
	rows[0].Val, rows[1].Val = 63.9, 65.2 // Full left missing: drawn "n/a"
	f, err = Methods(rows, Options{Title: "Table 5 (example): validation accuracy", Note: exampleNote})
	must("methods", f, err)

	shares := PaperShares()
	shares[0].Ours, shares[1].Ours, shares[2].Ours = 0.0193, 0.1705, 60.99
	f, err = ParamShare(shares, Options{Title: "Table 4 (example): trainable share of parameters", Note: exampleNote})
	must("param_share", f, err)

	rng := rand.New(rand.NewPCG(1, 2))
	var curves []Curve
	for i, name := range []string{"ReFT r=4", "LoRA r=8", "Full"} {
		var c Curve
		c.Name = name
		for s := 0; s <= 400; s += 2 {
			base := 0.35 + 1.6*math.Exp(-float64(s)/(60+40*float64(i)))
			c.Step = append(c.Step, float64(s))
			c.Loss = append(c.Loss, base*(1+0.25*rng.NormFloat64()))
		}
		for s := 50; s <= 400; s += 50 {
			c.AccStep = append(c.AccStep, float64(s))
			c.Acc = append(c.Acc, 50+15*(1-math.Exp(-float64(s)/150))-4*float64(i)+rng.NormFloat64())
		}
		curves = append(curves, c)
	}
	f, err = Curves(curves, Options{Title: "Training curves (example)", Note: exampleNote, Smooth: 0.9})
	must("curves", f, err)

	f, err = RankSweep(ranks[:6], Options{Title: "Rank sweep smoke run", Synthetic: true,
		Note: "Synthetic CV-Bench-format data and a randomly initialised tiny model: checks the pipeline only."})
	must("synthetic", f, err)
	f, err = LayerSweep(layers, Options{Title: "Figure 5 at a narrow width: accuracy vs lowest intervened layer, rank 6",
		Synthetic: true, Width: 420, Height: 340, Note: exampleNote, ModelLayers: 24})
	must("narrow", f, err)

	for i := range curves {
		curves[i].Acc = nil
	}
	f, err = Curves(curves, Options{Title: "Loss only, no smoothing (example)", Note: exampleNote, Height: 320})
	must("curves_loss_only", f, err)
	dii := []InterchangeSeries{
		{Layer: 0, Rank: []int{1, 4, 16, 64}, Transfer: []float64{0.01, 0.04, 0.15, 0.52}},
		{Layer: 23, Rank: []int{1, 4, 16, 64}, Transfer: []float64{0.03, 0.11, 0.38, 1}},
	}
	f, err = Interchange(dii, Options{Subtitle: "random subspaces, last prompt token (example)", Note: exampleNote})
	must("interchange", f, err)
	return figs
}

// TestExampleFigures renders every example to PNG and SVG. With
// PLOT_EXAMPLES=dir set the files land there for a person to look at.
func TestExampleFigures(t *testing.T) {
	dir := os.Getenv("PLOT_EXAMPLES")
	if dir == "" {
		dir = t.TempDir()
	}
	for name, f := range exampleFigures(t) {
		for _, ext := range []string{".png", ".svg"} {
			if err := f.Save(filepath.Join(dir, name+ext)); err != nil {
				t.Fatal(err)
			}
		}
	}
}
