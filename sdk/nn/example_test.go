package nn_test

import (
	"fmt"

	"github.com/gomlx/gomlx/ml/model"
	"github.com/visreft/visreft/sdk/nn"
)

// A block's weights live in the GoMLX scope whose path is the Hugging Face
// module name: HFName joins the two, ScopeOf splits a tensor name back.
func ExampleScopeOf() {
	root := model.NewStore().RootScope()
	scope, name := nn.ScopeOf(root, "model.layers.3.self_attn.q_proj.weight")
	fmt.Println(scope.Scope(), name)
	fmt.Println(nn.HFName(scope.Scope(), name))
	// Output:
	// /model/layers/3/self_attn/q_proj weight
	// model.layers.3.self_attn.q_proj.weight
}
