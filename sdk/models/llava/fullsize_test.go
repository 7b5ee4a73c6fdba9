package llava

import (
	"slices"
	"testing"
	"time"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/visreft/visreft/sdk/backend"
	"github.com/visreft/visreft/sdk/nn"
)

// TestNanoLLaVAGraphShapes builds the whole full-size nanoLLaVA forward
// (384x384 image, 729 image tokens, 24 decoder layers) without executing it
// (a run on the pure-Go backend would take minutes; the GPU issue runs it).
// Shape inference runs through every op, so this proves the graph is well
// formed, and that it reads exactly Params' tensors (the unused
// post_layernorm aside) with their shapes.
func TestNanoLLaVAGraphShapes(t *testing.T) {
	start := time.Now()
	c := NanoLLaVA()
	b, err := backend.NewFromConfig(backend.CPUConfig)
	if err != nil {
		t.Fatal(err)
	}
	scope := model.NewStore().RootScope()
	g := NewGraph(b, "nanollava")
	const text, L = 20, 20 - 1 + 729
	i32 := func(name string, dims ...int) *Node { return Parameter(g, name, shapes.Make(dtypes.Int32, dims...)) }
	in := Inputs{
		Pixels:    Parameter(g, "pixels", shapes.Make(dtypes.BFloat16, 1, 3, 384, 384)),
		TextIDs:   i32("ids", 1, text),
		Gather:    i32("gather", 1, L),
		Valid:     Parameter(g, "valid", shapes.Make(dtypes.Bool, 1, L)),
		Positions: i32("positions", 1, L),
	}
	out, logits := Forward(scope, c, in)
	if d := logits.Shape(); !slices.Equal(d.Dimensions, []int{1, L, 151936}) || d.DType != dtypes.BFloat16 {
		t.Errorf("logits %s, want bf16 [1 %d 151936]", d, L)
	}
	if len(out.Hidden) != 24 {
		t.Errorf("%d decoder hidden states", len(out.Hidden))
	}
	used := map[string][]int{}
	for v := range scope.IterVariables() {
		used[nn.HFName(v.Scope(), v.Name())] = v.Shape().Dimensions
	}
	read := 0
	for _, p := range Params(c) {
		dims, ok := used[p.Name]
		if !ok {
			if p.Component != "vision_unused" {
				t.Errorf("%s is listed but the graph does not read it", p.Name)
			}
			continue
		}
		read++
		if !slices.Equal(dims, p.Dims) {
			t.Errorf("%s: graph %v, Params %v", p.Name, dims, p.Dims)
		}
	}
	if read != len(used) {
		t.Errorf("the graph reads %d tensors, %d of them listed", len(used), read)
	}
	t.Logf("built full-size nanoLLaVA (%d tensors read) in %v", read, time.Since(start))
}

// BenchmarkTinyForwardAndGenerate reports tokens/s of the tiny model's
// forward (prompt tokens processed) and of cached greedy generation.
func BenchmarkTinyForwardAndGenerate(b *testing.B) {
	c := tinyLLaVA()
	be, err := backend.NewFromConfig(backend.CPUConfig)
	if err != nil {
		b.Fatal(err)
	}
	scope := model.NewStore().RootScope()
	if err := nn.InitRandom(scope, Params(c), 7, 0.3, dtypes.Float32); err != nil {
		b.Fatal(err)
	}
	m := &Model{Config: c, Ctx: scope}
	var samples []Sample
	for i := range 4 {
		ids := []int{1, 2, ImageToken}
		for j := range 28 {
			ids = append(ids, (i+j)%c.VocabSize)
		}
		samples = append(samples, Sample{IDs: ids})
	}
	bt, _ := Layout(samples, 4, 0)
	px, _ := pixelsOf(1, 4)
	b.Run("forward", func(b *testing.B) {
		e := model.MustNewExec(be, scope.Store(), func(scope *model.Scope, in []*Node) *Node {
			_, lg := Forward(scope, c, Inputs{Pixels: in[0], TextIDs: in[1], Gather: in[2], Valid: in[3], Positions: in[4]})
			return lg
		})
		defer e.Finalize()
		args := []any{px, bt.TextIDs, bt.Gather, bt.Valid, bt.Positions}
		if _, err := e.Exec(args...); err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		for b.Loop() {
			out, _ := e.Exec(args...)
			out[0].FinalizeAll()
		}
		b.ReportMetric(float64(b.N*4*bt.Length)/b.Elapsed().Seconds(), "tokens/s")
	})
	b.Run("generate", func(b *testing.B) {
		const n = 16
		for b.Loop() {
			if _, err := Generate(be, m, bt, px, GenerateOptions{MaxNewTokens: n}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N*4*n)/b.Elapsed().Seconds(), "tokens/s")
	})
}
