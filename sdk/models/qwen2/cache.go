package qwen2

import (
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
)

// Cache is a fixed-size key/value cache for generation: one compiled decode
// step serves every step because shapes never change.
type Cache struct {
	Layers []LayerCache
}

// LayerCache holds one layer's keys and values, [batch, kvHeads, maxLen,
// headDim], and where the current call writes: columns WriteAt ..
// WriteAt+seq-1 (the same for every row: prompts are left-padded).
type LayerCache struct {
	K, V    *Node
	WriteAt *Node // scalar int32
}

// write places k, v: [b, kvHeads, s, hd] at columns WriteAt.. of the cache
// and returns the updated cache tensors (also stored back in lc). The
// placement is a one-hot contraction, since the pure-Go backend has no
// DynamicUpdateSlice.
func (lc *LayerCache) write(k, v *Node) (*Node, *Node) {
	g := k.Graph()
	s, maxLen := k.Shape().Dimensions[2], lc.K.Shape().Dimensions[2]
	rows := Iota(g, shapes.Make(dtypes.Int32, s, maxLen), 0)
	cols := Iota(g, shapes.Make(dtypes.Int32, s, maxLen), 1)
	place := Equal(cols, Add(rows, ConvertDType(lc.WriteAt, dtypes.Int32))) // [s, maxLen]: new row i goes to column WriteAt+i
	written := ConvertDType(ReduceLogicalOr(place, 0), k.DType())           // [maxLen]: 1 where overwritten
	p := ConvertDType(place, k.DType())
	keep := OneMinus(written)
	put := func(cache, x *Node) *Node {
		moved := DotGeneral(x, []int{2}, nil, p, []int{0}, nil) // [b, kvh, hd, maxLen]
		moved = TransposeAllAxes(moved, 0, 1, 3, 2)
		return Add(Mul(cache, Reshape(keep, 1, 1, maxLen, 1)), moved)
	}
	lc.K, lc.V = put(lc.K, k), put(lc.V, v)
	return lc.K, lc.V
}
