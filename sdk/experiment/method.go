package experiment

import (
	"fmt"
	"strings"

	"github.com/gomlx/compute/dtypes"
	"github.com/visreft/visreft/sdk/cvbench"
	"github.com/visreft/visreft/sdk/eval"

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
	// LoRATrainTower also trains the adapters LoRA's suffix match puts on
	// the vision tower. Off by default: nanoLLaVA's reference code runs the
	// tower under no_grad, so in the paper those adapters are counted (the
	// 0.17 %) but never change, and the tower's features can be cached.
	LoRATrainTower bool `json:"lora_train_tower,omitempty"`
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
// Only the language model's adapters train, as in the paper's code, where
// the tower runs under no_grad (LoRATrainTower changes that).
func PaperLoRA() Method {
	return Method{Name: "lora", Train: paperTrain(),
		LoRA: &lora.Config{R: 8, Alpha: 16, TargetModules: []string{"q_proj", "v_proj"}}}
}

// PaperFull is Table 3: every LLM and projector weight trained, the vision
// tower frozen, weight decay 0.01, gradient checkpointing per decoder block.
func PaperFull() Method {
	c := paperTrain()
	c.WeightDecay, c.Recompute = 0.01, true
	return Method{Name: "full", Train: c, FullInclude: []string{"model.", "lm_head."},
		FullExclude: []string{"model.vision_tower."}}
}

// strategy is which variables the trainer trains for m.
func (m Method) strategy() (train.Strategy, error) {
	switch m.Name {
	case "reft":
		return train.ReFT(reftScope), nil
	case "lora":
		st := train.LoRA()
		if !m.LoRATrainTower {
			st.Exclude = append(st.Exclude, `^model\.vision_tower\.`)
		}
		return st, nil
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

// TrainedParams counts what the optimizer updates for m on config c: for
// the paper's LoRA, the language model's adapters only (the tower's stay
// at their zero-delta init unless LoRATrainTower).
func (m Method) TrainedParams(c llava.Config) (int64, error) {
	if m.Name != "lora" {
		return m.TrainableParams(c)
	}
	st, err := m.strategy()
	if err != nil {
		return 0, err
	}
	ps, err := lora.Params(llava.Params(c), *m.LoRA)
	if err != nil {
		return 0, err
	}
	var n int64
	for _, p := range ps {
		if ok, _ := st.Trains(p.Name); ok {
			n += p.Size()
		}
	}
	return n, nil
}

// VisionFrozen reports whether m leaves the vision tower and projector
// output unchanged, so their outputs can be cached: ReFT on the decoder
// only, and LoRA unless it trains the tower's adapters.
func (m Method) VisionFrozen() bool {
	if m.Name == "lora" {
		return !m.LoRATrainTower
	}
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

// Setting is what a run computes, in words, for results files and
// `reproduce -dry-run`: every choice the paper leaves open is named here.
type Setting struct {
	ComputeDType string `json:"compute_dtype"`
	MasterDType  string `json:"master_dtype"` // trainable variables' optimizer copies
	Recompute    string `json:"recompute"`
	Trainable    string `json:"trainable"`
	Template     string `json:"template"`
	Positions    string `json:"positions,omitempty"`
	Protocol     string `json:"protocol"`
	FeatureCache string `json:"feature_cache"`
}

// Describe spells out m's setting on a model of config c with prompt p,
// compute dtype dt and evaluation protocols modes (the first is the headline).
func (m Method) Describe(c llava.Config, p cvbench.PromptOptions, dt dtypes.DType, modes []eval.Mode) Setting {
	s := Setting{ComputeDType: DTypeName(dt), MasterDType: "float32",
		Template: TemplateName(p), Recompute: "off"}
	if !m.Train.MasterFloat32 {
		s.MasterDType = "as stored"
	}
	if m.Train.Recompute {
		s.Recompute = fmt.Sprintf("per decoder block (%d stages recomputed in the backward pass)", c.NumHiddenLayers)
	}
	var ps []string
	for i, mode := range modes {
		label := mode.String()
		if mode == eval.Generate {
			label = "generation with answer parsing (unparseable counts wrong)"
		} else {
			label = "choice likelihood"
		}
		if i == 0 {
			label += " [headline]"
		}
		ps = append(ps, label)
	}
	s.Protocol = strings.Join(ps, "; ")
	s.FeatureCache = "off: the vision tower and projector run every step"
	if m.VisionFrozen() {
		s.FeatureCache = "on: image features computed once per image in the compute dtype"
	}
	total, _ := m.TrainableParams(c)
	trained, _ := m.TrainedParams(c)
	switch m.Name {
	case "reft":
		var sites, pos []string
		for _, sp := range m.ReFT {
			tied := "untied"
			if sp.ShareWeights {
				tied = "one intervention per layer shared by the positions"
			}
			sites = append(sites, fmt.Sprintf("%s rank %d on %s layers %s (%s; interventions compute in float32)", sp.Type, sp.Rank, componentName(sp.Component), sp.Layers, tied))
			pos = append(pos, positionsName(sp.Positions))
		}
		s.Trainable = fmt.Sprintf("%d parameters: %s", total, strings.Join(sites, "; "))
		s.Positions = strings.Join(pos, "; ")
	case "lora":
		tower := "the vision tower's adapters exist but stay frozen at their zero-delta init (nanoLLaVA runs the tower under no_grad)"
		if m.LoRATrainTower {
			tower = "the vision tower's adapters train too"
		}
		s.Trainable = fmt.Sprintf("%d adapter parameters counted (r %d, alpha %g, %s by suffix), %d trained: %s",
			total, m.LoRA.R, m.LoRA.Alpha, strings.Join(m.LoRA.TargetModules, "+"), trained, tower)
	case "full":
		s.Trainable = fmt.Sprintf("%d parameters: every weight under %s except %s", total,
			strings.Join(m.FullInclude, ", "), strings.Join(m.FullExclude, ", "))
	}
	return s
}

// AnswerForm names a prompt's answer form for results and figures.
func AnswerForm(p cvbench.PromptOptions) string {
	if p.Target == cvbench.TargetText {
		return "answers: the choice's text"
	}
	return "answers: the choice's letter"
}

// TemplateName names a prompt format for results: the template text itself,
// and the answer form (AnswerForm) when the response is the choice's text
// rather than its letter.
func TemplateName(p cvbench.PromptOptions) string {
	name := "cvbench: the prompt field verbatim"
	switch p.Format {
	case cvbench.PromptPaper:
		name = `paper: "<|user|>: <image>\n{prompt}\n<|assistant|>: {response}<|im_end|>"`
	case cvbench.PromptChatML:
		name = `chatml: "<|im_start|>system\nAnswer the question<|im_end|><|im_start|>user\n<image>\n{prompt}<|im_end|><|im_start|>assistant\n{response}<|im_end|>"`
	}
	if p.Target == cvbench.TargetText {
		name += "; " + AnswerForm(p)
	}
	return name
}

func componentName(c reft.Component) string {
	if c == "" {
		return string(reft.BlockOutput)
	}
	return string(c)
}

func positionsName(p string) string {
	if p == "sme" {
		return "sme: first, middle and last prompt token (text tokens only, computed on the template's tokens)"
	}
	return p + " (text tokens of the prompt)"
}
