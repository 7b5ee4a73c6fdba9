// Package backend chooses the GoMLX backend visreft computes on and patches
// the gaps of GoMLX v0.28.8 that our models hit.
//
//	b, choice, err := backend.New()
//	if err != nil {
//		return err
//	}
//	fmt.Println(choice.Describe()) // which backend, and why
//	// b is the compute.Backend that visreft's calls take
//
// # Choosing a backend
//
// [New] honours GOMLX_BACKEND when it is set ("go", "go:ops_sequential",
// "xla:cpu", "xla:cuda", "xla:/abs/path/plugin.so"); "xla:cuda" and "xla:cpu"
// there are resolved to a plugin file found on disk. Without it, [Choose]
// picks, in order:
//
//   - a machine with an NVIDIA GPU gets XLA through a CUDA PJRT plugin found
//     on disk (see [FindCUDAPlugin]: PJRT_PLUGIN_LIBRARY_PATH, the go-xla
//     install folders and their nvidia subfolders, and jax_plugins/xla_cuda*/xla_cuda_plugin.so under any
//     Python site-packages, including a venv that is neither activated nor on
//     PATH such as /opt/torch/.venv; see [SitePackages]);
//   - a machine without one (or with VISREFT_NO_GPU=1) gets XLA on the CPU
//     when go-xla's PJRT CPU plugin is installed (see [FindCPUPlugin]:
//     pjrt_c_api_cpu_plugin.so, or pjrt_c_api_cpu_<version>_plugin.so, in
//     PJRT_PLUGIN_LIBRARY_PATH, ~/.local/lib/go-xla or /usr/local/lib/go-xla,
//     else under jax_plugins/* or jaxlib/ in a site-packages); the Choice's
//     Reason names the file;
//   - any other machine gets the pure-Go backend in the configuration
//     [CPUConfig] (the Reason says why: no GPU, no CPU plugin). Its matmul
//     runs on AVX-512 or AVX2 kernels only in binaries built with
//     GOEXPERIMENT=simd ([SIMD] tells; a binary built without them says so
//     once on stderr): about ten times faster. GOMLX_BACKEND=go chooses it
//     even where a CPU plugin is installed; go:ops_sequential runs ops one
//     at a time.
//
// Nothing is downloaded at run time: GoMLX v0.28's own default backend is
// XLA, whose CPU plugin go-xla would fetch from the network; visreft never
// lets GoMLX choose, and go-xla's auto-install is switched off (from this
// package's init) unless VISREFT_ALLOW_DOWNLOAD=1. With it,
// GOMLX_BACKEND=xla:cpu makes go-xla install its CPU plugin into
// ~/.local/lib/go-xla, where later runs find it without the variable. On
// CUDA, visreft finds the plugin itself (go-xla does not search Python
// site-packages), sets XLA_FLAGS' CUDA data dir, and asks for
// preallocate=false.
//
// # Gap fixes (all registered from here, none copied from GoMLX)
//
// Importing this package replaces or adds these reverse-mode gradients in
// graph.VJPRegistration:
//
//   - DotGeneral: the textbook form, two DotGenerals (a GEMM each) plus a
//     transpose. GoMLX v0.26.0 built this gradient as a broadcast multiply
//     and ReduceSum (10-17x slower); v0.28.8's own gradient is GEMM-based
//     too but fails to build when a product's contracting axes are paired
//     out of order (lhs [1 2] with rhs [1 0]), so ours stays.
//     TestDotGeneralGradientMatchesStock proves ours equal to the stock one
//     on 11 layouts; BenchmarkDotGeneralGradient times both (on v0.28.8 with
//     GOEXPERIMENT=simd, 2 cores: ours 5.6-6.0 ms, stock 7.4-8.5 ms a step).
//   - Rsqrt: no gradient in v0.28.8. d/dx x^(-1/2) = -1/2 x^(-3/2).
//   - Identity: no gradient in v0.28.8. Its gradient is the incoming one.
//
// Float16 is not used (GoMLX v0.26.0 crashed on it; use BFloat16 or Float32).
package backend
