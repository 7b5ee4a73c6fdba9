package nn

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/visreft/visreft/sdk/safetensors"
)

var testParams = []Param{
	{Name: "model.layers.0.mlp.up_proj.weight", Dims: []int{3, 2}, Component: "layers"},
	{Name: "model.norm.weight", Dims: []int{2}, Component: "norm"},
}

func writeCheckpoint(t *testing.T, ts ...safetensors.Tensor) safetensors.Reader {
	t.Helper()
	p := filepath.Join(t.TempDir(), "model.safetensors")
	if err := safetensors.Write(p, ts, nil); err != nil {
		t.Fatal(err)
	}
	f, err := safetensors.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func mustTensor(t *testing.T, name string, d safetensors.DType, shape []int64, vals []float32) safetensors.Tensor {
	t.Helper()
	ts, err := safetensors.FromFloat32(name, d, shape, vals)
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

func TestBindLoadsByNameInStoredDType(t *testing.T) {
	ck := writeCheckpoint(t,
		mustTensor(t, "model.layers.0.mlp.up_proj.weight", "BF16", []int64{3, 2}, []float32{1, 2, 3, 4, 5, 0.5}),
		mustTensor(t, "model.norm.weight", "F32", []int64{2}, []float32{0.25, -1}),
		mustTensor(t, "model.vision_tower.post_layernorm.weight", "F32", []int64{2}, []float32{9, 9}),
	)
	scope := model.NewStore().RootScope()
	if err := Bind(scope, ck, testParams, BindOptions{Ignore: []string{"model.vision_tower.*"}, Frozen: true}); err != nil {
		t.Fatal(err)
	}
	v := scope.At("model").At("layers").At("0").At("mlp").At("up_proj").GetVariable("weight")
	if v == nil || v.Shape().DType != dtypes.BFloat16 || v.Trainable {
		t.Fatalf("up_proj.weight variable: %v", v)
	}
	n := scope.At("model").At("norm").GetVariable("weight")
	if got := tensors.MustCopyFlatData[float32](n.MustValue()); got[0] != 0.25 || got[1] != -1 {
		t.Errorf("norm weight = %v", got)
	}
}

func TestBindReportsEveryProblemAndLoadsNothing(t *testing.T) {
	ck := writeCheckpoint(t,
		mustTensor(t, "model.layers.0.mlp.up_proj.weight", "F32", []int64{2, 3}, make([]float32, 6)),
		mustTensor(t, "model.extra.weight", "F32", []int64{1}, []float32{1}),
	)
	scope := model.NewStore().RootScope()
	err := Bind(scope, ck, testParams, BindOptions{})
	if err == nil {
		t.Fatal("Bind accepted a checkpoint that does not fit")
	}
	for _, want := range []string{"1 missing: model.norm.weight", "1 unexpected: model.extra.weight",
		"model.layers.0.mlp.up_proj.weight: checkpoint [2 3], model needs [3 2]"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if scope.NumVariables() != 0 {
		t.Errorf("a failed Bind loaded %d variables", scope.NumVariables())
	}
}
