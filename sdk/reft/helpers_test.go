package reft

import (
	"math"
	"sync"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

var (
	sharedBackend compute.Backend
	backendOnce   sync.Once
)

// streamBase is a base model with one block_output stream, for tests that
// hook a bare [batch, seq, d] tensor.
func streamBase(hidden, layers int) Base {
	return Base{ID: "test/stream", DType: "float32", NumParams: 1000,
		Streams: map[Component]Stream{BlockOutput: {Hidden: hidden, Layers: layers}}}
}

func mustSet(t testing.TB, base Base, specs ...Spec) *Set {
	t.Helper()
	s, err := NewSet(base, specs...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// initCtx makes a context whose "reft" scope holds s's variables.
func initCtx(t testing.TB, s *Set, opt InitOptions, dt dtypes.DType) *model.Scope {
	t.Helper()
	scope := model.NewStore().RootScope()
	scope.SetParam(ParamDTypeKey, dt)
	if err := Init(scope.At("reft"), s, opt); err != nil {
		t.Fatal(err)
	}
	return scope
}

func flat32(t testing.TB, x *tensors.Tensor) []float32 {
	t.Helper()
	v, err := tensors.CopyFlatData[float32](x)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func flat64(t testing.TB, x *tensors.Tensor) []float64 {
	t.Helper()
	v, err := tensors.CopyFlatData[float64](x)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// randFloats gives n deterministic values in [-1, 1).
func randFloats(seed uint64, n int) []float32 {
	out := make([]float32, n)
	x := seed*6364136223846793005 + 1442695040888963407
	for i := range out {
		x = x*6364136223846793005 + 1442695040888963407
		out[i] = float32(int64(x>>11)%2000-1000) / 1000
	}
	return out
}

// maxOrthoError is max |R Rᵀ − I| of R: [r, d] (row-major), in float64.
func maxOrthoError(r []float32, rows, cols int) float64 {
	m := 0.0
	for i := range rows {
		for j := range rows {
			s := 0.0
			for k := range cols {
				s += float64(r[i*cols+k]) * float64(r[j*cols+k])
			}
			if i == j {
				s--
			}
			m = math.Max(m, math.Abs(s))
		}
	}
	return m
}
