package reft

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/visreft/visreft/sdk/internal/testutil"
	"github.com/visreft/visreft/sdk/safetensors"
)

func mixedSet(t testing.TB) *Set {
	return mustSet(t, streamBase(16, 4),
		Spec{Type: LoReFT, Rank: 3, Layers: "all", Positions: "sme", ShareWeights: true},
		Spec{Name: "n", Type: NoReFT, Rank: 2, Layers: "1", Positions: "f2+l2", AddBias: true, Act: "gelu", Dropout: 0.1},
		Spec{Name: "c", Type: ConsReFT, Rank: 2, Layers: "-1", Positions: "l1"},
		Spec{Name: "b", Type: LoBiReFT, Rank: 1, Layers: "2", Positions: "f1"},
		Spec{Name: "d", Type: DiReFT, Rank: 2, Layers: "0-1", Positions: "l1", Act: "relu"},
		Spec{Name: "o", Type: NodiReFT, Rank: 2, Layers: "3", Positions: "f1+l1", ShareWeights: true})
}

// TestSaveLoadRoundTrip: every variable comes back bit for bit, the saved R
// equals R recomputed from the loaded vectors bit for bit, and the config
// rebuilds the same set.
func TestSaveLoadRoundTrip(t *testing.T) {
	s := mixedSet(t)
	s.Base.Revision = "abc123"
	scope := initCtx(t, s, InitOptions{Seed: 5}, dtypes.Float32)
	dir := filepath.Join(t.TempDir(), "run")
	if err := Save(dir, testutil.Backend(t), scope.At("reft"), s); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("directory holds %d entries (temp files left?)", len(entries))
	}
	loaded := model.NewStore().RootScope()
	s2, err := Load(dir, loaded.At("reft"), streamBase(16, 4))
	if err != nil {
		t.Fatal(err)
	}
	if len(s2.Interventions) != len(s.Interventions) || s2.NumParams() != s.NumParams() || s2.Base.Revision != "abc123" {
		t.Fatalf("loaded set differs: %d interventions, %d params, base %+v", len(s2.Interventions), s2.NumParams(), s2.Base)
	}
	a, b := setVars(t, scope, s), setVars(t, loaded, s2)
	for i := range a {
		if string(rawBytes(t, a[i].MustValue())) != string(rawBytes(t, b[i].MustValue())) {
			t.Errorf("%s differs after the round trip", a[i].Path())
		}
	}
	rs, err := Rotations(testutil.Backend(t), loaded.At("reft"), s2)
	if err != nil {
		t.Fatal(err)
	}
	f, err := safetensors.Open(filepath.Join(dir, WeightsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for scope, r := range rs {
		want, err := transposed("x", r)
		if err != nil {
			t.Fatal(err)
		}
		got, err := f.Read(FilePrefix + scope + "." + RotateMaterialName)
		if err != nil || string(got) != string(want.Data) {
			t.Errorf("%s: saved rotate_layer differs from R recomputed after loading (%v)", scope, err)
		}
	}
	var cfg map[string]any
	raw, _ := os.ReadFile(filepath.Join(dir, ConfigFile))
	if err := json.Unmarshal(raw, &cfg); err != nil {
		t.Fatal(err)
	}
	specs := cfg["specs"].([]any)
	n := specs[1].(map[string]any)
	for k, want := range map[string]any{"type": "noreft", "rank": 2.0, "layers": "1", "positions": "f2+l2", "share_weights": false,
		"component": "block_output", "dropout": 0.1, "act": "gelu", "add_bias": true} {
		if n[k] != want {
			t.Errorf("config spec field %s = %v, want %v", k, n[k], want)
		}
	}
	base := cfg["base_model"].(map[string]any)
	if base["revision"] != "abc123" || cfg["param_dtype"] != "float32" || !strings.HasPrefix(cfg["parametrisation"].(string), "householder") {
		t.Errorf("config: base %v, param dtype %v", base, cfg["param_dtype"])
	}
}

func rawBytes(t testing.TB, x interface{ ConstBytes(func([]byte)) error }) []byte {
	var out []byte
	if err := x.ConstBytes(func(b []byte) { out = append(out, b...) }); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestLoadChecksTheModel: a different hidden size or too few layers is a
// clear error; a corrupted tensor shape is reported by name.
func TestLoadChecksTheModel(t *testing.T) {
	s := mustSet(t, streamBase(16, 4), Spec{Type: LoReFT, Rank: 3, Layers: "all", Positions: "l1"})
	scope := initCtx(t, s, InitOptions{Seed: 5}, dtypes.Float32)
	dir := t.TempDir()
	if err := Save(dir, testutil.Backend(t), scope.At("reft"), s); err != nil {
		t.Fatal(err)
	}
	_, err := Load(dir, model.NewStore().RootScope(), streamBase(24, 4))
	if err == nil || !errors.Is(err, ErrModelMismatch) || !strings.Contains(err.Error(), "trained for hidden size 16") || !strings.Contains(err.Error(), "has hidden size 24") {
		t.Errorf("hidden size mismatch: %v", err)
	}
	_, err = Load(dir, model.NewStore().RootScope(), streamBase(16, 2))
	if err == nil || !strings.Contains(err.Error(), "layer.2.shared edits block_output layer 2, this model has 2 layers") {
		t.Errorf("layer count mismatch: %v", err)
	}
	// Replace one tensor by a wrongly shaped one.
	f, _ := safetensors.Open(filepath.Join(dir, WeightsFile))
	var ts []safetensors.Tensor
	for _, n := range f.Names() {
		info, _ := f.Info(n)
		data, _ := f.Read(n)
		if n == "reft.layer.1.shared.learned_source.bias" {
			info.Shape, data = []int64{2}, data[:8]
		}
		ts = append(ts, safetensors.Tensor{Name: n, DType: info.DType, Shape: info.Shape, Data: data})
	}
	f.Close()
	if err := safetensors.Write(filepath.Join(dir, WeightsFile), ts, nil); err != nil {
		t.Fatal(err)
	}
	_, err = Load(dir, model.NewStore().RootScope(), streamBase(16, 4))
	if err == nil || !strings.Contains(err.Error(), "reft.layer.1.shared.learned_source.bias: checkpoint [2], model needs [3]") {
		t.Errorf("bad shape: %v", err)
	}
}
