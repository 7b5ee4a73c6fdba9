package backend

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// testBackend is the pure-Go backend in the non-deadlocking configuration.
func testBackend(t testing.TB) compute.Backend {
	t.Helper()
	b, err := NewFromConfig(CPUConfig)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func randTensor(r *rand.Rand, dims ...int) *tensors.Tensor {
	n := 1
	for _, d := range dims {
		n *= d
	}
	data := make([]float32, n)
	for i := range data {
		data[i] = float32(r.NormFloat64())
	}
	return tensors.FromFlatDataAndDimensions(data, dims...)
}

// dotCase is one DotGeneral layout: shapes and axes.
type dotCase struct {
	name             string
	lhsDims, rhsDims []int
	lc, lb, rc, rb   []int
	useDot           bool // build with graph.Dot instead of DotGeneral

	// rhsOrdered and rcOrdered rewrite a case whose contracting pairs are
	// out of order for GoMLX's stock gradient: rhs is transposed by
	// rhsOrdered first and contracted on rcOrdered (the same product).
	rhsOrdered, rcOrdered []int
	rhsPerm               []int // set from rhsOrdered when building the reference
}

var dotCases = []dotCase{
	{name: "matmul", lhsDims: []int{3, 4}, rhsDims: []int{4, 5}, lc: []int{1}, rc: []int{0}},
	{name: "linear_hf_layout", lhsDims: []int{2, 3, 4}, rhsDims: []int{5, 4}, lc: []int{2}, rc: []int{1}},
	{name: "batched", lhsDims: []int{2, 3, 4}, rhsDims: []int{2, 4, 5}, lc: []int{2}, lb: []int{0}, rc: []int{1}, rb: []int{0}},
	{name: "attention_scores", lhsDims: []int{2, 3, 6, 4}, rhsDims: []int{2, 3, 7, 4}, lc: []int{3}, lb: []int{0, 1}, rc: []int{3}, rb: []int{0, 1}},
	{name: "batch_not_first", lhsDims: []int{4, 2, 3}, rhsDims: []int{5, 2, 4}, lc: []int{0}, lb: []int{1}, rc: []int{2}, rb: []int{1}},
	{name: "two_contractions_swapped", lhsDims: []int{3, 4, 5}, rhsDims: []int{5, 4, 6}, lc: []int{1, 2}, rc: []int{1, 0},
		rhsOrdered: []int{1, 0, 2}, rcOrdered: []int{0, 1}},
	{name: "no_cross_axes", lhsDims: []int{2, 4}, rhsDims: []int{2, 4}, lc: []int{1}, lb: []int{0}, rc: []int{1}, rb: []int{0}},
	{name: "outer_product", lhsDims: []int{3}, rhsDims: []int{4}},
	{name: "dot_matrix_matrix", lhsDims: []int{3, 4}, rhsDims: []int{4, 5}, useDot: true},
	{name: "dot_matrix_vector", lhsDims: []int{3, 4}, rhsDims: []int{4}, useDot: true},
	{name: "dot_vector_vector", lhsDims: []int{4}, rhsDims: []int{4}, useDot: true},
}

// gradsOf returns d(sum(out*w))/dlhs and /drhs for one case, with random w
// so that the incoming gradient is not uniform.
func gradsOf(t *testing.T, b compute.Backend, c dotCase, lhs, rhs *tensors.Tensor, seed uint64) (gl, gr []float32) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 7))
	var wT *tensors.Tensor
	e, err := NewExec(b, func(l, rr *Node) []*Node {
		var out *Node
		if c.useDot {
			out = Dot(l, rr).Product()
		} else {
			r2 := rr
			if c.rhsPerm != nil {
				r2 = TransposeAllAxes(rr, c.rhsPerm...)
			}
			out = DotGeneral(l, c.lc, c.lb, r2, c.rc, c.rb)
		}
		if wT == nil {
			wT = randTensor(r, out.Shape().Dimensions...)
		}
		loss := ReduceAllSum(Mul(out, Const(l.Graph(), wT)))
		return Gradient(loss, l, rr)
	})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Finalize()
	outs, err := e.Exec(lhs, rhs)
	if err != nil {
		t.Fatal(err)
	}
	return tensors.MustCopyFlatData[float32](outs[0]), tensors.MustCopyFlatData[float32](outs[1])
}

func maxAbsDiff(a, b []float32) float64 {
	m := 0.0
	for i := range a {
		m = math.Max(m, math.Abs(float64(a[i]-b[i])))
	}
	return m
}

// TestDotGeneralGradientMatchesStock proves our GEMM gradient computes what
// GoMLX's stock gradient computes, on many layouts. GoMLX v0.28.8's stock
// gradient fails to build when the contracting axes are paired out of
// order (lhs [1 2] with rhs [1 0]: "invalid shape ... for calculated
// AccumulatedVJP"), which is why ours stays; there the reference is the
// stock gradient of the same product with rhs transposed so that the pairs
// are in order (rhsOrdered), through the chain rule of the transpose.
func TestDotGeneralGradientMatchesStock(t *testing.T) {
	b := testBackend(t)
	defer UseGEMMGradients(true)
	for i, c := range dotCases {
		t.Run(c.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(i), 1))
			lhs, rhs := randTensor(r, c.lhsDims...), randTensor(r, c.rhsDims...)
			UseGEMMGradients(false)
			ref := c
			if c.rhsOrdered != nil {
				ref.rhsPerm = c.rhsOrdered
				ref.rc = c.rcOrdered
			}
			sl, sr := gradsOf(t, b, ref, lhs, rhs, uint64(i))
			UseGEMMGradients(true)
			ol, or := gradsOf(t, b, c, lhs, rhs, uint64(i))
			if len(sl) != len(ol) || len(sr) != len(or) {
				t.Fatalf("gradient sizes differ: stock %d/%d, ours %d/%d", len(sl), len(sr), len(ol), len(or))
			}
			dl, dr := maxAbsDiff(sl, ol), maxAbsDiff(sr, or)
			if dl > 1e-4 || dr > 1e-4 {
				t.Errorf("max |ours - stock|: lhs %.3g, rhs %.3g (tolerance 1e-4)", dl, dr)
			}
			if maxAbsDiff(ol, make([]float32, len(ol))) == 0 {
				t.Errorf("lhs gradient is all zeros: the comparison would prove nothing")
			}
		})
	}
}

// TestDotGeneralGradientHandValues checks one matmul gradient against values
// computed by hand: for out = A·B and loss = sum(out), dA = 1·Bᵀ, dB = Aᵀ·1.
func TestDotGeneralGradientHandValues(t *testing.T) {
	b := testBackend(t)
	a := tensors.FromValue([][]float32{{1, 2}, {3, 4}})
	bb := tensors.FromValue([][]float32{{5, 6, 7}, {8, 9, 10}})
	e := MustNewExec(b, func(x, y *Node) []*Node {
		return Gradient(ReduceAllSum(DotGeneral(x, []int{1}, nil, y, []int{0}, nil)), x, y)
	})
	defer e.Finalize()
	outs, err := e.Exec(a, bb)
	if err != nil {
		t.Fatal(err)
	}
	wantA := []float32{18, 27, 18, 27}   // row sums of B: 5+6+7, 8+9+10
	wantB := []float32{4, 4, 4, 6, 6, 6} // column sums of A: 1+3, 2+4
	if got := tensors.MustCopyFlatData[float32](outs[0]); fmt.Sprint(got) != fmt.Sprint(wantA) {
		t.Errorf("dA = %v, want %v", got, wantA)
	}
	if got := tensors.MustCopyFlatData[float32](outs[1]); fmt.Sprint(got) != fmt.Sprint(wantB) {
		t.Errorf("dB = %v, want %v", got, wantB)
	}
}

func TestRsqrtGradient(t *testing.T) {
	b := testBackend(t)
	x := tensors.FromValue([]float32{0.25, 1, 4})
	out, err := ExecOnce(b, func(x *Node) *Node {
		return Gradient(ReduceAllSum(Rsqrt(x)), x)[0]
	}, x)
	if err != nil {
		t.Fatal(err)
	}
	want := []float32{-4, -0.5, -0.0625} // -1/2 x^(-3/2)
	got := tensors.MustCopyFlatData[float32](out)
	if maxAbsDiff(got, want) > 1e-6 {
		t.Errorf("d rsqrt/dx = %v, want %v", got, want)
	}
}

func TestIdentityGradient(t *testing.T) {
	b := testBackend(t)
	x := tensors.FromValue([]float32{1, 2, 3})
	out, err := ExecOnce(b, func(x *Node) *Node {
		y := Identity(x)
		return Gradient(ReduceAllSum(Mul(y, y)), x)[0]
	}, x)
	if err != nil {
		t.Fatal(err)
	}
	if got := tensors.MustCopyFlatData[float32](out); fmt.Sprint(got) != "[2 4 6]" {
		t.Errorf("d sum(id(x)^2)/dx = %v, want [2 4 6]", got)
	}
}
