package main

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"image/png"
	"math"
	"os"
	"path/filepath"

	"github.com/visreft/visreft/sdk/fsutil"
	"github.com/visreft/visreft/sdk/notebook"
	"github.com/visreft/visreft/sdk/paper"
	"github.com/visreft/visreft/sdk/plot"
)

// setupFor builds the preset once per process.
var setups = map[string]*paper.Setup{}

func setupFor(opts options) (*paper.Setup, error) {
	if s, ok := setups[opts.preset]; ok {
		return s, nil
	}
	s, err := paper.NewSetup(opts.preset, false)
	if err != nil {
		return nil, err
	}
	// Interrupted runs resume from results/checkpoints; -force starts afresh.
	s.CheckpointRoot = filepath.Join(opts.results, "checkpoints")
	if opts.force {
		if err := os.RemoveAll(s.CheckpointRoot); err != nil {
			return nil, err
		}
	}
	setups[opts.preset] = s
	return s, nil
}

// begin starts an experiment: the setup and its record, or ok=false when
// its results exist already (re-runs skip them unless -force).
func begin(name string, opts options) (*paper.Setup, *record, bool, error) {
	if done(name, opts) {
		fmt.Printf("%s: %s exists (use -force to re-run)\n", name, filepath.Join(opts.results, name+".json"))
		return nil, nil, false, nil
	}
	s, err := setupFor(opts)
	if err != nil {
		return nil, nil, false, err
	}
	rec := newRecord(name, opts)
	rec.Backend, rec.Synthetic = s.Choice.Describe(), s.Synthetic
	return s, rec, true, nil
}

// saveFigure writes plots/<name>.svg and .png and shows it.
func saveFigure(opts options, name string, fig *plot.Figure) error {
	for _, ext := range []string{".svg", ".png"} {
		if err := fig.Save(filepath.Join(opts.plots, name+ext)); err != nil {
			return err
		}
	}
	fig.Show(fig.Title())
	return nil
}

func runMethods(opts options) error {
	s, rec, ok, err := begin("methods", opts)
	if !ok || err != nil {
		return err
	}
	rows, fig, err := s.Methods()
	if err != nil {
		return err
	}
	var cells [][]string
	for _, r := range rows {
		cells = append(cells, []string{r.Label, f1(r.Result.ValAccuracy), f1(r.Paper), f1(r.Result.TrainAccuracy),
			fmt.Sprintf("%.4f %%", r.Result.SharePercent), f1(r.Result.ExamplesPerSec)})
	}
	title := "Table 5: validation accuracy (%)"
	if s.Synthetic {
		title += plot.SyntheticLabel
	}
	notebook.Table(title, []string{"method", "ours", "paper", "train", "trainable", "examples/s"}, cells)
	rec.Config, rec.Results = map[string]any{"data": s.DataInfo()}, rows
	if err := rec.save(opts); err != nil {
		return err
	}
	if err := writeCSV(filepath.Join(opts.results, "methods.csv"),
		[]string{"method", "val_accuracy", "paper", "train_accuracy", "share_percent", "examples_per_sec", "train_seconds"},
		func(w *csv.Writer) {
			for _, r := range rows {
				x := r.Result
				w.Write([]string{r.Label, f(x.ValAccuracy), f(r.Paper), f(x.TrainAccuracy), f(x.SharePercent), f(x.ExamplesPerSec), f(x.TrainSeconds)})
			}
		}); err != nil {
		return err
	}
	return saveFigure(opts, "methods", fig)
}

func runSweep(opts options, name string, sweep func(*paper.Setup, func(paper.SweepRow)) ([]paper.SweepRow, *plot.Figure, error)) error {
	s, rec, ok, err := begin(name, opts)
	if !ok || err != nil {
		return err
	}
	rows, fig, err := sweep(s, func(r paper.SweepRow) {
		fmt.Printf("%s %d: train %.1f %%, validation %.1f %%\n", name, r.X, r.Result.TrainAccuracy, r.Result.ValAccuracy)
	})
	if err != nil {
		return err
	}
	rec.Config, rec.Results = map[string]any{"data": s.DataInfo()}, rows
	if err := rec.save(opts); err != nil {
		return err
	}
	if err := writeCSV(filepath.Join(opts.results, name+".csv"), []string{"x", "train_accuracy", "val_accuracy", "trainable_params"},
		func(w *csv.Writer) {
			for _, r := range rows {
				w.Write([]string{fmt.Sprint(r.X), f(r.Result.TrainAccuracy), f(r.Result.ValAccuracy), fmt.Sprint(r.Result.TrainableParams)})
			}
		}); err != nil {
		return err
	}
	return saveFigure(opts, name, fig)
}

func runRank(opts options) error { return runSweep(opts, "rank", (*paper.Setup).RankSweep) }

func runLayers(opts options) error { return runSweep(opts, "layers", (*paper.Setup).LayerSweep) }

func runExample(opts options) error {
	s, rec, ok, err := begin("example", opts)
	if !ok || err != nil {
		return err
	}
	res, img, err := s.Example()
	if err != nil {
		return err
	}
	rec.Config, rec.Results, rec.Notes = map[string]any{"data": s.DataInfo()}, res, []string{res.Chosen}
	if err := rec.save(opts); err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return err
	}
	if err := os.MkdirAll(opts.plots, 0o755); err != nil {
		return err
	}
	if err := fsutil.WriteFile(filepath.Join(opts.plots, "example.png"), buf.Bytes()); err != nil {
		return err
	}
	return notebook.Image(img, "Figure 1: "+res.Chosen)
}

// runAll runs the paper's experiments in turn; finished ones are skipped
// unless -force.
func runAll(opts options) error {
	for _, name := range []string{"params", "methods", "rank", "layers", "example"} {
		fmt.Printf("== %s\n", name)
		if err := experiments[name].run(opts); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}

func f(v float64) string {
	if math.IsNaN(v) {
		return ""
	}
	return fmt.Sprintf("%.4f", v)
}

func f1(v float64) string {
	if math.IsNaN(v) {
		return "n/a"
	}
	return fmt.Sprintf("%.1f", v)
}
