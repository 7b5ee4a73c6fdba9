package mini_test

import (
	"fmt"

	"github.com/visreft/visreft/sdk/mini"
)

// A pretraining conversation about one image in the paper's template: the
// first turn carries the image placeholder, later turns continue the
// conversation. Questions are free-form, never CV-Bench's multiple choice.
func ExampleText() {
	fmt.Println(mini.Text(mini.Paper, []mini.QA{
		{Q: "How many circles are there?", A: "3", Kind: "count"},
		{Q: "Is the red square left of the circle?", A: "yes", Kind: "relation"},
	}))
	// Output:
	// <|user|>: <image>
	// How many circles are there?
	// <|assistant|>: 3<|im_end|>
	// <|user|>: Is the red square left of the circle?
	// <|assistant|>: yes<|im_end|>
}
