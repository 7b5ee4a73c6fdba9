package reft

import (
	"math"
	"math/rand/v2"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
)

// Householder computes R: [r, d] with orthonormal rows from Householder
// vectors v: [d, r] (column i is v_i):
//
//	R = (H(v_0) H(v_1) ⋯ H(v_{r−1}) E)ᵀ,  H(v) = I − 2vvᵀ/‖v‖²,  E = I[:, :r]
//
// Every H(v) is orthogonal for any v ≠ 0, so R stays orthonormal whatever an
// optimiser does to v; and every orthonormal R is reachable (Householder
// QR), so nothing is lost. This replaces torch's orthogonal parametrisation
// (pyreft's rotate_layer), which GoMLX v0.26.0 cannot express (no QR op);
// unlike torch's, it keeps no d×d base matrix: r reflections of cost O(d·r)
// each, built from matmuls, with gradients on every backend. Compute it in
// float32 (or float64); v's dtype is the compute dtype.
func Householder(v *Node) *Node {
	g := v.Graph()
	d, r := v.Shape().Dimensions[0], v.Shape().Dimensions[1]
	dt := v.DType()
	q := ConvertDType(Equal(Iota(g, shapes.Make(dtypes.Int32, d, r), 0), Iota(g, shapes.Make(dtypes.Int32, d, r), 1)), dt)
	for i := r - 1; i >= 0; i-- {
		e := OneHot(Const(g, int32(i)), r, dt)               // [r]
		vi := DotGeneral(v, []int{1}, nil, e, []int{0}, nil) // [d]: column i, a one-hot contraction (Slice has no gradient on the pure-Go backend)
		tau := Div(Scalar(g, dt, 2.0), ReduceAllSum(Square(vi)))
		vtq := DotGeneral(vi, []int{0}, nil, q, []int{0}, nil) // [r]: vᵢᵀQ
		q = Sub(q, Mul(tau, Mul(InsertAxes(vi, 1), InsertAxes(vtq, 0))))
	}
	return Transpose(q, 0, 1)
}

// householderQR factors a: [d][r] (d ≥ r, full column rank) in float64 and
// returns the Householder vectors as columns of v: [d][r], so that
// Householder(v) is the transposed thin Q factor of a. Vectors are unit
// norm with zeros above their diagonal entry, as in LAPACK.
func householderQR(a [][]float64) [][]float64 {
	d, r := len(a), len(a[0])
	m := make([][]float64, d)
	v := make([][]float64, d)
	for i := range a {
		m[i] = append([]float64(nil), a[i]...)
		v[i] = make([]float64, r)
	}
	for k := range r {
		norm := 0.0
		for i := k; i < d; i++ {
			norm += m[i][k] * m[i][k]
		}
		norm = math.Sqrt(norm)
		alpha := -norm
		if m[k][k] < 0 {
			alpha = norm
		}
		vk := make([]float64, d)
		for i := k; i < d; i++ {
			vk[i] = m[i][k]
		}
		vk[k] -= alpha
		vn := 0.0
		for i := k; i < d; i++ {
			vn += vk[i] * vk[i]
		}
		vn = math.Sqrt(vn)
		if vn == 0 { // column already e_k·alpha: the identity reflection is not a Householder one; use e_k (H flips the sign of row k)
			vk[k], vn = 1, 1
		}
		for i := k; i < d; i++ {
			vk[i] /= vn
			v[i][k] = vk[i]
		}
		reflect(m, vk, k)
	}
	return v
}

// reflect applies H(u) = I − 2uuᵀ (u unit, zero above index from) to the
// columns of m.
func reflect(m [][]float64, u []float64, from int) {
	for j := range m[0] {
		dot := 0.0
		for i := from; i < len(m); i++ {
			dot += u[i] * m[i][j]
		}
		for i := from; i < len(m); i++ {
			m[i][j] -= 2 * u[i] * dot
		}
	}
}

// randomOrthoVectors returns Householder vectors of a random orthonormal
// frame: the QR factorisation of a d×r standard normal matrix, the way
// torch.nn.init.orthogonal_ draws pyreft's rotate_layer.
func randomOrthoVectors(rng *rand.Rand, d, r int) [][]float64 {
	a := make([][]float64, d)
	for i := range a {
		a[i] = make([]float64, r)
		for j := range a[i] {
			a[i][j] = rng.NormFloat64()
		}
	}
	return householderQR(a)
}

// completeOrthonormal extends the orthonormal columns of q: [d][r] to a
// d×d orthogonal matrix, returned as [d][d] whose first r columns are q's
// exactly; the rest span q's orthogonal complement (float64 Householder).
// It builds torch's orthogonal-parametrisation base for pyreft exports.
func completeOrthonormal(q [][]float64) [][]float64 {
	d, r := len(q), len(q[0])
	v := householderQR(q)
	out := make([][]float64, d)
	for i := range out {
		out[i] = make([]float64, d)
		copy(out[i], q[i])
	}
	// Columns r..d−1: H_0 ⋯ H_{r−1} e_j, applying H_{r−1} first.
	rest := make([][]float64, d)
	for i := range rest {
		rest[i] = make([]float64, d-r)
		if i >= r {
			rest[i][i-r] = 1
		}
	}
	u := make([]float64, d)
	for k := r - 1; k >= 0; k-- {
		for i := range u {
			u[i] = v[i][k]
		}
		reflect(rest, u, k)
	}
	for i := range out {
		copy(out[i][r:], rest[i])
	}
	return out
}
