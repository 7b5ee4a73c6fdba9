package nn

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/dtypes/bfloat16"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/visreft/visreft/sdk/safetensors"
)

// Param is one weight tensor of a model: its Hugging Face name, shape and
// the component it belongs to (for parameter counts by component). A
// model's list of Params, computed from its config alone, is the contract
// that checkpoints are checked against.
type Param struct {
	Name      string
	Dims      []int
	Component string
}

// Size is the number of elements.
func (p Param) Size() int64 {
	n := int64(1)
	for _, d := range p.Dims {
		n *= int64(d)
	}
	return n
}

// Count sums the sizes of params, in total and by component.
func Count(params []Param) (total int64, byComponent map[string]int64) {
	byComponent = map[string]int64{}
	for _, p := range params {
		total += p.Size()
		byComponent[p.Component] += p.Size()
	}
	return total, byComponent
}

// ScopeOf splits a Hugging Face tensor name into the context for its scope
// and the variable name: "model.norm.weight" -> scope.At("model").At("norm"), "weight".
func ScopeOf(scope *model.Scope, hfName string) (*model.Scope, string) {
	parts := strings.Split(hfName, ".")
	for _, p := range parts[:len(parts)-1] {
		scope = scope.At("%s", p)
	}
	return scope, parts[len(parts)-1]
}

// SetParam stores value as the variable for hfName, replacing any value
// there. The value's dimensions must match the variable's if it exists.
func SetParam(scope *model.Scope, hfName string, value *tensors.Tensor) error {
	scope, name := ScopeOf(scope, hfName)
	if v := scope.GetVariable(name); v != nil {
		if !v.Shape().Equal(value.Shape()) {
			return fmt.Errorf("%s: have %s, got %s", hfName, v.Shape(), value.Shape())
		}
		return v.SetValue(value)
	}
	scope.VariableWithValue(name, value)
	return nil
}

// InitRandom gives every param a deterministic random value of dtype:
// normal(0, std) for matrices and biases, 1 + normal(0, std) for
// normalisation weights (names containing "norm" ending in ".weight").
// It is for tests and for random-weight runs of full-size architectures.
func InitRandom(scope *model.Scope, params []Param, seed uint64, std float64, dtype dtypes.DType) error {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	for _, p := range params {
		vals := make([]float32, p.Size())
		offset := 0.0
		if strings.Contains(p.Name, "norm") && strings.HasSuffix(p.Name, ".weight") {
			offset = 1
		}
		for i := range vals {
			vals[i] = float32(offset + std*r.NormFloat64())
		}
		t, err := TensorOf(vals, dtype, p.Dims...)
		if err != nil {
			return fmt.Errorf("%s: %w", p.Name, err)
		}
		if err := SetParam(scope, p.Name, t); err != nil {
			return err
		}
	}
	return nil
}

// TensorOf builds a tensor of dtype (Float32 or BFloat16) from float32 values.
func TensorOf(vals []float32, dtype dtypes.DType, dims ...int) (*tensors.Tensor, error) {
	switch dtype {
	case dtypes.Float32:
		return tensors.FromFlatDataAndDimensions(vals, dims...), nil
	case dtypes.BFloat16:
		b := make([]bfloat16.BFloat16, len(vals))
		for i, v := range vals {
			b[i] = bfloat16.FromBits(safetensors.Float32ToBF16(v)) // round to nearest even; GoMLX's FromFloat32 truncates
		}
		return tensors.FromFlatDataAndDimensions(b, dims...), nil
	}
	return nil, fmt.Errorf("dtype %s not supported here (use Float32 or BFloat16)", dtype)
}
