package steer_test

import (
	"fmt"

	"github.com/visreft/visreft/sdk/steer"
)

// Two ways to turn paired activations (a question with its right answer,
// pos, and with a wrong one, neg) into one steering vector. Here every pair
// differs mostly along the first axis, so the two vectors nearly agree.
func ExampleMeanDifference() {
	pos := [][]float32{{3, 1, 0}, {2, 1, 1}, {4, 1, 1}}
	neg := [][]float32{{1, 1, 0}, {0, 0, 1}, {1, 2, 1}}
	md := steer.MeanDifference(pos, neg)
	pc := steer.FirstComponent(pos, neg)
	fmt.Printf("mean difference: [%.2f %.2f %.2f]\n", md[0], md[1], md[2])
	fmt.Printf("first component: [%.2f %.2f %.2f]\n", pc[0], pc[1], pc[2])
	fmt.Printf("cosine: %.4f\n", steer.Cosine(md, pc))
	// Output:
	// mean difference: [2.33 0.00 0.00]
	// first component: [2.32 -0.15 0.00]
	// cosine: 0.9978
}
