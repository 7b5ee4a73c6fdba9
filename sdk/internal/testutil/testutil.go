// Package testutil holds what visreft's tests share: one pure-Go backend
// per test binary in the non-deadlocking configuration, and tensor
// comparisons.
package testutil

import (
	"math"
	"os"
	"sync"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/visreft/visreft/sdk/backend"
	"github.com/visreft/visreft/sdk/nn"
)

var (
	once   sync.Once
	shared compute.Backend
	err    error
)

// Backend is the pure-Go backend (backend.CPUConfig), shared by every test
// of the binary: tensors of one backend cannot be used on another.
// VISREFT_TEST_BACKEND=auto gives the automatic choice instead (CUDA on a
// GPU machine: the GPU kit runs the test binaries that way), and any other
// value is a GOMLX_BACKEND-style configuration.
func Backend(tb testing.TB) compute.Backend {
	tb.Helper()
	once.Do(func() {
		switch v := os.Getenv("VISREFT_TEST_BACKEND"); v {
		case "":
			shared, err = backend.NewFromConfig(backend.CPUConfig)
		case "auto":
			shared, _, err = backend.New()
		default:
			shared, err = backend.NewFromConfig(v)
		}
	})
	if err != nil {
		tb.Fatal(err)
	}
	return shared
}

// Float32Var returns the float32 values of the variable with Hugging Face
// name hfName in scope (see nn.ScopeOf), failing the test if there is none.
func Float32Var(tb testing.TB, scope *model.Scope, hfName string) []float32 {
	tb.Helper()
	scope, name := nn.ScopeOf(scope, hfName)
	v := scope.GetVariable(name)
	if v == nil {
		tb.Fatalf("no variable %s", hfName)
	}
	tv, err := v.Value()
	if err != nil {
		tb.Fatal(err)
	}
	vals, err := tensors.CopyFlatData[float32](tv)
	if err != nil {
		tb.Fatalf("%s: %v", hfName, err)
	}
	return vals
}

// MaxAbsDiff is max |a[i] - b[i]| (a and b of equal length).
func MaxAbsDiff(a, b []float32) float64 {
	m := 0.0
	for i := range a {
		m = math.Max(m, math.Abs(float64(a[i]-b[i])))
	}
	return m
}
