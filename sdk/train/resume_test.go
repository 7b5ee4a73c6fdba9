package train

import (
	stdctx "context"
	"errors"
	"slices"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/visreft/visreft/sdk/internal/testutil"
)

// snapshot copies every trained variable's bytes, by name.
func snapshot(t *testing.T, tr *Trainer) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, tv := range tr.vars {
		tv.v.MustValue().ConstBytes(func(b []byte) { out[tv.name] = append([]byte(nil), b...) })
	}
	return out
}

// TestResumeAfterCancelIsBitIdentical: a run cancelled after step 5 and
// resumed from its step-4 checkpoint ends with exactly the weights and
// losses of an uninterrupted run: same data order, same dropout masks (LoRA
// dropout makes the RNG state matter), same moments, with and without
// gradient accumulation, and for variables the loss creates lazily (ReFT).
func TestResumeAfterCancelIsBitIdentical(t *testing.T) {
	data := tinyData(6, 8, 2)
	for _, c := range []struct {
		s     setup
		accum int
	}{{strategies[1], 1}, {strategies[1], 2}, {strategies[0], 1}} {
		accum, s := c.accum, c.s
		cfg := quiet()
		cfg.Epochs, cfg.BatchSize, cfg.AccumSteps = 4, 2, accum
		cfg.Schedule = Schedule{Kind: Linear, WarmupSteps: 2}

		whole, _ := newTiny(t, s, data, cfg)
		want, err := whole.Run(stdctx.Background())
		if err != nil {
			t.Fatal(err)
		}

		dir := t.TempDir()
		cfg.CheckpointDir, cfg.CheckpointEvery = dir, 2
		cctx, cancel := stdctx.WithCancel(stdctx.Background())
		cfg.OnStep = func(s StepInfo) {
			if s.Step == 5 {
				cancel()
			}
		}
		first, _ := newTiny(t, s, data, cfg)
		_, err = first.Run(cctx)
		if !errors.Is(err, stdctx.Canceled) {
			t.Fatalf("%s accum %d: cancelled run returned %v", s.name, accum, err)
		}
		t.Logf("%s accum %d: %v", s.name, accum, err)

		cfg.OnStep = nil
		second, _ := newTiny(t, s, data, cfg)
		if err := second.Resume(dir); err != nil {
			t.Fatal(err)
		}
		if second.Step() != 4 {
			t.Fatalf("resumed at step %d, want the step-4 checkpoint", second.Step())
		}
		got, err := second.Run(stdctx.Background())
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got.Losses, want.Losses) {
			t.Errorf("accum %d: losses differ:\n resumed %v\n whole   %v", accum, got.Losses, want.Losses)
		}
		a, b := snapshot(t, whole), snapshot(t, second)
		if len(a) == 0 || len(a) != len(b) {
			t.Fatalf("trained variables: %d vs %d", len(a), len(b))
		}
		for name, w := range a {
			if !slices.Equal(w, b[name]) {
				t.Errorf("accum %d: %s differs after resuming", accum, name)
			}
		}
	}
}

// TestResumeRefusesAnotherConfig: an exact resume needs the same run.
func TestResumeRefusesAnotherConfig(t *testing.T) {
	b := testutil.Backend(t)
	dir := t.TempDir()
	cfg := quiet()
	cfg.MaxSteps, cfg.CheckpointDir, cfg.CheckpointEvery = 2, dir, 1
	scope := model.NewStore().RootScope()
	setVar(t, scope, "toy.w", []float32{1, -2}, 2)
	tr, err := New(b, scope, quadratic, Full([]string{"toy."}, nil), vectors{{3, 0.5}}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Run(stdctx.Background()); err != nil {
		t.Fatal(err)
	}
	cfg.LR = 0.5
	tr2, _ := New(b, model.NewStore().RootScope(), quadratic, Full([]string{"toy."}, nil), vectors{{3, 0.5}}, cfg)
	if err := tr2.Resume(dir); err == nil || !contains(err.Error(), "lr: 0.001 vs 0.5") {
		t.Errorf("resume with another lr: %v", err)
	}
	// A fresh context gets the lazily absent variable from the checkpoint.
	cfg.LR = 1e-3
	ctx3 := model.NewStore().RootScope()
	tr3, _ := New(b, ctx3, quadratic, Full([]string{"toy."}, nil), vectors{{3, 0.5}}, cfg)
	if err := tr3.Resume(dir); err != nil {
		t.Fatal(err)
	}
	if got, want := getVar(t, ctx3, "toy.w"), getVar(t, scope, "toy.w"); !slices.Equal(got, want) {
		t.Errorf("restored %v, saved %v", got, want)
	}
	m, _ := tr3.Moments("toy.w")
	if m == nil || tensors.MustCopyFlatData[float32](m)[0] == 0 {
		t.Errorf("moments not restored: %v", m)
	}
}

// cancelAt cancels when the trainer asks for its n-th batch.
type cancelAt struct {
	Source
	n      int
	cancel func()
}

func (c *cancelAt) Batch(idx []int, rows, seq int) ([]any, error) {
	if c.n--; c.n == 0 {
		c.cancel()
	}
	return c.Source.Batch(idx, rows, seq)
}

// TestRunAgainAfterMidStepCancel: a cancel between the micro-batches of
// an accumulating step discards the half-accumulated step; calling Run
// again redoes it and ends exactly like an uninterrupted run.
func TestRunAgainAfterMidStepCancel(t *testing.T) {
	data := tinyData(6, 8, 7)
	cfg := quiet()
	cfg.Epochs, cfg.AccumSteps = 2, 3
	s := strategies[2]
	whole, _ := newTiny(t, s, data, cfg)
	want, err := whole.Run(stdctx.Background())
	if err != nil {
		t.Fatal(err)
	}
	cctx, cancel := stdctx.WithCancel(stdctx.Background())
	src := &cancelAt{Source: data, n: 5, cancel: cancel} // inside step 2
	tr, _ := newTiny(t, s, src, cfg)
	if _, err := tr.Run(cctx); !errors.Is(err, stdctx.Canceled) || tr.Step() != 1 {
		t.Fatalf("cancelled at step %d: %v", tr.Step(), err)
	}
	got, err := tr.Run(stdctx.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Losses, want.Losses) || got.Examples != want.Examples {
		t.Errorf("losses %v (%d examples), uninterrupted %v (%d)", got.Losses, got.Examples, want.Losses, want.Examples)
	}
	a, b := snapshot(t, whole), snapshot(t, tr)
	for name, w := range a {
		if !slices.Equal(w, b[name]) {
			t.Errorf("%s differs", name)
		}
	}
}
