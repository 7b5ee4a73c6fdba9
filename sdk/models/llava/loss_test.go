package llava

import (
	"math"
	"testing"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
)

// TestTargetLogProbsMatchFullLogits: log-probabilities gathered at the
// target positions equal log-softmax of the full logits computed on the host.
func TestTargetLogProbsMatchFullLogits(t *testing.T) {
	c := tinyLLaVA()
	be, scope := tinyModel(t, c)
	samples := []Sample{
		{IDs: []int{3, ImageToken, 5, 9, 2}, Target: []bool{false, false, false, true, true}, PromptLen: 3},
		{IDs: []int{ImageToken, 7, 11}, Target: []bool{false, false, true}, PromptLen: 2},
	}
	bt, err := Layout(samples, 4, 0)
	if err != nil {
		t.Fatal(err)
	}
	pos, ids, mask := bt.Targets(0)
	px, _ := pixelsOf(2, 2)
	e := model.MustNewExec(be, scope.Store(), func(scope *model.Scope, in []*Node) []*Node {
		inp := Inputs{Pixels: in[0], TextIDs: in[1], Gather: in[2], Valid: in[3], Positions: in[4]}
		out, logits := Forward(scope, c, inp)
		return []*Node{logits, TargetLogProbs(scope, c, out.Final, in[5], in[6], in[7]), AnswerLoss(scope, c, out.Final, in[5], in[6], in[7])}
	})
	defer e.Finalize()
	res, err := e.Exec(px, bt.TextIDs, bt.Gather, bt.Valid, bt.Positions, pos, ids, mask)
	if err != nil {
		t.Fatal(err)
	}
	logits := res[0].Value().([][][]float32)
	got := res[1].Value().([][]float32)
	loss := res[2].Value().(float32)
	sum, n := 0.0, 0
	for r := range pos {
		for j := range pos[r] {
			if !mask[r][j] {
				if got[r][j] != 0 {
					t.Errorf("row %d slot %d is padding but holds %v", r, j, got[r][j])
				}
				continue
			}
			row := logits[r][pos[r][j]]
			mx := math.Inf(-1)
			for _, v := range row {
				mx = math.Max(mx, float64(v))
			}
			z := 0.0
			for _, v := range row {
				z += math.Exp(float64(v) - mx)
			}
			want := float64(row[ids[r][j]]) - mx - math.Log(z)
			if math.Abs(want-float64(got[r][j])) > 1e-4 {
				t.Errorf("row %d slot %d: log p = %v, host computes %v", r, j, got[r][j], want)
			}
			sum += want
			n++
		}
	}
	if n != 3 {
		t.Fatalf("%d targets, want 3", n)
	}
	if math.Abs(float64(loss)+sum/float64(n)) > 1e-4 {
		t.Errorf("loss %v, want %v", loss, -sum/float64(n))
	}
}
