package main

import (
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/visreft/visreft/sdk/fsutil"
	"github.com/visreft/visreft/sdk/models/llava"
	"github.com/visreft/visreft/sdk/notebook"
	"github.com/visreft/visreft/sdk/paper"
)

// runParams reproduces Table 4. It needs no weights and no GPU, so both
// presets compute it for nanoLLaVA itself.
func runParams(opts options) error {
	// nanoLLaVA's config alone, whatever the preset's model and data: one
	// folder per preset, no model or data key.
	opts.results, opts.plots = filepath.Join(opts.results, opts.preset), filepath.Join(opts.plots, opts.preset)
	if done("params", opts) {
		fmt.Printf("params: %s exists (use -force to recompute)\n", filepath.Join(opts.results, "params.json"))
		return nil
	}
	rec := newRecord("params", opts)
	rows, err := paper.Table4()
	if err != nil {
		return err
	}
	var cells [][]string
	for _, r := range rows {
		cells = append(cells, []string{r.Method, fmt.Sprint(r.Trainable), fmt.Sprintf("%.4f %%", r.SharePercent),
			r.Paper + " %", map[bool]string{true: "yes", false: "NO"}[r.Match]})
	}
	notebook.Table("Table 4: trainable share of nanoLLaVA's 1,019,548,192 parameters",
		[]string{"method", "trainable", "share", "paper", "matches"}, cells)
	rec.Config = map[string]any{"model": llava.HubID, "methods": "experiment.PaperReFT(4, \"all\"), PaperLoRA(), PaperFull()"}
	rec.Results = rows
	rec.Backend = "none (counted from the config)"
	if err := rec.save(opts); err != nil {
		return err
	}
	if err := writeCSV(filepath.Join(opts.results, "params.csv"), []string{"method", "trainable_params", "total_params", "share_percent", "paper_percent", "match"},
		func(w *csv.Writer) {
			for _, r := range rows {
				w.Write([]string{r.Method, fmt.Sprint(r.Trainable), fmt.Sprint(r.Total), fmt.Sprintf("%.6f", r.SharePercent), r.Paper, fmt.Sprint(r.Match)})
			}
		}); err != nil {
		return err
	}
	fig, err := paper.Table4Figure(rows)
	if err != nil {
		return err
	}
	if err := saveFigure(opts, "params", fig); err != nil {
		return err
	}
	for _, r := range rows {
		if !r.Match {
			return fmt.Errorf("%s: %s %% does not match the paper's %s %%", r.Method, r.Printed, r.Paper)
		}
	}
	return nil
}

func writeCSV(path string, header []string, rows func(*csv.Writer)) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return fsutil.WriteWith(path, func(w io.Writer) error {
		cw := csv.NewWriter(w)
		cw.Write(header)
		rows(cw)
		cw.Flush()
		return cw.Error()
	})
}
