package train

import (
	stdctx "context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/visreft/visreft/sdk/internal/testutil"
	"github.com/visreft/visreft/sdk/nn"
	"github.com/visreft/visreft/sdk/safetensors"
)

func readState(t *testing.T, dir string) checkpointState {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, StateFile))
	if err != nil {
		t.Fatal(err)
	}
	var st checkpointState
	if err := json.Unmarshal(raw, &st); err != nil {
		t.Fatal(err)
	}
	return st
}

func savedParam(t *testing.T, dir string, st checkpointState, key string) []float32 {
	t.Helper()
	f, err := safetensors.Open(filepath.Join(dir, st.Weights))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	v, err := f.ReadFloat32("param:" + key)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestNonFiniteStopsAndKeepsCheckpoint: a NaN loss (bad data) or an
// infinite gradient with a finite loss stops the run at step 3, leaves the
// weights as after step 2 and keeps the step-2 checkpoint, saying so.
func TestNonFiniteStopsAndKeepsCheckpoint(t *testing.T) {
	nan := float32(math.NaN())
	linear := func(scope *model.Scope, batch []*Node) *Node { // gradient = x, loss = w·x
		w := nn.Weight(scope.At("toy"), batch[0].Graph(), "w", batch[0].DType(), 2)
		return ReduceAllSum(Mul(batch[0], ExpandLeftToRank(w, 2)))
	}
	cases := []struct {
		name  string
		loss  LossFn
		data  vectors
		accum int
	}{
		{"NaN loss", quadratic, vectors{{1, 1}, {2, 2}, {nan, 0}, {3, 3}}, 1},
		{"NaN loss, accumulating", quadratic, vectors{{1, 1}, {2, 2}, {1, 1}, {2, 2}, {nan, 0}, {3, 3}, {1, 1}, {1, 1}}, 2},
		{"Inf gradient, finite loss", linear, vectors{{1, 1}, {2, 2}, {3e38, 3e38}, {3, 3}}, 1},
	}
	for _, c := range cases {
		dir := t.TempDir()
		scope := model.NewStore().RootScope()
		setVar(t, scope, "toy.w", []float32{1e-10, 1e-10}, 2)
		cfg := quiet()
		cfg.Shuffle, cfg.Epochs, cfg.AccumSteps, cfg.LR, cfg.ClipNorm = false, 1, c.accum, 1e-12, 0
		cfg.CheckpointDir, cfg.CheckpointEvery = dir, 1
		tr, err := New(testutil.Backend(t), scope, c.loss, Full([]string{"toy."}, nil), c.data, cfg)
		if err != nil {
			t.Fatal(err)
		}
		_, err = tr.Run(stdctx.Background())
		var nf *NonFiniteError
		if !errors.As(err, &nf) {
			t.Fatalf("%s: Run returned %v, want a NonFiniteError", c.name, err)
		}
		t.Logf("%s: %v", c.name, err)
		if nf.Step != 3 || nf.CheckpointStep != 2 || !contains(err.Error(), "last good checkpoint (step 2) is kept") {
			t.Errorf("%s: error %+v", c.name, nf)
		}
		st := readState(t, dir)
		if st.Step != 2 {
			t.Errorf("%s: the checkpoint on disk is step %d, want 2", c.name, st.Step)
		}
		if got, saved := getVar(t, scope, "toy.w"), savedParam(t, dir, st, "/toy/w"); !slices.Equal(got, saved) {
			t.Errorf("%s: weights in memory %v, step-2 checkpoint %v", c.name, got, saved)
		}
	}
}

// failingReader yields a few bytes and then fails, like a disk filling up.
type failingReader struct{ n int }

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errors.New("disk full")
	}
	p[0] = 0
	f.n--
	return 1, nil
}

// TestCheckpointWriteIsAtomic: a checkpoint that fails half way leaves the
// previous one in place, complete and resumable, and no stray files.
func TestCheckpointWriteIsAtomic(t *testing.T) {
	dir := t.TempDir()
	scope := model.NewStore().RootScope()
	setVar(t, scope, "toy.w", []float32{1, -2}, 2)
	cfg := quiet()
	cfg.MaxSteps, cfg.CheckpointDir, cfg.CheckpointEvery = 4, dir, 2
	tr, err := New(testutil.Backend(t), scope, quadratic, Full([]string{"toy."}, nil), vectors{{3, 0.5}}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	calls := 0
	sourceHook = func(r io.Reader) io.Reader {
		calls++
		if calls > 3 { // the second checkpoint (3 tensors each)
			return &failingReader{n: 5}
		}
		return r
	}
	defer func() { sourceHook = func(r io.Reader) io.Reader { return r } }()
	_, err = tr.Run(stdctx.Background())
	if err == nil || !contains(err.Error(), "disk full") || !contains(err.Error(), "the checkpoint of step 2") {
		t.Fatalf("Run = %v, want the write error naming the kept checkpoint", err)
	}
	files, _ := os.ReadDir(dir)
	var names []string
	for _, f := range files {
		names = append(names, f.Name())
	}
	if want := []string{StateFile, "weights-00000002.safetensors"}; !slices.Equal(names, want) {
		t.Errorf("checkpoint dir holds %v, want %v", names, want)
	}
	sourceHook = func(r io.Reader) io.Reader { return r }
	tr2, _ := New(testutil.Backend(t), model.NewStore().RootScope(), quadratic, Full([]string{"toy."}, nil), vectors{{3, 0.5}}, cfg)
	if err := tr2.Resume(dir); err != nil || tr2.Step() != 2 {
		t.Errorf("resume after the failed write: step %d, %v", tr2.Step(), err)
	}
}

// TestUnusedTrainableIsAnError: a selected variable the loss never reads
// would silently never train.
func TestUnusedTrainableIsAnError(t *testing.T) {
	scope := model.NewStore().RootScope()
	setVar(t, scope, "toy.w", []float32{1, -2}, 2)
	setVar(t, scope, "toy.orphan", []float32{1}, 1)
	cfg := quiet()
	cfg.MaxSteps = 1
	tr, _ := New(testutil.Backend(t), scope, quadratic, Full([]string{"toy."}, nil), vectors{{3, 0.5}}, cfg)
	if _, err := tr.Run(stdctx.Background()); err == nil || !contains(err.Error(), "toy.orphan") {
		t.Errorf("Run = %v, want an error naming toy.orphan", err)
	}
}
