package llava

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/visreft/visreft/sdk/backend"
	"github.com/visreft/visreft/sdk/internal/testutil"
	"github.com/visreft/visreft/sdk/models/qwen2"
	"github.com/visreft/visreft/sdk/models/siglip"
	"github.com/visreft/visreft/sdk/nn"
)

// tinyLLaVA: 8x8 images of 4x4 patches (4 image features), 2 of 3 vision
// layers kept, a 2-layer decoder with grouped kv heads.
func tinyLLaVA() Config {
	return Config{
		Config: qwen2.Config{VocabSize: 40, HiddenSize: 16, IntermediateSize: 24, NumHiddenLayers: 2,
			NumAttentionHeads: 4, NumKeyValueHeads: 2, RopeTheta: 10000, RMSNormEps: 1e-6},
		MMHiddenSize: 12, MMProjectorType: "mlp2x_gelu",
		Vision: siglip.Config{HiddenSize: 12, IntermediateSize: 20, NumHiddenLayers: 3, NumAttentionHeads: 2,
			NumChannels: 3, ImageSize: 8, PatchSize: 4, LayersKept: 2, Prefix: siglip.PrefixNanoLLaVA},
	}
}

func tinyModel(t *testing.T, c Config) (compute.Backend, *model.Scope) {
	t.Helper()
	b, err := backend.NewFromConfig(backend.CPUConfig)
	if err != nil {
		t.Fatal(err)
	}
	scope := model.NewStore().RootScope()
	if err := nn.InitRandom(scope, Params(c), 7, 0.3, dtypes.Float32); err != nil {
		t.Fatal(err)
	}
	return b, scope
}

func TestNanoLLaVACounts(t *testing.T) {
	n := CountParams(NanoLLaVA())
	if n.Total != 1_019_548_192 || n.LLM != 619_570_176 || n.Projector != 2_230_272 || n.Vision != 397_747_744 {
		t.Errorf("counts: %+v", n)
	}
	if s := n.FullFineTuneShare(); math.Abs(s-60.99) >= 0.005 {
		t.Errorf("full fine-tuning share %.4f%%, paper 60.99%%", s)
	}
}

func TestLayoutSplicesAndLabels(t *testing.T) {
	// prompt: 3 7 <img> 5 ; answer: 9 2
	long := Sample{IDs: []int{3, 7, ImageToken, 5, 9, 2}, Target: []bool{false, false, false, false, true, true}, PromptLen: 4}
	short := Sample{IDs: []int{ImageToken, 4}}
	b, err := Layout([]Sample{long, short}, 3, 0)
	if err != nil {
		t.Fatal(err)
	}
	if b.Length != 8 { // 5 text + 3 image
		t.Fatalf("length %d, want 8", b.Length)
	}
	// long: positions 0..7 = 3 7 i0 i1 i2 5 9 2 (s = 6 text rows, so image rows are 6, 7, 8)
	if want := []int32{0, 1, 6, 7, 8, 3, 4, 5}; !slices.Equal(b.Gather[0], want) {
		t.Errorf("gather[0] = %v, want %v", b.Gather[0], want)
	}
	if want := []int{0, 1, 5}; !slices.Equal(b.TextIndex[0], want) {
		t.Errorf("prompt text positions = %v, want %v (never image positions)", b.TextIndex[0], want)
	}
	// position 5 (token 5) predicts 9, position 6 (token 9) predicts 2.
	if want := []int32{0, 0, 0, 0, 0, 9, 2, 0}; !slices.Equal(b.Labels[0], want) {
		t.Errorf("labels = %v, want %v", b.Labels[0], want)
	}
	// short: 4 final tokens, left-padded by 4.
	if want := []bool{false, false, false, false, true, true, true, true}; !slices.Equal(b.Valid[1], want) {
		t.Errorf("valid[1] = %v", b.Valid[1])
	}
	if want := []int32{1, 1, 1, 1, 0, 1, 2, 3}; !slices.Equal(b.Positions[1], want) {
		t.Errorf("positions[1] = %v", b.Positions[1])
	}
	if b.ImageStart[1] != 4 || !slices.Equal(b.TextIndex[1], []int{7}) {
		t.Errorf("short: image at %d, text at %v", b.ImageStart[1], b.TextIndex[1])
	}
	if _, err := Layout([]Sample{{IDs: []int{1, 2}}}, 3, 0); err == nil {
		t.Error("a sample without an image placeholder was accepted")
	}
}

// run executes Forward on a batch and returns the logits and the embeds.
func run(t *testing.T, b compute.Backend, scope *model.Scope, c Config, bt Batch, pixels *tensors.Tensor) (logits, embeds [][][]float32) {
	t.Helper()
	e := model.MustNewExec(b, scope.Store(), func(scope *model.Scope, in []*Node) []*Node {
		inp := Inputs{Pixels: in[0], TextIDs: in[1], Gather: in[2], Valid: in[3], Positions: in[4]}
		_, lg := Forward(scope, c, inp)
		return []*Node{lg, Embeds(scope, c, inp)}
	})
	defer e.Finalize()
	out, err := e.Exec(pixels, bt.TextIDs, bt.Gather, bt.Valid, bt.Positions)
	if err != nil {
		t.Fatal(err)
	}
	return out[0].Value().([][][]float32), out[1].Value().([][][]float32)
}

func pixelsOf(seed uint64, n int) (*tensors.Tensor, [][]float32) {
	r := rand.New(rand.NewPCG(seed, 1))
	var all []float32
	var rows [][]float32
	for range n {
		row := make([]float32, 3*8*8)
		for i := range row {
			row[i] = float32(r.Float64()*2 - 1)
		}
		rows = append(rows, row)
		all = append(all, row...)
	}
	return tensors.FromFlatDataAndDimensions(all, n, 3, 8, 8), rows
}

// TestSpliceAndPaddingInvariance: a sample's logits are the same alone and
// left-padded in a batch with a longer one, and its spliced embeddings hold
// the image features at the image positions.
func TestSpliceAndPaddingInvariance(t *testing.T) {
	c := tinyLLaVA()
	be, scope := tinyModel(t, c)
	short := Sample{IDs: []int{3, ImageToken, 5}}
	long := Sample{IDs: []int{1, 2, 8, ImageToken, 5, 6, 7}}
	alone, err := Layout([]Sample{short}, 4, 0)
	if err != nil {
		t.Fatal(err)
	}
	both, err := Layout([]Sample{short, long}, 4, 0)
	if err != nil {
		t.Fatal(err)
	}
	px1, rows := pixelsOf(1, 2)
	px0 := tensors.FromFlatDataAndDimensions(rows[0], 1, 3, 8, 8)
	la, ea := run(t, be, scope, c, alone, px0)
	lb, eb := run(t, be, scope, c, both, px1)
	pad := both.Length - alone.Length
	for p := range alone.Length {
		if d := testutil.MaxAbsDiff(la[0][p], lb[0][p+pad]); d > 1e-5 {
			t.Errorf("position %d: logits differ by %.3g between alone and padded", p, d)
		}
		if d := testutil.MaxAbsDiff(ea[0][p], eb[0][p+pad]); d > 0 {
			t.Errorf("position %d: embeds differ by %.3g", p, d)
		}
	}
	// Image positions 1..4 of the short sample hold 4 distinct features,
	// different from the text embeddings around them.
	if testutil.MaxAbsDiff(ea[0][1], ea[0][2]) == 0 || testutil.MaxAbsDiff(ea[0][0], ea[0][1]) == 0 {
		t.Error("image features are not spliced in")
	}
}
