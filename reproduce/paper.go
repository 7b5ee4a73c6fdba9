package main

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/visreft/visreft/sdk/demo"
	"github.com/visreft/visreft/sdk/fsutil"
	"github.com/visreft/visreft/sdk/notebook"
	"github.com/visreft/visreft/sdk/paper"
	"github.com/visreft/visreft/sdk/plot"
)

// setupFor builds the preset once per process (per results folder, shard
// and mode).
var setups = map[string]*paper.Setup{}

func setupFor(opts options) (*paper.Setup, error) {
	// The setting's variables are in the key: a process (a test) that
	// changes them gets the setup they make.
	key := fmt.Sprintf("%s|%s|%s|%v|%s|%s|%s|%s|%s", opts.preset, opts.results, opts.shard, opts.noTrain,
		os.Getenv("VISREFT_TEMPLATE"), os.Getenv("VISREFT_TARGET"), os.Getenv("VISREFT_COMPUTE_DTYPE"),
		os.Getenv(demo.EnvMiniModel), os.Getenv("VISREFT_MODEL"))
	if s, ok := setups[key]; ok {
		return s, nil
	}
	shard, err := paper.ParseShard(opts.shard)
	if err != nil {
		return nil, fmt.Errorf("flag -shard: %w", err)
	}
	if shard.N > 1 && opts.force {
		return nil, fmt.Errorf("flags -force and -shard together would let every shard delete the others' runs; force once, then shard")
	}
	s, err := paper.NewSetup(opts.preset, false)
	if err != nil {
		return nil, err
	}
	s.Shard, s.NoTrain = shard, opts.noTrain
	// Runs and checkpoints live under the identity and the setting
	// (results/<preset>/<model>/<data>[/<setting>]/runs, .../checkpoints):
	// interrupted runs resume from there, and -force starts this setting
	// afresh, leaving other settings' runs alone.
	base := filepath.Join(opts.results, s.ID.Dir(), s.SettingDir())
	s.RunsDir = filepath.Join(base, "runs")
	s.CheckpointRoot = filepath.Join(base, "checkpoints")
	if opts.force {
		for _, dir := range []string{s.CheckpointRoot, s.RunsDir} {
			if err := os.RemoveAll(dir); err != nil {
				return nil, err
			}
		}
	}
	setups[key] = s
	return s, nil
}

// begin starts an experiment: the setup, its record and the options with
// the results folder narrowed to the setup's identity
// (results/<preset>/<model>-<hash>/<data>-<hash>) and the figures folder
// to the preset (plots/<preset>, FiguresDir), or ok=false when its results exist
// already for this identity (re-runs skip them unless -force). Results of
// another preset, model or data never count as existing.
func begin(name string, opts options) (*paper.Setup, *record, options, bool, error) {
	s, err := setupFor(opts)
	if err != nil {
		return nil, nil, opts, false, err
	}
	opts = keyed(opts, s)
	if done(name, opts) {
		fmt.Printf("%s: %s exists (use -force to re-run)\n", name, filepath.Join(opts.results, name+".json"))
		return nil, nil, opts, false, nil
	}
	rec := newRecord(name, opts)
	rec.Backend, rec.Synthetic, rec.Identity = s.Choice.Describe(), s.Synthetic, &s.ID
	rec.Provenance = s.Provenance
	s.Missing = nil
	return s, rec, opts, true, nil
}

// keyed narrows opts' folders to s's identity and setting (figures: to
// the preset, the model when it is not the preset's own, and the setting).
func keyed(opts options, s *paper.Setup) options {
	opts.results = filepath.Join(opts.results, s.ID.Dir(), s.SettingDir())
	opts.plots = filepath.Join(opts.plots, s.FiguresDir())
	return opts
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
	s, rec, opts, ok, err := begin("methods", opts)
	if !ok || err != nil {
		return err
	}
	rows, fig, err := s.Methods()
	if err != nil {
		return notHereYet(err, "methods", s)
	}
	noteMissing(rec, s)
	s.MethodsTable(rows).Show()
	rec.Config, rec.Results = s.RecordConfig(), rows
	if err := rec.save(opts); err != nil {
		return err
	}
	if err := writeCSV(filepath.Join(opts.results, "methods.csv"),
		[]string{"method", "protocol", "val_accuracy", "val_accuracy_likelihood", "paper", "chance", "train_accuracy", "share_percent", "examples_per_sec", "train_seconds"},
		func(w *csv.Writer) {
			for _, r := range rows {
				x := r.Result
				w.Write([]string{r.Label, x.Protocol, f(x.ValAccuracy), f(x.ValByProtocol["likelihood"]), f(r.Paper), f(x.ChanceAccuracy),
					f(x.TrainAccuracy), f(x.SharePercent), f(x.ExamplesPerSec), f(x.TrainSeconds)})
			}
		}); err != nil {
		return err
	}
	return saveFigure(opts, "methods", fig)
}

func runSweep(opts options, name string, sweep func(*paper.Setup, func(paper.SweepRow)) ([]paper.SweepRow, *plot.Figure, error)) error {
	s, rec, opts, ok, err := begin(name, opts)
	if !ok || err != nil {
		return err
	}
	rows, fig, err := sweep(s, func(r paper.SweepRow) {
		fmt.Printf("%s %d: train %.1f %%, validation %.1f %%\n", name, r.X, r.Result.TrainAccuracy, r.Result.ValAccuracy)
	})
	if err != nil {
		return notHereYet(err, name, s)
	}
	noteMissing(rec, s)
	rec.Config, rec.Results = s.RecordConfig(), rows
	if err := rec.save(opts); err != nil {
		return err
	}
	if err := writeCSV(filepath.Join(opts.results, name+".csv"), []string{"x", "protocol", "train_accuracy", "val_accuracy", "val_accuracy_likelihood", "chance", "trainable_params"},
		func(w *csv.Writer) {
			for _, r := range rows {
				x := r.Result
				w.Write([]string{fmt.Sprint(r.X), x.Protocol, f(x.TrainAccuracy), f(x.ValAccuracy), f(x.ValByProtocol["likelihood"]), f(x.ChanceAccuracy), fmt.Sprint(x.TrainableParams)})
			}
		}); err != nil {
		return err
	}
	return saveFigure(opts, name, fig)
}

func runSelect(opts options) error {
	s, rec, opts, ok, err := begin("select", opts)
	if !ok || err != nil {
		return err
	}
	rows, fig, err := s.Select(paper.DefaultStrategies, paper.DefaultBudgets, func(r paper.SelectRow) {
		sel := r.Selection
		fmt.Printf("select %s at %.0f %%: chose %s on a selection split of %d training examples; held-out validation %.1f %% (the sweep's best there, an oracle: %s %.1f %%); cost %.1f %% of the sweep's training, %d evaluations, %d prefix-cache passes, %d model loads, %.0f s (the sweep: %.0f s)\n",
			r.Strategy, 100*r.Budget, r.Chosen, sel.SelectionExamples, r.ChosenVal, r.Best, r.BestVal, r.Cost, sel.EvalPasses, sel.CachePasses, sel.ModelLoads, sel.Seconds, r.SweepSeconds)
	})
	if err != nil {
		return notHereYet(err, "select", s)
	}
	s.SelectTable(rows).Show()
	rec.Config, rec.Results = s.RecordConfig(), rows
	if err := rec.save(opts); err != nil {
		return err
	}
	if err := writeCSV(filepath.Join(opts.results, "select.csv"),
		[]string{"strategy", "budget", "cost_percent", "chosen_lowest", "chosen_rank", "chosen_val_accuracy", "best_lowest", "best_rank", "best_val_accuracy", "train_examples", "selection_examples", "eval_passes", "eval_examples", "cache_passes", "cache_examples", "model_loads", "seconds", "sweep_seconds"},
		func(w *csv.Writer) {
			for _, r := range rows {
				w.Write([]string{r.Strategy, f(r.Budget), f(r.Cost), fmt.Sprint(r.Chosen.Lowest), fmt.Sprint(r.Chosen.Rank), f(r.ChosenVal),
					fmt.Sprint(r.Best.Lowest), fmt.Sprint(r.Best.Rank), f(r.BestVal), fmt.Sprint(r.Selection.TrainExamples),
					fmt.Sprint(r.Selection.SelectionExamples), fmt.Sprint(r.Selection.EvalPasses), fmt.Sprint(r.Selection.EvalExamples),
					fmt.Sprint(r.Selection.CachePasses), fmt.Sprint(r.Selection.CacheExamples), fmt.Sprint(r.Selection.ModelLoads),
					f(r.Selection.Seconds), f(r.SweepSeconds)})
			}
		}); err != nil {
		return err
	}
	return saveFigure(opts, "select", fig)
}

func runRank(opts options) error { return runSweep(opts, "rank", (*paper.Setup).RankSweep) }

func runLayers(opts options) error { return runSweep(opts, "layers", (*paper.Setup).LayerSweep) }

func runExample(opts options) error {
	s, rec, opts, ok, err := begin("example", opts)
	if !ok || err != nil {
		return err
	}
	res, img, err := s.Example()
	if err != nil {
		return notHereYet(err, "example", s)
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
// notHereYet turns "none of the runs is here" (another shard trains
// them, or figures only) into a message instead of a failure.
func notHereYet(err error, name string, s *paper.Setup) error {
	if !errors.Is(err, paper.ErrNoRuns) {
		return err
	}
	fmt.Printf("%s: none of its runs is here yet (missing: %s); nothing drawn\n", name, strings.Join(s.Missing, ", "))
	return nil
}

// noteMissing records the runs an experiment drew without: its results
// then do not count as done, so a later run completes them.
func noteMissing(rec *record, s *paper.Setup) {
	if len(s.Missing) == 0 {
		return
	}
	rec.Missing = append([]string(nil), s.Missing...)
	fmt.Printf("%s: drawn from the runs here; missing %d (another shard's, or not trained yet): %s\n",
		rec.Experiment, len(s.Missing), strings.Join(s.Missing, ", "))
}

func runFigures(opts options) error {
	opts.noTrain = true
	return runAll(opts)
}

func runAll(opts options) error {
	start := time.Now()
	var took []string
	for _, name := range []string{"params", "methods", "steering", "rank", "layers", "example"} {
		fmt.Printf("== %s\n", name)
		t := time.Now()
		if err := experiments[name].run(opts); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		took = append(took, fmt.Sprintf("%s %.0f s", name, time.Since(t).Seconds()))
	}
	fmt.Printf("reproduce all: %s wall time (%s; existing results are read, not recomputed)\n",
		time.Since(start).Round(time.Second), strings.Join(took, ", "))
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

// printMethodPlans writes, per method of Table 5, what it computes on the
// preset: compute dtype, recompute, trainable set, template, positions,
// evaluation protocol (no model is built, nothing is read).
func printMethodPlans(w io.Writer, preset string) error {
	plans, err := paper.PlanMethods(preset)
	if err != nil {
		return err
	}
	for _, p := range plans {
		s := p.Setting
		fmt.Fprintf(w, "\n%s\n", p.Label)
		for _, kv := range [][2]string{
			{"compute dtype", s.ComputeDType + " (" + p.Reason + "); trainable masters " + s.MasterDType},
			{"recompute", s.Recompute}, {"trainable", s.Trainable}, {"template", s.Template},
			{"positions", s.Positions}, {"evaluation", s.Protocol}, {"feature cache", s.FeatureCache},
		} {
			if kv[1] != "" {
				fmt.Fprintf(w, "  %-14s %s\n", kv[0]+":", kv[1])
			}
		}
	}
	return nil
}

func runSteering(opts options) error {
	s, rec, opts, ok, err := begin("steering", opts)
	if !ok || err != nil {
		return err
	}
	r, err := s.Steering()
	if err != nil {
		return notHereYet(err, "steering", s)
	}
	var cells [][]string
	for _, p := range r.Points {
		cells = append(cells, []string{p.Method, fmt.Sprint(p.Layer), fmt.Sprintf("%g", p.Scales.Text), fmt.Sprintf("%g", p.Scales.Image), f1(p.Accuracy), fmt.Sprintf("%.3f", p.LogLik)})
	}
	notebook.Table(fmt.Sprintf("Steering vectors on the selection split (%d training questions held out; vectors from %d others), accuracy by likelihood (%%)",
		r.SelectionExamples, r.VectorExamples), []string{"builder", "layer", "text scale", "image scale", "accuracy", "mean log-prob of the right choice"}, cells)
	x := r.Result
	fmt.Printf("steering: chose %s on the selection split; validation %.1f %% (%s), %.1f %% by likelihood; chance %.1f %%; %.0f s (capture %.0f s, selection %.0f s), 0 trained parameters\n",
		r.Chosen, x.ValAccuracy, x.Protocol, x.ValByProtocol["likelihood"], x.ChanceAccuracy, r.Seconds(), r.CaptureSeconds, r.SelectSeconds)
	rec.Config, rec.Results = s.RecordConfig(), r
	if err := rec.save(opts); err != nil {
		return err
	}
	fig, err := s.SteeringFigure(r)
	if err != nil {
		return err
	}
	return saveFigure(opts, "steering", fig)
}
