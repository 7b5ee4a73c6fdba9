package paper

import (
	gocontext "context"
	"fmt"

	"github.com/visreft/visreft/sdk/experiment"
)

// BenchRow is one method at one batch size: its speed, or why it failed
// (a batch that does not fit in memory, say).
type BenchRow struct {
	Label  string                  `json:"label"`
	Result *experiment.BenchResult `json:"result,omitempty"`
	Error  string                  `json:"error,omitempty"`
}

// BenchMethods are the paper's three configurations as Table 5 runs them.
func BenchMethods() []MethodSpec {
	return []MethodSpec{
		{"ReFT (LoReFT r4, all layers)", experiment.PaperReFT(4, "all")},
		{"LoRA (r8, q/v)", experiment.PaperLoRA()},
		{"Full (LLM + projector)", experiment.PaperFull()},
	}
}

// MethodSpec labels a method.
type MethodSpec struct {
	Label  string
	Method experiment.Method
}

// Bench times training of each method at each batch size on the preset's
// training examples (ReFT with the shared image-feature cache, as Run
// does). A batch size that fails is recorded with its error and ends that
// method's larger sizes; each row is reported to onRow as it finishes.
func (s *Setup) Bench(methods []MethodSpec, batches []int, opt experiment.BenchOptions, onRow func(BenchRow)) ([]BenchRow, error) {
	var rows []BenchRow
	opt.ComputeDType, opt.Progress = s.ComputeDType, s.Progress
	var fc *experiment.FeatureCache
	for _, ms := range methods {
		for _, bs := range batches {
			o := opt
			o.Batch = bs
			if ms.Method.VisionFrozen() {
				if fc == nil {
					var err error
					if fc, err = s.benchFeatures(batches, opt); err != nil {
						return rows, err
					}
				}
				o.Features = fc
			}
			row := BenchRow{Label: ms.Label}
			r, err := experiment.Bench(gocontext.Background(), s.Backend, s.NewModel, s.Data, ms.Method, o)
			if err != nil {
				row.Error = fmt.Sprintf("batch %d: %v", bs, err)
			}
			row.Result = r
			rows = append(rows, row)
			if onRow != nil {
				onRow(row)
			}
			if err != nil {
				break
			}
		}
	}
	return rows, nil
}

// benchFeatures caches the features of the training examples a bench
// touches (the largest batch times its steps), not the whole split.
func (s *Setup) benchFeatures(batches []int, opt experiment.BenchOptions) (*experiment.FeatureCache, error) {
	n := 0
	for _, b := range batches {
		n = max(n, b*(max(opt.Warmup, 2)+max(opt.Steps, 8)))
	}
	model, err := s.NewModel()
	if err != nil {
		return nil, err
	}
	xs := s.Data.Train[:min(n, len(s.Data.Train))]
	return experiment.NewFeatureCacheWith(s.Backend, model, experiment.Images(xs),
		experiment.FeatureOptions{DType: s.ComputeDType, Progress: s.Progress, Name: "bench features"})
}
