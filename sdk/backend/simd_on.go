//go:build amd64 && goexperiment.simd

package backend

import "simd/archsimd"

// simdBuilt: this binary was built with GOEXPERIMENT=simd on amd64, so the
// pure-Go backend carries its AVX-512 and AVX2 matmul kernels.
const simdBuilt = true

// simdKernel names the matmul kernel the CPU can run: the Go backend picks
// AVX-512 first, then AVX2, as this does.
func simdKernel() string {
	switch {
	case archsimd.X86.AVX512():
		return "AVX-512"
	case archsimd.X86.AVX2():
		return "AVX2"
	}
	return ""
}
