package paper

import (
	"reflect"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/visreft/visreft/sdk/demo"
	"github.com/visreft/visreft/sdk/experiment"
	"github.com/visreft/visreft/sdk/models/llava"
)

// TestPlanDescribesThePresetsModel: the demo preset's dry-run plan counts
// the parameters of the model the preset really runs (visreft-mini: 8
// layers, its own small vocabulary), not llava.Demo's (2 layers, Qwen2's
// 151,936 ids), so every method's plan equals the description of the loaded
// model's config.
func TestPlanDescribesThePresetsModel(t *testing.T) {
	m, err := demo.MiniModel()
	if err != nil {
		t.Fatal(err)
	}
	plans, err := PlanMethods("demo")
	if err != nil {
		t.Fatal(err)
	}
	prompt, err := PromptFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	ms := BenchMethods()
	if len(plans) != len(ms) {
		t.Fatalf("%d plans for %d methods", len(plans), len(ms))
	}
	for i, p := range plans {
		want := ms[i].Method.Describe(m.Config, prompt, dtypeOf(t, p.Setting.ComputeDType), defaultEvalModes())
		if !reflect.DeepEqual(p.Setting, want) {
			t.Errorf("%s: plan %+v\nloaded model's %+v", p.Label, p.Setting, want)
		}
	}
	if c, err := PlanConfig("demo"); err != nil || c.NumHiddenLayers != m.Config.NumHiddenLayers || c.VocabSize != m.Config.VocabSize {
		t.Errorf("PlanConfig(demo) = %d layers, %d ids (%v); the loaded model has %d, %d", c.NumHiddenLayers, c.VocabSize, err,
			m.Config.NumHiddenLayers, m.Config.VocabSize)
	}
	if c, _ := PlanConfig("paper"); c.NumHiddenLayers != llava.NanoLLaVA().NumHiddenLayers {
		t.Errorf("PlanConfig(paper) has %d layers, nanoLLaVA 24", c.NumHiddenLayers)
	}
	if _, err := PlanConfig("nope"); err == nil {
		t.Error("PlanConfig accepted an unknown preset")
	}
}

// dtypeOf is the dtype a plan names (DTypeName's inverse for the two
// compute dtypes).
func dtypeOf(t *testing.T, name string) dtypes.DType {
	t.Helper()
	for _, dt := range []dtypes.DType{dtypes.Float32, dtypes.BFloat16} {
		if experiment.DTypeName(dt) == name {
			return dt
		}
	}
	t.Fatalf("plan names compute dtype %q", name)
	return dtypes.InvalidDType
}
