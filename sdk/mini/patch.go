package mini

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/visreft/visreft/sdk/cvbench"
	"github.com/visreft/visreft/sdk/models/llava"
	"github.com/visreft/visreft/sdk/nn"
)

// Patch-label classes: 0 is the background, then the generator's colours
// (cvbench.Colors order) and shapes (2D then 3D) from 1.
var (
	patchShapes = []string{"circle", "square", "triangle", "sphere", "cube", "cone"}
	// PatchColourClasses and PatchShapeClasses count the classes, background included.
	PatchColourClasses = len(cvbench.Colors()) + 1
	PatchShapeClasses  = len(patchShapes) + 1
)

// PatchLabels names what a side x side grid of image tokens shows (row
// major, as the tower orders its patches): the colour and shape class of
// the object covering most of each token, 0 for the background. An object
// covers a token when its bounding box (a 2D shape's centre plus or minus
// its radius, a 3D solid's drawn box) overlaps at least a fifth of the
// token, or holds the token: every object labels the token
// holding its centre, however small. Where a nearer 3D solid overlaps a
// token as much as another, the nearer wins. These are the targets of the
// tower's per-patch loss (Options.PatchLoss): the "what is where" a
// SigLIP-style tower arrives pretrained with, which a from-scratch tower
// otherwise learns only through the decoder's answers.
func PatchLabels(f cvbench.SceneFacts, side int) (colour, shape []int32) {
	colour, shape = make([]int32, side*side), make([]int32, side*side)
	is3D := f.Task.Type() == cvbench.Type3D
	colours := cvbench.Colors()
	cell := 1 / float64(side)
	for gy := range side {
		for gx := range side {
			x0, y0 := float64(gx)*cell, float64(gy)*cell
			best, bestArea, bestDepth := -1, 0.2*cell*cell, math.Inf(1)
			for k, o := range f.All {
				e := o.Size
				if is3D {
					e = o.Size / 2
				}
				ox := max(0, min(x0+cell, o.Center[0]+e)-max(x0, o.Center[0]-e))
				oy := max(0, min(y0+cell, o.Center[1]+e)-max(y0, o.Center[1]-e))
				area := ox * oy
				if holds := o.Center[0] >= x0 && o.Center[0] < x0+cell && o.Center[1] >= y0 && o.Center[1] < y0+cell; holds {
					area = max(area, cell*cell)
				}
				if area > bestArea || (area == bestArea && best >= 0 && o.Depth < bestDepth) {
					best, bestArea, bestDepth = k, area, o.Depth
				}
			}
			if best >= 0 {
				c, s, _ := strings.Cut(f.All[best].Name, " ")
				colour[gy*side+gx], shape[gy*side+gx] = int32(slices.Index(colours, c)+1), int32(slices.Index(patchShapes, s)+1)
			}
		}
	}
	return colour, shape
}

// Patch-head parameter names: linear classifiers over the tower's output,
// trained with it and never saved with the model.
const (
	patchColourHead = "model.patch_head.colour.weight"
	patchShapeHead  = "model.patch_head.shape.weight"
)

// patchLoss is the mean cross-entropy of the patch heads' colour and shape
// predictions from the tower's output feats [b, n, hidden] against labels
// [b, n] (int32), each token weighted by w [b, n], summed over the two.
func patchLoss(scope *model.Scope, feats, colour, shape, w *Node) *Node {
	// The tower's last output has no layer norm (nanoLLaVA reads it raw)
	// and its scale grows in training; the heads read it RMS-normalised,
	// so that their gradients (clipped with the decoder's at norm 1) do
	// not swamp the decoder's.
	feats = Div(feats, Sqrt(AddScalar(ReduceAndKeep(Square(feats), ReduceMean, -1), 1e-6)))
	ce := func(name string, classes int, labels *Node) *Node {
		s, v := nn.ScopeOf(scope, name)
		head := nn.Weight(s, feats.Graph(), v, feats.DType(), classes, feats.Shape().Dimensions[2])
		logits := DotGeneral(feats, []int{2}, nil, head, []int{1}, nil) // [b, n, classes]
		lp := LogSoftmax(logits, -1)
		picked := ReduceSum(Mul(lp, OneHot(labels, classes, lp.DType())), -1) // [b, n]
		return Div(ReduceAllSum(Mul(picked, w)), MaxScalar(ReduceAllSum(w), 1e-6))
	}
	return Neg(Add(ce(patchColourHead, PatchColourClasses, colour), ce(patchShapeHead, PatchShapeClasses, shape)))
}

// newPatchHeads initialises the patch heads in scope, normal(0,
// 1/sqrt(hidden)) (a zero head would pass the tower no gradient at first).
func newPatchHeads(scope *model.Scope, c llava.Config, seed uint64) error {
	h := c.Vision.WithDefaults().HiddenSize
	r := rand.New(rand.NewPCG(seed, 0x7061746368)) // "patch"
	for _, p := range []struct {
		name    string
		classes int
	}{{patchColourHead, PatchColourClasses}, {patchShapeHead, PatchShapeClasses}} {
		vals := make([]float32, p.classes*h)
		for i := range vals {
			vals[i] = float32(r.NormFloat64() / math.Sqrt(float64(h)))
		}
		t, err := nn.TensorOf(vals, dtypes.Float32, p.classes, h)
		if err != nil {
			return err
		}
		if err := nn.SetParam(scope, p.name, t); err != nil {
			return err
		}
	}
	return nil
}
