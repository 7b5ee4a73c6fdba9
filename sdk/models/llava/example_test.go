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
