package main

import (
	"fmt"
	"runtime"
	"time"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/visreft/visreft/sdk/backend"
)

func init() {
	register(&command{name: "env", summary: "which backend and device visreft computes on; runs one graph there",
		plan: "choose the backend (GOMLX_BACKEND, CUDA plugin discovery, pure Go), run a matmul and its gradient, print timings",
		run:  runEnv})
}

// runEnv prints the backend choice and proves it computes: a 256x256 matmul
// with its gradient, checked against the value it must have.
func runEnv(opts options) error {
	fmt.Printf("go %s %s/%s, %d CPUs\n", runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU())
	start := time.Now()
	b, choice, err := backend.New()
	if err != nil {
		return err
	}
	defer b.Finalize()
	fmt.Printf("backend: %s\n  %s, device 0: %s\n  created in %v\n", choice.Describe(), b.Description(), b.DeviceDescription(0), time.Since(start).Round(time.Millisecond))

	const n = 256
	ones := make([]float32, n*n)
	for i := range ones {
		ones[i] = 1
	}
	x := tensors.FromFlatDataAndDimensions(ones, n, n)
	e, err := NewExec(b, func(x *Node) (*Node, *Node) {
		y := MatMul(x, x) // every entry is n
		return ReduceAllSum(y), Gradient(ReduceAllSum(y), x)[0]
	})
	if err != nil {
		return err
	}
	defer e.Finalize()
	for i := range 2 {
		t0 := time.Now()
		outs, err := e.Exec(x)
		if err != nil {
			return err
		}
		sum := tensors.ToScalar[float32](outs[0])
		grad := tensors.MustCopyFlatData[float32](outs[1])
		label := "first call (compile + run)"
		if i == 1 {
			label = "second call (run)"
		}
		fmt.Printf("  matmul %dx%d + gradient, %s: %v\n", n, n, label, time.Since(t0).Round(time.Microsecond))
		if sum != n*n*n || grad[0] != 2*n {
			return fmt.Errorf("backend computed sum %v (want %d) and gradient %v (want %d)", sum, n*n*n, grad[0], 2*n)
		}
	}
	fmt.Println("  results checked: ok")
	if k := backend.SIMD(); k != "" {
		fmt.Printf("SIMD matmul: on (%s; built with GOEXPERIMENT=simd)\n", k)
	} else {
		fmt.Printf("SIMD matmul: OFF: the pure-Go backend's CPU path is ~10x slower; %s\n", backend.SIMDFix)
	}
	const size, reps = 1024, 5
	gf, err := backend.MatMulGFLOPS(b, size, reps)
	if err != nil {
		return err
	}
	fmt.Printf("f32 matmul %d^3 on this backend: %.1f GFLOP/s (median of %d)\n", size, gf, reps)
	return nil
}
