package lora

import (
	"strings"
	"testing"

	"github.com/visreft/visreft/sdk/nn"
)

const (
	llmQ = "model.layers.3.self_attn.q_proj"
	visQ = "model.vision_tower.vision_tower.vision_model.encoder.layers.3.self_attn.q_proj"
	proj = "model.mm_projector.0"
)

func TestMatchLikePEFT(t *testing.T) {
	cases := []struct {
		name string
		cfg  Config
		want map[string]bool
	}{
		{"suffixes hit both towers", Config{TargetModules: []string{"q_proj", "mm_projector.0"}},
			map[string]bool{llmQ: true, visQ: true, proj: true, "model.layers.3.self_attn.qq_proj": false}},
		{"regex is a full match", Config{TargetRegex: `model\.layers\.\d+\.self_attn\.q_proj`},
			map[string]bool{llmQ: true, visQ: false, proj: false}},
		{"exclude by regex", Config{TargetModules: []string{"q_proj"}, ExcludeRegex: `model\.vision_tower\..*`},
			map[string]bool{llmQ: true, visQ: false}},
		{"exclude by suffix", Config{TargetModules: []string{"q_proj", "0"}, ExcludeModules: []string{"mm_projector.0"}},
			map[string]bool{llmQ: true, proj: false}},
		{"layers filter: index after any component, none for the projector",
			Config{TargetModules: []string{"q_proj", "mm_projector.0"}, LayersToTransform: []int{3}},
			map[string]bool{llmQ: true, visQ: true, proj: false, "model.layers.4.self_attn.q_proj": false}},
		{"layers filter with a pattern", Config{TargetModules: []string{"q_proj"}, LayersToTransform: []int{3}, LayersPattern: "layers"},
			map[string]bool{llmQ: true, "model.blocks.3.q_proj": false}},
	}
	for _, c := range cases {
		c.cfg.R, c.cfg.Alpha = 8, 16
		m, err := newMatcher(c.cfg)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		for module, want := range c.want {
			if got := m.match(module); got != want {
				t.Errorf("%s: match(%s) = %v, want %v", c.name, module, got, want)
			}
		}
	}
}

func TestConfigErrorsListEverything(t *testing.T) {
	err := Config{R: 0, Alpha: -1, Dropout: 1, TargetRegex: "("}.Validate()
	if err == nil {
		t.Fatal("bad config accepted")
	}
	for _, want := range []string{"r must be", "alpha must be", "dropout must be", "regex"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
}

func TestTargetsRefuseNonLinear(t *testing.T) {
	base := []nn.Param{
		{Name: "model.embed_tokens.weight", Dims: []int{10, 4}},
		{Name: "lm_head.weight", Dims: []int{10, 4}},
		{Name: "model.layers.0.self_attn.q_proj.weight", Dims: []int{4, 4}},
	}
	if _, err := Targets(base, Config{R: 2, Alpha: 4, TargetModules: []string{"lm_head", "embed_tokens"}}); err == nil ||
		!strings.Contains(err.Error(), "lm_head") || !strings.Contains(err.Error(), "embed_tokens") {
		t.Errorf("targeting non-Linear modules: err = %v", err)
	}
	if _, err := Targets(base, Config{R: 2, Alpha: 4, TargetModules: []string{"k_proj"}}); err == nil ||
		!strings.Contains(err.Error(), "no Linear matches") {
		t.Errorf("no match: err = %v", err)
	}
	ts, err := Targets(base, Config{R: 2, Alpha: 4, TargetModules: []string{"q_proj"}})
	if err != nil || len(ts) != 1 || ts[0].In != 4 || ts[0].Out != 4 || ts[0].Size(2) != 16 {
		t.Errorf("Targets = %v, %v", ts, err)
	}
}
