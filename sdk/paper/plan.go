package paper

import (
	"github.com/visreft/visreft/sdk/backend"
	"github.com/visreft/visreft/sdk/experiment"
	"github.com/visreft/visreft/sdk/models/llava"
)

// MethodPlan is what one of Table 5's methods will compute on a preset.
type MethodPlan struct {
	Label   string             `json:"label"`
	Setting experiment.Setting `json:"setting"`
	Reason  string             `json:"compute_dtype_reason"`
}

// PlanMethods says, without building a model or reading data, what the
// methods experiment computes on preset: compute dtype (and why),
// recompute, trainable set, template, positions and evaluation protocol.
// It uses the preset's model config (nanoLLaVA's for "paper") and the
// backend this machine would choose.
func PlanMethods(preset string) ([]MethodPlan, error) {
	c := llava.Demo()
	if preset == "paper" {
		c = llava.NanoLLaVA()
	}
	choice, err := backend.Choose()
	if err != nil {
		return nil, err
	}
	prompt, err := PromptFromEnv()
	if err != nil {
		return nil, err
	}
	dt, why, err := computeDType(choice.GPU, c.TorchDType)
	if err != nil {
		return nil, err
	}
	s := &Setup{EvalModes: defaultEvalModes()}
	var out []MethodPlan
	for _, ms := range BenchMethods() {
		out = append(out, MethodPlan{Label: ms.Label, Reason: why + " (backend " + choice.Config + ")",
			Setting: ms.Method.Describe(c, prompt, dt, s.EvalModes)})
	}
	return out, nil
}
