package experiment

import (
	gocontext "context"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/visreft/visreft/sdk/backend"
	"github.com/visreft/visreft/sdk/cvbench"
	"github.com/visreft/visreft/sdk/demo"
	"github.com/visreft/visreft/sdk/eval"
	"github.com/visreft/visreft/sdk/internal/testutil"
	"github.com/visreft/visreft/sdk/models/llava"
	"github.com/visreft/visreft/sdk/reft"
)

// alwaysA rewrites examples so the correct choice is always the first: a
// task learnable from the prompt alone, on which an untrained model sits at
// chance. It checks the whole loop (data, loss, strategy, steer, eval) has
// an effect, not that the demo model can see (sdk/mini's
// TestMiniReFTCountsThroughTheImage shows fine-tuning reading the image).
func alwaysA(xs []cvbench.Example) []cvbench.Example {
	out := make([]cvbench.Example, len(xs))
	for i, x := range xs {
		k := x.AnswerIndex()
		ch := append([]string{}, x.Choices...)
		ch[0], ch[k] = ch[k], ch[0]
		x.Choices, x.Answer = ch, "(A)"
		x.Prompt = x.Question + " Select from the following choices."
		for j, c := range ch {
			x.Prompt += "\n" + cvbench.Letter(j) + " " + c
		}
		out[i] = x
	}
	return out
}

func smallRun(t *testing.T, m Method) (*Result, float64) {
	t.Helper()
	t.Setenv("VISREFT_CACHE", t.TempDir())
	ds, err := demo.Data()
	if err != nil {
		t.Fatal(err)
	}
	var two []cvbench.Example // 2-choice tasks: chance is 50 %
	for _, x := range ds.Examples {
		if len(x.Choices) == 2 {
			two = append(two, x)
		}
	}
	xs := alwaysA(two)
	d := Data{Train: xs[:32], Val: xs[96:120]}
	b, err := backend.NewFromConfig(backend.CPUConfig)
	if err != nil {
		t.Fatal(err)
	}
	newModel := func() (*llava.Model, error) { return demo.Model(1) }
	base, err := newModel()
	if err != nil {
		t.Fatal(err)
	}
	before, err := eval.Evaluate(b, base, d.Val, eval.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m.Train.Progress, m.Train.Epochs, m.Train.BatchSize, m.Train.LR = io.Discard, 3, 4, 1e-2
	res, err := Run(gocontext.Background(), b, newModel, d, m, Options{EvalTrain: 8, Seed: 1, EvalModes: []eval.Mode{eval.Likelihood}})
	if err != nil {
		t.Fatal(err)
	}
	return res, before.Summary()["accuracy"]
}

func checkLearned(t *testing.T, res *Result, before float64) {
	t.Helper()
	n := len(res.Losses)
	first, last := mean(res.Losses[:3]), mean(res.Losses[n-3:])
	t.Logf("%s: %d steps, loss %.3f -> %.3f, val accuracy %.1f %% -> %.1f %%, train accuracy %.1f %%, %.1f examples/s",
		res.Method, n, first, last, before, res.ValAccuracy, res.TrainAccuracy, res.ExamplesPerSec)
	if !(last < first) {
		t.Errorf("loss did not fall: %.3f -> %.3f", first, last)
	}
	if !(res.ValAccuracy > before) {
		t.Errorf("validation accuracy %.1f %% does not beat the untrained model's %.1f %%", res.ValAccuracy, before)
	}
	if !res.Synthetic {
		t.Error("result on synthetic data is not marked synthetic")
	}
}

func mean(xs []float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

func TestReFTLearns(t *testing.T) {
	res, before := smallRun(t, PaperReFT(4, "all"))
	checkLearned(t, res, before)
	if res.TrainableParams != 2*(2*64*4+4) {
		t.Errorf("trainable %d", res.TrainableParams)
	}
}

func TestLoRALearns(t *testing.T) {
	res, before := smallRun(t, PaperLoRA())
	checkLearned(t, res, before)
}

func TestFullLearns(t *testing.T) {
	res, before := smallRun(t, PaperFull())
	checkLearned(t, res, before)
}

// TestVisionSideReFTLearns: interventions on the vision tower's layers and
// on the projector output (beyond pyreft, as MRT) train through the same
// loop; such a method cannot use cached image features.
func TestVisionSideReFTLearns(t *testing.T) {
	m := PaperReFT(4, "all")
	m.ReFT = []reft.Spec{
		{Type: reft.LoReFT, Rank: 4, Layers: "all", Positions: "f4+l4", ShareWeights: true, Component: reft.VisionBlockOutput},
		{Type: reft.LoReFT, Rank: 4, Layers: "all", Positions: "f4+l4", ShareWeights: true, Component: reft.ProjectorOutput},
	}
	if m.VisionFrozen() {
		t.Fatal("a vision-side method claims the tower is frozen")
	}
	res, before := smallRun(t, m)
	checkLearned(t, res, before)
	// 2 vision layers of width 48 and the projector output of width 64, rank 4.
	if want := int64(2*(2*48*4+4) + (2*64*4 + 4)); res.TrainableParams != want {
		t.Errorf("trainable %d, want %d", res.TrainableParams, want)
	}
}

// TestRunResumesFromCheckpoint: a run that finds its checkpoint resumes
// there (here: after the last step) and ends with the same weights, so the
// same losses and predictions, as the run that wrote it.
func TestRunResumesFromCheckpoint(t *testing.T) {
	t.Setenv("VISREFT_CACHE", t.TempDir())
	ds, err := demo.Data()
	if err != nil {
		t.Fatal(err)
	}
	d := Data{Train: ds.Examples[:8], Val: ds.Examples[8:12]}
	b := testutil.Backend(t)
	newModel := func() (*llava.Model, error) { return demo.Model(1) }
	m := PaperReFT(4, "all")
	m.Train.Progress, m.Train.BatchSize = io.Discard, 4
	dir := t.TempDir()
	opt := Options{EvalTrain: -1, Seed: 1, CheckpointDir: dir, CheckpointEvery: 1, EvalModes: []eval.Mode{eval.Likelihood}}
	first, err := Run(gocontext.Background(), b, newModel, d, m, opt)
	if err != nil {
		t.Fatal(err)
	}
	var progress strings.Builder
	m.Train.Progress = &progress
	again, err := Run(gocontext.Background(), b, newModel, d, m, opt)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(progress.String(), "resuming reft from step 2 of 2") {
		t.Errorf("second run did not resume: %q", progress.String())
	}
	if fmt.Sprint(first.Losses) != fmt.Sprint(again.Losses) {
		t.Errorf("losses %v, resumed %v", first.Losses, again.Losses)
	}
	for i, p := range first.ValResult.Predictions {
		if fmt.Sprint(p.LogProbs) != fmt.Sprint(again.ValResult.Predictions[i].LogProbs) {
			t.Errorf("example %d: log-probs %v, after resume %v", i, p.LogProbs, again.ValResult.Predictions[i].LogProbs)
		}
	}
}
