package lora_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/visreft/visreft/sdk/lora"
	"github.com/visreft/visreft/sdk/models/llava"
	"github.com/visreft/visreft/sdk/models/qwen2"
	"github.com/visreft/visreft/sdk/models/siglip"
	"github.com/visreft/visreft/sdk/nn"
)

// nanoLLaVAParams is every weight of nanoLLaVA, from its config alone.
func nanoLLaVAParams() []nn.Param {
	c := llava.NanoLLaVA()
	ps := qwen2.Params(c.Config)
	ps = append(ps, siglip.Params(c.Vision)...)
	return append(ps, llava.ProjectorParams(c)...)
}

// reading is one interpretation of the paper's LoRA "all attention layers".
type reading struct {
	name string
	cfg  lora.Config
}

func paperLoRA(targets ...string) lora.Config {
	return lora.Config{R: 8, Alpha: 16, TargetModules: targets}
}

func readings() []reading {
	llmOnly := func(c lora.Config) lora.Config { c.ExcludeRegex = `model\.vision_tower\..*`; return c }
	return []reading{
		{"q,v (PEFT suffixes: both towers)", paperLoRA("q_proj", "v_proj")},
		{"q,k,v,o LLM only", llmOnly(paperLoRA("q_proj", "k_proj", "v_proj", "o_proj"))},
		{"q,k,v,o suffixes (LLM q,k,v,o + vision q,k,v)", paperLoRA("q_proj", "k_proj", "v_proj", "o_proj")},
		{"q,k,v,o LLM + q,k,v,out vision", paperLoRA("q_proj", "k_proj", "v_proj", "o_proj", "out_proj")},
		{"q,v LLM only", llmOnly(paperLoRA("q_proj", "v_proj"))},
		{"q,k,v,o LLM + projector", llmOnly(paperLoRA("q_proj", "k_proj", "v_proj", "o_proj", "mm_projector.0", "mm_projector.2"))},
		{"attention + MLP, LLM only", llmOnly(paperLoRA("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"))},
		{"vision attention only", lora.Config{R: 8, Alpha: 16, TargetRegex: `model\.vision_tower\..*\.(q|k|v|out)_proj`}},
		{"all linear (no lm_head)", paperLoRA("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj",
			"out_proj", "fc1", "fc2", "mm_projector.0", "mm_projector.2")},
	}
}

// TestTable4Readings pins the LoRA trainable share of nanoLLaVA for each
// reading of "all attention layers" (r = 8). Only one rounds to the
// paper's 0.17 %: q_proj and v_proj matched by suffix, which hits the
// attention of all 24 LLM layers and all 26 vision layers.
func TestTable4Readings(t *testing.T) {
	total, _ := nn.Count(nanoLLaVAParams())
	if total != 1_019_548_192 {
		t.Fatalf("nanoLLaVA has %d params, the paper's denominator is 1,019,548,192", total)
	}
	want := map[string]int64{
		"q,v (PEFT suffixes: both towers)":              1_744_896,
		"q,k,v,o LLM only":                              1_572_864,
		"q,k,v,o suffixes (LLM q,k,v,o + vision q,k,v)": 3_010_560,
		"q,k,v,o LLM + q,k,v,out vision":                3_489_792,
		"q,v LLM only":                                  786_432,
		"q,k,v,o LLM + projector":                       1_606_656,
		"attention + MLP, LLM only":                     3_784_704,
		"vision attention only":                         1_916_928,
		"all linear (no lm_head)":                       8_005_120,
	}
	for _, r := range readings() {
		n, err := lora.Count(nanoLLaVAParams(), r.cfg)
		if err != nil {
			t.Fatalf("%s: %v", r.name, err)
		}
		ofTotal := 100 * float64(n) / float64(total)
		ofAll := 100 * float64(n) / float64(total+n) // PEFT's print_trainable_parameters
		t.Logf("%-48s %10d  %.4f%% of base, %.4f%% of base+LoRA", r.name, n, ofTotal, ofAll)
		if n != want[r.name] {
			t.Errorf("%s: %d params, want %d", r.name, n, want[r.name])
		}
		matches := fmt.Sprintf("%.2f", ofTotal) == "0.17" && fmt.Sprintf("%.2f", ofAll) == "0.17"
		if matches != (r.name == "q,v (PEFT suffixes: both towers)") {
			t.Errorf("%s: %.4f%% / %.4f%%: matching 0.17 %% is %v, unexpected", r.name, ofTotal, ofAll, matches)
		}
	}
}

// TestTable4 is the LoRA row of the paper's Table 4 as visreft computes it.
func TestTable4(t *testing.T) {
	base := nanoLLaVAParams()
	total, _ := nn.Count(base)
	n, err := lora.Count(base, paperLoRA("q_proj", "v_proj"))
	if err != nil {
		t.Fatal(err)
	}
	if share := 100 * float64(n) / float64(total+n); math.Abs(share-0.17) >= 0.005 {
		t.Errorf("LoRA share %.4f%%, the paper prints 0.17%%", share)
	}
	ts, _ := lora.Targets(base, paperLoRA("q_proj", "v_proj"))
	if len(ts) != 2*24+2*26 {
		t.Errorf("%d targets, want 48 LLM + 52 vision", len(ts))
	}
}
