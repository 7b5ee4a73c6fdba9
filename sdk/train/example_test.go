package train_test

import (
	"fmt"

	"github.com/visreft/visreft/sdk/train"
)

// A Strategy decides by Hugging Face name which variables train. The
// paper's full fine-tuning trains the language model and the projector and
// freezes the vision tower; LoRA trains only the adapters.
func ExampleStrategy_Trains() {
	full := train.Full([]string{"model.", "lm_head."}, []string{"model.vision_tower."})
	names := []string{
		"model.layers.3.self_attn.q_proj.weight",
		"model.mm_projector.0.weight",
		"model.vision_tower.vision_tower.vision_model.encoder.layers.0.mlp.fc1.weight",
		"model.layers.3.self_attn.q_proj.lora_A",
	}
	fmt.Println("full  lora  variable")
	for _, n := range names {
		f, err := full.Trains(n)
		if err != nil {
			panic(err)
		}
		l, err := train.LoRA().Trains(n)
		if err != nil {
			panic(err)
		}
		fmt.Printf("%-5v %-5v %s\n", f, l, n)
	}
	// Output:
	// full  lora  variable
	// true  false model.layers.3.self_attn.q_proj.weight
	// true  false model.mm_projector.0.weight
	// false false model.vision_tower.vision_tower.vision_model.encoder.layers.0.mlp.fc1.weight
	// true  true  model.layers.3.self_attn.q_proj.lora_A
}

// Tokens is the Source of tokenised prompt/answer pairs: a batch holds the
// ids, rotary positions, validity, next-token labels and loss weights,
// which are 1 only where the next token is part of the answer.
func ExampleTokens() {
	src := train.Tokens{Pad: 0, Examples: []train.TokenExample{
		{IDs: []int32{11, 12, 13, 21, 22}, Answer: []bool{false, false, false, true, true}},
	}}
	batch, err := src.Batch([]int{0}, 1, 6)
	if err != nil {
		panic(err)
	}
	for i, name := range []string{"ids", "positions", "valid", "labels", "weights"} {
		fmt.Println(name, batch[i])
	}
	// Output:
	// ids [[11 12 13 21 22 0]]
	// positions [[0 1 2 3 4 5]]
	// valid [[true true true true true false]]
	// labels [[12 13 21 22 0 0]]
	// weights [[0 0 1 1 0 0]]
}
