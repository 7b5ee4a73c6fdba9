// Package gpu is the GPU kit: package.sh builds, on a machine with Go, what
// the GPU machine (no Go, nothing reachable) needs, and run.sh runs visreft's
// GPU evidence there step by step under one time budget (README.md). The
// package's tests check the scripts without a GPU.
package gpu
