package train

import (
	stdctx "context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/visreft/visreft/sdk/fsutil"
	"github.com/visreft/visreft/sdk/internal/testutil"
	"github.com/visreft/visreft/sdk/lora"
	"github.com/visreft/visreft/sdk/models/qwen2"
	"github.com/visreft/visreft/sdk/reft"
	"github.com/visreft/visreft/sdk/safetensors"
)

// prePort holds files that visreft wrote on GoMLX v0.26.0, before the move
// to v0.28.8: an intervention (reft.Save), a PEFT adapter (lora.Save) and two
// training checkpoints cut at step 4 of 6 (ReFT, and LoRA with dropout, so
// the RNG state matters). testdata/gen/compat_v026_gen.go.txt made them.
var prePort = filepath.Join("..", "..", "testdata", "compat", "gomlx-v0.26.0")

// sameTensors fails unless two safetensors files hold the same tensor names
// with the same dtypes, shapes and bytes; tensors named in derived are
// computed from the others when saving (LoReFT's materialised rotation R
// for pyreft), so the engine's arithmetic may move their last bits: they
// must agree within 1e-6.
func sameTensors(t *testing.T, want, got string, derived ...string) {
	t.Helper()
	a, err := safetensors.Open(want)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := safetensors.Open(got)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if !reflect.DeepEqual(a.Names(), b.Names()) {
		t.Fatalf("%s holds %v, %s holds %v", want, a.Names(), got, b.Names())
	}
	for _, n := range a.Names() {
		ia, _ := a.Info(n)
		ib, _ := b.Info(n)
		ra, err1 := a.Read(n)
		rb, err2 := b.Read(n)
		if err1 == nil && err2 == nil && ia.DType == ib.DType && reflect.DeepEqual(ia.Shape, ib.Shape) && slices.Contains(derived, n) {
			fa, _ := a.ReadFloat32(n)
			fb, _ := b.ReadFloat32(n)
			if d := testutil.MaxAbsDiff(fa, fb); d > 1e-6 {
				t.Errorf("%s: recomputed from the loaded parameters, it differs from %s's by %.3g (> 1e-6)", n, want, d)
			} else {
				t.Logf("%s: recomputed, max |diff| %.3g from %s's", n, d, want)
			}
			continue
		}
		if err1 != nil || err2 != nil || ia.DType != ib.DType || !reflect.DeepEqual(ia.Shape, ib.Shape) || string(ra) != string(rb) {
			t.Errorf("%s: %s %v in %s differs from %s %v in %s (%v %v)", n, ib.DType, ib.Shape, got, ia.DType, ia.Shape, want, err1, err2)
		}
	}
}

// sameJSON fails unless two JSON files decode to the same value.
func sameJSON(t *testing.T, want, got string) {
	t.Helper()
	var a, b any
	for _, f := range []struct {
		path string
		v    *any
	}{{want, &a}, {got, &b}} {
		raw, err := os.ReadFile(f.path)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, f.v); err != nil {
			t.Fatalf("%s: %v", f.path, err)
		}
	}
	if !reflect.DeepEqual(a, b) {
		t.Errorf("%s differs from the pre-port %s:\n%v\n%v", got, want, b, a)
	}
}

// TestPrePortInterventionAndAdapterLoadBitForBit: an intervention and a PEFT
// adapter written on GoMLX v0.26.0 load into the ported model, and saving
// them again writes the same tensors, byte for byte, and the same config.
func TestPrePortInterventionAndAdapterLoadBitForBit(t *testing.T) {
	b := testutil.Backend(t)
	set := paperSet(t)
	scope := tinyModel(t, dtypes.Float32)
	loaded, err := reft.Load(filepath.Join(prePort, "intervention"), scope.At("reft"), set.Base)
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	if err := reft.Save(out, b, scope.At("reft"), loaded); err != nil {
		t.Fatal(err)
	}
	var rotations []string
	for _, it := range loaded.Interventions {
		rotations = append(rotations, reft.FilePrefix+it.Scope()+"."+reft.RotateMaterialName)
	}
	sameTensors(t, filepath.Join(prePort, "intervention", reft.WeightsFile), filepath.Join(out, reft.WeightsFile), rotations...)
	sameJSON(t, filepath.Join(prePort, "intervention", reft.ConfigFile), filepath.Join(out, reft.ConfigFile))

	lscope := tinyModel(t, dtypes.Float32)
	cfg, ps, err := lora.Load(filepath.Join(prePort, "adapter"), lscope, qwen2.Params(tiny))
	if err != nil {
		t.Fatal(err)
	}
	out = t.TempDir()
	if err := lora.Save(out, lscope, cfg, ps, "tiny"); err != nil {
		t.Fatal(err)
	}
	sameTensors(t, filepath.Join(prePort, "adapter", "adapter_model.safetensors"), filepath.Join(out, "adapter_model.safetensors"))
	sameJSON(t, filepath.Join(prePort, "adapter", "adapter_config.json"), filepath.Join(out, "adapter_config.json"))
}

// TestPrePortCheckpointsResume: a training checkpoint written on GoMLX
// v0.26.0 (step 4 of 6) resumes on the ported trainer with its state intact
// bit for bit (weights, AdamW moments, RNG, data position: a checkpoint
// written right after the resume equals it), and the run then finishes.
func TestPrePortCheckpointsResume(t *testing.T) {
	b := testutil.Backend(t)
	set := paperSet(t)
	for _, c := range []string{"reft", "lora"} {
		t.Run(c, func(t *testing.T) {
			src := filepath.Join(prePort, "checkpoint-"+c)
			ck := t.TempDir()
			for _, f := range []string{StateFile, "weights-00000004.safetensors"} {
				raw, err := os.ReadFile(filepath.Join(src, f))
				if err != nil {
					t.Fatal(err)
				}
				if err := fsutil.WriteFile(filepath.Join(ck, f), raw); err != nil {
					t.Fatal(err)
				}
			}
			scope := tinyModel(t, dtypes.Float32)
			cfg := quiet()
			cfg.MaxSteps, cfg.BatchSize = 6, 4
			cfg.CheckpointDir, cfg.CheckpointEvery = ck, 4
			var tr *Trainer
			var err error
			if c == "reft" {
				if err := reft.Init(scope.At("reft"), set, reft.InitOptions{Seed: 1}); err != nil {
					t.Fatal(err)
				}
				cfg.LR = 2e-2
				tr, err = New(b, scope, reftLoss(set), ReFT(), reftSource{tinyData(8, 8, 10), set}, cfg)
			} else {
				lcfg := lora.Config{R: 4, Alpha: 8, Dropout: 0.1, TargetModules: []string{"q_proj", "v_proj"}, Seed: 3}
				if _, err := lora.Apply(scope, qwen2.Params(tiny), lcfg); err != nil {
					t.Fatal(err)
				}
				cfg.LR = 1e-2
				tr, err = New(b, scope, qwenLoss(dtypes.Float32, false), LoRA(), tinyData(8, 8, 10), cfg)
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := tr.Resume(ck); err != nil {
				t.Fatal(err)
			}
			again := t.TempDir()
			if err := tr.Checkpoint(again); err != nil {
				t.Fatal(err)
			}
			sameTensors(t, filepath.Join(src, "weights-00000004.safetensors"), filepath.Join(again, "weights-00000004.safetensors"))
			var was, now checkpointState
			for _, f := range []struct {
				dir string
				st  *checkpointState
			}{{src, &was}, {again, &now}} {
				raw, err := os.ReadFile(filepath.Join(f.dir, StateFile))
				if err != nil {
					t.Fatal(err)
				}
				if err := json.Unmarshal(raw, f.st); err != nil {
					t.Fatal(err)
				}
			}
			if !reflect.DeepEqual(was.RNG, now.RNG) || was.Step != now.Step || was.Micro != now.Micro || !reflect.DeepEqual(was.Trainable, now.Trainable) {
				t.Errorf("state after resuming: step %d micro %d rng %v trainable %v; pre-port: step %d micro %d rng %v trainable %v",
					now.Step, now.Micro, now.RNG, now.Trainable, was.Step, was.Micro, was.RNG, was.Trainable)
			}
			res, err := tr.Run(stdctx.Background())
			if err != nil {
				t.Fatal(err)
			}
			if res.Steps != 6 || len(res.Losses) != 6 {
				t.Errorf("resumed run ended at step %d with %d losses, want 6", res.Steps, len(res.Losses))
			}
		})
	}
}
