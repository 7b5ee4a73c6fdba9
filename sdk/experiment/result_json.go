package experiment

import (
	"encoding/json"
	"math"
)

// resultJSON is Result with its NaN-able numbers as pointers: encoding/json
// refuses NaN, so a number not measured (an accuracy of a run not
// evaluated, a source with no examples) is written as null and read back
// as NaN. Its fields shadow the embedded ones of the same JSON names.
type resultJSON struct {
	plainResult
	TrainAccuracy   *float64            `json:"train_accuracy"`
	ValAccuracy     *float64            `json:"val_accuracy"`
	ChanceAccuracy  *float64            `json:"chance_accuracy"`
	ExamplesPerSec  *float64            `json:"examples_per_sec"`
	Val             map[string]*float64 `json:"val_summary"`
	ValByProtocol   map[string]*float64 `json:"val_accuracy_by_protocol"`
	TrainByProtocol map[string]*float64 `json:"train_accuracy_by_protocol"`
	Losses          []*float64          `json:"losses"`
}

type plainResult Result

// MarshalJSON writes r with nulls for NaNs.
func (r Result) MarshalJSON() ([]byte, error) {
	losses := make([]*float64, len(r.Losses))
	for i, v := range r.Losses {
		losses[i] = ptr(v)
	}
	return json.Marshal(resultJSON{plainResult: plainResult(r), TrainAccuracy: ptr(r.TrainAccuracy),
		ValAccuracy: ptr(r.ValAccuracy), ChanceAccuracy: ptr(r.ChanceAccuracy), ExamplesPerSec: ptr(r.ExamplesPerSec),
		Val: ptrs(r.Val), ValByProtocol: ptrs(r.ValByProtocol), TrainByProtocol: ptrs(r.TrainByProtocol), Losses: losses})
}

// UnmarshalJSON reads what MarshalJSON wrote, nulls as NaN.
func (r *Result) UnmarshalJSON(data []byte) error {
	var j resultJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	*r = Result(j.plainResult)
	r.TrainAccuracy, r.ValAccuracy, r.ChanceAccuracy, r.ExamplesPerSec = val(j.TrainAccuracy), val(j.ValAccuracy), val(j.ChanceAccuracy), val(j.ExamplesPerSec)
	r.Val, r.ValByProtocol, r.TrainByProtocol = vals(j.Val), vals(j.ValByProtocol), vals(j.TrainByProtocol)
	r.Losses = nil
	for _, v := range j.Losses {
		r.Losses = append(r.Losses, val(v))
	}
	return nil
}

func ptr(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

func val(p *float64) float64 {
	if p == nil {
		return math.NaN()
	}
	return *p
}

func ptrs(m map[string]float64) map[string]*float64 {
	if m == nil {
		return nil
	}
	out := make(map[string]*float64, len(m))
	for k, v := range m {
		out[k] = ptr(v)
	}
	return out
}

func vals(m map[string]*float64) map[string]float64 {
	if m == nil {
		return nil
	}
	out := make(map[string]float64, len(m))
	for k, v := range m {
		out[k] = val(v)
	}
	return out
}
