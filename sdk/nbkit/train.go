package nbkit

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/visreft/visreft/sdk/experiment"
	"github.com/visreft/visreft/sdk/notebook"
	"github.com/visreft/visreft/sdk/paper"
	"github.com/visreft/visreft/sdk/plot"
	"github.com/visreft/visreft/sdk/reft"
	"github.com/visreft/visreft/sdk/train"
)

// ReFT is a ReFT method over hand-built specs with the paper's optimiser
// settings (lr 1e-3, one epoch, AdamW, linear decay), which the preset may
// tune as it tunes the paper's own runs (the demo preset trains batch 4).
func ReFT(specs ...reft.Spec) experiment.Method {
	m := experiment.PaperReFT(1, "all")
	m.ReFT = specs
	return m
}

// Run is a trained and evaluated method with the label it was trained under.
type Run struct {
	Label string
	*experiment.Result
}

// curvePoints is about how many times a live curve is redrawn in a run.
const curvePoints = 25

// Train trains and evaluates m on s as s.Run does, drawing the training
// loss as a live curve titled by label (the final curve stays in the cell)
// and the steps and the evaluation on s's progress board.
func Train(s *paper.Setup, label string, m experiment.Method) (*Run, error) {
	b := board(s)
	live := plot.NewLive(plot.Options{Title: "training loss: " + label, Synthetic: s.Synthetic}, 1)
	key := "train " + m.Name
	var evalDone func()
	next := m.Train.OnStep
	m.Train.OnStep = func(si train.StepInfo) {
		if si.Step == 1 {
			live.Every = max(1, si.TotalSteps/curvePoints)
		}
		live.Loss(label, si.Step, si.Loss)
		if b != nil {
			b.Set(key, si.Step, si.TotalSteps, StepDetail(si))
			if si.Step == si.TotalSteps && evalDone == nil {
				evalDone = b.Begin("evaluate " + label)
			}
		}
		if next != nil {
			next(si)
		}
	}
	r, err := s.Run(m)
	if evalDone != nil {
		evalDone()
	}
	if b != nil {
		b.Flush()
	}
	if err != nil {
		return nil, err
	}
	if len(live.Curves()) > 0 {
		if err := live.Done(); err != nil {
			return nil, err
		}
	}
	return &Run{Label: label, Result: r}, nil
}

// StepDetail is what a training row shows after its bar, as sdk/train's
// terminal bar does.
func StepDetail(si train.StepInfo) string {
	eta := "?"
	if si.Step > 0 {
		eta = time.Duration(float64(si.Elapsed) / float64(si.Step) * float64(si.TotalSteps-si.Step)).Round(time.Second).String()
	}
	return fmt.Sprintf("loss %.4f  |g| %.3g  lr %.2e  %.1f ex/s  %s<%s", si.Loss, si.GradNorm, si.LR,
		si.ExamplesPerSec, si.Elapsed.Round(time.Second), eta)
}

// Summary is the run in one line: what trains, the loss's way, the accuracies.
func (r *Run) Summary() string {
	loss := "no steps"
	if n := len(r.Losses); n > 0 {
		loss = fmt.Sprintf("loss %.3f -> %.3f over %d steps", r.Losses[0], r.Losses[n-1], n)
	}
	return fmt.Sprintf("%s: %d trainable parameters (%.4f %%), %s, validation accuracy %s (%s), train %s",
		r.Label, r.TrainableParams, r.SharePercent, loss, pct(r.ValAccuracy), r.Protocol, pct(r.TrainAccuracy))
}

func pct(v float64) string {
	if math.IsNaN(v) {
		return "n/a"
	}
	return fmt.Sprintf("%.1f %%", v)
}

// SweepNote is a sweep's per-point callback (paper.Setup.RankSweep,
// LayerSweep): each finished point becomes a row of s's progress board,
// or a printed line off the notebook. what names the swept value, e.g.
// "rank %d" or "layers %d..".
func SweepNote(s *paper.Setup, what string) func(paper.SweepRow) {
	return func(r paper.SweepRow) {
		name := fmt.Sprintf(what, r.X)
		text := fmt.Sprintf("%s: train %s, validation %s", name, pct(r.Result.TrainAccuracy), pct(r.Result.ValAccuracy))
		if b := board(s); b != nil {
			b.Note(name, text)
			return
		}
		fmt.Fprintln(notebook.Out, text)
	}
}

// Table4 is Table 4's rows (paper.Table4) as a table.
func Table4(rows []paper.ParamRow) notebook.TableData {
	t := notebook.TableData{Title: "Table 4: trainable parameters", Header: []string{"method", "trainable", "share", "paper", "matches"}}
	for _, r := range rows {
		t.Rows = append(t.Rows, []string{r.Method, fmt.Sprint(r.Trainable), fmt.Sprintf("%.4f %%", r.SharePercent), r.Paper + " %", yesNo(r.Match)})
	}
	return t
}

func yesNo(ok bool) string {
	if ok {
		return "yes"
	}
	return "no"
}

// Interchange runs s.Interchange at each decoder layer over ranks and
// returns the figure's series and one table per layer.
func Interchange(s *paper.Setup, layers, ranks []int, pairs int) ([]plot.InterchangeSeries, []notebook.TableData, error) {
	var series []plot.InterchangeSeries
	var tables []notebook.TableData
	for _, layer := range layers {
		rows, err := s.Interchange(layer, ranks, pairs)
		if err != nil {
			return nil, nil, fmt.Errorf("interchange at layer %d: %w", layer, err)
		}
		sr := plot.InterchangeSeries{Layer: layer}
		t := notebook.TableData{Header: []string{"rank", "transfer"}, Title: fmt.Sprintf("DII at decoder layer %d (random subspaces%s)", layer, synthNote(s))}
		for _, r := range rows {
			sr.Rank, sr.Transfer = append(sr.Rank, r.Rank), append(sr.Transfer, r.Transfer)
			t.Rows = append(t.Rows, []string{fmt.Sprint(r.Rank), fmt.Sprintf("%.4f", r.Transfer)})
		}
		series, tables = append(series, sr), append(tables, t)
	}
	return series, tables, nil
}

func synthNote(s *paper.Setup) string {
	if s.Synthetic {
		return "; random weights or synthetic data"
	}
	return ""
}

// Short is s's first line, cut to n runes.
func Short(s string, n int) string {
	s, _, _ = strings.Cut(s, "\n")
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
