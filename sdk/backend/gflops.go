package backend

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// MatMulGFLOPS measures b's float32 matmul: an n×n by n×n product (2n³
// floating-point operations) run reps times after one compile-and-warm-up
// call, and returns the median rate in GFLOP/s. The product of two
// matrices of ones is checked (every entry must be n), so a rate is never
// reported for a wrong result.
func MatMulGFLOPS(b compute.Backend, n, reps int) (float64, error) {
	if n < 1 || reps < 1 {
		return 0, fmt.Errorf("backend: MatMulGFLOPS needs n >= 1 and reps >= 1, got %d and %d", n, reps)
	}
	r := rand.New(rand.NewPCG(1, 2))
	vals := make([]float32, n*n)
	for i := range vals {
		vals[i] = float32(r.NormFloat64())
	}
	x := tensors.FromFlatDataAndDimensions(vals, n, n)
	ones := make([]float32, n*n)
	for i := range ones {
		ones[i] = 1
	}
	one := tensors.FromFlatDataAndDimensions(ones, n, n)
	e, err := NewExec(b, func(a, c *Node) *Node { return MatMul(a, c) })
	if err != nil {
		return 0, err
	}
	defer e.Finalize()
	check, err := e.Exec(one, one)
	if err != nil {
		return 0, err
	}
	if got := tensors.MustCopyFlatData[float32](check[0]); got[0] != float32(n) || got[len(got)-1] != float32(n) {
		return 0, fmt.Errorf("backend: a %d×%d product of ones has entries %v and %v, want %d", n, n, got[0], got[len(got)-1], n)
	}
	check[0].FinalizeAll()
	var rates []float64
	for range reps {
		t0 := time.Now()
		out, err := e.Exec(x, x)
		if err != nil {
			return 0, err
		}
		out[0].FinalizeAll() // free it before the next call
		rates = append(rates, 2*float64(n)*float64(n)*float64(n)/time.Since(t0).Seconds()/1e9)
	}
	slices.Sort(rates)
	return rates[len(rates)/2], nil
}
