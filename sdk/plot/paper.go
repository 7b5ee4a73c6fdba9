package plot

import "math"

// The paper's reported values (Hill et al. 2024, "Representation
// Fine-Tuning for Vision-Language Models"; see shared/FACTS.md section 1),
// keyed by the method names the figures use.
var (
	// PaperValAccuracy is Table 5: validation accuracy (%) on CV-Bench.
	PaperValAccuracy = map[string]float64{"ReFT": 65.7, "LoRA": 66.0, "Full": 51.7}
	// PaperParamShare is Table 4: trainable share of all parameters (%).
	PaperParamShare = map[string]float64{"ReFT": 0.019, "LoRA": 0.17, "Full": 60.99}
)

// PaperMethods returns Table 5's rows with the paper's values filled in
// and the reproduced values missing (NaN), ready for Val to be set.
func PaperMethods() []MethodResult {
	var rows []MethodResult
	for _, m := range []string{"ReFT", "LoRA", "Full"} {
		rows = append(rows, MethodResult{Method: m, Val: math.NaN(), Paper: PaperValAccuracy[m]})
	}
	return rows
}

// PaperShares returns Table 4's rows with the paper's values filled in and
// the measured shares missing (NaN), ready for Ours to be set.
func PaperShares() []ShareRow {
	var rows []ShareRow
	for _, m := range []string{"ReFT", "LoRA", "Full"} {
		rows = append(rows, ShareRow{Method: m, Ours: math.NaN(), Paper: PaperParamShare[m]})
	}
	return rows
}
