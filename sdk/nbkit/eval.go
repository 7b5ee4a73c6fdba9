package nbkit

import (
	"fmt"
	"math"

	"github.com/visreft/visreft/sdk/eval"
	"github.com/visreft/visreft/sdk/models/llava"
	"github.com/visreft/visreft/sdk/notebook"
	"github.com/visreft/visreft/sdk/paper"
	"github.com/visreft/visreft/sdk/plot"
)

// Scores are one model's validation accuracies, for Compare.
type Scores struct {
	Label     string             `json:"label"`
	Trainable int64              `json:"trainable_params"`
	Accuracy  map[string]float64 `json:"val_accuracy_by_protocol"` // percent, by protocol ("generate", "likelihood")
}

// Evaluate scores a model on s's validation split in each of s's
// protocols, with a progress row per protocol: the base model when m is
// nil (a fresh one from s), else m with steer (nil: none).
func Evaluate(s *paper.Setup, label string, m *llava.Model, steer llava.Steer) (Scores, error) {
	sc := Scores{Label: label, Accuracy: map[string]float64{}}
	if m == nil {
		var err error
		if m, err = s.NewModel(); err != nil {
			return sc, err
		}
	}
	for _, mode := range s.EvalModes {
		res, err := evaluate(s, label, m, steer, mode)
		if err != nil {
			return sc, err
		}
		sc.Accuracy[mode.String()] = res.Summary()["accuracy"]
	}
	if b := board(s); b != nil {
		b.Flush()
	}
	return sc, nil
}

// evaluate runs one protocol on the validation split with a progress row.
func evaluate(s *paper.Setup, label string, m *llava.Model, steer llava.Steer, mode eval.Mode) (*eval.Result, error) {
	opt := eval.Options{Mode: mode, Prompt: s.Data.PromptOptions(), Steer: steer, DType: s.ComputeDType}
	name := fmt.Sprintf("evaluate %s (%s)", label, mode)
	if b := board(s); b != nil {
		opt.Progress = func(done, total int) { b.Set(name, done, total, "") }
	}
	res, err := eval.Evaluate(s.Backend, m, s.Data.Val, opt)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return res, nil
}

// Compare shows models' validation accuracies side by side: a table with
// every protocol and a bar chart of the headline one (s.EvalModes[0]).
func Compare(s *paper.Setup, models ...Scores) error {
	if len(models) == 0 {
		return fmt.Errorf("nbkit: compare: no models")
	}
	t := notebook.TableData{Title: "validation accuracy (" + s.ProtocolNote() + ")", Header: []string{"model", "trainable"}}
	for _, mode := range s.EvalModes {
		t.Header = append(t.Header, mode.String())
	}
	var bars []plot.MethodResult
	head := s.EvalModes[0].String()
	for _, m := range models {
		row := []string{m.Label, fmt.Sprint(m.Trainable)}
		for _, mode := range s.EvalModes {
			v, ok := m.Accuracy[mode.String()]
			if !ok {
				v = math.NaN()
			}
			row = append(row, pct(v))
		}
		t.Rows = append(t.Rows, row)
		v, ok := m.Accuracy[head]
		if !ok {
			v = math.NaN()
		}
		bars = append(bars, plot.MethodResult{Method: m.Label, Val: v, Paper: math.NaN()})
	}
	t.Show()
	fig, err := plot.Methods(bars, s.FigureOptions("validation accuracy ("+head+")"))
	if err != nil {
		return err
	}
	fig.Show(fig.Title())
	return nil
}
