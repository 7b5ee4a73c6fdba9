package lora

import (
	"fmt"
	"strings"

	"github.com/gomlx/gomlx/ml/model"
	"github.com/visreft/visreft/sdk/nn"
)

// Merge folds each adapter into its base weight, W <- W + scale·B·A (PEFT's
// merge_and_unload), computed in float64 on the host and stored in W's
// dtype, then deletes the adapter variables so nn.Linear stops adding the
// delta. params are the adapter's params as Apply or Load returned them.
// Executables compiled before the merge still read the deleted adapters:
// build new ones.
func Merge(scope *model.Scope, params []nn.Param) error {
	for _, p := range params {
		module, ok := strings.CutSuffix(p.Name, "."+nn.LoRAAName)
		if !ok {
			continue
		}
		if err := mergeOne(scope, module); err != nil {
			return fmt.Errorf("lora: merging %s: %w", module, err)
		}
	}
	return nil
}

func mergeOne(scope *model.Scope, module string) error {
	scope, _ = nn.ScopeOf(scope, module+".weight")
	wv, av, bv := scope.GetVariable("weight"), scope.GetVariable(nn.LoRAAName), scope.GetVariable(nn.LoRABName)
	if wv == nil || av == nil || bv == nil {
		return fmt.Errorf("weight, lora_A or lora_B missing")
	}
	read := func(v *model.Variable) ([]float32, error) {
		t, err := v.Value()
		if err != nil {
			return nil, err
		}
		return floats(t)
	}
	w, err := read(wv)
	if err != nil {
		return err
	}
	a, err := read(av)
	if err != nil {
		return err
	}
	b, err := read(bv)
	if err != nil {
		return err
	}
	out, in := wv.Shape().Dimensions[0], wv.Shape().Dimensions[1]
	r := av.Shape().Dimensions[0]
	scale := model.GetParamOr(scope, nn.LoRAScaleKey, 1.0)
	for i := range out {
		for j := range in {
			s := 0.0
			for k := range r {
				s += float64(b[i*r+k]) * float64(a[k*in+j])
			}
			w[i*in+j] = float32(float64(w[i*in+j]) + scale*s)
		}
	}
	t, err := tensorOf(w, wv.DType(), out, in)
	if err != nil {
		return err
	}
	if err := wv.SetValue(t); err != nil {
		return err
	}
	for _, n := range []string{nn.LoRAAName, nn.LoRABName} {
		if err := scope.DeleteVariable(n); err != nil {
			return err
		}
	}
	return nil
}
