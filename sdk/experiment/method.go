// Package experiment runs the paper's experiments through one call: a
// method (ReFT, LoRA or full fine-tuning) trained on a CV-Bench split and
// evaluated, returning metrics, curves, timings and the trainable share;
// and sweeps over ReFT ranks and layers. Notebooks and reproduce/ call it.
package experiment

import (
	"fmt"

	"github.com/visreft/visreft/sdk/lora"
	"github.com/visreft/visreft/sdk/models/llava"
	"github.com/visreft/visreft/sdk/nn"
	"github.com/visreft/visreft/sdk/reft"
	"github.com/visreft/visreft/sdk/train"
)

// Method is one fine-tuning configuration.
type Method struct {
	Name string `json:"name"` // "reft", "lora" or "full"
	// ReFT: the interventions (Method "reft").
	ReFT []reft.Spec `json:"reft,omitempty"`
	// LoRA: the adapters (Method "lora").
	LoRA *lora.Config `json:"lora,omitempty"`
	// Full: trained and frozen name prefixes (Method "full").
	FullInclude []string `json:"full_include,omitempty"`
	FullExclude []string `json:"full_exclude,omitempty"`
	// Train holds the optimiser and schedule settings.
	Train train.Config `json:"train"`
}

// paperTrain is the setting the paper shares across methods: lr 1e-3, one
// epoch, batch 1, AdamW.
func paperTrain() train.Config {
	c := train.DefaultConfig()
	c.LR, c.Epochs, c.BatchSize = 1e-3, 1, 1
	return c
}

// PaperReFT is Table 1: LoReFT of the given rank on the given layers ("all"
// in the paper), at the start, middle and end of the prompt, one
// intervention per layer shared by the positions.
func PaperReFT(rank int, layers string) Method {
	return Method{Name: "reft", Train: paperTrain(), ReFT: []reft.Spec{{
		Type: reft.LoReFT, Rank: rank, Layers: layers, Positions: "sme", ShareWeights: true,
		Component: reft.BlockOutput}}}
}

// PaperLoRA is Table 2: r 8, alpha 16 on q_proj and v_proj by PEFT's
// suffix matching, the one reading of "all attention layers" that gives
// the paper's 0.17 % (it also reaches the vision tower's q/v; see sdk/lora).
func PaperLoRA() Method {
	return Method{Name: "lora", Train: paperTrain(),
		LoRA: &lora.Config{R: 8, Alpha: 16, TargetModules: []string{"q_proj", "v_proj"}}}
}

// PaperFull is Table 3: every LLM and projector weight trained, the vision
// tower frozen, weight decay 0.01 (with gradient checkpointing on the GPU).
func PaperFull() Method {
	c := paperTrain()
	c.WeightDecay = 0.01
	return Method{Name: "full", Train: c, FullInclude: []string{"model.", "lm_head."},
		FullExclude: []string{"model.vision_tower."}}
}

// strategy is which variables the trainer trains for m.
func (m Method) strategy() (train.Strategy, error) {
	switch m.Name {
	case "reft":
		return train.ReFT(reftScope), nil
	case "lora":
		return train.LoRA(), nil
	case "full":
		return train.Full(m.FullInclude, m.FullExclude), nil
	}
	return train.Strategy{}, fmt.Errorf("experiment: method %q is not one of reft, lora, full", m.Name)
}

// reftScope is where interventions live in the model's context.
const reftScope = "reft"

// ReFTBase describes a llava model to sdk/reft: its streams' widths and
// depths and its parameter count (for shares).
func ReFTBase(c llava.Config, id string) reft.Base {
	v := c.Vision.WithDefaults()
	return reft.Base{ID: id, DType: c.TorchDType, NumParams: llava.CountParams(c).Total,
		Streams: map[reft.Component]reft.Stream{
			reft.BlockOutput:       {Hidden: c.HiddenSize, Layers: c.NumHiddenLayers},
			reft.VisionBlockOutput: {Hidden: v.HiddenSize, Layers: v.LayersKept},
			reft.ProjectorOutput:   {Hidden: c.HiddenSize, Layers: 1},
		}}
}

// TrainableParams counts what m trains on a model of config c, from the
// configs alone (Table 4).
func (m Method) TrainableParams(c llava.Config) (int64, error) {
	switch m.Name {
	case "reft":
		st, err := NewReFTSteer(ReFTBase(c, ""), c.Vision.WithDefaults().NumPatches(), m.ReFT...)
		if err != nil {
			return 0, err
		}
		return st.NumParams(), nil
	case "lora":
		return lora.Count(llava.Params(c), *m.LoRA)
	case "full":
		st, err := m.strategy()
		if err != nil {
			return 0, err
		}
		return countMatching(llava.Params(c), st), nil
	}
	_, err := m.strategy()
	return 0, err
}

func countMatching(params []nn.Param, st train.Strategy) int64 {
	var n int64
	for _, p := range params {
		if ok, _ := st.Trains(p.Name); ok {
			n += p.Size()
		}
	}
	return n
}

// VisionFrozen reports whether m leaves the vision tower and projector
// output unchanged, so their outputs can be cached: ReFT on the decoder
// only. (The paper's LoRA reading reaches the tower's q/v projections.)
func (m Method) VisionFrozen() bool {
	if m.Name != "reft" {
		return false
	}
	for _, s := range m.ReFT {
		if s.Component != "" && s.Component != reft.BlockOutput {
			return false
		}
	}
	return true
}
