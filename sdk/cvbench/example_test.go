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

// Answer labels go from a choice's index to CV-Bench's "(A)" form and back;
// LetterIndex also takes the shorter forms models tend to generate.
func ExampleLetterIndex() {
	fmt.Println(cvbench.Letter(2))
	for _, s := range []string{"(C)", "c", "C)", "(C) the sofa"} {
		i, err := cvbench.LetterIndex(s)
		fmt.Println(i, err)
	}
	// Output:
	// (C)
	// 2 <nil>
	// 2 <nil>
	// 2 <nil>
	// 0 answer "(C) the sofa" is not a letter like (A)
}

// PromptFor phrases a question as CV-Bench's prompt field does: 2D rows end
// the question with the "Select from the following choices." phrase, 3D rows
// do not.
func ExamplePromptFor() {
	fmt.Println(cvbench.PromptFor(cvbench.Type2D, "How many chairs are in the image?", []string{"2", "3", "4"}))
	fmt.Println(cvbench.PromptFor(cvbench.Type3D, "Which is closer to the camera?", []string{"the lamp", "the sofa"}))
	// Output:
	// How many chairs are in the image? Select from the following choices.
	// (A) 2
	// (B) 3
	// (C) 4
	// Which is closer to the camera?
	// (A) the lamp
	// (B) the sofa
}

// BestBlindRule is the floor an image-reading model has to clear: the best
// rule that answers from the options alone, fitted on one split and scored
// on another. Here the right answer to every depth question is (B).
func ExampleBestBlindRule() {
	q := func(answer string) cvbench.Example {
		return cvbench.Example{Type: cvbench.Type3D, Task: cvbench.TaskDepth,
			Question: "Which is closer to the camera?", Choices: []string{"the lamp", "the sofa"}, Answer: answer}
	}
	train := []cvbench.Example{q("(B)"), q("(B)"), q("(A)"), q("(B)")}
	val := []cvbench.Example{q("(B)"), q("(A)"), q("(B)"), q("(B)")}
	fmt.Println(cvbench.BestBlindRule(train, val))
	// Output:
	// Depth: always (B): 75.0 % of 4
}
