package nn

import (
	"fmt"
	"math"
	"slices"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
)

// ParamDTypeKey is the context parameter holding the dtype of weights that
// do not exist yet when a block first asks for them (fresh, randomly
// initialised models); loaded weights keep their own dtype.
const ParamDTypeKey = "visreft_param_dtype"

// Weight returns the variable name in scope's scope as a node of dtype, creating
// it (in the ParamDTypeKey dtype, float32 by default) if it does not exist.
// An existing variable whose dimensions differ from dims panics with both
// shapes and the full tensor name.
func Weight(scope *model.Scope, g *Graph, name string, dtype dtypes.DType, dims ...int) *Node {
	v := scope.GetVariable(name)
	if v == nil {
		pd := model.GetParamOr(scope, ParamDTypeKey, dtypes.Float32)
		v = scope.VariableWithShape(name, shapes.Make(pd, dims...))
	} else if !slices.Equal(v.Shape().Dimensions, dims) {
		panic(fmt.Sprintf("nn: %s: weight has shape %v, the model needs %v", HFName(scope.Scope(), name), v.Shape().Dimensions, dims))
	}
	w := v.NodeValue(g)
	if w.DType() != dtype {
		w = ConvertDType(w, dtype)
	}
	return w
}

// Linear is torch.nn.Linear: y = x·Wᵀ + b with W stored [out, in].
// x: [..., in] -> [..., out].
func Linear(scope *model.Scope, x *Node, out int, bias bool) *Node {
	in := x.Shape().Dimensions[x.Rank()-1]
	w := Weight(scope, x.Graph(), "weight", x.DType(), out, in)
	y := DotGeneral(x, []int{x.Rank() - 1}, nil, w, []int{1}, nil)
	if bias {
		y = Add(y, ExpandLeftToRank(Weight(scope, x.Graph(), "bias", x.DType(), out), y.Rank()))
	}
	if a := scope.GetVariable(LoRAAName); a != nil {
		y = Add(y, loraDelta(scope, x, a.Shape().Dimensions[0], out))
	}
	return y
}

// LoRA adapter variables: a Linear whose scope holds LoRAAName ([r, in])
// and LoRABName ([out, r]) adds scale·(x·Aᵀ)·Bᵀ, with scale the context
// parameter LoRAScaleKey (alpha/r), as PEFT's LoRA does. sdk/lora creates them.
const (
	LoRAAName    = "lora_A"
	LoRABName    = "lora_B"
	LoRAScaleKey = "lora_scale"
)

func loraDelta(scope *model.Scope, x *Node, r, out int) *Node {
	in := x.Shape().Dimensions[x.Rank()-1]
	a := Weight(scope, x.Graph(), LoRAAName, x.DType(), r, in)
	b := Weight(scope, x.Graph(), LoRABName, x.DType(), out, r)
	// PEFT's lora_dropout: inverted dropout on the LoRA path's input only,
	// while training; sdk/lora sets the rate ("lora_dropout" = lora.DropoutKey)
	// in the module's scope, and the mask comes from the context's RNG.
	if p := model.GetParamOr(scope, "lora_dropout", 0.0); p > 0 && scope.IsTraining(x.Graph()) {
		u := scope.RandomUniform(x.Graph(), shapes.Make(dtypes.Float32, x.Shape().Dimensions...))
		keep := ConvertDType(GreaterOrEqual(u, Scalar(x.Graph(), dtypes.Float32, p)), x.DType())
		x = MulScalar(Mul(x, keep), 1/(1-p))
	}
	h := DotGeneral(x, []int{x.Rank() - 1}, nil, a, []int{1}, nil)
	h = DotGeneral(h, []int{h.Rank() - 1}, nil, b, []int{1}, nil)
	return MulScalar(h, model.GetParamOr(scope, LoRAScaleKey, 1.0))
}

// RMSNorm is Qwen2RMSNorm: in float32, x·rsqrt(mean(x²)+eps), cast back to
// x's dtype, then scaled by weight. x: [..., hidden].
func RMSNorm(scope *model.Scope, x *Node, eps float64) *Node {
	hidden := x.Shape().Dimensions[x.Rank()-1]
	h := ConvertDType(x, dtypes.Float32)
	variance := ReduceAndKeep(Square(h), ReduceMean, -1)
	h = Mul(h, Rsqrt(AddScalar(variance, eps)))
	h = ConvertDType(h, x.DType())
	return Mul(ExpandLeftToRank(Weight(scope, x.Graph(), "weight", x.DType(), hidden), h.Rank()), h)
}

// LayerNorm is torch.nn.LayerNorm over the last axis with weight and bias,
// computed in float32. x: [..., hidden].
func LayerNorm(scope *model.Scope, x *Node, eps float64) *Node {
	hidden := x.Shape().Dimensions[x.Rank()-1]
	h := ConvertDType(x, dtypes.Float32)
	mean := ReduceAndKeep(h, ReduceMean, -1)
	centred := Sub(h, mean)
	variance := ReduceAndKeep(Square(centred), ReduceMean, -1)
	h = Mul(centred, Rsqrt(AddScalar(variance, eps)))
	g := x.Graph()
	r := h.Rank()
	h = Add(Mul(h, ExpandLeftToRank(Weight(scope, g, "weight", dtypes.Float32, hidden), r)), ExpandLeftToRank(Weight(scope, g, "bias", dtypes.Float32, hidden), r))
	return ConvertDType(h, x.DType())
}

// SiLU is x·sigmoid(x) (Qwen2's hidden_act "silu").
func SiLU(x *Node) *Node { return Mul(x, Sigmoid(x)) }

// GELUTanh is gelu_pytorch_tanh: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
func GELUTanh(x *Node) *Node {
	inner := MulScalar(Add(x, MulScalar(Mul(x, Square(x)), 0.044715)), math.Sqrt(2/math.Pi))
	return Mul(MulScalar(x, 0.5), OnePlus(Tanh(inner)))
}

// GELU is the exact erf form, torch.nn.GELU() (the projector's "gelu").
func GELU(x *Node) *Node {
	return Mul(MulScalar(x, 0.5), OnePlus(Erf(MulScalar(x, 1/math.Sqrt2))))
}

// HFName joins a GoMLX scope ("/model/layers/3/mlp/up_proj") and a variable
// name ("weight") into the Hugging Face tensor name.
func HFName(scope, name string) string {
	s := scope
	for len(s) > 0 && s[0] == '/' {
		s = s[1:]
	}
	out := []byte{}
	for i := 0; i < len(s); i++ {
		if s[i] == '/' {
			out = append(out, '.')
		} else {
			out = append(out, s[i])
		}
	}
	if len(out) == 0 {
		return name
	}
	return string(out) + "." + name
}
