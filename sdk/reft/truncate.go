package reft

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/visreft/visreft/sdk/nn"
)

// Truncate sets the LoReFT interventions of dst (variables under dstCtx)
// from the trained LoReFT interventions of src (under srcCtx) at the same
// sites: a one-shot way to score smaller configurations of one trained
// intervention set without training them. Sites of src that dst lacks are
// dropped; each dst intervention of rank r' <= r becomes the rank-r'
// LoReFT closest to src's, its linear edit R'ᵀ(W' − R') the best rank-r'
// approximation of Rᵀ(W − R) (the top r' singular directions of W − R
// within R's row space) and its bias b projected onto the kept directions.
// With r' = r the edit is src's exactly (up to rounding).
//
// Only linear-act LoReFT is supported; dst's variables are created (or
// overwritten) in float32.
func Truncate(b compute.Backend, srcCtx *model.Scope, src *Set, dstCtx *model.Scope, dst *Set) error {
	rs, err := Rotations(b, srcCtx, src)
	if err != nil {
		return err
	}
	bySite := map[Site]Intervention{}
	for _, it := range src.Interventions {
		bySite[it.Site] = it
	}
	for _, it := range dst.Interventions {
		from, ok := bySite[it.Site]
		if !ok {
			return fmt.Errorf("reft: truncate: %s%s has no trained intervention to come from", FilePrefix, it.Scope())
		}
		if it.Type != LoReFT || from.Type != LoReFT || it.Config.act() != "linear" || from.Config.act() != "linear" {
			return fmt.Errorf("reft: truncate: %s%s: only linear LoReFT is supported (%s from %s)", FilePrefix, it.Scope(), it.Type, from.Type)
		}
		if it.Rank > from.Rank || it.Hidden != from.Hidden {
			return fmt.Errorf("reft: truncate: %s%s: rank %d from rank %d", FilePrefix, it.Scope(), it.Rank, from.Rank)
		}
		r := matrixOf(rs[from.Scope()])
		w, err := hostParam(srcCtx, from.Scope()+"."+SourceWeightName)
		if err != nil {
			return err
		}
		bias, err := hostParam(srcCtx, from.Scope()+"."+SourceBiasName)
		if err != nil {
			return err
		}
		v, w2, b2 := truncateLoReFT(r, reshape(w, from.Rank, from.Hidden), bias, it.Rank)
		for name, vals := range map[string][]float64{RotateName: flatten(v), SourceWeightName: flatten(w2), SourceBiasName: b2} {
			dims := map[string][]int{RotateName: {it.Hidden, it.Rank}, SourceWeightName: {it.Rank, it.Hidden}, SourceBiasName: {it.Rank}}[name]
			if err := setVar(dstCtx, it.Scope()+"."+name, vals, dtypes.Float32, dims); err != nil {
				return err
			}
		}
	}
	return nil
}

// truncateLoReFT is Truncate's algebra for one intervention: R [r][d]
// orthonormal rows, W [r][d], b [r], to rank k. With A = W − R and
// AAᵀ = U Λ Uᵀ (eigenvalues falling), the kept directions are Rᵀ U_k and
// the edit Rᵀ U_k U_kᵀ A. It returns the new R's Householder vectors
// v [d][k], W' [k][d] and b' [k].
func truncateLoReFT(r, w [][]float64, b []float64, k int) (v, w2 [][]float64, b2 []float64) {
	n, d := len(r), len(r[0])
	a := make([][]float64, n)
	for i := range a {
		a[i] = make([]float64, d)
		for j := range a[i] {
			a[i][j] = w[i][j] - r[i][j]
		}
	}
	aat := make([][]float64, n)
	for i := range aat {
		aat[i] = make([]float64, n)
		for j := range aat[i] {
			aat[i][j] = dot(a[i], a[j])
		}
	}
	u := topEigenvectors(aat, k) // [n][k]
	uk := make([][]float64, d)   // Rᵀ U_k: [d][k], orthonormal columns
	for i := range uk {
		uk[i] = make([]float64, k)
		for j := range k {
			for m := range n {
				uk[i][j] += r[m][i] * u[m][j]
			}
		}
	}
	v = householderQR(uk)
	rNew := householderRows(v, d, k) // [k][d], = ±U_kᵀ R row by row
	p := make([][]float64, k)        // R' Rᵀ: [k][n]
	for i := range p {
		p[i] = make([]float64, n)
		for j := range n {
			p[i][j] = dot(rNew[i], r[j])
		}
	}
	// W' = R' + P U_k U_kᵀ A: [k][d].
	pu := matMul(matMul(p, u), transpose(u)) // [k][n]
	pua := matMul(pu, a)
	w2 = make([][]float64, k)
	b2 = make([]float64, k)
	for i := range w2 {
		w2[i] = make([]float64, d)
		for j := range d {
			w2[i][j] = rNew[i][j] + pua[i][j]
		}
		b2[i] = dot(p[i], b)
	}
	return v, w2, b2
}

// householderRows is Householder on the host: R [k][d] from vectors v [d][k].
func householderRows(v [][]float64, d, k int) [][]float64 {
	q := make([][]float64, d)
	for i := range q {
		q[i] = make([]float64, k)
		if i < k {
			q[i][i] = 1
		}
	}
	u := make([]float64, d)
	for c := k - 1; c >= 0; c-- {
		for i := range u {
			u[i] = v[i][c]
		}
		reflect(q, u, c)
	}
	return transpose(q)
}

// topEigenvectors returns the eigenvectors of the symmetric matrix m for
// its k largest eigenvalues as columns [n][k] (cyclic Jacobi, float64).
func topEigenvectors(m [][]float64, k int) [][]float64 {
	n := len(m)
	a := make([][]float64, n)
	vec := make([][]float64, n)
	for i := range a {
		a[i] = append([]float64(nil), m[i]...)
		vec[i] = make([]float64, n)
		vec[i][i] = 1
	}
	for sweep := 0; sweep < 100; sweep++ {
		off := 0.0
		for i := range n {
			for j := i + 1; j < n; j++ {
				off += a[i][j] * a[i][j]
			}
		}
		if off < 1e-30 {
			break
		}
		for p := range n {
			for q := p + 1; q < n; q++ {
				if math.Abs(a[p][q]) < 1e-300 {
					continue
				}
				theta := (a[q][q] - a[p][p]) / (2 * a[p][q])
				t := math.Copysign(1, theta) / (math.Abs(theta) + math.Sqrt(theta*theta+1))
				c := 1 / math.Sqrt(t*t+1)
				s := t * c
				for i := range n { // columns p, q of a
					aip, aiq := a[i][p], a[i][q]
					a[i][p], a[i][q] = c*aip-s*aiq, s*aip+c*aiq
				}
				for i := range n { // rows p, q of a
					api, aqi := a[p][i], a[q][i]
					a[p][i], a[q][i] = c*api-s*aqi, s*api+c*aqi
				}
				for i := range n {
					vip, viq := vec[i][p], vec[i][q]
					vec[i][p], vec[i][q] = c*vip-s*viq, s*vip+c*viq
				}
			}
		}
	}
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(x, y int) bool { return a[order[x]][order[x]] > a[order[y]][order[y]] })
	out := make([][]float64, n)
	for i := range out {
		out[i] = make([]float64, k)
		for j := range k {
			out[i][j] = vec[i][order[j]]
		}
	}
	return out
}

// hostParam reads a variable's values as float64.
func hostParam(scope *model.Scope, name string) ([]float64, error) {
	scope, n := nn.ScopeOf(scope, name)
	v := scope.GetVariable(n)
	if v == nil {
		return nil, fmt.Errorf("reft: no variable %s in %s", name, strings.TrimSuffix(scope.Scope(), "/"))
	}
	val, err := v.Value()
	if err != nil {
		return nil, err
	}
	return floats(val), nil
}

func floats(t *tensors.Tensor) []float64 {
	switch t.DType() {
	case dtypes.Float64:
		return tensors.MustCopyFlatData[float64](t)
	case dtypes.Float32:
		f := tensors.MustCopyFlatData[float32](t)
		out := make([]float64, len(f))
		for i, x := range f {
			out[i] = float64(x)
		}
		return out
	}
	panic(fmt.Sprintf("reft: %s values", t.DType()))
}

func matrixOf(t *tensors.Tensor) [][]float64 {
	dims := t.Shape().Dimensions
	return reshape(floats(t), dims[0], dims[1])
}

func reshape(flat []float64, rows, cols int) [][]float64 {
	out := make([][]float64, rows)
	for i := range out {
		out[i] = flat[i*cols : (i+1)*cols]
	}
	return out
}

func flatten(m [][]float64) []float64 {
	var out []float64
	for _, row := range m {
		out = append(out, row...)
	}
	return out
}

func transpose(m [][]float64) [][]float64 {
	out := make([][]float64, len(m[0]))
	for j := range out {
		out[j] = make([]float64, len(m))
		for i := range m {
			out[j][i] = m[i][j]
		}
	}
	return out
}

func matMul(x, y [][]float64) [][]float64 {
	out := make([][]float64, len(x))
	for i := range out {
		out[i] = make([]float64, len(y[0]))
		for k, xik := range x[i] {
			for j, ykj := range y[k] {
				out[i][j] += xik * ykj
			}
		}
	}
	return out
}

func dot(x, y []float64) float64 {
	s := 0.0
	for i := range x {
		s += x[i] * y[i]
	}
	return s
}
