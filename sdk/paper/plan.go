package paper

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/visreft/visreft/sdk/backend"
	"github.com/visreft/visreft/sdk/demo"
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
// It uses the config of the model the preset runs (PlanConfig) and the
// backend this machine would choose.
func PlanMethods(preset string) ([]MethodPlan, error) {
	c, err := PlanConfig(preset)
	if err != nil {
		return nil, err
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

// PlanConfig is the config of the model preset runs, read without its
// weights: visreft-mini's config.json for "demo" (demo.MiniPath, so
// VISREFT_DEMO_MODEL counts), llava.Demo for "random", and for "paper"
// the config.json of a local VISREFT_MODEL folder, else nanoLLaVA's.
func PlanConfig(preset string) (llava.Config, error) {
	dir := ""
	switch preset {
	case "demo":
		dir = demo.MiniPath()
	case "random":
		return llava.Demo(), nil
	case "paper":
		if m := os.Getenv("VISREFT_MODEL"); m != "" && m != "random" {
			if fi, err := os.Stat(m); err == nil && fi.IsDir() {
				dir = m
			}
		}
		if dir == "" {
			return llava.NanoLLaVA(), nil
		}
	default:
		return llava.Config{}, fmt.Errorf("paper: unknown preset %q", preset)
	}
	path := filepath.Join(dir, "config.json")
	raw, err := os.ReadFile(path)
	if err != nil {
		return llava.Config{}, fmt.Errorf("paper: the %s preset's model: %w", preset, err)
	}
	return llava.ParseConfig(raw, path)
}
