package nn

import (
	"fmt"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
)

// Patchify cuts images into non-overlapping patch×patch tiles, the input a
// stride-patch convolution sees, using only Reshape and Transpose (the
// pure-Go backend cannot differentiate a strided Convolution).
//
//	x: [batch, channels, height, width]
//	returns [batch, gridH*gridW, channels*patch*patch]
//
// Patches are numbered row-major over the grid (torch's conv output
// flattened over its spatial axes), and each patch is flattened
// channel-major, [channels, patch, patch], the order in which a Conv2d
// weight [out, in, kh, kw] flattens to [out, in*kh*kw]. Rows and columns
// past the last whole patch are dropped, as the convolution drops them
// (384 pixels at patch 14 use 27 patches, 378 pixels); that crop is a Slice,
// so a gradient with respect to such pixels needs a backend with Pad.
func Patchify(x *Node, patch int) *Node {
	if x.Rank() != 4 || patch <= 0 {
		panic(fmt.Sprintf("nn.Patchify: want x [batch, channels, height, width] and patch > 0, got %s and %d", x.Shape(), patch))
	}
	d := x.Shape().Dimensions
	b, c, gh, gw := d[0], d[1], d[2]/patch, d[3]/patch
	if gh == 0 || gw == 0 {
		panic(fmt.Sprintf("nn.Patchify: image %dx%d is smaller than one %d-pixel patch", d[2], d[3], patch))
	}
	if gh*patch != d[2] || gw*patch != d[3] {
		x = Slice(x, AxisRange(), AxisRange(), AxisRange(0, gh*patch), AxisRange(0, gw*patch))
	}
	x = Reshape(x, b, c, gh, patch, gw, patch)
	x = TransposeAllAxes(x, 0, 2, 4, 1, 3, 5) // [b, gh, gw, c, kh, kw]
	return Reshape(x, b, gh*gw, c*patch*patch)
}

// PatchEmbedding is torch.nn.Conv2d(channels, out, kernel_size=patch,
// stride=patch) with bias, computed as Patchify followed by a matmul with
// the weight viewed as [out, channels*patch*patch]. Variables in scope:
// "weight" [out, channels, patch, patch] and "bias" [out].
//
//	x: [batch, channels, height, width] -> [batch, gridH*gridW, out]
func PatchEmbedding(scope *model.Scope, x *Node, out, patch int) *Node {
	p := Patchify(x, patch)
	c := x.Shape().Dimensions[1]
	w := Weight(scope, x.Graph(), "weight", x.DType(), out, c, patch, patch)
	w = Reshape(w, out, c*patch*patch)
	y := DotGeneral(p, []int{2}, nil, w, []int{1}, nil) // [b, patches, out]
	return Add(y, ExpandLeftToRank(Weight(scope, x.Graph(), "bias", x.DType(), out), 3))
}
