// Package backend chooses the GoMLX backend visreft computes on and patches
// the gaps of GoMLX v0.26.0 that our models hit.
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
//     [CPUConfig], go:parallelism=-1 (the default worker limit of v0.26.0's
//     parallel op scheduler deadlocks on 2 cores). GOMLX_BACKEND=go:parallelism=-1
//     chooses it even where a CPU plugin is installed; go:ops_sequential
//     runs ops one at a time (about half the speed).
//
// Nothing is downloaded at run time: go-xla's auto-install is switched off
// unless VISREFT_ALLOW_DOWNLOAD=1. With it, GOMLX_BACKEND=xla:cpu makes
// go-xla v0.1.4 install its CPU plugin (v0.83.3) into ~/.local/lib/go-xla,
// where later runs find it without the variable.
//
// # Gap fixes (all registered from here, none copied from GoMLX)
//
// Importing this package replaces or adds these reverse-mode gradients in
// graph.VJPRegistration:
//
//   - DotGeneral: GoMLX v0.26.0 builds the gradient as a broadcast multiply
//     followed by ReduceSum, materialising a [batch, m, k, n] tensor. We
//     register the textbook form, two DotGenerals (a GEMM each) plus a
//     transpose, which computes the same values. See BenchmarkDotGeneralGradient
//     for the speed-up and TestDotGeneralGradientMatchesStock for the proof.
//   - Rsqrt: no gradient in v0.26.0. d/dx x^(-1/2) = -1/2 x^(-3/2).
//   - Identity: no gradient in v0.26.0 (only StopGradient/custom-gradient
//     identities were handled). Its gradient is the incoming one.
//
// Other known gaps are worked around where they are met, not patched:
// Pad, Reverse, DynamicSlice and DynamicUpdateSlice are missing on the
// pure-Go backend (so the gradient of Slice fails there: models gather or
// reshape instead); Float16 crashes the process (use BFloat16 or Float32).
package backend
