package reft

import (
	"math"
	"sort"
	"strings"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/visreft/visreft/sdk/internal/testutil"
)

// editOf reads an intervention's linear edit M = Rᵀ(W − R) [d][d] and
// bias edit c = Rᵀb [d] from scope ("reft" scope).
func editOf(t *testing.T, scope *model.Scope, s *Set, it Intervention) ([][]float64, []float64) {
	t.Helper()
	rs, err := Rotations(testutil.Backend(t), scope.At("reft"), s)
	if err != nil {
		t.Fatal(err)
	}
	r := matrixOf(rs[it.Scope()])
	w, err := hostParam(scope.At("reft"), it.Scope()+"."+SourceWeightName)
	if err != nil {
		t.Fatal(err)
	}
	b, err := hostParam(scope.At("reft"), it.Scope()+"."+SourceBiasName)
	if err != nil {
		t.Fatal(err)
	}
	a := reshape(w, it.Rank, it.Hidden)
	for i := range a {
		for j := range a[i] {
			a[i][j] -= r[i][j]
		}
	}
	m := matMul(transpose(r), a)
	c := make([]float64, it.Hidden)
	for j := range c {
		for i := range r {
			c[j] += r[i][j] * b[i]
		}
	}
	return m, c
}

func frob2(m [][]float64) float64 {
	s := 0.0
	for _, row := range m {
		s += dot(row, row)
	}
	return s
}

func sub(x, y [][]float64) [][]float64 {
	out := make([][]float64, len(x))
	for i := range x {
		out[i] = make([]float64, len(x[i]))
		for j := range x[i] {
			out[i][j] = x[i][j] - y[i][j]
		}
	}
	return out
}

// TestTruncateLoReFT: a rank-4 LoReFT on every layer, truncated to layers
// 1..2 at rank 4, has the same edit there (Rᵀ(W − R) and Rᵀb within 1e-5);
// truncated to rank 2 its edit is the best rank-2 one within R's row space:
// the residual is orthogonal to it (Pythagoras, 1e-9 relative) and none of
// 300 random 2-dimensional subspaces of that row space keeps more of the
// edit; the bias is projected onto the kept directions. A site the trained
// set lacks, or a higher rank, is refused.
func TestTruncateLoReFT(t *testing.T) {
	const d = 16
	src := mustSet(t, streamBase(d, 3), Spec{Type: LoReFT, Rank: 4, Layers: "all", Positions: "l1"})
	srcCtx := initCtx(t, src, InitOptions{Seed: 3}, dtypes.Float32)
	b := testutil.Backend(t)
	for _, rank := range []int{4, 2} {
		dst := mustSet(t, streamBase(d, 3), Spec{Type: LoReFT, Rank: rank, Layers: "1-2", Positions: "l1"})
		dstCtx := model.NewStore().RootScope()
		dstCtx.SetParam(ParamDTypeKey, dtypes.Float32)
		if err := Truncate(b, srcCtx.At("reft"), src, dstCtx.At("reft"), dst); err != nil {
			t.Fatal(err)
		}
		for _, it := range dst.Interventions {
			m2, c2 := editOf(t, dstCtx, dst, it)
			m, c := editOf(t, srcCtx, src, src.At(BlockOutput, it.Layer)[0])
			if rank == 4 {
				if e := math.Sqrt(frob2(sub(m, m2))); e > 1e-5 {
					t.Errorf("layer %d rank 4: edit differs by %.3g (Frobenius)", it.Layer, e)
				}
				if e := testutil.MaxAbsDiff(toF32(c), toF32(c2)); e > 1e-5 {
					t.Errorf("layer %d rank 4: bias edit differs by %.3g", it.Layer, e)
				}
				continue
			}
			kept, resid, all := frob2(m2), frob2(sub(m, m2)), frob2(m)
			if math.Abs(kept+resid-all) > 1e-6*all {
				t.Errorf("layer %d: |M'|² + |M − M'|² = %.9g, |M|² = %.9g", it.Layer, kept+resid, all)
			}
			// The best any rank-2 truncation within R's rows can keep (Ky
			// Fan): the sum of the two largest eigenvalues of R M Mᵀ Rᵀ,
			// computed here by Jacobi rotations, independently of Truncate.
			rows := src.At(BlockOutput, it.Layer)[0]
			rsrc, _ := Rotations(b, srcCtx.At("reft"), src)
			r := matrixOf(rsrc[rows.Scope()])
			rm := matMul(r, m)
			ev := symEigenvalues(matMul(rm, transpose(rm)))
			sort.Sort(sort.Reverse(sort.Float64Slice(ev)))
			if best := ev[0] + ev[1]; math.Abs(kept-best) > 1e-6*all {
				t.Errorf("layer %d: the truncation keeps %.9g of the edit's squared norm, the best rank-2 subspace %.9g", it.Layer, kept, best)
			}
			// c' is c projected onto the kept directions (columns of M').
			rs2, _ := Rotations(b, dstCtx.At("reft"), dst)
			r2 := matrixOf(rs2[it.Scope()])
			pc := matMul(transpose(r2), matMul(r2, transpose([][]float64{c})))
			for j := range c2 {
				if math.Abs(c2[j]-pc[j][0]) > 1e-5 {
					t.Fatalf("layer %d: bias edit %.6g, projection %.6g", it.Layer, c2[j], pc[j][0])
				}
			}
			t.Logf("layer %d rank 2: keeps %.1f %% of the edit's squared norm", it.Layer, 100*kept/all)
		}
	}
	for _, c := range []struct {
		spec Spec
		want string
	}{
		{Spec{Type: LoReFT, Rank: 6, Layers: "1", Positions: "l1"}, "rank 6 from rank 4"},
		{Spec{Name: "other", Type: LoReFT, Rank: 2, Layers: "1", Positions: "l1"}, "no trained intervention"},
	} {
		dst := mustSet(t, streamBase(d, 3), c.spec)
		err := Truncate(b, srcCtx.At("reft"), src, model.NewStore().RootScope().At("reft"), dst)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: err %v, want %q", c.spec, err, c.want)
		}
	}
}

func toF32(x []float64) []float32 {
	out := make([]float32, len(x))
	for i, v := range x {
		out[i] = float32(v)
	}
	return out
}

// symEigenvalues returns the eigenvalues of a small symmetric matrix by
// cyclic Jacobi rotations (to 1e-14 of its norm off the diagonal).
func symEigenvalues(a [][]float64) []float64 {
	n := len(a)
	x := make([][]float64, n)
	for i := range a {
		x[i] = append([]float64(nil), a[i]...)
	}
	for sweep := 0; sweep < 100; sweep++ {
		off, norm := 0.0, 0.0
		for i := range n {
			for j := range n {
				norm += x[i][j] * x[i][j]
				if i != j {
					off += x[i][j] * x[i][j]
				}
			}
		}
		if off <= 1e-28*norm {
			break
		}
		for p := 0; p < n; p++ {
			for q := p + 1; q < n; q++ {
				if x[p][q] == 0 {
					continue
				}
				theta := (x[q][q] - x[p][p]) / (2 * x[p][q])
				tn := math.Copysign(1, theta) / (math.Abs(theta) + math.Sqrt(theta*theta+1))
				c := 1 / math.Sqrt(tn*tn+1)
				sn := tn * c
				for k := range n { // rotate columns p, q
					xp, xq := x[k][p], x[k][q]
					x[k][p], x[k][q] = c*xp-sn*xq, sn*xp+c*xq
				}
				for k := range n { // rotate rows p, q
					xp, xq := x[p][k], x[q][k]
					x[p][k], x[q][k] = c*xp-sn*xq, sn*xp+c*xq
				}
			}
		}
	}
	out := make([]float64, n)
	for i := range n {
		out[i] = x[i][i]
	}
	return out
}
