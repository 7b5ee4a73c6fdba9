package reft

import (
	"math"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/visreft/visreft/sdk/internal/testutil"
)

// TestInitIsPyreftLikeAndDeterministic: the same seed gives the same bits;
// another seed other values; W and b lie in torch.nn.Linear's ±1/√d, the
// constant source of LoBiReFT in torch.rand's [0, 1); R is orthonormal.
func TestInitIsPyreftLikeAndDeterministic(t *testing.T) {
	const d = 64
	s := mustSet(t, streamBase(d, 2),
		Spec{Type: LoReFT, Rank: 4, Layers: "all", Positions: "l1"},
		Spec{Name: "b", Type: LoBiReFT, Rank: 3, Layers: "1", Positions: "f1"})
	a := initCtx(t, s, InitOptions{Seed: 42}, dtypes.Float32)
	b := initCtx(t, s, InitOptions{Seed: 42}, dtypes.Float32)
	c := initCtx(t, s, InitOptions{Seed: 43}, dtypes.Float32)
	va, vb, vc := setVars(t, a, s), setVars(t, b, s), setVars(t, c, s)
	bound := 1 / math.Sqrt(d)
	for i, v := range va {
		x, y, z := flat32(t, v.MustValue()), flat32(t, vb[i].MustValue()), flat32(t, vc[i].MustValue())
		if testutil.MaxAbsDiff(x, y) != 0 || testutil.MaxAbsDiff(x, z) == 0 {
			t.Errorf("%s: not a deterministic function of the seed", v.Path())
		}
		name := v.Path()
		for _, e := range x {
			switch {
			case v.Name() == "weight" || v.Name() == "bias":
				if math.Abs(float64(e)) > bound {
					t.Fatalf("%s: %v outside ±1/√d", name, e)
				}
			case v.Name() == "learned_source":
				if e < 0 || e >= 1 {
					t.Fatalf("%s: %v outside [0, 1)", name, e)
				}
			}
		}
	}
	rs, err := Rotations(testutil.Backend(t), a.At("reft"), s)
	if err != nil {
		t.Fatal(err)
	}
	for scope, r := range rs {
		dims := r.Shape().Dimensions
		if e := maxOrthoError(flat32(t, r), dims[0], dims[1]); e > 1e-6 {
			t.Errorf("%s: initial max |RRᵀ − I| = %.2e", scope, e)
		}
	}
}
