package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/visreft/visreft/sdk/backend"
	"github.com/visreft/visreft/sdk/cvbench"
	"github.com/visreft/visreft/sdk/demo"
	"github.com/visreft/visreft/sdk/eval"
	"github.com/visreft/visreft/sdk/experiment"
	"github.com/visreft/visreft/sdk/steer"
)

// quickStart is the README's Go quick start, compiled with the tests (it
// is not run: it trains). TestReadmeQuickStartIsCompiled keeps the README's
// block equal to its body.
func quickStart(ctx context.Context) {
	// --- quick start ---
	b, _, _ := backend.New() // pure Go on a CPU (XLA if a GPU or XLA's CPU plugin is found)
	m, _ := demo.MiniModel() // visreft-mini; llava.Load(ctx, llava.HubID, ...) reads nanoLLaVA
	ds, _ := demo.Data()     // synthetic CV-Bench-format rows; cvbench.Open(ctx, cvbench.HubID, ...) reads CV-Bench
	train, val := ds.Split(cvbench.SplitOptions{Seed: 0, ValFraction: 0.2})
	d := experiment.Data{Train: train, Val: val, Prompt: cvbench.PromptOptions{Format: cvbench.PromptPaper}}

	// LoReFT as the paper trains it: rank 4, every layer, start/middle/end of the prompt.
	res, _ := experiment.Run(ctx, b, demo.MiniModel, d, experiment.PaperReFT(4, "all"), experiment.Options{Seed: 1})
	fmt.Printf("LoReFT %.1f %% (chance %.1f %%)\n", res.ValAccuracy, res.ChanceAccuracy)

	// A steering vector: no training, one evaluation pass to read it off the base model.
	pairs, _ := steer.Capture(b, m, train, d.PromptOptions(), []int{4}, steer.CaptureOptions{})
	vecs, _ := steer.Build(pairs, steer.MeanDiff)
	st, _ := steer.New(vecs, 4, steer.Scales{Text: 4})
	r, _ := eval.Evaluate(b, m, val, eval.Options{Mode: eval.Likelihood, Prompt: d.PromptOptions(), Steer: st})
	fmt.Printf("steered %.1f %%\n", r.Summary()["accuracy"])
	// --- end ---
}

// TestReadmeQuickStartIsCompiled: the README's ```go block is quickStart's
// body, line for line (indentation aside), so the quick start compiles.
func TestReadmeQuickStartIsCompiled(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, block, ok := strings.Cut(string(readme), "```go\n")
	block, _, ok2 := strings.Cut(block, "```")
	if !ok || !ok2 {
		t.Fatal("README.md has no ```go block")
	}
	self, err := os.ReadFile("quickstart_test.go")
	if err != nil {
		t.Fatal(err)
	}
	_, body, _ := strings.Cut(string(self), "// --- quick start ---\n")
	body, _, _ = strings.Cut(body, "\t// --- end ---")
	norm := func(s string) []string {
		var out []string
		for _, l := range strings.Split(s, "\n") {
			if l = strings.Join(strings.Fields(l), " "); l != "" {
				out = append(out, l)
			}
		}
		return out
	}
	got, want := norm(block), norm(body)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("README's Go quick start differs from quickStart in reproduce/quickstart_test.go:\nREADME:\n%s\n\nquickStart:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	_ = quickStart // compiled, never run
}
