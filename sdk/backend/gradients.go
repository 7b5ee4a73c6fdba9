package backend

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
)

// GoMLX's stock DotGeneral gradient, kept so that tests and benchmarks can
// compare it with ours.
var (
	stockDotGeneralVJP = VJPRegistration[NodeTypeDotGeneral]
	gradientsMu        sync.Mutex
)

func init() { UseGEMMGradients(true) }

// UseGEMMGradients switches the DotGeneral and Dot gradients between ours
// (true, the default once this package is imported) and GoMLX's stock ones
// (false). It exists for the equality test and the speed benchmark; call it
// before building graphs, never while one is being differentiated.
func UseGEMMGradients(on bool) {
	gradientsMu.Lock()
	defer gradientsMu.Unlock()
	if on {
		VJPRegistration[NodeTypeDotGeneral] = gemmDotGeneralVJP
	} else {
		VJPRegistration[NodeTypeDotGeneral] = stockDotGeneralVJP
	}
	VJPRegistration[NodeTypeRsqrt] = rsqrtVJP
	VJPRegistration[NodeTypeIdentity] = identityVJP
}

// dotAxes are the DotGeneral parameters of a node: which axes of lhs and rhs
// are contracted and which are batch axes (paired in order).
type dotAxes struct {
	lhsContract, lhsBatch, rhsContract, rhsBatch []int
}

// dotGeneralParamsRE reads the parameters of a DotGeneral node from its
// String() form; GoMLX (v0.26.0 and v0.28.8) exposes them nowhere else. The equality test
// fails loudly if a GoMLX upgrade changes this form.
var dotGeneralParamsRE = regexp.MustCompile(`lhsContractingAxes=\[([0-9 ]*)\], lhsBatchAxes=\[([0-9 ]*)\], ` +
	`rhs=\[#[0-9]+\], rhsContractingAxes=\[([0-9 ]*)\], rhsBatchAxes=\[([0-9 ]*)\]`)

func parseDotGeneralAxes(node *Node) dotAxes {
	m := dotGeneralParamsRE.FindStringSubmatch(node.String())
	if m == nil {
		panic(fmt.Sprintf("backend: cannot read DotGeneral axes from %q (GoMLX changed its node format?)", node.String()))
	}
	ints := func(s string) []int {
		var out []int
		for _, f := range strings.Fields(s) {
			v, err := strconv.Atoi(f)
			if err != nil {
				panic(fmt.Sprintf("backend: bad axis %q in DotGeneral node %q", f, node.String()))
			}
			out = append(out, v)
		}
		return out
	}
	return dotAxes{ints(m[1]), ints(m[2]), ints(m[3]), ints(m[4])}
}

// crossAxes lists, ascending, the axes of a rank-r operand that are neither
// contracted nor batch: DotGeneral puts them in the output in this order.
func crossAxes(rank int, contract, batch []int) []int {
	var out []int
	for a := range rank {
		if !slices.Contains(contract, a) && !slices.Contains(batch, a) {
			out = append(out, a)
		}
	}
	return out
}

// gemmDotGeneralVJP is the gradient of out = DotGeneral(lhs, rhs) as two
// DotGenerals. With out axes [batch, lhsCross, rhsCross] and v = dL/dout:
//
//	dL/dlhs = DotGeneral(v, contract rhsCross; rhs, contract rhsCross), transposed to lhs's layout
//	dL/drhs = DotGeneral(v, contract lhsCross; lhs, contract lhsCross), transposed to rhs's layout
func gemmDotGeneralVJP(node *Node, vjps []*Node, _ shapes.Shape) []*Node {
	lhs, rhs := node.Inputs()[0], node.Inputs()[1]
	return dotGeneralGrads(lhs, rhs, parseDotGeneralAxes(node), vjps[0])
}

func dotGeneralGrads(lhs, rhs *Node, ax dotAxes, v *Node) []*Node {
	nb := len(ax.lhsBatch)
	lhsCross := crossAxes(lhs.Rank(), ax.lhsContract, ax.lhsBatch)
	rhsCross := crossAxes(rhs.Rank(), ax.rhsContract, ax.rhsBatch)
	vBatch := iota(0, nb)
	vLhsCross := iota(nb, len(lhsCross))
	vRhsCross := iota(nb+len(lhsCross), len(rhsCross))

	gradLhs := DotGeneral(v, vRhsCross, vBatch, rhs, rhsCross, ax.rhsBatch)
	gradLhs = toLayout(gradLhs, lhs.Rank(), ax.lhsBatch, lhsCross, ax.lhsContract, ax.rhsContract)
	gradRhs := DotGeneral(v, vLhsCross, vBatch, lhs, lhsCross, ax.lhsBatch)
	gradRhs = toLayout(gradRhs, rhs.Rank(), ax.rhsBatch, rhsCross, ax.rhsContract, ax.lhsContract)
	return []*Node{gradLhs, gradRhs}
}

// toLayout transposes g, laid out as [batch, cross, other operand's
// contracted axes in ascending order], back to the layout of the operand
// whose batch, cross and contracted axes are given; contract[i] is paired
// with otherContract[i].
func toLayout(g *Node, rank int, batch, cross, contract, otherContract []int) *Node {
	sortedOther := slices.Clone(otherContract)
	slices.Sort(sortedOther)
	perm := make([]int, rank)
	for j, a := range batch {
		perm[a] = j
	}
	for j, a := range cross {
		perm[a] = len(batch) + j
	}
	for j, a := range contract {
		perm[a] = len(batch) + len(cross) + slices.Index(sortedOther, otherContract[j])
	}
	for i, p := range perm {
		if i != p {
			return TransposeAllAxes(g, perm...)
		}
	}
	return g
}

func iota(start, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = start + i
	}
	return out
}

// rsqrtVJP: y = x^(-1/2), dy/dx = -1/2 x^(-3/2) = -1/2 y^3.
func rsqrtVJP(node *Node, vjps []*Node, _ shapes.Shape) []*Node {
	y := node
	dydx := MulScalar(Mul(y, Square(y)), -0.5)
	return []*Node{Mul(vjps[0], dydx)}
}

// identityVJP passes the gradient through unchanged.
func identityVJP(_ *Node, vjps []*Node, _ shapes.Shape) []*Node {
	return []*Node{vjps[0]}
}
