package paper_test

import (
	"fmt"
	"log"

	"github.com/visreft/visreft/sdk/paper"
)

// Table 4 needs no weights: each method's trainable share of nanoLLaVA comes
// from its config, and is compared with the paper's printed value at the
// paper's precision.
func ExampleTable4() {
	rows, err := paper.Table4()
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range rows {
		fmt.Printf("%s: %d of %d, %s %% (paper %s %%, match %v)\n", r.Method, r.Trainable, r.Total, r.Printed, r.Paper, r.Match)
	}
	// Output:
	// ReFT (LoReFT r4, all 24 layers): 196704 of 1019548192, 0.019 % (paper 0.019 %, match true)
	// LoRA (r8, alpha 16, q_proj+v_proj): 1744896 of 1019548192, 0.17 % (paper 0.17 %, match true)
	// Full (LLM + projector): 621800448 of 1019548192, 60.99 % (paper 60.99 %, match true)
}
