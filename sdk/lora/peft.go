package lora

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/visreft/visreft/sdk/fsutil"
	"github.com/visreft/visreft/sdk/nn"
	"github.com/visreft/visreft/sdk/safetensors"
)

// The files of a PEFT adapter directory, as PeftModel.from_pretrained
// reads them.
const (
	ConfigFile  = "adapter_config.json"
	WeightsFile = "adapter_model.safetensors"
)

// peftPrefix is what PEFT's LoraModel wrapping adds in front of the base
// model's module names in saved state dicts.
const peftPrefix = "base_model.model."

// PEFTName is the name PEFT saves a LoRA variable under:
// "model.layers.0.self_attn.q_proj.lora_A" ->
// "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight".
func PEFTName(name string) string { return peftPrefix + name + ".weight" }

// fromPEFTName inverts PEFTName.
func fromPEFTName(name string) (string, bool) {
	s, ok := strings.CutPrefix(name, peftPrefix)
	if !ok {
		return "", false
	}
	return strings.CutSuffix(s, ".weight")
}

// peftConfig is the subset of PEFT's LoraConfig that adapter_config.json
// carries and visreft understands; fields it cannot honour are checked on
// load rather than ignored.
type peftConfig struct {
	PeftType          string             `json:"peft_type"`
	TaskType          string             `json:"task_type,omitempty"`
	BaseModel         string             `json:"base_model_name_or_path"`
	R                 int                `json:"r"`
	LoraAlpha         float64            `json:"lora_alpha"`
	LoraDropout       float64            `json:"lora_dropout"`
	TargetModules     any                `json:"target_modules"`
	ExcludeModules    any                `json:"exclude_modules,omitempty"`
	LayersToTransform []int              `json:"layers_to_transform"`
	LayersPattern     any                `json:"layers_pattern"`
	Bias              string             `json:"bias"`
	FanInFanOut       bool               `json:"fan_in_fan_out"`
	InferenceMode     bool               `json:"inference_mode"`
	InitLoraWeights   bool               `json:"init_lora_weights"`
	UseRSLoRA         bool               `json:"use_rslora"`
	UseDoRA           bool               `json:"use_dora"`
	ModulesToSave     []string           `json:"modules_to_save"`
	RankPattern       map[string]int     `json:"rank_pattern"`
	AlphaPattern      map[string]float64 `json:"alpha_pattern"`
}

func toPEFT(c Config, baseModel string) (peftConfig, error) {
	p := peftConfig{PeftType: "LORA", TaskType: "CAUSAL_LM", BaseModel: baseModel, R: c.R, LoraAlpha: c.Alpha,
		LoraDropout: c.Dropout, LayersToTransform: c.LayersToTransform, Bias: "none", InferenceMode: true,
		InitLoraWeights: true, UseRSLoRA: c.UseRSLoRA, RankPattern: map[string]int{}, AlphaPattern: map[string]float64{}}
	p.TargetModules = c.TargetModules
	if c.TargetRegex != "" {
		p.TargetModules = c.TargetRegex
	}
	switch {
	case len(c.ExcludeModules) > 0 && c.ExcludeRegex != "":
		return p, fmt.Errorf("lora: PEFT's exclude_modules is a list or a regex, not both")
	case len(c.ExcludeModules) > 0:
		p.ExcludeModules = c.ExcludeModules
	case c.ExcludeRegex != "":
		p.ExcludeModules = c.ExcludeRegex
	}
	if c.LayersPattern != "" {
		p.LayersPattern = c.LayersPattern
	}
	return p, nil
}

// stringOrList decodes a PEFT field that is a regex string or a list of names.
func stringOrList(v any, field string) (list []string, re string, err error) {
	switch x := v.(type) {
	case nil:
	case string:
		re = x
	case []any:
		for _, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, "", fmt.Errorf("%s: entry %v is not a string", field, e)
			}
			list = append(list, s)
		}
	default:
		return nil, "", fmt.Errorf("%s: want a string or a list of strings, got %T", field, v)
	}
	return list, re, nil
}

func fromPEFT(p peftConfig) (Config, error) {
	var errs []string
	if p.PeftType != "LORA" {
		errs = append(errs, fmt.Sprintf("peft_type %q is not LORA", p.PeftType))
	}
	if p.Bias != "" && p.Bias != "none" {
		errs = append(errs, fmt.Sprintf("bias %q is not supported (only none)", p.Bias))
	}
	if p.UseDoRA {
		errs = append(errs, "use_dora is not supported")
	}
	if p.FanInFanOut {
		errs = append(errs, "fan_in_fan_out (GPT-2 Conv1D layout) is not supported")
	}
	if len(p.ModulesToSave) > 0 {
		errs = append(errs, fmt.Sprintf("modules_to_save %v is not supported", p.ModulesToSave))
	}
	if len(p.RankPattern)+len(p.AlphaPattern) > 0 {
		errs = append(errs, "rank_pattern and alpha_pattern are not supported")
	}
	c := Config{R: p.R, Alpha: p.LoraAlpha, Dropout: p.LoraDropout, LayersToTransform: p.LayersToTransform, UseRSLoRA: p.UseRSLoRA}
	var err error
	if c.TargetModules, c.TargetRegex, err = stringOrList(p.TargetModules, "target_modules"); err != nil {
		errs = append(errs, err.Error())
	}
	if c.ExcludeModules, c.ExcludeRegex, err = stringOrList(p.ExcludeModules, "exclude_modules"); err != nil {
		errs = append(errs, err.Error())
	}
	switch lp := p.LayersPattern.(type) {
	case nil:
	case string:
		c.LayersPattern = lp
	case []any:
		var alts []string
		for _, e := range lp {
			if s, ok := e.(string); ok {
				alts = append(alts, s)
			}
		}
		c.LayersPattern = strings.Join(alts, "|")
	}
	if len(errs) > 0 {
		return c, fmt.Errorf("lora: adapter_config.json: %s", strings.Join(errs, "; "))
	}
	return c, c.Validate()
}

// Save writes the adapter held in scope (params as Apply or Load returned
// them) as a PEFT adapter directory: adapter_model.safetensors with PEFT's
// tensor names (PEFTName) in the variables' dtype, and adapter_config.json.
// baseModel is recorded as base_model_name_or_path (e.g. "qnguyen3/nanoLLaVA").
// Both files are written atomically.
func Save(dir string, scope *model.Scope, cfg Config, params []nn.Param, baseModel string) error {
	pc, err := toPEFT(cfg, baseModel)
	if err != nil {
		return err
	}
	var ts []safetensors.Tensor
	for _, p := range params {
		v, err := variable(scope, p.Name)
		if err != nil {
			return err
		}
		val, err := v.Value()
		if err != nil {
			return fmt.Errorf("lora: %s: %w", p.Name, err)
		}
		t, err := toSafetensors(PEFTName(p.Name), val)
		if err != nil {
			return fmt.Errorf("lora: %w", err)
		}
		ts = append(ts, t)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("lora: %w", err)
	}
	if err := safetensors.Write(filepath.Join(dir, WeightsFile), ts, map[string]string{"format": "pt"}); err != nil {
		return fmt.Errorf("lora: %w", err)
	}
	js, err := json.MarshalIndent(pc, "", "  ")
	if err != nil {
		return fmt.Errorf("lora: %w", err)
	}
	if err := fsutil.WriteFile(filepath.Join(dir, ConfigFile), append(js, '\n')); err != nil {
		return fmt.Errorf("lora: %w", err)
	}
	return nil
}

// Load reads a PEFT LoRA adapter directory (one Save wrote, or PEFT's
// save_pretrained) onto the model whose weights are in scope and whose params
// are base: it rebuilds the config, checks that the file holds exactly the
// adapters the config targets with the right shapes, and creates the
// variables in the file's dtype. It returns the config and the adapter's params.
func Load(dir string, scope *model.Scope, base []nn.Param) (Config, []nn.Param, error) {
	raw, err := os.ReadFile(filepath.Join(dir, ConfigFile))
	if err != nil {
		return Config{}, nil, fmt.Errorf("lora: %w", err)
	}
	var pc peftConfig
	if err := json.Unmarshal(raw, &pc); err != nil {
		return Config{}, nil, fmt.Errorf("lora: %s: %w", filepath.Join(dir, ConfigFile), err)
	}
	cfg, err := fromPEFT(pc)
	if err != nil {
		return cfg, nil, err
	}
	ts, err := Targets(base, cfg)
	if err != nil {
		return cfg, nil, err
	}
	f, err := safetensors.Open(filepath.Join(dir, WeightsFile))
	if err != nil {
		return cfg, nil, fmt.Errorf("lora: %w", err)
	}
	defer f.Close()
	want, _ := Params(base, cfg)
	var errs []string
	vals := map[string][]float32{}
	seen := map[string]bool{}
	for _, p := range want {
		seen[PEFTName(p.Name)] = true
		info, err := f.Info(PEFTName(p.Name))
		if err != nil {
			errs = append(errs, "missing "+PEFTName(p.Name))
			continue
		}
		if !slices.Equal(info.Shape, []int64{int64(p.Dims[0]), int64(p.Dims[1])}) {
			errs = append(errs, fmt.Sprintf("%s: shape %v, the config needs %v", PEFTName(p.Name), info.Shape, p.Dims))
			continue
		}
		switch info.DType {
		case safetensors.F32:
			cfg.DType = dtypes.Float32
		case safetensors.BF16:
			cfg.DType = dtypes.BFloat16
		}
		if vals[p.Name], err = f.ReadFloat32(PEFTName(p.Name)); err != nil {
			errs = append(errs, err.Error())
		}
	}
	for _, n := range f.Names() {
		if !seen[n] {
			errs = append(errs, "unexpected "+n)
		}
	}
	if len(errs) > 0 {
		if len(errs) > 20 {
			errs = append(errs[:20], fmt.Sprintf("... and %d more", len(errs)-20))
		}
		return cfg, nil, fmt.Errorf("lora: %s does not fit the model and config: %s", dir, strings.Join(errs, "; "))
	}
	for _, t := range ts {
		scope, _ := nn.ScopeOf(scope, t.Module+".weight")
		if scope.GetVariable(nn.LoRAAName) != nil {
			return cfg, nil, fmt.Errorf("lora: %s already has an adapter", t.Module)
		}
	}
	ps, err := set(scope, ts, cfg, vals)
	return cfg, ps, err
}
