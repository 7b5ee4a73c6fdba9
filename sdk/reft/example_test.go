package reft_test

import (
	"fmt"

	"github.com/visreft/visreft/sdk/reft"
)

// The paper's setting on nanoLLaVA: LoReFT rank 4 on all 24 decoder layers,
// one intervention per layer shared by the start, middle and end of the
// prompt. Positions are resolved per example from the indices of the
// prompt's text tokens in the final sequence (here 3 pads, 2 text tokens,
// 4 image tokens, 3 text tokens).
func ExampleNewSet() {
	s, err := reft.NewSet(reft.NanoLLaVA(), reft.Spec{
		Type: reft.LoReFT, Rank: 4, Layers: "all", Positions: "sme", ShareWeights: true})
	if err != nil {
		panic(err)
	}
	fmt.Printf("%d interventions, %d parameters, %.3f%% of nanoLLaVA\n", len(s.Interventions), s.NumParams(), 100*s.Share())
	loc, err := s.Locate([][]int{{3, 4, 9, 10, 11}}, 12)
	if err != nil {
		panic(err)
	}
	fmt.Println("positions", loc.Index[0][0], "valid", loc.Valid[0][0])
	// Output:
	// 24 interventions, 196704 parameters, 0.019% of nanoLLaVA
	// positions [3 9 11] valid [true true true]
}
