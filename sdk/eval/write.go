package eval

import (
	"encoding/csv"
	"encoding/json"
	"io"
	"math"
	"strconv"

	"github.com/visreft/visreft/sdk/fsutil"
)

// WriteJSON writes the whole result (predictions, scores, confusion)
// atomically. NaN accuracies (a source with no examples) become null.
func (r *Result) WriteJSON(path string) error {
	return fsutil.WriteWith(path, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", " ")
		return enc.Encode(jsonSafe(r))
	})
}

// WriteCSV writes one row per prediction atomically.
func (r *Result) WriteCSV(path string) error {
	return fsutil.WriteWith(path, func(w io.Writer) error {
		cw := csv.NewWriter(w)
		cw.Write([]string{"idx", "type", "task", "source", "answer", "predicted", "correct", "generated", "logprobs"})
		for _, p := range r.Predictions {
			lp := ""
			for i, v := range p.LogProbs {
				if i > 0 {
					lp += ";"
				}
				lp += strconv.FormatFloat(v, 'g', 6, 64)
			}
			cw.Write([]string{strconv.FormatInt(p.Idx, 10), p.Type, p.Task, p.Source, strconv.Itoa(p.Answer),
				strconv.Itoa(p.Predicted), strconv.FormatBool(p.Correct), p.Generated, lp})
		}
		cw.Flush()
		return cw.Error()
	})
}

// Summary is the result in a few numbers, for tables: accuracy overall and
// per task ("acc_Count", ...), the 2D/3D accuracies and the official
// CV-Bench score, in percent; NaN where no example counts.
func (r *Result) Summary() map[string]float64 {
	s := r.Scores
	out := map[string]float64{"accuracy": 100 * s.All.Value(), "acc_2d": 100 * s.Acc2D, "acc_3d": 100 * s.Acc3D,
		"cvbench_score": 100 * s.Overall}
	for task, a := range s.ByTask {
		out["acc_"+string(task)] = 100 * a.Value()
	}
	return out
}

// jsonResult is what WriteJSON writes: Scores' NaNs (which encoding/json
// refuses) become nulls in the summary.
type jsonResult struct {
	Mode        string              `json:"mode"`
	Synthetic   bool                `json:"synthetic"`
	Summary     map[string]*float64 `json:"summary"`
	Confusion   [][]int             `json:"confusion"`
	Predictions []Prediction        `json:"predictions"`
}

func jsonSafe(r *Result) jsonResult {
	sum := map[string]*float64{}
	for k, v := range r.Summary() {
		if !math.IsNaN(v) {
			sum[k] = &v
		} else {
			sum[k] = nil
		}
	}
	return jsonResult{r.Mode, r.Scores.Synthetic, sum, r.Confusion, r.Predictions}
}
