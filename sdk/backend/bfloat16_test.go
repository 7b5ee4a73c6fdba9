package backend

import (
	"testing"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
)

// TestPureGoBFloat16RoundsToNearest pins a property of the pure-Go backend
// that the bf16 parity tolerances depend on: every bf16 result (a
// conversion from f32, a sum) is rounded to nearest even, as torch and XLA
// do. 1 + 3·2⁻⁹ lies between the bf16 values 1 and 1 + 2⁻⁷, nearer the
// second. GoMLX v0.26.0's backend rounded toward zero here (±1), and the bf16
// tolerance in sdk/models/llava/parity_test.go was sized for that; v0.28.8
// rounds to nearest (±1.0078125).
func TestPureGoBFloat16RoundsToNearest(t *testing.T) {
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
	for i, nearest := range []float32{1.0078125, -1.0078125} { // truncation: ±1
		if conv[i] != nearest || sum[i] != nearest {
			t.Errorf("bf16(%v) = %v and bf16(±1) + bf16(±3·2⁻⁹) = %v, rounding to nearest gives %v: "+
				"the pure-Go backend no longer rounds to nearest", x[i], conv[i], sum[i], nearest)
		}
	}
}
