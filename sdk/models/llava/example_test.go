package llava_test

import (
	gocontext "context"
	"fmt"
	"image/png"
	"os"

	"github.com/visreft/visreft/sdk/backend"
	"github.com/visreft/visreft/sdk/cvbench"
	"github.com/visreft/visreft/sdk/hub"
	"github.com/visreft/visreft/sdk/models/llava"
)

// Example_quickStart is the README's quick start, compiled by the tests (not
// run: it downloads nanoLLaVA and CV-Bench).
func Example_quickStart() {
	ctx := gocontext.Background()
	b, _, _ := backend.New()
	m, _ := llava.Load(ctx, llava.HubID, llava.LoadOptions{Download: true})
	f, _ := os.Open("depth.png")
	img, _ := png.Decode(f)
	answer, _ := m.Answer(b, img, "Which object is closer to the camera? (A) ... (B) ...", 16)
	ds, _ := cvbench.Open(ctx, cvbench.HubID, hub.Options{}, true)
	train, val := ds.Split(cvbench.SplitOptions{Seed: 0, ValFraction: 0.2})
	n := llava.CountParams(llava.NanoLLaVA())
	fmt.Printf("full fine-tuning trains %.2f %%\n", n.FullFineTuneShare())
	fmt.Println(answer, len(train), len(val))
}

// nanoLLaVA's parameters by part, from its config alone (no weights).
func ExampleCountParams() {
	n := llava.CountParams(llava.NanoLLaVA())
	fmt.Println("vision tower", n.Vision)
	fmt.Println("projector", n.Projector)
	fmt.Println("language model", n.LLM)
	fmt.Println("total", n.Total)
	fmt.Printf("full fine-tuning (LLM and projector): %.2f %%\n", n.FullFineTuneShare())
	// Output:
	// vision tower 397747744
	// projector 2230272
	// language model 619570176
	// total 1019548192
	// full fine-tuning (LLM and projector): 60.99 %
}

// The prompt nanoLLaVA's model card uses, in ChatML, with the image
// placeholder that Encode turns into ImageToken and the model replaces by
// the image's projected patch embeddings.
func ExampleChatPrompt() {
	fmt.Println(llava.ChatPrompt("Which object is closer to the camera?"))
	// Output:
	// <|im_start|>system
	// Answer the question<|im_end|><|im_start|>user
	// <image>
	// Which object is closer to the camera?<|im_end|><|im_start|>assistant
}
