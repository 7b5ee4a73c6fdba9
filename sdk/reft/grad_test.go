package reft

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/visreft/visreft/sdk/internal/testutil"
	"github.com/visreft/visreft/sdk/nn"
)

// setVars returns the variables of s in scope's "reft" scope, in Params order.
func setVars(t testing.TB, scope *model.Scope, s *Set) []*model.Variable {
	t.Helper()
	var out []*model.Variable
	for _, p := range s.Params() {
		sc, n := nn.ScopeOf(scope.At("reft"), strings.TrimPrefix(p.Name, FilePrefix))
		v := sc.GetVariable(n)
		if v == nil {
			t.Fatalf("no variable %s", p.Name)
		}
		out = append(out, v)
	}
	return out
}

// TestOrthonormalThroughSGD trains LoReFT by hand-written SGD on a toy loss
// and checks R Rᵀ = I after every step, at a toy size and at nanoLLaVA's
// width (d = 1024, rank 4).
func TestOrthonormalThroughSGD(t *testing.T) {
	for _, dims := range [][3]int{{64, 8, 4}, {1024, 4, 10}} {
		D, r, lr := dims[0], dims[1], float64(dims[2])
		t.Run(fmt.Sprintf("d%d_r%d", D, r), func(t *testing.T) {
			s := mustSet(t, streamBase(D, 1), Spec{Type: LoReFT, Rank: r, Layers: "0", Positions: "sme", ShareWeights: true})
			scope := initCtx(t, s, InitOptions{Seed: 1}, dtypes.Float32)
			loc, err := s.Locate([][]int{{0, 1, 2, 3, 4, 5}, {2, 3, 4, 5}}, 6)
			if err != nil {
				t.Fatal(err)
			}
			h, target := randStream(1, 2, 6, D), randStream(2, 2, 6, D)
			vars := setVars(t, scope, s)
			step := model.MustNewExec(testutil.Backend(t), scope.Store(), func(scope *model.Scope, in []*Node) []*Node {
				out := s.Hook(scope.At("reft"), Positions{Index: in[2], Valid: in[3]}, HookOptions{})(0, in[0])
				loss := ReduceAllMean(Square(Sub(out, in[1])))
				var nodes []*Node
				for _, v := range vars {
					nodes = append(nodes, v.NodeValue(in[0].Graph()))
				}
				for i, gr := range Gradient(loss, nodes...) {
					vars[i].SetNodeValue(Sub(nodes[i], MulScalar(gr, lr)))
				}
				return []*Node{loss, Rotation(scope.At("reft"), in[0].Graph(), s.Interventions[0])}
			})
			defer step.Finalize()
			v0 := flat32(t, vars[0].MustValue())
			r0, err := Rotations(testutil.Backend(t), scope.At("reft"), s)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("initial: max |RRᵀ − I| = %.2e", maxOrthoError(flat32(t, r0[s.Interventions[0].Scope()]), r, D))
			var losses []float32
			for i := range 5 {
				res, err := step.Exec(h, target, loc.Index, loc.Valid)
				if err != nil {
					t.Fatal(err)
				}
				losses = append(losses, flat32(t, res[0])[0])
				e := maxOrthoError(flat32(t, res[1]), r, D) // R after this step: the graph reads the updated variable
				t.Logf("step %d: loss %.4f, then max |RRᵀ − I| = %.2e", i, losses[i], e)
				if e > 1e-5 {
					t.Errorf("step %d: max |RRᵀ − I| = %.2e", i, e)
				}
			}
			rs, err := Rotations(testutil.Backend(t), scope.At("reft"), s)
			if err != nil {
				t.Fatal(err)
			}
			e := maxOrthoError(flat32(t, rs[s.Interventions[0].Scope()]), r, D)
			t.Logf("after 5 steps: max |RRᵀ − I| = %.2e", e)
			if e > 1e-5 {
				t.Errorf("after training: max |RRᵀ − I| = %.2e", e)
			}
			if losses[4] >= losses[0] {
				t.Errorf("SGD did not lower the loss: %v", losses)
			}
			v5 := flat32(t, vars[0].MustValue())
			if testutil.MaxAbsDiff(v0, v5) < 1e-4 {
				t.Errorf("the Householder vectors did not move (max change %.2g)", testutil.MaxAbsDiff(v0, v5))
			}
		})
	}
}

// TestFiniteDifferenceGradients checks, in float64, the gradient of
// Σ c ⊙ hook(h) with respect to h (selected and unselected positions) and
// to every variable of each intervention type against central differences.
func TestFiniteDifferenceGradients(t *testing.T) {
	const B, S, D, r, eps = 2, 5, 4, 2, 1e-6
	for _, sp := range []Spec{
		{Type: LoReFT, Act: "gelu"}, {Type: LoReFT}, {Type: NoReFT, AddBias: true, Act: "silu"}, {Type: ConsReFT},
		{Type: LoBiReFT}, {Type: DiReFT, Act: "tanh"}, {Type: NodiReFT, Act: "gelu_new"},
	} {
		sp.Rank, sp.Layers, sp.Positions = r, "0", "f1+l2"
		name := string(sp.Type) + "_" + sp.Act
		t.Run(name, func(t *testing.T) {
			s := mustSet(t, streamBase(D, 1), sp)
			scope := initCtx(t, s, InitOptions{Seed: 4}, dtypes.Float64)
			loc, err := s.Locate([][]int{{0, 1, 2, 3, 4}, {1, 2, 3, 4}}, S)
			if err != nil {
				t.Fatal(err)
			}
			h := make([]float64, B*S*D)
			for i, v := range randFloats(8, len(h)) {
				h[i] = float64(v)
			}
			c := randFloats(9, len(h))
			vars := setVars(t, scope, s)
			lossOf := func(scope *model.Scope, in []*Node) *Node {
				out := s.Hook(scope.At("reft"), Positions{Index: in[1], Valid: in[2]}, HookOptions{})(0, in[0])
				return ReduceAllSum(Mul(out, ConvertDType(in[3], dtypes.Float64)))
			}
			lossExec := model.MustNewExec(testutil.Backend(t), scope.Store(), func(scope *model.Scope, in []*Node) *Node { return lossOf(scope, in) })
			defer lossExec.Finalize()
			gradExec := model.MustNewExec(testutil.Backend(t), scope.Store(), func(scope *model.Scope, in []*Node) []*Node {
				nodes := []*Node{in[0]}
				for _, v := range vars {
					nodes = append(nodes, v.NodeValue(in[0].Graph()))
				}
				return Gradient(lossOf(scope, in), nodes...)
			})
			defer gradExec.Finalize()
			hT := func(x []float64) *tensors.Tensor {
				return tensors.FromFlatDataAndDimensions(append([]float64(nil), x...), B, S, D)
			}
			cT := tensors.FromFlatDataAndDimensions(c, B, S, D)
			loss := func(x []float64) float64 {
				out, err := lossExec.Exec(hT(x), loc.Index, loc.Valid, cT)
				if err != nil {
					t.Fatal(err)
				}
				return flat64(t, out[0])[0]
			}
			grads, err := gradExec.Exec(hT(h), loc.Index, loc.Valid, cT)
			if err != nil {
				t.Fatal(err)
			}
			worst, worstName := 0.0, ""
			check := func(name string, analytic []float64, perturb func(i int, delta float64)) {
				for i := range analytic {
					perturb(i, eps)
					up := loss(h)
					perturb(i, -2*eps)
					down := loss(h)
					perturb(i, eps)
					fd := (up - down) / (2 * eps)
					e := math.Abs(fd-analytic[i]) / math.Max(1, math.Abs(fd))
					if e > worst {
						worst, worstName = e, fmt.Sprintf("%s[%d] (analytic %.6g, fd %.6g)", name, i, analytic[i], fd)
					}
				}
			}
			check("h", flat64(t, grads[0]), func(i int, d float64) { h[i] += d })
			for k, v := range vars {
				vals := flat64(t, v.MustValue())
				dims := v.Shape().Dimensions
				check(v.Path(), flat64(t, grads[k+1]), func(i int, d float64) {
					vals[i] += d
					v.MustSetValue(tensors.FromFlatDataAndDimensions(append([]float64(nil), vals...), dims...))
				})
			}
			t.Logf("%s: max relative gradient error %.2e at %s", name, worst, worstName)
			if worst > 1e-6 {
				t.Errorf("gradient error %.2e at %s", worst, worstName)
			}
		})
	}
}
