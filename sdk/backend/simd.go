package backend

import (
	"fmt"
	"os"
	"sync"
)

// SIMD says whether the pure-Go backend's matmul runs on SIMD kernels in
// this binary, and which: "AVX-512" or "AVX2" when it was built with
// GOEXPERIMENT=simd on a CPU that has them, "" otherwise. Without them the
// CPU path is about ten times slower (a 1024^3 f32 matmul: 41.7 against
// 2.0 GFLOP/s on the 2-core development machine).
func SIMD() string { return simdKernel() }

// SIMDFix is the one line that says how to get the SIMD kernels.
const SIMDFix = "build and run with GOEXPERIMENT=simd (e.g. GOEXPERIMENT=simd go run ./reproduce ...)"

var simdWarnOnce sync.Once

// warnNoSIMD tells once per process, on stderr, that the pure-Go backend
// runs without its SIMD matmul, and how to fix it.
func warnNoSIMD() {
	if SIMD() != "" {
		return
	}
	simdWarnOnce.Do(func() {
		why := "this binary was built without GOEXPERIMENT=simd"
		if simdBuilt {
			why = "this CPU has neither AVX-512 nor AVX2"
		}
		fmt.Fprintf(os.Stderr, "visreft: the pure-Go backend runs without its SIMD matmul (%s): the CPU path is ~10x slower; %s\n", why, SIMDFix)
	})
}
