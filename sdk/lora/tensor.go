package lora

import (
	"fmt"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/dtypes/bfloat16"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/visreft/visreft/sdk/nn"
	"github.com/visreft/visreft/sdk/safetensors"
)

// variable finds the context variable of a param name ("…q_proj.lora_A").
func variable(scope *model.Scope, name string) (*model.Variable, error) {
	scope, v := nn.ScopeOf(scope, name)
	vr := scope.GetVariable(v)
	if vr == nil {
		return nil, fmt.Errorf("lora: no variable %s in the context", name)
	}
	return vr, nil
}

// floats copies a Float32 or BFloat16 tensor's values as float32.
func floats(t *tensors.Tensor) ([]float32, error) {
	switch t.DType() {
	case dtypes.Float32:
		return tensors.CopyFlatData[float32](t)
	case dtypes.BFloat16:
		b, err := tensors.CopyFlatData[bfloat16.BFloat16](t)
		if err != nil {
			return nil, err
		}
		out := make([]float32, len(b))
		for i, x := range b {
			out[i] = x.Float32()
		}
		return out, nil
	}
	return nil, fmt.Errorf("dtype %s not supported (Float32 or BFloat16)", t.DType())
}

// stDType is the safetensors spelling of a GoMLX float dtype.
func stDType(d dtypes.DType) (safetensors.DType, error) {
	switch d {
	case dtypes.Float32:
		return safetensors.F32, nil
	case dtypes.BFloat16:
		return safetensors.BF16, nil
	}
	return "", fmt.Errorf("dtype %s not supported (Float32 or BFloat16)", d)
}

// toSafetensors copies a variable's value under name, in its own dtype.
func toSafetensors(name string, t *tensors.Tensor) (safetensors.Tensor, error) {
	d, err := stDType(t.DType())
	if err != nil {
		return safetensors.Tensor{}, fmt.Errorf("%s: %w", name, err)
	}
	out := safetensors.Tensor{Name: name, DType: d}
	for _, x := range t.Shape().Dimensions {
		out.Shape = append(out.Shape, int64(x))
	}
	err = t.ConstBytes(func(b []byte) { out.Data = append([]byte(nil), b...) })
	return out, err
}

// tensorOf builds a Float32 or BFloat16 tensor from float32 values,
// rounding to nearest even for BFloat16 as torch does (GoMLX v0.26.0's
// bfloat16.FromFloat32, and so nn.TensorOf, truncate).
func tensorOf(vals []float32, d dtypes.DType, dims ...int) (*tensors.Tensor, error) {
	if d != dtypes.BFloat16 {
		return nn.TensorOf(vals, d, dims...)
	}
	b := make([]bfloat16.BFloat16, len(vals))
	for i, v := range vals {
		b[i] = bfloat16.FromBits(safetensors.Float32ToBF16(v))
	}
	return tensors.FromFlatDataAndDimensions(b, dims...), nil
}
