package train

import (
	stdctx "context"
	"math"
	"path/filepath"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/visreft/visreft/sdk/internal/testutil"
	"github.com/visreft/visreft/sdk/nn"
	"github.com/visreft/visreft/sdk/safetensors"
)

// TestMasterWeightsKeepSmallUpdates: full fine-tuning of a bf16 model,
// computing in bf16. With float32 masters, updates far below bf16's
// resolution accumulate exactly; trained in bf16 they are either lost or
// (the pure-Go backend truncates f32 -> bf16) become whole bf16 steps.
// Saved weights return to bf16.
func TestMasterWeightsKeepSmallUpdates(t *testing.T) {
	data := tinyData(4, 8, 5)
	const norm = "model.norm.weight"
	for _, master := range []bool{true, false} {
		scope := tinyModel(t, dtypes.BFloat16)
		before := getVar(t, scope, norm)
		cfg := quiet()
		cfg.MaxSteps, cfg.LR, cfg.MasterFloat32, cfg.Schedule = 3, 1e-5, master, Schedule{Kind: Constant}
		tr, err := New(testutil.Backend(t), scope, qwenLoss(dtypes.BFloat16, false), Full([]string{"model.", "lm_head."}, nil), data, cfg)
		if err != nil {
			t.Fatal(err)
		}
		sub, n := nn.ScopeOf(scope, norm)
		if dt := sub.GetVariable(n).DType(); (dt == dtypes.Float32) != master {
			t.Errorf("master %v: %s is %s during training", master, norm, dt)
		}
		if _, err := tr.Run(stdctx.Background()); err != nil {
			t.Fatal(err)
		}
		after := getVar(t, scope, norm)
		// With masters every element moved by about 3 updates of lr (3e-5);
		// in bf16 no element can move by less than a bf16 step (> 1e-3 here).
		moved := 0
		for i := range before {
			d := math.Abs(float64(after[i] - before[i]))
			if d > 0 {
				moved++
			}
			if master && d > 1e-4 || !master && d > 0 && d < 1e-3 {
				t.Errorf("master %v: %s[%d] moved by %.3g", master, norm, i, d)
			}
		}
		if master && moved < len(before)/2 {
			t.Errorf("masters: only %d of %d elements moved", moved, len(before))
		}
		if m, _ := tr.Moments(norm); m == nil || m.DType() != dtypes.Float32 {
			t.Errorf("master %v: AdamW moments are not float32: %v", master, m)
		}
		path := filepath.Join(t.TempDir(), "trained.safetensors")
		if err := tr.SaveTrainable(path); err != nil {
			t.Fatal(err)
		}
		f, err := safetensors.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		if info, _ := f.Info(norm); info.DType != safetensors.BF16 || len(f.Names()) != 27 {
			t.Errorf("master %v: saved %s as %s, %d tensors", master, norm, info.DType, len(f.Names()))
		}
		f.Close()
	}
}
