package train

import (
	"fmt"
	"io"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/dtypes/bfloat16"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/visreft/visreft/sdk/nn"
	"github.com/visreft/visreft/sdk/safetensors"
)

// asFloat32 converts a Float32 or BFloat16 tensor to a new Float32 tensor.
func asFloat32(t *tensors.Tensor) (*tensors.Tensor, error) {
	switch t.DType() {
	case dtypes.Float32:
		return t.LocalClone()
	case dtypes.BFloat16:
		b, err := tensors.CopyFlatData[bfloat16.BFloat16](t)
		if err != nil {
			return nil, err
		}
		f := make([]float32, len(b))
		for i, x := range b {
			f[i] = x.Float32()
		}
		return tensors.FromFlatDataAndDimensions(f, t.Shape().Dimensions...), nil
	}
	return nil, fmt.Errorf("dtype %s not supported (Float32 or BFloat16)", t.DType())
}

// asBFloat16 rounds a Float32 tensor to BFloat16 to nearest even, as
// torch does (GoMLX v0.26.0's bfloat16.FromFloat32 truncates instead).
func asBFloat16(t *tensors.Tensor) (*tensors.Tensor, error) {
	f, err := tensors.CopyFlatData[float32](t)
	if err != nil {
		return nil, err
	}
	b := make([]bfloat16.BFloat16, len(f))
	for i, x := range f {
		b[i] = bfloat16.FromBits(safetensors.Float32ToBF16(x))
	}
	return tensors.FromFlatDataAndDimensions(b, t.Shape().Dimensions...), nil
}

var stDTypes = map[dtypes.DType]safetensors.DType{
	dtypes.Float32: safetensors.F32, dtypes.BFloat16: safetensors.BF16, dtypes.Float64: safetensors.F64,
	dtypes.Int32: safetensors.I32, dtypes.Int64: safetensors.I64, dtypes.Uint64: safetensors.U64,
}

// tensorReader streams a tensor's bytes, copying them only when the writer
// reaches it, so a checkpoint never holds a second copy of every tensor.
type tensorReader struct {
	t       *tensors.Tensor
	buf     []byte
	started bool
}

func (r *tensorReader) Read(p []byte) (int, error) {
	if !r.started {
		r.started = true
		if err := r.t.ConstBytes(func(b []byte) { r.buf = append([]byte(nil), b...) }); err != nil {
			return 0, err
		}
	}
	if len(r.buf) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

// sourceHook wraps every tensor stream a checkpoint writes; tests replace
// it to make a write fail half way.
var sourceHook = func(r io.Reader) io.Reader { return r }

// stTensor describes t for safetensors.Write, streaming its data.
func stTensor(name string, t *tensors.Tensor) (safetensors.Tensor, error) {
	d, ok := stDTypes[t.DType()]
	if !ok {
		return safetensors.Tensor{}, fmt.Errorf("%s: dtype %s cannot be saved", name, t.DType())
	}
	out := safetensors.Tensor{Name: name, DType: d, Source: sourceHook(&tensorReader{t: t})}
	for _, x := range t.Shape().Dimensions {
		out.Shape = append(out.Shape, int64(x))
	}
	return out, nil
}

// readTensor reads a checkpoint tensor in its stored dtype.
func readTensor(f *safetensors.File, name string) (*tensors.Tensor, error) {
	return nn.ReadTensor(f, name)
}
