package paper

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/visreft/visreft/sdk/eval"
)

// TestMethodsStartFromTheBase: Table 5 opens with the base model, not
// fine-tuned, evaluated as the runs are (here by likelihood, through the
// cached features): its accuracy and choice log-probabilities are what
// eval.Evaluate gives the base model from pixels, and it trains nothing.
// The headline's blanked-image control and the steering vectors follow the
// three methods.
func TestMethodsStartFromTheBase(t *testing.T) {
	s := tinySetup(t, "", Shard{})
	rows, fig, err := s.Methods()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 6 || rows[0].Label != BaseLabel || rows[1].Label != "ReFT" || rows[4].Label != BlankedLabel || rows[5].Label != SteeringLabel {
		t.Fatalf("rows %v", rows)
	}
	// The control's questions are the headline's, every image one grey image.
	b, err := s.Blanked()
	if err != nil {
		t.Fatal(err)
	}
	first, _ := b.Data.Val[0].ImageBytes()
	for i, x := range append(b.Data.Train, b.Data.Val...) {
		img, _ := x.ImageBytes()
		if string(img) != string(first) || x.Question != append(s.Data.Train, s.Data.Val...)[i].Question {
			t.Fatalf("blanked example %d: another image or question", i)
		}
	}
	if b.ID.DataHash == s.ID.DataHash || rows[4].Result.Method != rows[1].Result.Method {
		t.Errorf("the control has the headline's data identity (%s) or another method (%s)", b.ID.DataHash, rows[4].Result.Method)
	}
	base := rows[0].Result
	m, err := s.NewModel()
	if err != nil {
		t.Fatal(err)
	}
	direct, err := eval.Evaluate(s.Backend, m, s.Data.Val, eval.Options{Mode: eval.Likelihood, Prompt: s.Data.PromptOptions()})
	if err != nil {
		t.Fatal(err)
	}
	if base.TrainableParams != 0 || len(base.Losses) != 0 || base.ValAccuracy != direct.Summary()["accuracy"] || base.ChanceAccuracy <= 0 {
		t.Errorf("base row: trainable %d, %d steps, val %.2f %% (direct evaluation %.2f %%), chance %.1f %%",
			base.TrainableParams, len(base.Losses), base.ValAccuracy, direct.Summary()["accuracy"], base.ChanceAccuracy)
	}
	worst := 0.0
	for i, p := range direct.Predictions {
		for c, lp := range p.LogProbs {
			worst = math.Max(worst, math.Abs(lp-base.ValResults["likelihood"].Predictions[i].LogProbs[c]))
		}
	}
	if worst > 1e-4 || len(direct.Predictions) != len(s.Data.Val) {
		t.Errorf("base row's choice log-probs differ from a direct evaluation by %.3g (tolerance 1e-4)", worst)
	}
	if fig == nil {
		t.Fatal("no figure")
	}
	data, err := json.Marshal(rows) // as reproduce writes methods.json
	if err != nil || !strings.Contains(string(data), `"paper_val_accuracy":null`) {
		t.Errorf("Table 5's rows as JSON: %v (want the base row's paper value null)", err)
	}
	t.Logf("base %.1f %%, ReFT %.1f %%, LoRA %.1f %%, full %.1f %% (likelihood, 4 val examples)", base.ValAccuracy,
		rows[1].Result.ValAccuracy, rows[2].Result.ValAccuracy, rows[3].Result.ValAccuracy)
}
