package experiment

import (
	"fmt"
	"math"
	"testing"

	"github.com/visreft/visreft/sdk/eval"
	"github.com/visreft/visreft/sdk/models/llava"
)

// TestTable4 reproduces the paper's Table 4 from configs alone, to its
// printed precision: ReFT 0.019 %, LoRA 0.17 %, full fine-tuning 60.99 %.
func TestTable4(t *testing.T) {
	c := llava.NanoLLaVA()
	total := llava.CountParams(c).Total
	for _, tc := range []struct {
		m     Method
		want  string
		prec  int
		count int64
	}{
		{PaperReFT(4, "all"), "0.019", 3, 196_704},
		{PaperLoRA(), "0.17", 2, 1_744_896},
		{PaperFull(), "60.99", 2, 621_800_448},
	} {
		n, err := tc.m.TrainableParams(c)
		if err != nil {
			t.Fatal(err)
		}
		share := fmt.Sprintf("%.*f", tc.prec, 100*float64(n)/float64(total))
		if n != tc.count || share != tc.want {
			t.Errorf("%s: %d params = %s %%, want %d = %s %%", tc.m.Name, n, share, tc.count, tc.want)
		}
	}
}

// TestScoreOfLogLik: the log-likelihood score is the mean log-softmax of
// the right choice over the choices' log-probabilities.
func TestScoreOfLogLik(t *testing.T) {
	r := &eval.Result{Predictions: []eval.Prediction{
		{Answer: 0, LogProbs: []float64{math.Log(0.3), math.Log(0.1)}}, // right choice 0.75 of the mass
		{Answer: 1, LogProbs: []float64{-5, -5, -5, -5}},               // four-way tie: 1/4
	}}
	want := (math.Log(0.75) + math.Log(0.25)) / 2
	if got := ScoreOf(r, ScoreLogLik); math.Abs(got-want) > 1e-12 {
		t.Errorf("loglik score %.6f, want %.6f", got, want)
	}
}
