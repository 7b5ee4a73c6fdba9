package main

import (
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/visreft/visreft/sdk/experiment"
	"github.com/visreft/visreft/sdk/notebook"
	"github.com/visreft/visreft/sdk/paper"
)

// parseBatches reads -batches ("1,4"); empty gives the preset's default.
func parseBatches(s, preset string) ([]int, error) {
	if s == "" {
		if preset == "paper" {
			return []int{1, 2, 4, 8, 16}, nil
		}
		return []int{1, 4}, nil
	}
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("flag -batches: %q is not a positive batch size", f)
		}
		out = append(out, n)
	}
	return out, nil
}

func runBench(opts options) error {
	batches, err := parseBatches(opts.batches, opts.preset)
	if err != nil {
		return err
	}
	if opts.steps <= 0 || opts.warmup <= 0 {
		return fmt.Errorf("flags -steps and -warmup must be positive, got %d and %d", opts.steps, opts.warmup)
	}
	if opts.peakTFLOPs < 0 {
		return fmt.Errorf("flag -peak-tflops must be >= 0, got %g", opts.peakTFLOPs)
	}
	s, rec, opts, ok, err := begin("bench", opts)
	if !ok || err != nil {
		return err
	}
	bo := experiment.BenchOptions{Warmup: opts.warmup, Steps: opts.steps, PeakFLOPs: opts.peakTFLOPs * 1e12}
	methods, err := benchMethods(opts.methods)
	if err != nil {
		return err
	}
	var sofar []paper.BenchRow
	rows, err := s.Bench(methods, batches, bo, func(r paper.BenchRow) {
		// Save after every row: a bench stopped by a time limit keeps what it measured.
		sofar = append(sofar, r)
		rec.Results = map[string]any{"visreft": sofar, "partial": true}
		if err := rec.save(opts); err != nil {
			fmt.Fprintf(os.Stderr, "bench: saving the rows so far: %v\n", err)
		}
		if r.Error != "" {
			fmt.Printf("bench %s: %s\n", r.Label, r.Error)
			return
		}
		fmt.Printf("bench %s, batch %d: %.3g examples/s (median step %.3g s)\n", r.Label, r.Result.Batch, r.Result.ExamplesPerSec, r.Result.StepSeconds)
	})
	if err != nil {
		return err
	}
	var peers []peerRow
	if opts.peer != "" {
		if peers, err = runPeers(opts, s, methods, rows); err != nil {
			return err
		}
	}
	header := []string{"method", "batch", "examples/s", "median step (s)", "first step (s)", "tokens", "TFLOP/s", "MFU", "peak host RSS"}
	if len(peers) > 0 {
		header = append(header, "peer", "peer examples/s", "visreft / peer")
	}
	var cells [][]string
	for _, r := range rows {
		if r.Error != "" {
			cells = append(cells, append([]string{r.Label, "", "failed: " + r.Error}, make([]string, len(header)-3)...))
			continue
		}
		x := r.Result
		mfu := "n/a"
		if x.MFU > 0 {
			mfu = fmt.Sprintf("%.1f %%", 100*x.MFU)
		}
		row := []string{r.Label, fmt.Sprint(x.Batch), fmt.Sprintf("%.3g", x.ExamplesPerSec), fmt.Sprintf("%.3g", x.StepSeconds),
			fmt.Sprintf("%.3g", x.FirstStep), fmt.Sprintf("%.0f", x.SeqLen), fmt.Sprintf("%.3g", x.AchievedTFLOPs), mfu,
			fmt.Sprintf("%.2f GiB", float64(x.PeakRSS)/(1<<30))}
		if len(peers) > 0 {
			row = append(row, peerCells(peers, x)...)
		}
		cells = append(cells, row)
	}
	title := fmt.Sprintf("Training speed (%s, %d warm-up + %d timed steps)", s.Choice.Config, opts.warmup, opts.steps)
	if s.Synthetic {
		title += " - " + s.Provenance
	}
	notebook.Table(title, header, cells)
	rec.Config = map[string]any{"data": s.DataInfo(), "batches": batches, "warmup": opts.warmup, "steps": opts.steps,
		"peak_tflops": opts.peakTFLOPs, "flops": "experiment.TrainFLOPs: 2 per multiply-add, matmuls and attention, backward by method",
		"peer": opts.peer}
	rec.Results = map[string]any{"visreft": rows, "peers": peers}
	rec.Notes = append(rec.Notes, "peak host RSS is the process's resident high-water mark during the row (GPU memory is not measured yet)")
	if err := rec.save(opts); err != nil {
		return err
	}
	return writeCSV(filepath.Join(opts.results, "bench.csv"),
		[]string{"method", "batch", "examples_per_sec", "median_step_seconds", "first_step_seconds", "mean_seq_len",
			"flops_per_example", "achieved_tflops", "mfu", "peak_host_rss_bytes", "error"},
		func(w *csv.Writer) {
			for _, r := range rows {
				if r.Result == nil {
					w.Write([]string{r.Label, "", "", "", "", "", "", "", "", "", r.Error})
					continue
				}
				x := r.Result
				w.Write([]string{r.Label, fmt.Sprint(x.Batch), f(x.ExamplesPerSec), f(x.StepSeconds), f(x.FirstStep), f(x.SeqLen),
					f(x.FLOPsPerExample), f(x.AchievedTFLOPs), f(x.MFU), fmt.Sprint(x.PeakRSS), r.Error})
			}
		})
}

// benchMethods is Table 5's methods, or those named in -methods
// (comma-separated experiment.Method names: reft, lora, full).
func benchMethods(names string) ([]paper.MethodSpec, error) {
	all := paper.BenchMethods()
	if names == "" {
		return all, nil
	}
	var out []paper.MethodSpec
	for _, n := range strings.Split(names, ",") {
		n = strings.TrimSpace(n)
		found := false
		for _, m := range all {
			if m.Method.Name == n {
				out, found = append(out, m), true
			}
		}
		if !found {
			return nil, fmt.Errorf("flag -methods: %q is none of reft, lora, full", n)
		}
	}
	return out, nil
}
