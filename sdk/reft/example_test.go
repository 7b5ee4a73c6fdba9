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

// Layer specs resolve against the number of layers of the stream they sit
// on (24 decoder layers for nanoLLaVA).
func ExampleParseLayers() {
	for _, spec := range []string{"all", "15-23", "2;10;18", "-1", "0-3;20"} {
		layers, err := reft.ParseLayers(spec, 24)
		if err != nil {
			panic(err)
		}
		fmt.Printf("%-8s %v\n", spec, layers)
	}
	// Output:
	// all      [0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23]
	// 15-23    [15 16 17 18 19 20 21 22 23]
	// 2;10;18  [2 10 18]
	// -1       [23]
	// 0-3;20   [0 1 2 3 20]
}

// Position specs pick prompt tokens by their index among the prompt's text
// tokens: here a prompt of 9 text tokens.
func ExamplePositionSpec_Select() {
	for _, spec := range []string{"f3+l3", "sme"} {
		p, err := reft.ParsePositions(spec)
		if err != nil {
			panic(err)
		}
		fmt.Println(spec, "shared:", p.Select(9, true), "untied:", p.Groups(false), p.Select(9, false))
	}
	// Output:
	// f3+l3 shared: [[0 1 2 6 7 8]] untied: [first last] [[0 1 2] [6 7 8]]
	// sme shared: [[0 4 8]] untied: [start mid end] [[0] [4] [8]]
}
