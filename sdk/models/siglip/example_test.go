package siglip_test

import (
	"fmt"

	"github.com/visreft/visreft/sdk/models/siglip"
	"github.com/visreft/visreft/sdk/nn"
)

// nanoLLaVA's vision tower: SigLIP so400m at 384 px with patches of 14, its
// last layer deleted. Its output has one feature per patch, 27 × 27 = 729.
func ExampleNanoLLaVA() {
	c := siglip.NanoLLaVA()
	total, _ := nn.Count(siglip.Params(c))
	fmt.Println(c.LayersKept, "layers,", c.NumPatches(), "patches of hidden size", c.HiddenSize)
	fmt.Println(total, "parameters under", c.Prefix)
	// Output:
	// 26 layers, 729 patches of hidden size 1152
	// 397747744 parameters under model.vision_tower.vision_tower.vision_model.
}
