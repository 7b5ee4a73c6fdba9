package reft

import (
	"encoding/binary"
	"fmt"
	"path/filepath"

	"github.com/visreft/visreft/sdk/safetensors"
)

// PyreftOptions tune ExportPyreft.
type PyreftOptions struct {
	// LegacyKeys names interventions as pyvene before v0.1.7 did
	// ("layer.3.comp.block_output.unit.pos.nunit.1#0") instead of the
	// current "layer_3_comp_block_output_unit_pos_nunit_1#0".
	LegacyKeys bool
}

// PyveneKey is the key pyvene gives the k-th intervention (in pyreft's
// representation order) on a layer's block output.
func PyveneKey(layer, k int, legacy bool) string {
	if legacy {
		return fmt.Sprintf("layer.%d.comp.block_output.unit.pos.nunit.1#%d", layer, k)
	}
	return fmt.Sprintf("layer_%d_comp_block_output_unit_pos_nunit_1#%d", layer, k)
}

// ExportPyreft converts a set saved by Save in dir into one safetensors
// file at out whose tensor names are "<pyvene key>.<state-dict key>", the
// state dicts pyreft's interventions save and load:
//
//   - LoReFT (pyreft's own compact state_dict): "weight" [r, d] and "bias"
//     [r] of learned_source, "rotate_layer" [d, r] = Rᵀ exactly as saved.
//   - the other types: torch's default state_dict, with pyvene's
//     "embed_dim"/"interchange_dim" buffers; the orthogonal ones as torch's
//     orthogonal parametrisation ("rotate_layer.parametrizations.weight.
//     original" = −I[:, :r], "...weight.0.base" = a d×d orthogonal matrix
//     whose first r columns are Rᵀ), which torch maps to exactly Rᵀ.
//
// Only block_output interventions exist in pyreft. See PYREFT.md for the
// loading snippet. Values are float32; learned_source is cast to the
// intervention's dtype by torch on load.
func ExportPyreft(dir, out string, opt PyreftOptions) error {
	cfg, err := ReadConfig(dir)
	if err != nil {
		return err
	}
	s, err := NewSet(cfg.Base, cfg.Specs...)
	if err != nil {
		return fmt.Errorf("reft: %s: %w", filepath.Join(dir, ConfigFile), err)
	}
	saved, err := savedTensors(dir)
	if err != nil {
		return err
	}
	var ts []safetensors.Tensor
	perLayer := map[int]int{}
	for _, it := range s.Interventions {
		if it.Component != BlockOutput {
			return fmt.Errorf("reft: pyreft export: %s is on %s; pyreft intervenes on block_output only", it.Scope(), it.Component)
		}
		key := PyveneKey(it.Layer, perLayer[it.Layer], opt.LegacyKeys)
		perLayer[it.Layer]++
		get := func(name string) (savedTensor, error) {
			t, ok := saved[FilePrefix+it.Scope()+"."+name]
			if !ok {
				return t, fmt.Errorf("reft: %s: no tensor %s%s.%s", dir, FilePrefix, it.Scope(), name)
			}
			return t, nil
		}
		add := func(sdKey, name string) error {
			t, err := get(name)
			if err != nil {
				return err
			}
			ft, err := f32Tensor(key+"."+sdKey, t)
			ts = append(ts, ft)
			return err
		}
		var errs []error
		if it.Type == LoReFT {
			errs = append(errs, add("weight", SourceWeightName), add("bias", SourceBiasName), add("rotate_layer", RotateMaterialName))
		} else {
			ts = append(ts, int64Scalar(key+".embed_dim", it.Hidden), int64Scalar(key+".interchange_dim", it.Hidden))
			if it.Type.Orthogonal() {
				rt, err := get(RotateMaterialName)
				if err != nil {
					return err
				}
				ts = append(ts, torchOrthogonal(key+".rotate_layer.parametrizations.weight.", it.Hidden, it.Rank, rt.f32)...)
			}
			if it.Type.hasProj() {
				errs = append(errs, add("proj_layer.weight", ProjWeightName))
				if it.AddBias {
					errs = append(errs, add("proj_layer.bias", ProjBiasName))
				}
			}
			if it.Type.hasLinearSource() {
				errs = append(errs, add("learned_source.weight", SourceWeightName), add("learned_source.bias", SourceBiasName))
			} else {
				errs = append(errs, add("learned_source", SourceConstName))
			}
		}
		for _, e := range errs {
			if e != nil {
				return e
			}
		}
	}
	meta := map[string]string{"format": "pyreft", "source": formatName, "legacy_keys": fmt.Sprint(opt.LegacyKeys)}
	if err := safetensors.Write(out, ts, meta); err != nil {
		return fmt.Errorf("reft: %w", err)
	}
	return nil
}

// f32Tensor copies a saved tensor as F32 (bytes as they are when already F32).
func f32Tensor(name string, t savedTensor) (safetensors.Tensor, error) {
	if t.info.DType == safetensors.F32 {
		return safetensors.Tensor{Name: name, DType: safetensors.F32, Shape: t.info.Shape, Data: t.raw}, nil
	}
	return safetensors.FromFloat32(name, safetensors.F32, t.info.Shape, t.f32)
}

func int64Scalar(name string, v int) safetensors.Tensor {
	b := make([]byte, 8)
	binary.LittleEndian.PutUint64(b, uint64(v))
	return safetensors.Tensor{Name: name, DType: safetensors.I64, Shape: []int64{}, Data: b}
}

// torchOrthogonal builds the state of torch's orthogonal parametrisation
// (Householder map, trivialisation on) that yields rt: [d, r] = Rᵀ:
// original = −I[:, :r] makes the Householder factor I[:, :r], and the
// weight is base·I[:, :r] = base's first r columns = rt, bit for bit.
func torchOrthogonal(prefix string, d, r int, rt []float32) []safetensors.Tensor {
	orig := make([]float32, d*r)
	for i := range r {
		orig[i*r+i] = -1
	}
	q := make([][]float64, d)
	for i := range q {
		q[i] = make([]float64, r)
		for j := range r {
			q[i][j] = float64(rt[i*r+j])
		}
	}
	full := completeOrthonormal(q)
	base := make([]float32, d*d)
	for i := range d {
		for j := range d {
			base[i*d+j] = float32(full[i][j])
		}
	}
	o, _ := safetensors.FromFloat32(prefix+"original", safetensors.F32, []int64{int64(d), int64(r)}, orig)
	b, _ := safetensors.FromFloat32(prefix+"0.base", safetensors.F32, []int64{int64(d), int64(d)}, base)
	return []safetensors.Tensor{o, b}
}
