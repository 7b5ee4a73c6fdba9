package nn

import (
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/visreft/visreft/sdk/safetensors"
)

// BindOptions tune Bind.
type BindOptions struct {
	// Ignore lists path.Match patterns of checkpoint tensors the model does
	// not use and that are not an error (e.g. "model.vision_tower.*.post_layernorm.*").
	Ignore []string
	// Frozen marks every bound variable untrainable; trainers re-enable
	// what they train.
	Frozen bool
}

// Bind loads every param of a model from a safetensors checkpoint into scope,
// each under the scope its Hugging Face name splits into, in its stored
// dtype. It first checks the whole checkpoint against params and reports
// every missing, unexpected and mis-shaped tensor in one error, loading
// nothing; then it loads.
func Bind(scope *model.Scope, ck safetensors.Reader, params []Param, opt BindOptions) error {
	if err := Check(ck, params, opt.Ignore); err != nil {
		return err
	}
	for _, p := range params {
		t, err := ReadTensor(ck, p.Name)
		if err != nil {
			return err
		}
		if err := SetParam(scope, p.Name, t); err != nil {
			return err
		}
		if opt.Frozen {
			scope, name := ScopeOf(scope, p.Name)
			scope.GetVariable(name).SetTrainable(false)
		}
	}
	return nil
}

// Check compares a checkpoint's tensors with params: names, shapes and
// float dtypes. The error lists every problem.
func Check(ck safetensors.Reader, params []Param, ignore []string) error {
	want := map[string]Param{}
	for _, p := range params {
		want[p.Name] = p
	}
	var missing, unexpected, shapeErrs []string
	have := map[string]bool{}
	for _, n := range ck.Names() {
		have[n] = true
		p, ok := want[n]
		if !ok {
			if !ignored(n, ignore) {
				unexpected = append(unexpected, n)
			}
			continue
		}
		info, err := ck.Info(n)
		if err != nil {
			return err
		}
		if !sameDims(info.Shape, p.Dims) {
			shapeErrs = append(shapeErrs, fmt.Sprintf("%s: checkpoint %v, model needs %v", n, info.Shape, p.Dims))
		} else if dt, err := gomlxDType(info.DType); err != nil || !dt.IsFloat() {
			shapeErrs = append(shapeErrs, fmt.Sprintf("%s: dtype %s is not a float dtype the model can use", n, info.DType))
		}
	}
	for _, p := range params {
		if !have[p.Name] {
			missing = append(missing, p.Name)
		}
	}
	if len(missing)+len(unexpected)+len(shapeErrs) == 0 {
		return nil
	}
	var parts []string
	list := func(what string, xs []string) {
		if len(xs) == 0 {
			return
		}
		sort.Strings(xs)
		n, more := len(xs), ""
		if n > 20 {
			xs, more = xs[:20], fmt.Sprintf(" ... and %d more", n-20)
		}
		parts = append(parts, fmt.Sprintf("%d %s: %s%s", n, what, strings.Join(xs, ", "), more))
	}
	list("missing", missing)
	list("unexpected", unexpected)
	list("with the wrong shape or dtype", shapeErrs)
	return fmt.Errorf("checkpoint does not fit the model: %s", strings.Join(parts, "; "))
}

func ignored(name string, patterns []string) bool {
	for _, pat := range patterns {
		if ok, _ := path.Match(pat, name); ok {
			return true
		}
	}
	return false
}

func sameDims(a []int64, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != int64(b[i]) {
			return false
		}
	}
	return true
}

// fileDTypes are the safetensors dtypes GoMLX tensors are read from and
// written to (F16 is absent: it crashes GoMLX v0.26.0).
var fileDTypes = map[safetensors.DType]dtypes.DType{
	safetensors.F32: dtypes.Float32, safetensors.BF16: dtypes.BFloat16, safetensors.F64: dtypes.Float64,
	safetensors.I32: dtypes.Int32, safetensors.I64: dtypes.Int64, safetensors.U64: dtypes.Uint64,
}

// gomlxDType is the GoMLX dtype of a checkpoint dtype.
func gomlxDType(d safetensors.DType) (dtypes.DType, error) {
	if dt, ok := fileDTypes[d]; ok {
		return dt, nil
	}
	return dtypes.InvalidDType, fmt.Errorf("dtype %s is not supported (F32, BF16, F64, I32, I64, U64; F16 crashes GoMLX v0.26.0)", d)
}

// ReadTensor reads one checkpoint tensor into a GoMLX tensor of its stored
// dtype (see fileDTypes), copying the little-endian bytes as they are.
func ReadTensor(ck safetensors.Reader, name string) (*tensors.Tensor, error) {
	info, err := ck.Info(name)
	if err != nil {
		return nil, err
	}
	dt, err := gomlxDType(info.DType)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	raw, err := ck.Read(name)
	if err != nil {
		return nil, err
	}
	dims := make([]int, len(info.Shape))
	for i, d := range info.Shape {
		dims[i] = int(d)
	}
	t := tensors.FromShape(shapes.Make(dt, dims...))
	var copyErr error
	err = t.MutableBytes(func(data []byte) {
		if len(data) != len(raw) {
			copyErr = fmt.Errorf("%s: %d bytes for a %s tensor of %d bytes", name, len(raw), t.Shape(), len(data))
			return
		}
		copy(data, raw)
	})
	if err != nil {
		return nil, err
	}
	return t, copyErr
}
