package reft

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/visreft/visreft/sdk/fsutil"
	"github.com/visreft/visreft/sdk/nn"
	"github.com/visreft/visreft/sdk/safetensors"
)

// Files of a saved set, in one directory.
const (
	WeightsFile = "reft.safetensors"
	ConfigFile  = "reft_config.json"
	formatName  = "visreft.reft"
)

// FileConfig is reft_config.json: everything needed to rebuild the set.
type FileConfig struct {
	Format          string             `json:"format"` // "visreft.reft"
	Version         int                `json:"version"`
	Base            Base               `json:"base_model"`
	ParamDType      string             `json:"param_dtype"`
	Parametrisation string             `json:"parametrisation"`
	Specs           []Spec             `json:"specs"`
	Interventions   []FileIntervention `json:"interventions"`
	NumParams       int64              `json:"num_params"`
	Share           float64            `json:"share_of_base"`
}

// FileIntervention records one resolved intervention and its tensors.
type FileIntervention struct {
	Scope     string    `json:"scope"` // tensor prefix after "reft."
	Spec      int       `json:"spec"`  // index into specs
	Type      Type      `json:"type"`
	Component Component `json:"component"`
	Layer     int       `json:"layer"`
	Group     string    `json:"group"`
	Hidden    int       `json:"hidden_size"`
	Rank      int       `json:"rank"`
	Tensors   []string  `json:"tensors"`
}

const parametrisation = "householder: rotate_layer.householder [d, r] holds v_0..v_{r-1} as columns; " +
	"R = (H(v_0)...H(v_{r-1}) I[:, :r])^T with H(v) = I - 2vv^T/|v|^2, computed in float32; " +
	"rotate_layer [d, r] is the resulting R^T (pyreft's rotate_layer.weight layout)"

// Save writes s's variables from scope (its scope) to dir/reft.safetensors,
// with each orthogonal intervention's R computed on b and stored as
// "reft.<scope>.rotate_layer" [d, r], and dir/reft_config.json. Both files
// are written atomically (temp file, fsync, rename), weights first.
func Save(dir string, b compute.Backend, scope *model.Scope, s *Set) error {
	rs, err := Rotations(b, scope, s)
	if err != nil {
		return err
	}
	cfg := FileConfig{Format: formatName, Version: 1, Base: s.Base, Parametrisation: parametrisation,
		Specs: s.Specs, NumParams: s.NumParams(), Share: s.Share()}
	var ts []safetensors.Tensor
	for _, it := range s.Interventions {
		fi := FileIntervention{Scope: it.Scope(), Spec: it.Spec, Type: it.Type, Component: it.Component, Layer: it.Layer,
			Group: it.Group, Hidden: it.Hidden, Rank: it.Rank}
		for _, p := range it.Tensors() {
			t, dt, err := varTensor(scope, it.Scope()+"."+p.Name)
			if err != nil {
				return err
			}
			cfg.ParamDType = strings.ToLower(dt.String())
			ts = append(ts, t)
			fi.Tensors = append(fi.Tensors, t.Name)
		}
		if r := rs[it.Scope()]; r != nil {
			t, err := transposed(FilePrefix+it.Scope()+"."+RotateMaterialName, r)
			if err != nil {
				return err
			}
			ts = append(ts, t)
			fi.Tensors = append(fi.Tensors, t.Name)
		}
		cfg.Interventions = append(cfg.Interventions, fi)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("reft: %w", err)
	}
	meta := map[string]string{"format": formatName, "config": ConfigFile}
	if err := safetensors.Write(filepath.Join(dir, WeightsFile), ts, meta); err != nil {
		return fmt.Errorf("reft: %w", err)
	}
	js, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return fmt.Errorf("reft: %w", err)
	}
	return writeFileAtomic(filepath.Join(dir, ConfigFile), append(js, '\n'))
}

// varTensor reads a variable's bytes as a safetensors tensor named "reft.<name>".
func varTensor(scope *model.Scope, name string) (safetensors.Tensor, dtypes.DType, error) {
	sc, n := nn.ScopeOf(scope, name)
	v := sc.GetVariable(n)
	if v == nil {
		return safetensors.Tensor{}, 0, fmt.Errorf("reft: variable %s%s does not exist (Init or Load first)", FilePrefix, name)
	}
	val, err := v.Value()
	if err != nil {
		return safetensors.Tensor{}, 0, fmt.Errorf("reft: %s%s: %w", FilePrefix, name, err)
	}
	t, err := fileTensor(FilePrefix+name, val)
	return t, val.DType(), err
}

func fileTensor(name string, val *tensors.Tensor) (safetensors.Tensor, error) {
	var st safetensors.DType
	switch val.DType() {
	case dtypes.Float32:
		st = safetensors.F32
	case dtypes.Float64:
		st = safetensors.F64
	default:
		return safetensors.Tensor{}, fmt.Errorf("reft: %s has dtype %s (want float32 or float64)", name, val.DType())
	}
	t := safetensors.Tensor{Name: name, DType: st}
	for _, d := range val.Shape().Dimensions {
		t.Shape = append(t.Shape, int64(d))
	}
	err := val.ConstBytes(func(b []byte) { t.Data = append([]byte(nil), b...) })
	return t, err
}

// transposed stores R: [r, d] as Rᵀ: [d, r], an exact element permutation.
func transposed(name string, r *tensors.Tensor) (safetensors.Tensor, error) {
	t, err := fileTensor(name, r)
	if err != nil {
		return t, err
	}
	rows, cols := int(t.Shape[0]), int(t.Shape[1])
	es := t.DType.Size()
	out := make([]byte, len(t.Data))
	for i := range rows {
		for j := range cols {
			copy(out[(j*rows+i)*es:(j*rows+i+1)*es], t.Data[(i*cols+j)*es:])
		}
	}
	t.Data, t.Shape = out, []int64{int64(cols), int64(rows)}
	return t, nil
}

// writeFileAtomic writes data to path atomically (sdk/fsutil).
func writeFileAtomic(path string, data []byte) error {
	if err := fsutil.WriteFile(path, data); err != nil {
		return fmt.Errorf("reft: %w", err)
	}
	return nil
}

// ReadConfig reads and checks dir/reft_config.json.
func ReadConfig(dir string) (*FileConfig, error) {
	path := filepath.Join(dir, ConfigFile)
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("reft: %w", err)
	}
	if st.Size() > 64<<20 {
		return nil, fmt.Errorf("reft: %s: %d bytes is too large for a ReFT config", path, st.Size())
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reft: %w", err)
	}
	var cfg FileConfig
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return nil, fmt.Errorf("reft: %s: %w", path, err)
	}
	if cfg.Format != formatName || cfg.Version != 1 {
		return nil, fmt.Errorf("reft: %s: format %q version %d, want %q version 1", path, cfg.Format, cfg.Version, formatName)
	}
	return &cfg, nil
}

// ErrModelMismatch is wrapped by Load's errors when the saved interventions
// do not fit the model (hidden size, layer count, missing component).
var ErrModelMismatch = errors.New("the saved interventions do not fit this model")
