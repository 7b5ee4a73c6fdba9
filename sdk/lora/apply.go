package lora

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/gomlx/gomlx/ml/model"
	"github.com/visreft/visreft/sdk/nn"
)

// DropoutKey is the context parameter, set in each adapted module's scope,
// that nn.Linear's LoRA path reads for its dropout rate while training.
const DropoutKey = "lora_dropout"

// Component is the component name of LoRA params in parameter counts.
const Component = "lora"

// Target is one Linear that receives an adapter.
type Target struct {
	Module  string // Hugging Face module name, e.g. "model.layers.3.self_attn.q_proj"
	In, Out int    // the base weight is [Out, In]
}

// Size is the number of adapter parameters, r·(in + out).
func (t Target) Size(r int) int64 { return int64(r) * int64(t.In+t.Out) }

// notLinear lists modules with a 2-D weight that visreft's models do not
// compute through nn.Linear (embedding lookups, and qwen2.LMHead's own
// matmul): an adapter there would never be read, so targeting them is an
// error rather than a silent no-op.
var notLinear = []string{"embed_tokens", "lm_head", "position_embedding", "patch_embedding"}

// Targets lists, in the order of base, the Linears of a model (its params
// from the config alone, e.g. qwen2.Params) that cfg adapts. A module is a
// Linear when base holds "<module>.weight" with two dimensions.
func Targets(base []nn.Param, cfg Config) ([]Target, error) {
	m, err := newMatcher(cfg)
	if err != nil {
		return nil, err
	}
	var out []Target
	var errs []string
	for _, p := range base {
		module, ok := strings.CutSuffix(p.Name, ".weight")
		if !ok || !m.match(module) {
			continue
		}
		last := module[strings.LastIndex(module, ".")+1:]
		switch {
		case len(p.Dims) != 2:
			errs = append(errs, fmt.Sprintf("%s has a %d-D weight %v, not a Linear", module, len(p.Dims), p.Dims))
		case slices.Contains(notLinear, last):
			errs = append(errs, fmt.Sprintf("%s is not computed by nn.Linear, an adapter there would be ignored", module))
		default:
			out = append(out, Target{Module: module, In: p.Dims[1], Out: p.Dims[0]})
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("lora: %s", strings.Join(errs, "; "))
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("lora: no Linear matches target_modules %q / regex %q with layers %v",
			cfg.TargetModules, cfg.TargetRegex, cfg.LayersToTransform)
	}
	return out, nil
}

// Params lists the adapter's variables by their context names (scope path
// + variable, "…q_proj.lora_A" [r, in] and "…q_proj.lora_B" [out, r]); Save
// writes them under PEFT's names. Computed from the config alone, it gives
// parameter counts without any weights.
func Params(base []nn.Param, cfg Config) ([]nn.Param, error) {
	ts, err := Targets(base, cfg)
	if err != nil {
		return nil, err
	}
	var ps []nn.Param
	for _, t := range ts {
		ps = append(ps,
			nn.Param{Name: t.Module + "." + nn.LoRAAName, Dims: []int{cfg.R, t.In}, Component: Component},
			nn.Param{Name: t.Module + "." + nn.LoRABName, Dims: []int{t.Out, cfg.R}, Component: Component})
	}
	return ps, nil
}

// Count is the number of adapter parameters cfg adds to a model.
func Count(base []nn.Param, cfg Config) (int64, error) {
	ps, err := Params(base, cfg)
	if err != nil {
		return 0, err
	}
	n, _ := nn.Count(ps)
	return n, nil
}

// Apply adds an adapter to every targeted Linear of the model whose
// weights live in scope: lora_A with PEFT's initialisation (kaiming-uniform
// with a = sqrt(5), i.e. U(-1/sqrt(in), 1/sqrt(in)), seeded by cfg.Seed),
// lora_B zero (so the adapted model starts equal to the base model), and
// the scale and dropout as context parameters of the module's scope, which
// nn.Linear reads. It returns the adapter's params (see Params). Base
// weights are not touched, nor their trainability: the trainer's strategy
// decides what trains.
func Apply(scope *model.Scope, base []nn.Param, cfg Config) ([]nn.Param, error) {
	ts, err := Targets(base, cfg)
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x10ea))
	vals := map[string][]float32{}
	for _, t := range ts {
		scope, _ := nn.ScopeOf(scope, t.Module+".weight")
		if scope.GetVariable(nn.LoRAAName) != nil {
			return nil, fmt.Errorf("lora: %s already has an adapter", t.Module)
		}
		bound := 1 / math.Sqrt(float64(t.In))
		a := make([]float32, cfg.R*t.In)
		for i := range a {
			a[i] = float32((2*rng.Float64() - 1) * bound)
		}
		vals[t.Module+"."+nn.LoRAAName] = a
		vals[t.Module+"."+nn.LoRABName] = make([]float32, t.Out*cfg.R)
	}
	return set(scope, ts, cfg, vals)
}

// set creates the adapter variables of ts from vals (by context name) and
// the scale and dropout parameters.
func set(scope *model.Scope, ts []Target, cfg Config, vals map[string][]float32) ([]nn.Param, error) {
	var out []nn.Param
	for _, t := range ts {
		mod, _ := nn.ScopeOf(scope, t.Module+".weight")
		for _, p := range []nn.Param{
			{Name: t.Module + "." + nn.LoRAAName, Dims: []int{cfg.R, t.In}, Component: Component},
			{Name: t.Module + "." + nn.LoRABName, Dims: []int{t.Out, cfg.R}, Component: Component},
		} {
			v, err := tensorOf(vals[p.Name], cfg.dtype(), p.Dims...)
			if err != nil {
				return nil, fmt.Errorf("lora: %s: %w", p.Name, err)
			}
			if err := nn.SetParam(scope, p.Name, v); err != nil {
				return nil, fmt.Errorf("lora: %w", err)
			}
			out = append(out, p)
		}
		mod.SetParam(nn.LoRAScaleKey, cfg.Scale())
		mod.SetParam(DropoutKey, cfg.Dropout)
	}
	return out, nil
}
