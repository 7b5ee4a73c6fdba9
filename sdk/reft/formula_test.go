package reft

import (
	"math"
	"testing"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/visreft/visreft/sdk/internal/testutil"
)

// Hand-computed values on d = 3, r = 2 with
//
//	h = [1 2 3], R = [[.6 .8 0] [0 0 1]] (orthonormal rows),
//	W = W1 = [[1 0 1] [0 1 0]], b = [.5 −3], W2 = [[1 1 0] [0 1 −1]], b2 = [.25 .5]
//
// so Wh + b = [4.5 −1], Rh = [2.2 3], W2h = [3 −1]. For example LoReFT:
// Wh + b − Rh = [2.3 −4]; Rᵀ[2.3 −4] = [1.38 1.84 −4]; h + that = [2.38 3.84 −1].
func TestFormulasByHand(t *testing.T) {
	cases := []struct {
		name string
		c    Config
		want []float64
	}{
		{"loreft", Config{Type: LoReFT}, []float64{2.38, 3.84, -1}},                  // h + Rᵀ([4.5 −1] − [2.2 3])
		{"loreft relu", Config{Type: LoReFT, Act: "relu"}, []float64{2.38, 3.84, 0}}, // h + Rᵀ([4.5 0] − [2.2 3])
		{"noreft", Config{Type: NoReFT}, []float64{2.5, 3.5, 3}},                     // h + W2ᵀ([4.5 −1] − [3 −1]) = h + W2ᵀ[1.5 0]
		{"noreft bias", Config{Type: NoReFT, AddBias: true}, []float64{2.25, 2.75, 3.5}},
		{"consreft", Config{Type: ConsReFT}, []float64{-0.02, 0.64, -3}}, // h + Rᵀ([.5 −3] − [2.2 3]) = h + Rᵀ[−1.7 −6]
		{"lobireft", Config{Type: LoBiReFT}, []float64{1.3, 2.4, 0}},     // h + Rᵀ[.5 −3] = h + [.3 .4 −3]
		{"direft", Config{Type: DiReFT}, []float64{3.7, 5.6, 2}},         // h + Rᵀ[4.5 −1] = h + [2.7 3.6 −1]
		{"direft relu", Config{Type: DiReFT, Act: "relu"}, []float64{3.7, 5.6, 3}},
		{"nodireft", Config{Type: NodiReFT}, []float64{5.5, 5.5, 4}}, // h + W2ᵀ[4.5 −1] = h + [4.5 3.5 1]
	}
	b := testutil.Backend(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.c
			c.Hidden, c.Rank = 3, 2
			if err := c.Validate(); err != nil {
				t.Fatal(err)
			}
			out := MustExecOnce(b, func(h *Node) *Node {
				g := h.Graph()
				w := Weights{R: Const(g, [][]float32{{.6, .8, 0}, {0, 0, 1}})}
				if c.Type.hasLinearSource() {
					w.W, w.B = Const(g, [][]float32{{1, 0, 1}, {0, 1, 0}}), Const(g, []float32{.5, -3})
				} else {
					w.B = Const(g, []float32{.5, -3})
				}
				if c.Type.hasProj() {
					w.W2 = Const(g, [][]float32{{1, 1, 0}, {0, 1, -1}})
					if c.AddBias {
						w.B2 = Const(g, []float32{.25, .5})
					}
				}
				return Apply(c, h, w)
			}, [][]float32{{1, 2, 3}})
			got := flat32(t, out)
			for i := range tc.want {
				if math.Abs(float64(got[i])-tc.want[i]) > 1e-5 {
					t.Fatalf("got %v, want %v", got, tc.want)
				}
			}
		})
	}
}

// TestInterchangeByHand: with R selecting coordinates 0 and 2, DII copies
// those coordinates from the source and keeps the base's coordinate 1; with
// a random R, R·out = R·source and out − base lies in R's row space.
func TestInterchangeByHand(t *testing.T) {
	b := testutil.Backend(t)
	out := MustExecOnce(b, func(base, src *Node) *Node {
		return Interchange(Const(base.Graph(), [][]float32{{1, 0, 0}, {0, 0, 1}}), base, src)
	}, [][]float32{{1, 2, 3}}, [][]float32{{7, 8, 9}})
	if got := flat32(t, out); got[0] != 7 || got[1] != 2 || got[2] != 9 {
		t.Fatalf("DII on coordinate axes: got %v, want [7 2 9]", got)
	}

	const d, r = 6, 2
	v := randFloats(3, d*r)
	base, src := randFloats(4, 2*d), randFloats(5, 2*d)
	res := MustExecOnceN(b, func(v, base, src *Node) []*Node {
		R := Householder(v)
		out := Interchange(R, base, src)
		delta := Sub(out, base)
		inSpan := expand(project(delta, R), R) // projection of out − base onto R's rows
		return []*Node{project(out, R), project(src, R), delta, inSpan}
	}, reshape2(v, d, r), reshape2(base, 2, d), reshape2(src, 2, d))
	rOut, rSrc, delta, inSpan := flat32(t, res[0]), flat32(t, res[1]), flat32(t, res[2]), flat32(t, res[3])
	for i := range rOut {
		if math.Abs(float64(rOut[i]-rSrc[i])) > 1e-5 {
			t.Fatalf("R·out %v != R·source %v", rOut, rSrc)
		}
	}
	for i := range delta {
		if math.Abs(float64(delta[i]-inSpan[i])) > 1e-5 {
			t.Fatalf("out − base leaves R's row space: %v vs its projection %v", delta, inSpan)
		}
	}
}

func reshape2(x []float32, rows, cols int) [][]float32 {
	out := make([][]float32, rows)
	for i := range out {
		out[i] = x[i*cols : (i+1)*cols]
	}
	return out
}
