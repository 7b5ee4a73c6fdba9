//go:build !(amd64 && goexperiment.simd)

package backend

// simdBuilt: this binary was built without GOEXPERIMENT=simd (or not on
// amd64), so the pure-Go backend multiplies matrices in scalar Go.
const simdBuilt = false

// simdKernel: none without the SIMD build.
func simdKernel() string { return "" }
