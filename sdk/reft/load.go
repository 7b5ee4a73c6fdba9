package reft

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/gomlx/gomlx/ml/model"
	"github.com/visreft/visreft/sdk/nn"
	"github.com/visreft/visreft/sdk/safetensors"
)

// Load reads a set saved by Save into scope (the set's scope) for the model
// described by base. Every component the set edits must have the hidden
// size it was trained with and enough layers; a different model id is
// allowed (a fine-tuned variant of the base). Values load bit for bit. The
// returned Set keeps the saved Base.
func Load(dir string, scope *model.Scope, base Base) (*Set, error) {
	cfg, err := ReadConfig(dir)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, ConfigFile)
	for _, sp := range cfg.Specs {
		c := sp.Component
		if c == "" {
			c = BlockOutput
		}
		saved, now := cfg.Base.Streams[c], base.Streams[c]
		if now.Hidden == 0 {
			return nil, fmt.Errorf("reft: %s: interventions on %s, but this model has no %s stream: %w", path, c, c, ErrModelMismatch)
		}
		if saved.Hidden != now.Hidden {
			return nil, fmt.Errorf("reft: %s: interventions on %s were trained for hidden size %d (base model %s@%s); "+
				"this model's %s has hidden size %d: %w", path, c, saved.Hidden, cfg.Base.ID, cfg.Base.Revision, c, now.Hidden, ErrModelMismatch)
		}
	}
	s, err := NewSet(cfg.Base, cfg.Specs...)
	if err != nil {
		return nil, fmt.Errorf("reft: %s: %w", path, err)
	}
	if len(s.Interventions) != len(cfg.Interventions) {
		return nil, fmt.Errorf("reft: %s: specs resolve to %d interventions, the file lists %d", path, len(s.Interventions), len(cfg.Interventions))
	}
	for i, it := range s.Interventions {
		fi := cfg.Interventions[i]
		if fi.Scope != it.Scope() || fi.Type != it.Type || fi.Rank != it.Rank || fi.Hidden != it.Hidden {
			return nil, fmt.Errorf("reft: %s: intervention %d is %s %s rank %d d %d, the specs give %s %s rank %d d %d",
				path, i, fi.Scope, fi.Type, fi.Rank, fi.Hidden, it.Scope(), it.Type, it.Rank, it.Hidden)
		}
		if st := base.Streams[it.Component]; it.Layer >= st.Layers {
			return nil, fmt.Errorf("reft: %s: %s edits %s layer %d, this model has %d layers: %w", path, it.Scope(), it.Component, it.Layer, st.Layers, ErrModelMismatch)
		}
	}
	f, err := safetensors.Open(filepath.Join(dir, WeightsFile))
	if err != nil {
		return nil, fmt.Errorf("reft: %w", err)
	}
	defer f.Close()
	params := s.Params()
	if err := nn.Check(f, params, []string{FilePrefix + "*." + RotateMaterialName}); err != nil {
		return nil, fmt.Errorf("reft: %s: %w", filepath.Join(dir, WeightsFile), err)
	}
	for _, p := range params {
		t, err := nn.ReadTensor(f, p.Name)
		if err != nil {
			return nil, fmt.Errorf("reft: %w", err)
		}
		if err := nn.SetParam(scope, strings.TrimPrefix(p.Name, FilePrefix), t); err != nil {
			return nil, fmt.Errorf("reft: %w", err)
		}
	}
	return s, nil
}

// savedTensors reads every tensor of a saved set as float32, by name.
func savedTensors(dir string) (map[string]savedTensor, error) {
	f, err := safetensors.Open(filepath.Join(dir, WeightsFile))
	if err != nil {
		return nil, fmt.Errorf("reft: %w", err)
	}
	defer f.Close()
	out := map[string]savedTensor{}
	names := f.Names()
	sort.Strings(names)
	for _, n := range names {
		info, err := f.Info(n)
		if err != nil {
			return nil, err
		}
		vals, err := f.ReadFloat32(n)
		if err != nil {
			return nil, err
		}
		raw, err := f.Read(n)
		if err != nil {
			return nil, err
		}
		out[n] = savedTensor{info: info, f32: vals, raw: raw}
	}
	return out, nil
}

type savedTensor struct {
	info safetensors.TensorInfo
	f32  []float32
	raw  []byte
}
