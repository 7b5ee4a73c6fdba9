package mini

import (
	"bytes"
	gocontext "context"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/visreft/visreft/sdk/backend"
	"github.com/visreft/visreft/sdk/train"
)

func tinyOptions(t *testing.T, dir string, steps int) Options {
	t.Helper()
	b, err := backend.Shared()
	if err != nil {
		t.Fatal(err)
	}
	return Options{Out: filepath.Join(dir, "model"), Spec: Tiny(), Seed: 1, Mixture: MixtureOptions{Rows: 4000},
		Steps: steps, BatchSize: 8, LR: 1e-2, WarmupSteps: 3, CheckpointDir: filepath.Join(dir, "ckpt"),
		CheckpointEvery: 10, EvalItems: 16, Backend: b, Command: "go test ./sdk/mini"}
}

// TestPretrainTinyLearnsAndLoads: a few dozen steps on the tiny spec take
// the loss far below a uniform guess, and the folder written loads with
// llava.Load (by Hugging Face names) and answers exactly as the model did
// in memory.
func TestPretrainTinyLearnsAndLoads(t *testing.T) {
	if testing.Short() {
		t.Skip("trains for a minute")
	}
	dir := t.TempDir()
	o := tinyOptions(t, dir, 60)
	rep, err := Pretrain(gocontext.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	uniform := math.Log(float64(rep.Vocab.Size))
	first, last := rep.Losses[0], tailMean(rep.Losses, 5)
	t.Logf("vocab %d (ln %.2f), params %d, loss %.3f -> %.3f in %d steps, median step %.2fs, %.0f tokens/example",
		rep.Vocab.Size, uniform, rep.Params, first, last, rep.Steps, rep.MedianStep(), rep.SeqTokens)
	if math.Abs(first-uniform) > 1 {
		t.Errorf("first loss %.3f is not near ln(vocab) %.3f: the init is not uniform-ish", first, uniform)
	}
	if last > uniform/2 {
		t.Errorf("loss %.3f after %d steps, want well below ln(vocab) %.3f", last, rep.Steps, uniform)
	}
	for _, f := range []string{ConfigFile, WeightsFile, TokenizerFile, CardFile, LossPlotFile} {
		if _, err := os.Stat(filepath.Join(o.Out, f)); err != nil {
			t.Error(err)
		}
	}
	card, _ := os.ReadFile(filepath.Join(o.Out, CardFile))
	for _, want := range []string{"visreft-mini", "go test ./sdk/mini", "Held out", "mlp2x_gelu", "steps/s", "Perception check", "| blanked |"} {
		if !strings.Contains(string(card), want) {
			t.Errorf("the model card lacks %q", want)
		}
	}
	m, err := Load(o.Out)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(m.Config.Config, rep.Config.Config) || m.Config.Vision != rep.Config.Vision {
		t.Errorf("config read back differs:\n %+v\n %+v", m.Config, rep.Config)
	}
	held, err := NewMixture(m.Tokenizer, m.Config, MixtureOptions{Seed: o.Seed + HeldOutOffset, Rows: o.EvalItems, Turns: 1})
	if err != nil {
		t.Fatal(err)
	}
	ev, err := Evaluate(o.Backend, m, held, o.EvalItems, 16)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(ev, *rep.Eval) {
		t.Errorf("the loaded model answers differently:\n loaded    %+v\n in memory %+v", ev, *rep.Eval)
	}
	t.Logf("held-out exact answers %.0f %% (%v); e.g. %+v", ev.Accuracy(), ev.ByKind, ev.Samples[0])
	if rep.Objects == nil || rep.ObjectsBlank == nil || rep.Objects.N != o.EvalItems || rep.ObjectsBlank.N != o.EvalItems {
		t.Errorf("no perception check of %d questions with and without the images: %+v, %+v", o.EvalItems, rep.Objects, rep.ObjectsBlank)
	}
}

// TestPretrainResumes: a run cancelled after step 5 (checkpoint at step
// 4) and started again ends with the losses and weights of an
// uninterrupted run.
func TestPretrainResumes(t *testing.T) {
	if testing.Short() {
		t.Skip("trains three short runs")
	}
	whole := tinyOptions(t, t.TempDir(), 8)
	whole.CheckpointEvery, whole.EvalItems = 4, -1
	want, err := Pretrain(gocontext.Background(), whole)
	if err != nil {
		t.Fatal(err)
	}

	split := tinyOptions(t, t.TempDir(), 8)
	split.CheckpointEvery, split.EvalItems = 4, -1
	cctx, cancel := gocontext.WithCancel(gocontext.Background())
	split.OnStep = func(s train.StepInfo) {
		if s.Step == 5 {
			cancel()
		}
	}
	if _, err := Pretrain(cctx, split); err == nil {
		t.Fatal("the cancelled run did not stop")
	}
	if _, err := os.Stat(split.Out); err == nil {
		t.Fatal("a cancelled run wrote the model folder")
	}
	split.OnStep = nil
	// EvalOnly reads the run's checkpoint (step 4), answers held-out
	// questions and leaves the checkpoint and the model folder alone.
	state, _ := os.ReadFile(filepath.Join(split.CheckpointDir, train.StateFile))
	probe := split
	probe.EvalOnly, probe.EvalItems = true, 8
	pr, err := Pretrain(gocontext.Background(), probe)
	if err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(filepath.Join(split.CheckpointDir, train.StateFile))
	if pr.Steps != 4 || pr.Eval == nil || pr.Eval.N != 8 || len(state) == 0 || !bytes.Equal(state, after) {
		t.Errorf("EvalOnly: step %d, eval %+v, checkpoint state unchanged %v", pr.Steps, pr.Eval, bytes.Equal(state, after))
	}
	if _, err := os.Stat(split.Out); err == nil {
		t.Error("EvalOnly wrote the model folder")
	}
	got, err := Pretrain(gocontext.Background(), split)
	if err != nil {
		t.Fatal(err)
	}
	if got.ResumedAt != 4 {
		t.Errorf("resumed at step %d, want 4", got.ResumedAt)
	}
	if !reflect.DeepEqual(got.Losses, want.Losses) {
		t.Errorf("losses differ:\n resumed       %v\n uninterrupted %v", got.Losses, want.Losses)
	}
	a, _ := os.ReadFile(filepath.Join(whole.Out, WeightsFile))
	b, _ := os.ReadFile(filepath.Join(split.Out, WeightsFile))
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Error("the resumed run's weights differ from the uninterrupted run's")
	}
}

// TestPretrainContinuesFromInit: a second stage (Init) starts from the
// first stage's weights, not a fresh init: its first loss is the first
// stage's level, far below ln(vocab), and its card names the stage it
// continued. A folder of another architecture is refused.
func TestPretrainContinuesFromInit(t *testing.T) {
	if testing.Short() {
		t.Skip("trains two short runs")
	}
	first := tinyOptions(t, t.TempDir(), 30)
	first.EvalItems = -1
	r1, err := Pretrain(gocontext.Background(), first)
	if err != nil {
		t.Fatal(err)
	}
	second := tinyOptions(t, t.TempDir(), 3)
	second.Init, second.Seed, second.EvalItems, second.Mixture.Lettered = first.Out, 2, -1, 1
	r2, err := Pretrain(gocontext.Background(), second)
	if err != nil {
		t.Fatal(err)
	}
	uniform := math.Log(float64(r1.Vocab.Size))
	t.Logf("stage 1: %.3f -> %.3f; stage 2 (lettered yes/no, new scenes) starts at %.3f; ln(vocab) %.3f",
		r1.Losses[0], tailMean(r1.Losses, 5), r2.Losses[0], uniform)
	if r2.Losses[0] > uniform-1 {
		t.Errorf("stage 2 starts at loss %.3f, a fresh model's level (ln(vocab) %.3f): Init was not loaded", r2.Losses[0], uniform)
	}
	card, _ := os.ReadFile(filepath.Join(second.Out, CardFile))
	for _, want := range []string{"## Stages", first.Out, "lettered options"} {
		if !strings.Contains(string(card), want) {
			t.Errorf("the second stage's card lacks %q", want)
		}
	}
	other := tinyOptions(t, t.TempDir(), 1)
	other.Init, other.Spec.Layers = first.Out, 3
	if _, err := Pretrain(gocontext.Background(), other); err == nil || !strings.Contains(err.Error(), "another architecture") {
		t.Errorf("an Init of another architecture: %v", err)
	}
}
