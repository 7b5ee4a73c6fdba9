package backend

import (
	"testing"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
)

// TestPureGoBFloat16Truncates pins a property of GoMLX v0.26.0's pure-Go
// backend that the bf16 parity tolerances depend on: every bf16 result
// (a conversion from f32, a sum) is rounded toward zero, where torch and XLA
// round to nearest even. 1 + 3·2⁻⁹ lies between the bf16 values 1 and
// 1 + 2⁻⁷, nearer the second. When a GoMLX upgrade rounds to nearest, this
// fails: tighten the bf16 tolerance in sdk/models/llava/parity_test.go.
func TestPureGoBFloat16Truncates(t *testing.T) {
	b, err := NewFromConfig(CPUConfig)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Finalize()
	e := MustNewExec(b, func(x, one, y *Node) []*Node {
		bf := func(n *Node) *Node { return ConvertDType(n, dtypes.BFloat16) }
		return []*Node{ConvertDType(bf(x), dtypes.Float32), ConvertDType(Add(bf(one), bf(y)), dtypes.Float32)}
	})
	defer e.Finalize()
	x := []float32{1.005859375, -1.005859375} // ±(1 + 3·2⁻⁹)
	out := e.MustExec(x, []float32{1, -1}, []float32{0.005859375, -0.005859375})
	conv, sum := out[0].Value().([]float32), out[1].Value().([]float32)
	for i, trunc := range []float32{1, -1} { // nearest: ±1.0078125
		if conv[i] != trunc || sum[i] != trunc {
			t.Errorf("bf16(%v) = %v and bf16(±1) + bf16(±3·2⁻⁹) = %v, truncation gives %v: "+
				"the pure-Go backend no longer rounds toward zero", x[i], conv[i], sum[i], trunc)
		}
	}
}
