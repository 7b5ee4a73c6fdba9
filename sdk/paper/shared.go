package paper

import (
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/visreft/visreft/sdk/experiment"
	"github.com/visreft/visreft/sdk/models/llava"
)

// sharedBase is the base model loaded once per Setup for everything that
// leaves its weights alone: ReFT and LoRA runs (their interventions and
// adapters are variables of their own), the feature and prefix caches, the
// base model's evaluation, Figure 1. Between uses every variable that is
// not one of the base's (interventions, adapters, optimizer state) is
// deleted, so each run starts from the base exactly as a fresh load does.
// Full fine-tuning, which turns the base's weights into trained masters,
// keeps loading its own copy (NewModel).
type sharedBase struct {
	model *llava.Model
	own   map[*context.Variable]bool // the base's variables
	Loads int                        // times the base was loaded (1 once used)
}

// Shared returns the shared base model, clean: loaded on first use, its
// run-added variables deleted on every later one.
func (s *Setup) Shared() (*llava.Model, error) {
	sb := &s.shared
	if sb.model == nil {
		m, err := s.NewModel()
		if err != nil {
			return nil, err
		}
		sb.model, sb.own, sb.Loads = m, map[*context.Variable]bool{}, sb.Loads+1
		for v := range m.Ctx.IterVariables() {
			sb.own[v] = true
		}
		return m, nil
	}
	return sb.model, sb.reset()
}

// reset deletes every variable the base did not come with.
func (sb *sharedBase) reset() error {
	var extra []*context.Variable
	for v := range sb.model.Ctx.IterVariables() {
		if !sb.own[v] {
			extra = append(extra, v)
		}
	}
	for _, v := range extra {
		v.Finalize()
		if err := sb.model.Ctx.DeleteVariable(v.Scope(), v.Name()); err != nil {
			return err
		}
	}
	return nil
}

// BaseLoads is how many times the shared base model was loaded.
func (s *Setup) BaseLoads() int { return s.shared.Loads }

// newModelFor is what a run of m builds its model with: the shared base
// unless m changes the base's own weights (full fine-tuning).
func (s *Setup) newModelFor(m experiment.Method) func() (*llava.Model, error) {
	if m.Name == "full" || s.NoSharedBase {
		return s.NewModel
	}
	return s.Shared
}

// releaseRun frees what a finished run holds: its own model's variables,
// or, on the shared base, only the variables the run added.
func (s *Setup) releaseRun(r *experiment.Result) {
	if r == nil || r.Model == nil {
		return
	}
	if r.Model == s.shared.model {
		s.shared.reset()
	} else {
		experiment.ReleaseModel(r.Model)
	}
	r.Model, r.Steer = nil, nil
}
