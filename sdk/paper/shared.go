package paper

import (
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/visreft/visreft/sdk/experiment"
	"github.com/visreft/visreft/sdk/models/llava"
)

// sharedBase is the base model loaded once per Setup for everything that
// leaves its weights alone: ReFT and LoRA runs (their interventions and
// adapters are variables of their own), the feature and prefix caches, the
// base model's evaluation, Figure 1. Each use gets a fresh context over the
// same weight tensors (nothing is copied), without the variables earlier
// runs added (interventions, adapters, optimizer state), so each run starts
// from the base exactly as a fresh load does; the old context goes, and
// with it the graphs built on it, which GoMLX's variables keep alive.
// Full fine-tuning, which turns the base's weights into trained masters,
// keeps loading its own copy (NewModel).
type sharedBase struct {
	model   *llava.Model             // the one handed out last
	tensors map[*tensors.Tensor]bool // the base's weight tensors, shared by every context handed out
	Loads   int                      // times the base was loaded
}

// Shared returns the shared base model, clean: loaded on first use, on a
// fresh context over the same weights on every later one.
func (s *Setup) Shared() (*llava.Model, error) {
	sb := &s.shared
	if sb.model == nil {
		m, err := s.NewModel()
		if err != nil {
			return nil, err
		}
		sb.model, sb.tensors, sb.Loads = m, map[*tensors.Tensor]bool{}, sb.Loads+1
		for v := range m.Ctx.IterVariables() {
			val, err := v.Value()
			if err != nil {
				return nil, err
			}
			sb.tensors[val] = true
		}
		return m, nil
	}
	return sb.rebase()
}

// rebase moves the base's weight tensors to a new context (the same
// tensors, not copies) with the old one's parameters. What runs added to
// the old context stays as it is: a Result still holding that model (one
// Setup.Run returned) keeps its interventions and adapters, and a model no
// one holds goes with its context (releaseRun frees a finished run's
// additions at once).
func (sb *sharedBase) rebase() (*llava.Model, error) {
	old := sb.model
	nc := model.NewStore().RootScope()
	for path, value := range old.Ctx.Store().IterParams() {
		nc.Store().SetParam(path, value)
	}
	for v := range old.Ctx.IterVariables() {
		if !sb.isBase(v) {
			continue
		}
		val, _ := v.Value()
		nv := nc.Store().Scope(v.Scope()).VariableWithValue(v.Name(), val)
		nv.Trainable = v.Trainable
	}
	m := *old
	m.Ctx = nc
	sb.model = &m
	return sb.model, nil
}

// isBase reports whether v holds one of the base's weight tensors; what
// runs add (interventions, adapters, optimizer state) never does.
func (sb *sharedBase) isBase(v *model.Variable) bool {
	val, err := v.Value()
	return err == nil && sb.tensors[val]
}

// holds reports whether m is a context over the shared base's tensors (the
// current one or an older one a later Shared replaced).
func (sb *sharedBase) holds(m *llava.Model) bool {
	for v := range m.Ctx.IterVariables() {
		if sb.isBase(v) {
			return true
		}
	}
	return false
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
// or, on a context of the shared base (the current one or an older one a
// later Shared replaced), only the variables the run added, never the
// base's weight tensors, which the live context shares.
func (s *Setup) releaseRun(r *experiment.Result) {
	if r == nil || r.Model == nil {
		return
	}
	if s.shared.holds(r.Model) {
		for v := range r.Model.Ctx.IterVariables() {
			if !s.shared.isBase(v) {
				v.Finalize()
			}
		}
	} else {
		experiment.ReleaseModel(r.Model)
	}
	r.Model, r.Steer = nil, nil
}
