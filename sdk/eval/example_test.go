package eval_test

import (
	"fmt"

	"github.com/visreft/visreft/sdk/eval"
)

// ParseChoice reads which option a generated answer picks; -1 means none
// or several, which the Generate protocol counts as wrong.
func ExampleParseChoice() {
	choices := []string{"the lamp", "the sofa"}
	for _, answer := range []string{"(B)", "The answer is (A).", "the sofa", "both", "A or B"} {
		fmt.Printf("%q -> %d\n", answer, eval.ParseChoice(answer, choices))
	}
	// Output:
	// "(B)" -> 1
	// "The answer is (A)." -> 0
	// "the sofa" -> 1
	// "both" -> -1
	// "A or B" -> -1
}
