package qwen2

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/visreft/visreft/sdk/internal/testutil"
	"github.com/visreft/visreft/sdk/nn"
)

// tiny is a Qwen2 config small enough for the pure-Go backend, with grouped
// kv heads so the GQA path is exercised.
var tiny = Config{VocabSize: 64, HiddenSize: 32, IntermediateSize: 48, NumHiddenLayers: 2,
	NumAttentionHeads: 4, NumKeyValueHeads: 2, RopeTheta: 10000, RMSNormEps: 1e-6}

func tinyModel(t testing.TB) *model.Scope {
	t.Helper()
	scope := model.NewStore().RootScope()
	if err := nn.InitRandom(scope, Params(tiny), 1, 0.2, dtypes.Float32); err != nil {
		t.Fatal(err)
	}
	return scope
}

// logits runs a full forward pass: ids [b][s] with validity -> [b, s, vocab].
func logits(t *testing.T, b compute.Backend, scope *model.Scope, ids [][]int32, valid [][]bool) [][][]float32 {
	t.Helper()
	idx := make([][]int32, len(ids))
	for i := range ids {
		idx[i] = make([]int32, len(ids[i]))
		for j := range idx[i] {
			idx[i][j] = int32(j)
		}
	}
	e := model.MustNewExec(b, scope.Store(), func(scope *model.Scope, ids, pos, seqIdx, valid *Node) *Node {
		in := Input{Embeds: Embed(scope, tiny, ids, dtypes.Float32), Positions: pos,
			Mask: nn.CausalPaddingMask(seqIdx, seqIdx, valid)}
		return LMHead(scope, tiny, Decoder(scope, tiny, in).Final)
	})
	defer e.Finalize()
	out, err := e.Exec(ids, PositionIDs(valid), idx, valid)
	if err != nil {
		t.Fatal(err)
	}
	return out[0].Value().([][][]float32)
}

// TestLeftPaddingInvariance: a left-padded row gives the same logits at its
// real tokens as the same tokens alone.
func TestLeftPaddingInvariance(t *testing.T) {
	b, scope := testutil.Backend(t), tinyModel(t)
	alone := logits(t, b, scope, [][]int32{{5, 9, 3, 7}}, [][]bool{{true, true, true, true}})
	padded := logits(t, b, scope, [][]int32{{0, 0, 5, 9, 3, 7}, {1, 2, 3, 4, 5, 6}},
		[][]bool{{false, false, true, true, true, true}, {true, true, true, true, true, true}})
	for i := range 4 {
		if d := testutil.MaxAbsDiff(alone[0][i], padded[0][i+2]); d > 1e-5 {
			t.Errorf("position %d: max |alone - padded| = %.3g", i, d)
		}
	}
	if d := testutil.MaxAbsDiff(alone[0][3], alone[0][2]); d == 0 {
		t.Errorf("logits do not depend on the position: the test would prove nothing")
	}
}

// TestCacheMatchesFullForward: prefill 4 tokens into a cache, decode 2 more
// one at a time; their logits equal a full forward over all 6.
func TestCacheMatchesFullForward(t *testing.T) {
	b, scope := testutil.Backend(t), tinyModel(t)
	ids := []int32{5, 9, 3, 7, 11, 2}
	full := logits(t, b, scope, [][]int32{ids}, [][]bool{{true, true, true, true, true, true}})

	const maxLen = 8
	c := tiny.WithDefaults()
	kvShape := []int{1, c.NumKeyValueHeads, maxLen, c.HeadDim}
	zeros := tensors.FromShape(shapesOf(kvShape))
	// step runs tokens at sequence indices start.. and returns last logits and the new caches.
	step := model.MustNewExec(b, scope.Store(), func(scope *model.Scope, in []*Node) []*Node {
		ids, pos, start, keyValid := in[0], in[1], in[2], in[3]
		g := ids.Graph()
		s := ids.Shape().Dimensions[1]
		cache := &Cache{}
		for l := range c.NumHiddenLayers {
			cache.Layers = append(cache.Layers, LayerCache{K: in[4+2*l], V: in[5+2*l], WriteAt: start})
		}
		qIdx := Add(Iota(g, shapesOfInt(1, s), 1), start)
		kIdx := Iota(g, shapesOfInt(1, maxLen), 1)
		mask := nn.CausalPaddingMask(qIdx, kIdx, keyValid)
		out := Decoder(scope, tiny, Input{Embeds: Embed(scope, tiny, ids, dtypes.Float32), Positions: pos, Mask: mask, Cache: cache})
		res := []*Node{LMHead(scope, tiny, out.Final)}
		for _, lc := range cache.Layers {
			res = append(res, lc.K, lc.V)
		}
		return res
	})
	defer step.Finalize()
	kv := []any{zeros, zeros, zeros, zeros}
	valid := make([]bool, maxLen)
	run := func(tok []int32, start int32) [][][]float32 {
		pos := make([]int32, len(tok))
		for i := range tok {
			pos[i] = start + int32(i)
			valid[int(start)+i] = true
		}
		args := append([]any{[][]int32{tok}, [][]int32{pos}, start, [][]bool{valid}}, kv...)
		out, err := step.Exec(args...)
		if err != nil {
			t.Fatal(err)
		}
		for i := range kv {
			kv[i] = out[1+i]
		}
		return out[0].Value().([][][]float32)
	}
	pre := run(ids[:4], 0)
	if d := testutil.MaxAbsDiff(pre[0][3], full[0][3]); d > 1e-5 {
		t.Errorf("prefill last logits differ by %.3g", d)
	}
	for i := 4; i < 6; i++ {
		got := run(ids[i:i+1], int32(i))
		if d := testutil.MaxAbsDiff(got[0][0], full[0][i]); d > 1e-5 {
			t.Errorf("decode step at %d: logits differ from the full forward by %.3g", i, d)
		}
	}
}

// TestNanoLLaVATextParams counts the language model of nanoLLaVA from its
// config: embeddings and lm_head 151936x1024 each (untied), 24 blocks of
// 12,850,176, and the final norm.
func TestNanoLLaVATextParams(t *testing.T) {
	total, by := nn.Count(Params(NanoLLaVA()))
	if by["layers"] != 24*12_850_176 || by["embeddings"] != 155_582_464 || by["lm_head"] != 155_582_464 || by["norm"] != 1024 {
		t.Errorf("by component: %v", by)
	}
	if total != 619_570_176 {
		t.Errorf("total %d, want 619,570,176", total)
	}
}

func shapesOf(dims []int) shapes.Shape     { return shapes.Make(dtypes.Float32, dims...) }
func shapesOfInt(dims ...int) shapes.Shape { return shapes.Make(dtypes.Int32, dims...) }

func TestLoadConfigNamesMissingFields(t *testing.T) {
	p := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(p, []byte(`{"vocab_size": 10, "hidden_size": "32", "rope_theta": 1e6}`), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := LoadConfig(p)
	if err == nil {
		t.Fatal("LoadConfig accepted a config without intermediate_size")
	}
	for _, want := range []string{p, "intermediate_size", "num_hidden_layers", "num_attention_heads", `"hidden_size": want number`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
}
