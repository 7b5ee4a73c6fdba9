package lora_test

import (
	"fmt"
	"log"

	"github.com/visreft/visreft/sdk/lora"
	"github.com/visreft/visreft/sdk/models/llava"
	"github.com/visreft/visreft/sdk/nn"
)

// The paper's LoRA (r = 8, alpha 16 on q_proj and v_proj) on nanoLLaVA,
// counted from the config alone: matched by suffix as PEFT matches, the
// targets include the vision tower's q_proj and v_proj.
func ExampleCount() {
	base := llava.Params(llava.NanoLLaVA())
	cfg := lora.Config{R: 8, Alpha: 16, TargetModules: []string{"q_proj", "v_proj"}}
	n, err := lora.Count(base, cfg)
	if err != nil {
		log.Fatal(err)
	}
	total, _ := nn.Count(base)
	ts, _ := lora.Targets(base, cfg)
	fmt.Printf("%d adapters, %d parameters, %.2f %% of %d\n", len(ts), n, 100*float64(n)/float64(total), total)
	for _, t := range []lora.Target{ts[0], ts[len(ts)-1]} {
		fmt.Println(t.Module, t.Out, t.In, t.Size(cfg.R))
	}
	// Output:
	// 100 adapters, 1744896 parameters, 0.17 % of 1019548192
	// model.layers.0.self_attn.q_proj 1024 1024 16384
	// model.vision_tower.vision_tower.vision_model.encoder.layers.25.self_attn.q_proj 1152 1152 18432
}
