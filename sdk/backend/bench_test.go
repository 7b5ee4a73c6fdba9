package backend

import (
	"math/rand/v2"
	"testing"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph"
)

// mlpStep builds the gradient of a two-layer MLP in HF Linear layout
// (weights [out, in]) over x: [batch, seq, hidden], the shape of a decoder's
// MLP at toy scale: the kind of step the stock gradient makes slow.
func mlpStep(b compute.Backend) *Exec {
	return MustNewExec(b, func(x, w1, w2 *Node) []*Node {
		h := DotGeneral(x, []int{2}, nil, w1, []int{1}, nil) // [batch, seq, inter]
		h = Tanh(h)
		y := DotGeneral(h, []int{2}, nil, w2, []int{1}, nil) // [batch, seq, hidden]
		loss := ReduceAllSum(Square(y))
		return Gradient(loss, w1, w2)
	})
}

func benchStep(b *testing.B, be compute.Backend, gemm bool) {
	UseGEMMGradients(gemm)
	defer UseGEMMGradients(true)
	r := rand.New(rand.NewPCG(1, 2))
	const batch, seq, hidden, inter = 2, 64, 256, 704
	x, w1, w2 := randTensor(r, batch, seq, hidden), randTensor(r, inter, hidden), randTensor(r, hidden, inter)
	e := mlpStep(be)
	defer e.Finalize()
	if _, err := e.Exec(x, w1, w2); err != nil { // compile outside the timer
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		outs, err := e.Exec(x, w1, w2)
		if err != nil {
			b.Fatal(err)
		}
		for _, o := range outs {
			o.FinalizeAll()
		}
	}
}

// BenchmarkDotGeneralGradient compares GoMLX's stock DotGeneral gradient
// with ours on the same MLP step, side by side in one run:
//
//	go test ./sdk/backend -run XXX -bench DotGeneralGradient
func BenchmarkDotGeneralGradient(b *testing.B) {
	be := testBackend(b)
	b.Run("stock", func(b *testing.B) { benchStep(b, be, false) })
	b.Run("gemm", func(b *testing.B) { benchStep(b, be, true) })
}

// BenchmarkCPUConfigs compares the two pure-Go configurations that do not
// deadlock on 2 cores, on the same MLP step.
func BenchmarkCPUConfigs(b *testing.B) {
	for _, cfg := range []string{"go:ops_sequential", "go:parallelism=-1", "go:ops_sequential,parallelism=-1"} {
		b.Run(cfg, func(b *testing.B) {
			be, err := NewFromConfig(cfg)
			if err != nil {
				b.Fatal(err)
			}
			benchStep(b, be, true)
		})
	}
}
