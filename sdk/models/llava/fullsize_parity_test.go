package llava

import (
	gocontext "context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/visreft/visreft/sdk/internal/testutil"
	"github.com/visreft/visreft/sdk/models/siglip"
	"github.com/visreft/visreft/sdk/safetensors"
)

// TestFullSizeParity compares the full-size nanoLLaVA architecture (random
// weights stored in bf16 like the hub checkpoint, computed in f32) with
// transformers: SigLIP's output, the image features, every decoder hidden
// state at the last 16 positions and the logits at the last 8. The 2 GB
// checkpoint is not committed: make it with testdata/gen/models/fullsize.py
// and point VISREFT_FULLSIZE_DIR at it.
func TestFullSizeParity(t *testing.T) {
	dir := os.Getenv("VISREFT_FULLSIZE_DIR")
	if dir == "" {
		t.Skip("VISREFT_FULLSIZE_DIR is unset: make a full-size random nanoLLaVA with testdata/gen/models/fullsize.py (2 GB) and point it there")
	}
	start := time.Now()
	m, err := Load(gocontext.Background(), dir, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if n := CountParams(m.Config); n.Total != 1_019_548_192 {
		t.Fatalf("the checkpoint's config counts %d parameters, nanoLLaVA has 1,019,548,192", n.Total)
	}
	t.Logf("loaded in %s", time.Since(start).Round(time.Millisecond))
	g, err := safetensors.Open(filepath.Join(dir, "golden.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	gold := goldenReader(t, g)
	ids := int64Rows(gold("input_ids"))
	bt, err := Layout([]Sample{{IDs: ints(ids[0])}}, m.Config.Vision.WithDefaults().NumPatches(), 0)
	if err != nil {
		t.Fatal(err)
	}
	nDec := m.Config.Config.WithDefaults().NumHiddenLayers
	last := func(x *Node, k int) *Node {
		L := x.Shape().Dimensions[1]
		return Slice(x, AxisRange(), AxisRange(L-k, L), AxisRange())
	}
	e := context.MustNewExec(testutil.Backend(t), m.Ctx.Reuse(), func(ctx *context.Context, in []*Node) []*Node {
		vis := siglip.Forward(ctx, m.Config.Vision, in[0], nil).Last
		feat := Project(ctx, m.Config, vis)
		dec, logits := Forward(ctx, m.Config, Inputs{ImageFeat: feat, TextIDs: in[1], Gather: in[2], Valid: in[3], Positions: in[4]})
		outs := []*Node{vis, feat, last(Embeds(ctx, m.Config, Inputs{ImageFeat: feat, TextIDs: in[1], Gather: in[2]}), 16)}
		for _, h := range dec.Hidden[:nDec-1] {
			outs = append(outs, last(h, 16))
		}
		return append(outs, last(dec.Final, 16), last(logits, 8))
	})
	defer e.Finalize()
	start = time.Now()
	out, err := e.Exec(gold("pixel_values"), bt.TextIDs, bt.Gather, bt.Valid, bt.Positions)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("forward (f32, %d tokens) in %s", bt.Length, time.Since(start).Round(time.Millisecond))
	names := []string{"vision_out", "image_features"}
	for i := 0; i <= nDec; i++ {
		names = append(names, fmt.Sprintf("hidden_%d_last16", i))
	}
	names = append(names, "logits_last8")
	for i, name := range names {
		worst, scale := maxError(tensors.MustCopyFlatData[float32](out[i]), tensors.MustCopyFlatData[float32](gold(name)), nil)
		t.Logf("%-18s max abs error %.3g (max |want| %.3g)", name, worst, scale)
		if worst/scale > 1e-4 || math.IsNaN(worst) {
			t.Errorf("%s: max abs error %.3g > 1e-4 · %.3g", name, worst, scale)
		}
	}
	if !g.Has("generated") {
		return
	}
	start = time.Now()
	gen, err := Generate(testutil.Backend(t), m, bt, gold("pixel_values"), GenerateOptions{MaxNewTokens: 8})
	if err != nil {
		t.Fatal(err)
	}
	want := ints(int64Rows(gold("generated"))[0])
	t.Logf("greedy generation (KV cache, %s): %v, transformers %v", time.Since(start).Round(time.Millisecond), gen[0], want)
	if !slices.Equal(gen[0], want) {
		t.Errorf("generated %v, transformers %v", gen[0], want)
	}
	if len(slices.Compact(slices.Clone(want))) < 3 {
		t.Errorf("transformers' continuation %v is (nearly) one repeated token: regenerate the checkpoint with fullsize.py", want)
	}
}
