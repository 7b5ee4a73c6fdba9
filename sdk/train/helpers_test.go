package train

import (
	"io"
	"math"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/visreft/visreft/sdk/nn"
)

// vectors is a Source of fixed-size float vectors: batches are [rows, d]
// (padding rows zero) plus a [rows] weight that is 1 on real rows.
type vectors [][]float32

func (v vectors) Len() int       { return len(v) }
func (v vectors) Length(int) int { return 1 }
func (v vectors) Batch(idx []int, rows, _ int) ([]any, error) {
	x := grid[float32](rows, len(v[0]))
	w := make([]float32, rows)
	for r, i := range idx {
		copy(x[r], v[i])
		w[r] = 1
	}
	return []any{x, w}, nil
}

// quiet is DefaultConfig without a progress bar.
func quiet() Config {
	c := DefaultConfig()
	c.Progress = io.Discard
	return c
}

// setVar creates or replaces a float32 variable by Hugging Face name.
func setVar(t testing.TB, scope *model.Scope, name string, vals []float32, dims ...int) {
	t.Helper()
	if err := nn.SetParam(scope, name, tensors.FromFlatDataAndDimensions(vals, dims...)); err != nil {
		t.Fatal(err)
	}
}

func getVar(t testing.TB, scope *model.Scope, name string) []float32 {
	t.Helper()
	scope, n := nn.ScopeOf(scope, name)
	v := scope.GetVariable(n)
	if v == nil {
		t.Fatalf("no variable %s", name)
	}
	f, err := asFloat32(v.MustValue())
	if err != nil {
		t.Fatal(err)
	}
	return tensors.MustCopyFlatData[float32](f)
}

func closeTo(a, b, tol float64) bool { return math.Abs(a-b) <= tol*math.Max(1, math.Abs(b)) }

func contains(s, sub string) bool { return strings.Contains(s, sub) }
