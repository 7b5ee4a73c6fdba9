package llava

import (
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/visreft/visreft/sdk/backend"
	"github.com/visreft/visreft/sdk/nn"
)

// BenchmarkFullSizeForward times one forward of full-size nanoLLaVA (random
// weights, float32, one 384x384 image and 20 text tokens: 749 tokens, logits
// over the whole vocabulary at every position) on the CPU backend, and
// reports the process's peak resident memory. With -benchtime 1x the one
// timed call includes building and compiling the graph (the pure-Go backend
// compiles in a fraction of a second). The engine-move issue's
// before/after figure:
//
//	GOEXPERIMENT=simd go test ./sdk/models/llava -run - -bench FullSizeForward -benchtime 1x
func BenchmarkFullSizeForward(b *testing.B) {
	c := NanoLLaVA()
	be, err := backend.NewFromConfig(backend.CPUConfig)
	if err != nil {
		b.Fatal(err)
	}
	scope := model.NewStore().RootScope()
	t0 := time.Now()
	if err := nn.InitRandom(scope, Params(c), 1, 0.02, dtypes.Float32); err != nil {
		b.Fatal(err)
	}
	b.Logf("random full-size weights in %v", time.Since(t0).Round(time.Second))
	ids := []int{1, 2, ImageToken}
	for j := range 18 {
		ids = append(ids, 100+j)
	}
	bt, err := Layout([]Sample{{IDs: ids}}, c.Vision.WithDefaults().NumPatches(), 0)
	if err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 1))
	px := make([]float32, 3*384*384)
	for i := range px {
		px[i] = float32(2*r.Float64() - 1)
	}
	pixels := tensors.FromFlatDataAndDimensions(px, 1, 3, 384, 384)
	e := model.MustNewExec(be, scope.Store(), func(scope *model.Scope, in []*Node) *Node {
		_, lg := Forward(scope, c, Inputs{Pixels: in[0], TextIDs: in[1], Gather: in[2], Valid: in[3], Positions: in[4]})
		return lg
	})
	defer e.Finalize()
	args := []any{pixels, bt.TextIDs, bt.Gather, bt.Valid, bt.Positions}
	b.ResetTimer()
	for b.Loop() {
		out, err := e.Exec(args...)
		if err != nil {
			b.Fatal(err)
		}
		if d := out[0].Shape().Dimensions; d[1] != 749 {
			b.Fatalf("logits %v, want 749 positions", d)
		}
		out[0].FinalizeAll()
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/forward")
	b.ReportMetric(peakRSSMiB(), "peak-MiB")
}

// peakRSSMiB is the process's peak resident set (VmHWM), in MiB; 0 where
// /proc is not readable.
func peakRSSMiB() float64 {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}
