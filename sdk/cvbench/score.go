package cvbench

import (
	"fmt"
	"math"
)

// Accuracy is a correct/total count.
type Accuracy struct {
	Correct, Total int
}

// Value is Correct/Total, NaN when there is nothing to count.
func (a Accuracy) Value() float64 {
	if a.Total == 0 {
		return math.NaN()
	}
	return float64(a.Correct) / float64(a.Total)
}

func (a *Accuracy) add(ok bool) {
	a.Total++
	if ok {
		a.Correct++
	}
}

// Scores holds CV-Bench's official score and the accuracies it is made of.
type Scores struct {
	ADE20K, COCO, Omni3D Accuracy
	ByTask               map[Task]Accuracy
	All                  Accuracy // plain accuracy over every example
	// Acc2D = (ADE20K + COCO) / 2, Acc3D = Omni3D, and
	// Overall = (Acc2D + Acc3D) / 2: the official CV-Bench score. Each is
	// NaN when a source it needs has no examples.
	Acc2D, Acc3D, Overall float64
	// Synthetic is true when any scored example came from Generate: such
	// results must be labelled synthetic wherever they are reported.
	Synthetic bool
}

// Score computes the official CV-Bench score from per-example correctness:
// 1/2 * (mean of the ADE20K and COCO accuracies + the Omni3D accuracy).
// correct[i] says whether xs[i] was answered correctly.
func Score(xs []Example, correct []bool) (Scores, error) {
	s := Scores{ByTask: map[Task]Accuracy{}}
	if len(xs) != len(correct) {
		return s, fmt.Errorf("cvbench: score: %d examples but %d results", len(xs), len(correct))
	}
	for i, e := range xs {
		ok := correct[i]
		switch e.Source {
		case SourceADE20K:
			s.ADE20K.add(ok)
		case SourceCOCO:
			s.COCO.add(ok)
		case SourceOmni3D:
			s.Omni3D.add(ok)
		default:
			return s, fmt.Errorf("cvbench: score: example %s has unknown source %q", e.Key(), e.Source)
		}
		t := s.ByTask[e.Task]
		t.add(ok)
		s.ByTask[e.Task] = t
		s.All.add(ok)
		s.Synthetic = s.Synthetic || e.Synthetic()
	}
	s.Acc2D = (s.ADE20K.Value() + s.COCO.Value()) / 2
	s.Acc3D = s.Omni3D.Value()
	s.Overall = (s.Acc2D + s.Acc3D) / 2
	return s, nil
}

// String prints the score as a one-line summary, marked when synthetic.
func (s Scores) String() string {
	tag := ""
	if s.Synthetic {
		tag = " [SYNTHETIC DATA]"
	}
	return fmt.Sprintf("CV-Bench overall %.1f%% (2D %.1f%%: ADE20K %.1f%%, COCO %.1f%%; 3D %.1f%%) over %d examples%s",
		100*s.Overall, 100*s.Acc2D, 100*s.ADE20K.Value(), 100*s.COCO.Value(), 100*s.Acc3D, s.All.Total, tag)
}
