package paper

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"path/filepath"

	"github.com/visreft/visreft/sdk/cvbench"
	"github.com/visreft/visreft/sdk/notebook"

	"github.com/visreft/visreft/sdk/experiment"
	"github.com/visreft/visreft/sdk/models/llava"
	"github.com/visreft/visreft/sdk/plot"
)

// ParamRow is one line of Table 4.
type ParamRow struct {
	Method       string  `json:"method"`
	Trainable    int64   `json:"trainable_params"`
	Total        int64   `json:"total_params"`
	SharePercent float64 `json:"share_percent"`
	Paper        string  `json:"paper_percent"`
	Printed      string  `json:"ours_at_paper_precision"`
	Match        bool    `json:"match"`
}

// Table4 computes each paper method's trainable share of nanoLLaVA from its
// config alone (no weights, no GPU) and compares it with the paper's
// printed value at its precision.
func Table4() ([]ParamRow, error) {
	c := llava.NanoLLaVA()
	total := llava.CountParams(c).Total
	var rows []ParamRow
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
		rows = append(rows, ParamRow{m.label, n, total, share, m.paper, printed, printed == m.paper})
	}
	return rows, nil
}

// Table4Figure draws Table 4, ours against the paper's.
func Table4Figure(rows []ParamRow) (*plot.Figure, error) {
	var share []plot.ShareRow
	for i, label := range []string{"ReFT", "LoRA", "Full"} {
		share = append(share, plot.ShareRow{Method: label, Ours: rows[i].SharePercent, Paper: plot.PaperParamShare[label]})
	}
	return plot.ParamShare(share, plot.Options{Title: "Table 4: trainable share of nanoLLaVA's parameters",
		Note: "counted from nanoLLaVA's config (1,019,548,192 parameters); no weights needed"})
}

// MethodRow is one line of Table 5.
type MethodRow struct {
	Label  string             `json:"label"`
	Paper  float64            `json:"paper_val_accuracy"`
	Result *experiment.Result `json:"result"`
}

// Methods reproduces Table 5: ReFT, LoRA and full fine-tuning, each trained
// and evaluated on the preset, beside the base model and the training-free
// steering vectors (Steering), evaluated alike.
func (s *Setup) Methods() ([]MethodRow, *plot.Figure, error) {
	var rows []MethodRow
	var bars []plot.MethodResult
	for _, mm := range []struct {
		label string
		m     experiment.Method
	}{{"ReFT", experiment.PaperReFT(4, "all")}, {"LoRA", experiment.PaperLoRA()}, {"Full", experiment.PaperFull()}} {
		r, err := s.Run(mm.m)
		if s.missing(err) {
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", mm.label, err)
		}
		s.releaseRun(r)
		rows = append(rows, MethodRow{mm.label, plot.PaperValAccuracy[mm.label], r})
		bars = append(bars, plot.MethodResult{Method: mm.label, Val: r.ValAccuracy, Paper: plot.PaperValAccuracy[mm.label]})
	}
	if len(rows) == 0 {
		return nil, nil, s.noRuns("methods")
	}
	if b, err := s.Blanked(); err != nil {
		return nil, nil, err
	} else if r, err := b.Run(experiment.PaperReFT(4, "all")); err == nil {
		b.releaseRun(r)
		rows = append(rows, MethodRow{BlankedLabel, math.NaN(), r})
		bars = append(bars, plot.MethodResult{Method: "ReFT, blanked", Val: r.ValAccuracy, Paper: math.NaN()})
	} else if !b.missing(err) {
		return nil, nil, fmt.Errorf("the blanked-image control: %w", err)
	} else {
		s.Missing = append(s.Missing, b.Missing...)
	}
	if st, err := s.Steering(); err == nil {
		rows = append(rows, MethodRow{SteeringLabel, math.NaN(), st.Result})
		bars = append(bars, plot.MethodResult{Method: "Steering", Val: st.Result.ValAccuracy, Paper: math.NaN()})
	} else if !s.missing(err) {
		return nil, nil, fmt.Errorf("steering: %w", err)
	}
	base, err := s.Base()
	if err != nil {
		return nil, nil, fmt.Errorf("base model: %w", err)
	}
	rows = append([]MethodRow{{BaseLabel, math.NaN(), base}}, rows...)
	bars = append([]plot.MethodResult{{Method: BaseLabel, Val: base.ValAccuracy, Paper: math.NaN()}}, bars...)
	fig, err := plot.Methods(bars, s.FigureOptions("Table 5: validation accuracy by method"))
	return rows, fig, err
}

// MethodsTable is Table 5's rows as a table: per method the validation
// accuracy by each protocol, the paper's, chance and the best image-blind
// rule (cvbench.BestBlindRule, fitted on the training split), training
// accuracy, the trainable share, speed and the seconds it took (for the
// steering vectors: capture and selection).
func (s *Setup) MethodsTable(rows []MethodRow) notebook.TableData {
	blind := cvbench.BestBlindRule(s.Data.Train, s.Data.Val)
	pct := func(v float64) string {
		if math.IsNaN(v) {
			return "n/a"
		}
		return fmt.Sprintf("%.1f", v)
	}
	t := notebook.TableData{Title: "Table 5: validation accuracy (%), " + s.ProtocolNote() + "; best image-blind rule " + blind.Rule,
		Header: []string{"method", "ours (generation)", "ours (likelihood)", "paper", "chance", "image-blind", "train", "trainable", "examples/s", "seconds"}}
	if s.Synthetic {
		t.Title += " [" + s.Provenance + "]"
	}
	for _, r := range rows {
		x := r.Result
		t.Rows = append(t.Rows, []string{r.Label, pct(x.ValByProtocol["generate"]), pct(x.ValByProtocol["likelihood"]), pct(r.Paper), pct(x.ChanceAccuracy),
			pct(blind.Accuracy), pct(x.TrainAccuracy), fmt.Sprintf("%.4f %%", x.SharePercent), pct(x.ExamplesPerSec), fmt.Sprintf("%.0f", x.TrainSeconds)})
	}
	return t
}

// BlankedLabel is Table 5's negative control: the headline's LoReFT trained
// and evaluated with every image replaced by one grey image (same
// questions, same protocol), which only what the text gives away can answer.
const BlankedLabel = "ReFT, images blanked (control)"

// Blanked is the setup of the blanked-image control: the same preset, model,
// questions, protocols and settings with every training and validation
// image replaced by one grey image (cvbench.Blanked), its own base model,
// caches and identity (data "<data>-blanked"; runs under RunsDir/blanked).
func (s *Setup) Blanked() (*Setup, error) {
	if s.blank != nil {
		return s.blank, nil
	}
	b := *s
	b.shared, b.features, b.valFeat, b.prefix, b.blank, b.Missing = sharedBase{}, nil, nil, nil, nil, nil
	var err error
	if b.Data.Train, err = cvbench.Blanked(s.Data.Train); err != nil {
		return nil, err
	}
	if b.Data.Val, err = cvbench.Blanked(s.Data.Val); err != nil {
		return nil, err
	}
	b.ID.Data, b.ID.DataHash = s.ID.Data+"-blanked", dataHash(b.Data.Train, b.Data.Val)
	if s.RunsDir != "" {
		b.RunsDir = filepath.Join(s.RunsDir, "blanked")
	}
	if s.CheckpointRoot != "" {
		b.CheckpointRoot = filepath.Join(s.CheckpointRoot, "blanked")
	}
	b.Provenance = s.Provenance + "; every image blanked"
	s.blank = &b
	return s.blank, nil
}

// MarshalJSON writes a row with null for a paper value the paper does not
// give (NaN: the base model's row).
func (r MethodRow) MarshalJSON() ([]byte, error) {
	type plain MethodRow
	out := struct {
		plain
		Paper *float64 `json:"paper_val_accuracy"`
	}{plain: plain(r)}
	if !math.IsNaN(r.Paper) {
		out.Paper = &r.Paper
	}
	return json.Marshal(out)
}

// BaseLabel is Table 5's row of the base model, not fine-tuned.
const BaseLabel = "Base (no fine-tuning)"

// Base evaluates the base model as the runs are evaluated (protocols,
// splits, cached features): the level fine-tuning starts from.
func (s *Setup) Base() (*experiment.Result, error) {
	if err := s.featureCaches(); err != nil {
		return nil, err
	}
	opt := experiment.Options{EvalTrain: s.EvalTrain, ComputeDType: s.ComputeDType, EvalModes: s.EvalModes,
		Features: s.features, ValFeatures: s.valFeat}
	model, err := s.Shared()
	if err != nil {
		return nil, err
	}
	r, err := experiment.EvaluateBase(s.Backend, model, s.Data, opt, s.Progress)
	if err == nil {
		r.Synthetic = s.Synthetic
	}
	return r, err
}

// SweepRow is one point of a sweep.
type SweepRow struct {
	X      int                `json:"x"`
	Result *experiment.Result `json:"result"`
}

func (s *Setup) sweep(xs []int, method func(int) experiment.Method, progress func(SweepRow)) ([]SweepRow, []plot.SweepPoint, error) {
	done := make([]*experiment.Result, len(xs))
	for _, i := range s.visitOrder(xs) {
		r, err := s.Run(method(xs[i]))
		if s.missing(err) {
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("at %d: %w", xs[i], err)
		}
		s.releaseRun(r)
		if progress != nil {
			progress(SweepRow{xs[i], r})
		}
		done[i] = r
	}
	var rows []SweepRow
	var pts []plot.SweepPoint
	for i, r := range done { // in the sweep's order, whatever the visiting order
		if r == nil {
			continue
		}
		rows = append(rows, SweepRow{xs[i], r})
		pts = append(pts, plot.SweepPoint{X: float64(xs[i]), Train: r.TrainAccuracy, Val: r.ValAccuracy})
	}
	if len(rows) == 0 {
		return nil, nil, s.noRuns("sweep")
	}
	return rows, pts, nil
}

// RankSweep reproduces Figure 4: LoReFT on all layers at each of s.Ranks.
func (s *Setup) RankSweep(progress func(SweepRow)) ([]SweepRow, *plot.Figure, error) {
	rows, pts, err := s.sweep(s.Ranks, func(r int) experiment.Method { return experiment.PaperReFT(r, "all") }, progress)
	if err != nil {
		return nil, nil, err
	}
	fig, err := plot.RankSweep(pts, s.FigureOptions("Figure 4: accuracy vs LoReFT rank (all layers)"))
	return rows, fig, err
}

// LayerSweep reproduces Figure 5: rank s.LayerRank on layers k..top for
// each lowest layer k in s.Lowest.
func (s *Setup) LayerSweep(progress func(SweepRow)) ([]SweepRow, *plot.Figure, error) {
	rows, pts, err := s.sweep(s.Lowest, s.layerMethod, progress)
	if err != nil {
		return nil, nil, err
	}
	fig, err := plot.LayerSweep(pts, s.FigureOptions(fmt.Sprintf("Figure 5: accuracy vs lowest intervened layer (rank %d)", s.LayerRank)))
	return rows, fig, err
}

// layerMethod is Figure 5's run with lowest intervened layer k.
func (s *Setup) layerMethod(k int) experiment.Method {
	return experiment.PaperReFT(s.LayerRank, fmt.Sprintf("%d-%d", k, s.NumLayers-1))
}

// missing records a run that is not here (another shard's, or not trained
// yet) and reports whether err was one.
func (s *Setup) missing(err error) bool {
	var me *MissingRunError
	if errors.As(err, &me) {
		s.Missing = append(s.Missing, me.Key)
		return true
	}
	return false
}

// ErrNoRuns says an experiment has none of its runs here yet.
var ErrNoRuns = errors.New("none of its runs is here yet")

func (s *Setup) noRuns(what string) error { return fmt.Errorf("%s: %w", what, ErrNoRuns) }
