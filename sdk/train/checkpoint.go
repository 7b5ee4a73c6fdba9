package train

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/visreft/visreft/sdk/fsutil"
	"github.com/visreft/visreft/sdk/safetensors"
)

// StateFile is the checkpoint's commit record: it names the weights file
// of the last complete checkpoint, so a crash at any moment leaves either
// the old checkpoint or the new one, never a mix.
const StateFile = "trainer_state.json"

const stateFormat = "visreft-train/1"

// stateKinds prefix a trained variable's scope key in the weights file:
// its value, then torch's names for AdamW's moments.
var stateKinds = []string{"param", "exp_avg", "exp_avg_sq"}

// checkpointState is trainer_state.json.
type checkpointState struct {
	Format    string            `json:"format"`
	Step      int               `json:"step"`          // optimizer steps done
	Micro     int               `json:"micro_batches"` // consumed: the data position
	Epoch     int               `json:"epoch"`
	Examples  int64             `json:"examples"`
	RNG       []string          `json:"rng_state"` // the context RNG, uint64s in hex
	Weights   string            `json:"weights_file"`
	Bytes     int64             `json:"weights_bytes"`
	Config    Config            `json:"config"`
	Strategy  Strategy          `json:"strategy"`
	Trainable []string          `json:"trainable"`     // scope keys, sorted
	Stored    map[string]string `json:"stored_dtypes"` // keys of bf16 variables trained as float32 masters
	Losses    []float64         `json:"losses"`
	Time      string            `json:"time"`
}

// Checkpoint writes the trained variables (float32 masters), AdamW's
// moments, the RNG state, the data position and the config to dir: first
// weights-<step>.safetensors (atomically: temp file, fsync, rename), then
// trainer_state.json (atomically) pointing at it; only then are older
// weights files removed beyond Config.KeepCheckpoints. A failure at any
// point leaves the previous checkpoint whole and in use.
func (t *Trainer) Checkpoint(dir string) error {
	if len(t.vars) == 0 {
		return fmt.Errorf("train: nothing to checkpoint before the first step")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("train: checkpoint: %w", err)
	}
	st := checkpointState{Format: stateFormat, Step: t.step, Micro: t.step * t.cfg.AccumSteps, Examples: t.examples,
		Config: t.cfg, Strategy: t.strategy, Stored: map[string]string{}, Losses: t.losses,
		Time: time.Now().UTC().Format(time.RFC3339)}
	st.Epoch = min(st.Micro, t.totalMicro()) / t.order.perEpoch()
	var ts []safetensors.Tensor
	for _, tv := range t.vars {
		st.Trainable = append(st.Trainable, tv.key)
		if d, ok := t.origDType[tv.key]; ok {
			st.Stored[tv.key] = d.String()
		}
		for i, v := range []*model.Variable{tv.v, tv.m, tv.s} {
			kind := stateKinds[i]
			val, err := v.Value()
			if err != nil {
				return fmt.Errorf("train: checkpoint: %s: %w", tv.name, err)
			}
			s, err := stTensor(kind+":"+tv.key, val)
			if err != nil {
				return fmt.Errorf("train: checkpoint: %w", err)
			}
			ts = append(ts, s)
		}
	}
	rng, err := t.rngState()
	if err != nil {
		return err
	}
	for _, x := range rng {
		st.RNG = append(st.RNG, strconv.FormatUint(x, 16))
	}
	st.Weights = fmt.Sprintf("weights-%08d.safetensors", t.step)
	path := filepath.Join(dir, st.Weights)
	if err := safetensors.Write(path, ts, map[string]string{"format": stateFormat}); err != nil {
		return fmt.Errorf("train: checkpoint at step %d failed, %s: %w", t.step, t.keptMessage(), err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("train: checkpoint: %w", err)
	}
	st.Bytes = fi.Size()
	js, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("train: checkpoint: %w", err)
	}
	if err := fsutil.WriteFile(filepath.Join(dir, StateFile), append(js, '\n')); err != nil {
		return fmt.Errorf("train: checkpoint at step %d failed, %s: %w", t.step, t.keptMessage(), err)
	}
	t.ckptPath, t.ckptStep = dir, t.step
	prune(dir, st.Weights, t.cfg.KeepCheckpoints)
	return nil
}

func (t *Trainer) keptMessage() string {
	if t.ckptPath == "" {
		return "no earlier checkpoint exists"
	}
	return fmt.Sprintf("the checkpoint of step %d in %s is kept", t.ckptStep, t.ckptPath)
}

// prune removes weights files other than the newest keep ones (current included).
func prune(dir, current string, keep int) {
	files, _ := filepath.Glob(filepath.Join(dir, "weights-*.safetensors"))
	sort.Sort(sort.Reverse(sort.StringSlice(files))) // zero-padded steps: newest first
	kept := 1
	for _, f := range files {
		if filepath.Base(f) == current {
			continue
		}
		if kept < keep {
			kept++
			continue
		}
		os.Remove(f)
	}
}

func (t *Trainer) rngVar() *model.Variable {
	return t.scope.Store().GetVariable(model.JoinPath(model.RootScopePath, model.RNGStateVariableName))
}

func (t *Trainer) rngState() ([]uint64, error) {
	v := t.rngVar()
	if v == nil {
		return nil, fmt.Errorf("train: the context has no RNG state")
	}
	val, err := v.Value()
	if err != nil {
		return nil, err
	}
	return tensors.CopyFlatData[uint64](val)
}

// Resume restores the checkpoint in dir (written by a Trainer with the
// same config, strategy and data) into this fresh Trainer: trained
// variables, AdamW's moments, the RNG state and the data position. Running
// it then gives bit for bit the weights an uninterrupted run would have.
func (t *Trainer) Resume(dir string) error {
	raw, err := os.ReadFile(filepath.Join(dir, StateFile))
	if err != nil {
		return fmt.Errorf("train: resume: %w", err)
	}
	var st checkpointState
	if err := json.Unmarshal(raw, &st); err != nil {
		return fmt.Errorf("train: resume: %s: %w", filepath.Join(dir, StateFile), err)
	}
	if st.Format != stateFormat {
		return fmt.Errorf("train: resume: %s has format %q, want %q", dir, st.Format, stateFormat)
	}
	if err := identityDiff(dir, st.Config.Identity, t.cfg.Identity); err != nil {
		return err
	}
	if diff := configDiff(st.Config, t.cfg); diff != "" || !reflect.DeepEqual(st.Strategy, t.strategy) {
		if diff == "" {
			diff = fmt.Sprintf("strategy %+v vs %+v", st.Strategy, t.strategy)
		}
		return fmt.Errorf("train: resume: the checkpoint was made with a different configuration (%s); "+
			"an exact resume needs the same one", diff)
	}
	path := filepath.Join(dir, st.Weights)
	f, err := safetensors.Open(path)
	if err != nil {
		return fmt.Errorf("train: resume: %w", err)
	}
	defer f.Close()
	if fi, err := os.Stat(path); err != nil || fi.Size() != st.Bytes {
		return fmt.Errorf("train: resume: %s is not the file %s recorded (%d bytes)", path, StateFile, st.Bytes)
	}
	for _, key := range st.Trainable {
		if err := t.restoreVar(f, key); err != nil {
			return fmt.Errorf("train: resume: %w", err)
		}
		if d, ok := st.Stored[key]; ok && d == dtypes.BFloat16.String() {
			t.origDType[key] = dtypes.BFloat16
		}
	}
	var rng []uint64
	for _, h := range st.RNG {
		x, err := strconv.ParseUint(h, 16, 64)
		if err != nil {
			return fmt.Errorf("train: resume: rng_state: %w", err)
		}
		rng = append(rng, x)
	}
	if err := t.rngVar().SetValue(tensors.FromFlatDataAndDimensions(rng, len(rng))); err != nil {
		return fmt.Errorf("train: resume: rng_state: %w", err)
	}
	t.step, t.examples, t.losses = st.Step, st.Examples, st.Losses
	t.ckptPath, t.ckptStep = dir, st.Step
	return nil
}

// restoreVar loads one trained variable and its moments, creating the
// variable if the model creates it lazily.
func (t *Trainer) restoreVar(f *safetensors.File, key string) error {
	vals := map[string]*tensors.Tensor{}
	for _, kind := range stateKinds {
		v, err := readTensor(f, kind+":"+key)
		if err != nil {
			return err
		}
		vals[kind] = v
	}
	scope, name := model.SplitPath(key)
	c := t.scope.Store().Scope(scope)
	v := c.GetVariable(name)
	if v == nil {
		v = c.VariableWithValue(name, vals["param"])
	} else {
		if !reflect.DeepEqual(v.Shape().Dimensions, vals["param"].Shape().Dimensions) {
			return fmt.Errorf("%s: the model has %s, the checkpoint %s", key, v.Shape(), vals["param"].Shape())
		}
		if err := v.SetValue(vals["param"]); err != nil {
			return err
		}
	}
	v.SetTrainable(true)
	tv := t.byKey[key]
	if tv == nil {
		tv = t.addVar(v)
	}
	if err := tv.m.SetValue(vals["exp_avg"]); err != nil {
		return err
	}
	return tv.s.SetValue(vals["exp_avg_sq"])
}

// configDiff names the fields (as JSON keys) in which two configs differ.
func configDiff(a, b Config) string {
	var ma, mb map[string]any
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	json.Unmarshal(ja, &ma)
	json.Unmarshal(jb, &mb)
	delete(ma, "identity") // see identityDiff
	var diffs []string
	for k, va := range ma {
		if !reflect.DeepEqual(va, mb[k]) {
			diffs = append(diffs, fmt.Sprintf("%s: %v vs %v", k, va, mb[k]))
		}
	}
	sort.Strings(diffs)
	return strings.Join(diffs, ", ")
}

// identityDiff refuses a checkpoint made for another base model, data set
// or method: every key of either identity must have the same value.
func identityDiff(dir string, saved, now map[string]string) error {
	var diffs []string
	keys := map[string]bool{}
	for k := range saved {
		keys[k] = true
	}
	for k := range now {
		keys[k] = true
	}
	for k := range keys {
		a, okA := saved[k]
		b, okB := now[k]
		switch {
		case !okA:
			diffs = append(diffs, fmt.Sprintf("%s: the checkpoint records none, this run has %q", k, b))
		case !okB:
			diffs = append(diffs, fmt.Sprintf("%s: the checkpoint has %q, this run records none", k, a))
		case a != b:
			diffs = append(diffs, fmt.Sprintf("%s: the checkpoint was made with %q, this run has %q", k, a, b))
		}
	}
	if len(diffs) == 0 {
		return nil
	}
	sort.Strings(diffs)
	return fmt.Errorf("train: resume: %s belongs to another run (%s); refusing to resume onto it (delete the folder or use -force to start afresh)",
		dir, strings.Join(diffs, "; "))
}
