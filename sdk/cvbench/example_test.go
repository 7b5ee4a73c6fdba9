package cvbench_test

import (
	"fmt"
	"log"
	"os"

	"github.com/visreft/visreft/sdk/cvbench"
)

// Generate a small synthetic CV-Bench, load it, split it 80/20, render one
// prompt and score a trivial answerer that always says (A).
func Example() {
	dir, err := os.MkdirTemp("", "cvbench-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	opts := cvbench.GenerateOptions{Seed: 1, ImageSize: 64,
		Counts: cvbench.TaskCounts{Count: 10, Relation: 10, Depth: 10, Distance: 10}}
	if err := cvbench.Generate(dir, opts); err != nil {
		log.Fatal(err)
	}
	ds, err := cvbench.LoadDir(dir)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ds.Form, ds.Stats)
	train, val := ds.Split(cvbench.SplitOptions{Seed: 0, StratifyByTask: true})
	fmt.Println(len(train), "train,", len(val), "validation")

	r := val[0].Render(cvbench.PromptOptions{Format: cvbench.PromptPaper})
	fmt.Printf("%q -> %q\n", r.Prompt[:40], r.Target)

	correct := make([]bool, len(val))
	for i, e := range val {
		correct[i] = e.AnswerIndex() == 0
	}
	s, err := cvbench.Score(val, correct)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(s.Synthetic, s.All.Total)
	// Output:
	// parquet 40 rows from 2 files: 40 loaded, 0 skipped
	// 32 train, 8 validation
	// "<|user|>: Considering the relative posit" -> "(A)"
	// true 8
}
