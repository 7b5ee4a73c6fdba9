package qwen2_test

import (
	"fmt"

	"github.com/visreft/visreft/sdk/models/qwen2"
	"github.com/visreft/visreft/sdk/nn"
)

// nanoLLaVA's language model, sized from its config alone.
func ExampleParams() {
	c := qwen2.NanoLLaVA()
	total, _ := nn.Count(qwen2.Params(c))
	fmt.Println(c.NumHiddenLayers, "layers, hidden size", c.HiddenSize, "-", total, "parameters")
	// Output:
	// 24 layers, hidden size 1024 - 619570176 parameters
}

// Rotary positions of a left-padded batch: real tokens count from 0, so a
// padded row's tokens get the positions they would have alone; padding gets
// 1, as in transformers' generate.
func ExamplePositionIDs() {
	fmt.Println(qwen2.PositionIDs([][]bool{
		{false, false, true, true, true},
		{true, true, true, true, true},
	}))
	// Output:
	// [[1 1 0 1 2] [0 1 2 3 4]]
}
