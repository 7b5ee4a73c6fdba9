package llava

import (
	"fmt"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/visreft/visreft/sdk/nn"
)

// ComponentProjector names the projector's params in parameter counts.
const ComponentProjector = "projector"

// ProjectorParams lists the mlp2x_gelu projector's weights: an
// nn.Sequential whose indices 0 and 2 are Linears (index 1, the GELU, has
// none), mm_hidden_size -> hidden_size -> hidden_size.
func ProjectorParams(c Config) []nn.Param {
	v, h := c.MMHiddenSize, c.HiddenSize
	return []nn.Param{
		{Name: "model.mm_projector.0.weight", Dims: []int{h, v}, Component: ComponentProjector},
		{Name: "model.mm_projector.0.bias", Dims: []int{h}, Component: ComponentProjector},
		{Name: "model.mm_projector.2.weight", Dims: []int{h, h}, Component: ComponentProjector},
		{Name: "model.mm_projector.2.bias", Dims: []int{h}, Component: ComponentProjector},
	}
}

// Project maps vision features into the text model's embedding space:
// Linear, exact-erf GELU (torch.nn.GELU's default), Linear.
//
//	x: [..., mm_hidden_size] (the tower's last kept layer) -> [..., hidden_size]
func Project(scope *model.Scope, c Config, x *Node) *Node {
	if in := x.Shape().Dimensions[x.Rank()-1]; in != c.MMHiddenSize {
		panic(fmt.Sprintf("llava: projector input is %d wide, mm_hidden_size is %d", in, c.MMHiddenSize))
	}
	p := scope.At("model").At("mm_projector")
	h := nn.GELU(nn.Linear(p.At("0"), x, c.HiddenSize, true))
	return nn.Linear(p.At("2"), h, c.HiddenSize, true)
}
