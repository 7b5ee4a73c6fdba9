package experiment_test

import (
	"fmt"

	"github.com/visreft/visreft/sdk/cvbench"
	"github.com/visreft/visreft/sdk/experiment"
	"github.com/visreft/visreft/sdk/models/llava"
)

// Chance is not 25 %: CV-Bench's questions have two to six options, and a
// uniform guess scores the mean of 1/choices.
func ExampleChanceAccuracy() {
	xs := []cvbench.Example{
		{Task: cvbench.TaskDepth, Choices: []string{"the lamp", "the sofa"}, Answer: "(A)"},
		{Task: cvbench.TaskCount, Choices: []string{"0", "1", "2", "3"}, Answer: "(C)"},
	}
	fmt.Printf("%.1f %%\n", experiment.ChanceAccuracy(xs))
	// Output:
	// 37.5 %
}

// The paper's three methods on nanoLLaVA, counted from its config alone.
func ExampleMethod_TrainableParams() {
	c := llava.NanoLLaVA()
	for _, m := range []experiment.Method{experiment.PaperReFT(4, "all"), experiment.PaperLoRA(), experiment.PaperFull()} {
		n, err := m.TrainableParams(c)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(m.Name, n)
	}
	// Output:
	// reft 196704
	// lora 1744896
	// full 621800448
}
