package main

import (
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/visreft/visreft/sdk/experiment"
	"github.com/visreft/visreft/sdk/fsutil"
	"github.com/visreft/visreft/sdk/models/llava"
	"github.com/visreft/visreft/sdk/notebook"
)

// paramRow is one line of Table 4.
type paramRow struct {
	Method       string  `json:"method"`
	Trainable    int64   `json:"trainable_params"`
	Total        int64   `json:"total_params"`
	SharePercent float64 `json:"share_percent"`
	Paper        string  `json:"paper_percent"`
	Printed      string  `json:"ours_at_paper_precision"`
	Match        bool    `json:"match"`
}

// table4 computes the trainable share of each paper method from nanoLLaVA's
// config alone.
func table4() ([]paramRow, error) {
	c := llava.NanoLLaVA()
	total := llava.CountParams(c).Total
	var rows []paramRow
	for _, m := range []struct {
		label string
		m     experiment.Method
		paper string
		prec  int
	}{
		{"ReFT (LoReFT r4, all 24 layers)", experiment.PaperReFT(4, "all"), "0.019", 3},
		{"LoRA (r8, alpha 16, q_proj+v_proj)", experiment.PaperLoRA(), "0.17", 2},
		{"Full (LLM + projector)", experiment.PaperFull(), "60.99", 2},
	} {
		n, err := m.m.TrainableParams(c)
		if err != nil {
			return nil, err
		}
		share := 100 * float64(n) / float64(total)
		printed := fmt.Sprintf("%.*f", m.prec, share)
		rows = append(rows, paramRow{m.label, n, total, share, m.paper, printed, printed == m.paper})
	}
	return rows, nil
}

// runParams reproduces Table 4. It needs no weights and no GPU, so both
// presets compute it for nanoLLaVA itself.
func runParams(opts options) error {
	if done("params", opts) {
		fmt.Println("params: results/params.json exists (use -force to recompute)")
		return nil
	}
	rec := newRecord("params", opts)
	rows, err := table4()
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
	rec.Config = map[string]any{"model": llava.HubID, "reft": experiment.PaperReFT(4, "all"),
		"lora": experiment.PaperLoRA(), "full": experiment.PaperFull()}
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
