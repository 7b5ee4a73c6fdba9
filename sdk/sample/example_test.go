package sample_test

import (
	"fmt"
	"log"
	"path/filepath"
	"slices"

	"github.com/visreft/visreft/sdk/cvbench"
	"github.com/visreft/visreft/sdk/models/llava"
	"github.com/visreft/visreft/sdk/sample"
	"github.com/visreft/visreft/sdk/tokenizer"
)

// One training sample in nanoLLaVA's ChatML: the prompt's ids with one
// llava.ImageToken where the image's features go, then the answer, which
// is all the loss is computed on. Encode needs only the model's tokenizer
// (here visreft-mini's).
func ExampleEncode() {
	tok, err := tokenizer.Load(filepath.Join("..", "..", "testdata", "models", "visreft-mini", "tokenizer.json"))
	if err != nil {
		log.Fatal(err)
	}
	m := &llava.Model{Tokenizer: tok}
	x := cvbench.Example{Type: cvbench.Type3D, Task: cvbench.TaskDepth,
		Question: "Which is closer to the camera?", Choices: []string{"the lamp", "the sofa"}, Answer: "(B)"}
	x.Prompt = cvbench.PromptFor(x.Type, x.Question, x.Choices)

	s, err := sample.Encode(m, x, cvbench.PromptOptions{Format: cvbench.PromptChatML}, x.Answer)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(s.IDs), "ids, image at", slices.Index(s.IDs, llava.ImageToken), "prompt", s.PromptLen)
	fmt.Printf("target %q\n", tok.Decode(s.IDs[s.PromptLen:], false))
	// Output:
	// 40 ids, image at 10 prompt 37
	// target "(B)<|im_end|>"
}
