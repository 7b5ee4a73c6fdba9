package reft

import (
	"math"
	"math/rand/v2"
	"testing"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/visreft/visreft/sdk/internal/testutil"
)

// TestHouseholderIsThinQ: the graph's R from householderQR's vectors is the
// transposed thin Q of the factored matrix: orthonormal rows, and R·G upper
// triangular (G's j-th column lies in the span of R's first j+1 rows).
func TestHouseholderIsThinQ(t *testing.T) {
	const d, r = 10, 4
	rng := rand.New(rand.NewPCG(1, 2))
	g := make([][]float64, d)
	for i := range g {
		g[i] = make([]float64, r)
		for j := range g[i] {
			g[i][j] = rng.NormFloat64()
		}
	}
	v := householderQR(g)
	out := MustExecOnce(testutil.Backend(t), func(v, g *Node) *Node {
		R := Householder(v)
		return Concatenate([]*Node{R, Transpose(DotGeneral(R, []int{1}, nil, g, []int{0}, nil), 0, 1)}, 1) // [r, d + r]: R | (R·G)ᵀ
	}, v, g)
	rows := out.Value().([][]float64)
	// Orthonormality in float64.
	worst := 0.0
	for i := range r {
		for j := range r {
			s := 0.0
			for k := range d {
				s += rows[i][k] * rows[j][k]
			}
			if i == j {
				s--
			}
			worst = math.Max(worst, math.Abs(s))
		}
	}
	if worst > 1e-14 {
		t.Errorf("float64 max |RRᵀ − I| = %.2e", worst)
	}
	for j := range r { // (R·G)[i][j] = rows[j][d+i]
		for i := j + 1; i < r; i++ {
			if x := rows[j][d+i]; math.Abs(x) > 1e-12 {
				t.Errorf("(R·G)[%d][%d] = %.2e, want 0 below the diagonal", i, j, x)
			}
		}
	}
}

// TestCompleteOrthonormal: the pyreft-export base is orthogonal and keeps
// the given columns exactly.
func TestCompleteOrthonormal(t *testing.T) {
	const d, r = 9, 3
	rng := rand.New(rand.NewPCG(3, 4))
	v := randomOrthoVectors(rng, d, r)
	out := MustExecOnce(testutil.Backend(t), func(v *Node) *Node { return Transpose(Householder(v), 0, 1) }, v)
	q := out.Value().([][]float64)
	full := completeOrthonormal(q)
	worst := 0.0
	for i := range d {
		for j := range d {
			s := 0.0
			for k := range d {
				s += full[k][i] * full[k][j]
			}
			if i == j {
				s--
			}
			worst = math.Max(worst, math.Abs(s))
		}
		for j := range r {
			if full[i][j] != q[i][j] {
				t.Fatalf("column %d changed", j)
			}
		}
	}
	if worst > 1e-13 {
		t.Errorf("max |BᵀB − I| = %.2e", worst)
	}
}
