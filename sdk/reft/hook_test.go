package reft

import (
	"math"
	"strings"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/dtypes/bfloat16"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/visreft/visreft/sdk/internal/testutil"
	"github.com/visreft/visreft/sdk/models/qwen2"
	"github.com/visreft/visreft/sdk/nn"
)

// runHook applies s's hook for layer to h: [batch, seq, d] (float32 values,
// run in dtype) and returns the result as float32, plus the raw bytes.
func runHook(t *testing.T, scope *model.Scope, s *Set, loc *Locations, layer int, h [][][]float32, dtype dtypes.DType, opt HookOptions, training bool) []float32 {
	t.Helper()
	e := model.MustNewExec(testutil.Backend(t), scope.Store(), func(scope *model.Scope, h, idx, valid *Node) *Node {
		if training {
			scope.Store().SetTraining(h.Graph(), true)
		}
		hook := s.Hook(scope.At("reft"), Positions{Index: idx, Valid: valid}, opt)
		return ConvertDType(hook(layer, ConvertDType(h, dtype)), dtypes.Float32)
	})
	defer e.Finalize()
	out, err := e.Exec(h, loc.Index, loc.Valid)
	if err != nil {
		t.Fatal(err)
	}
	return flat32(t, out[0])
}

func randStream(seed uint64, b, s, d int) [][][]float32 {
	v := randFloats(seed, b*s*d)
	out := make([][][]float32, b)
	for i := range out {
		out[i] = reshape2(v[i*s*d:(i+1)*s*d], s, d)
	}
	return out
}

// TestHookEditsOnlySelectedPositions: unselected positions come out bit for
// bit as they went in; selected ones equal the formula; a padded slot
// (pointing at index 0) changes nothing.
func TestHookEditsOnlySelectedPositions(t *testing.T) {
	const B, S, D = 2, 7, 8
	s := mustSet(t, streamBase(D, 2), Spec{Type: LoReFT, Rank: 3, Layers: "all", Positions: "f2+l1"})
	scope := initCtx(t, s, InitOptions{Seed: 7}, dtypes.Float32)
	loc, err := s.Locate([][]int{{2, 3, 5, 6}, {1, 4}}, S) // example 1: first=min(1,2)=1 -> {1}, last {4}
	if err != nil {
		t.Fatal(err)
	}
	h := randStream(11, B, S, D)
	got := runHook(t, scope, s, loc, 1, h, dtypes.Float32, HookOptions{}, false)

	// The formula on every position, to pick the selected ones from.
	byGroup := map[string][]float32{}
	for _, it := range s.At(BlockOutput, 1) {
		out := model.MustExecOnce(testutil.Backend(t), scope.Store(), func(scope *model.Scope, h *Node) *Node {
			return Apply(it.Config, h, WeightsOf(scope.At("reft"), h.Graph(), it))
		}, h)
		byGroup[it.Group] = flat32(t, out)
	}
	selected := map[[2]int]string{{0, 2}: "first", {0, 3}: "first", {0, 6}: "last", {1, 1}: "first", {1, 4}: "last"}
	for b := range B {
		for p := range S {
			for k := range D {
				i := (b*S+p)*D + k
				grp, sel := selected[[2]int{b, p}]
				switch {
				case !sel && math.Float32bits(got[i]) != math.Float32bits(h[b][p][k]):
					t.Fatalf("example %d position %d: unselected but changed (%v -> %v)", b, p, h[b][p][k], got[i])
				case sel && math.Abs(float64(got[i]-byGroup[grp][i])) > 1e-6:
					t.Fatalf("example %d position %d (%s): got %v, formula %v", b, p, grp, got[i], byGroup[grp][i])
				case sel && got[i] == h[b][p][k] && k == 0:
					t.Fatalf("example %d position %d: selected but unchanged", b, p)
				}
			}
		}
	}
}

var tinyQwen = qwen2.Config{VocabSize: 64, HiddenSize: 32, IntermediateSize: 48, NumHiddenLayers: 2,
	NumAttentionHeads: 4, NumKeyValueHeads: 2, RopeTheta: 10000, RMSNormEps: 1e-6}

// qwenLogits runs the tiny decoder on a left-padded batch with an optional
// hook and returns every block output and the logits, as raw bytes.
func qwenLogits(t *testing.T, scope *model.Scope, s *Set, loc *Locations, dtype dtypes.DType) [][]byte {
	t.Helper()
	ids := [][]int32{{0, 0, 5, 9, 3, 7}, {1, 2, 3, 4, 5, 6}}
	valid := [][]bool{{false, false, true, true, true, true}, {true, true, true, true, true, true}}
	seqIdx := [][]int32{{0, 1, 2, 3, 4, 5}, {0, 1, 2, 3, 4, 5}}
	e := model.MustNewExec(testutil.Backend(t), scope.Store(), func(scope *model.Scope, in []*Node) []*Node {
		in2 := qwen2.Input{Embeds: qwen2.Embed(scope, tinyQwen, in[0], dtype), Positions: in[1],
			Mask: nn.CausalPaddingMask(in[2], in[2], in[3])}
		if s != nil {
			in2.Hook = s.Hook(scope.At("reft"), Positions{Index: in[4], Valid: in[5]}, HookOptions{})
		}
		out := qwen2.Decoder(scope, tinyQwen, in2)
		return append(out.Hidden, qwen2.LMHead(scope, tinyQwen, out.Final))
	})
	defer e.Finalize()
	args := []any{ids, qwen2.PositionIDs(valid), seqIdx, valid}
	if s != nil {
		args = append(args, loc.Index, loc.Valid)
	}
	res, err := e.Exec(args...)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, r := range res {
		var b []byte
		if err := r.ConstBytes(func(d []byte) { b = append(b, d...) }); err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// TestZeroDeltaIsBitIdenticalOnQwen2: a zero-delta LoReFT on every layer at
// start/mid/end leaves every block output and the logits of a tiny Qwen2
// bit-identical, in float32 and in bfloat16.
func TestZeroDeltaIsBitIdenticalOnQwen2(t *testing.T) {
	for _, dt := range []dtypes.DType{dtypes.Float32, dtypes.BFloat16} {
		t.Run(dt.String(), func(t *testing.T) {
			scope := model.NewStore().RootScope()
			if err := nn.InitRandom(scope, qwen2.Params(tinyQwen), 1, 0.2, dt); err != nil {
				t.Fatal(err)
			}
			// The paper's setting: one LoReFT per layer, shared by start/mid/end.
			s := mustSet(t, streamBase(32, 2), Spec{Type: LoReFT, Rank: 4, Layers: "all", Positions: "sme", ShareWeights: true})
			if err := Init(scope.At("reft"), s, InitOptions{Seed: 3, ZeroDelta: true, Backend: testutil.Backend(t)}); err != nil {
				t.Fatal(err)
			}
			// Example 0 has 2 pads: its text tokens are at 2..5 (sme picks 2, 4, 5); example 1's at 0..5 (0, 3, 5).
			loc, err := s.Locate([][]int{{2, 3, 4, 5}, {0, 1, 2, 3, 4, 5}}, 6)
			if err != nil {
				t.Fatal(err)
			}
			base := qwenLogits(t, scope, nil, nil, dt)
			hooked := qwenLogits(t, scope, s, loc, dt)
			for i := range base {
				if string(base[i]) != string(hooked[i]) {
					t.Fatalf("output %d differs with a zero-delta hook", i)
				}
			}
			// A non-zero LoReFT must change them, or the test proves nothing.
			if err := Init(scope.At("reft"), s, InitOptions{Seed: 3}); err != nil {
				t.Fatal(err)
			}
			if changed := qwenLogits(t, scope, s, loc, dt); string(changed[len(changed)-1]) == string(base[len(base)-1]) {
				t.Fatal("a random LoReFT left the logits unchanged")
			}
		})
	}
}

// TestZeroDeltaEveryType: each type that can start as the identity does so
// bit for bit on a bare stream, in float32 and bfloat16.
func TestZeroDeltaEveryType(t *testing.T) {
	const D = 16
	h := randStream(5, 2, 6, D)
	for _, sp := range []Spec{
		{Type: LoReFT, Rank: 3}, {Type: NoReFT, Rank: 3, AddBias: true}, {Type: NoReFT, Rank: 3},
		{Type: LoBiReFT, Rank: 3}, {Type: DiReFT, Rank: 3, Act: "gelu"}, {Type: NodiReFT, Rank: 3, Act: "relu"},
	} {
		sp.Layers, sp.Positions, sp.ShareWeights = "0", "f2+l2", true
		s := mustSet(t, streamBase(D, 1), sp)
		loc, err := s.Locate([][]int{{0, 1, 2, 3, 4, 5}, {2, 3, 4, 5}}, 6)
		if err != nil {
			t.Fatal(err)
		}
		for _, dt := range []dtypes.DType{dtypes.Float32, dtypes.BFloat16} {
			scope := initCtx(t, s, InitOptions{Seed: 9, ZeroDelta: true, Backend: testutil.Backend(t)}, dtypes.Float32)
			got := runHook(t, scope, s, loc, 0, h, dt, HookOptions{}, false)
			for i := range got {
				want := h[i/(6*D)][i/D%6][i%D]
				if dt == dtypes.BFloat16 {
					want = bfloat16.FromFloat32(want).Float32()
				}
				if math.Float32bits(got[i]) != math.Float32bits(want) {
					t.Fatalf("%s %s: element %d changed: %v -> %v", sp.Type, dt, i, want, got[i])
				}
			}
		}
	}
}

func TestZeroDeltaErrors(t *testing.T) {
	for _, c := range []struct {
		spec Spec
		be   bool
		want string
	}{
		{Spec{Type: ConsReFT, Rank: 2}, true, "consreft h + Rᵀ(b − Rh) pins the subspace"},
		{Spec{Type: LoReFT, Rank: 2, Act: "relu"}, true, `act "relu" makes act(Wh + b) differ`},
		{Spec{Type: DiReFT, Rank: 2, Act: "sigmoid"}, true, "sigmoid(0) is not 0"},
		{Spec{Type: LoReFT, Rank: 2}, false, "needs InitOptions.Backend"},
	} {
		c.spec.Layers, c.spec.Positions = "0", "l1"
		s := mustSet(t, streamBase(4, 1), c.spec)
		opt := InitOptions{ZeroDelta: true}
		if c.be {
			opt.Backend = testutil.Backend(t)
		}
		if err := Init(model.NewStore().RootScope(), s, opt); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want %q", c.spec, err, c.want)
		}
	}
}

// TestDecodeHook: a decode-step hook is the identity by default (prefill
// only); with EveryToken it applies each spec's last group to every new token.
func TestDecodeHook(t *testing.T) {
	const D = 8
	s := mustSet(t, streamBase(D, 1), Spec{Type: LoReFT, Rank: 2, Layers: "0", Positions: "f1+l1"})
	scope := initCtx(t, s, InitOptions{Seed: 2}, dtypes.Float32)
	step := randStream(3, 2, 1, D) // one new token per example
	run := func(opt HookOptions) []float32 {
		out := model.MustExecOnce(testutil.Backend(t), scope.Store(), func(scope *model.Scope, h *Node) *Node {
			return s.Hook(scope.At("reft"), Positions{}, opt)(0, h)
		}, step)
		return flat32(t, out)
	}
	same := run(HookOptions{Decode: true})
	for i, v := range same {
		if v != step[i/D][0][i%D] {
			t.Fatal("prefill-only decode hook changed the token")
		}
	}
	every := run(HookOptions{Decode: true, EveryToken: true})
	last := s.At(BlockOutput, 0)[1]
	if last.Group != "last" {
		t.Fatalf("want the last group, got %s", last.Group)
	}
	want := flat32(t, model.MustExecOnce(testutil.Backend(t), scope.Store(), func(scope *model.Scope, h *Node) *Node {
		return Apply(last.Config, h, WeightsOf(scope.At("reft"), h.Graph(), last))
	}, step))
	for i := range want {
		if math.Abs(float64(every[i]-want[i])) > 1e-6 {
			t.Fatalf("EveryToken: got %v, want %v", every, want)
		}
	}
	first := run(HookOptions{Decode: true, EveryToken: true, DecodeGroup: "first"})
	if first[0] == every[0] {
		t.Fatal("DecodeGroup first gave the last group's result")
	}
}

// TestDropoutOnlyWhenTraining: pyreft's dropout on the intervened output
// acts only in training, only at intervened positions.
func TestDropoutOnlyWhenTraining(t *testing.T) {
	const D = 32
	s := mustSet(t, streamBase(D, 1), Spec{Type: LoReFT, Rank: 2, Layers: "0", Positions: "l1", Dropout: 0.5})
	noDrop := mustSet(t, streamBase(D, 1), Spec{Type: LoReFT, Rank: 2, Layers: "0", Positions: "l1"})
	scope := initCtx(t, s, InitOptions{Seed: 2}, dtypes.Float32)
	loc, _ := s.Locate([][]int{{0, 1, 2}}, 3)
	h := randStream(4, 1, 3, D)
	eval := runHook(t, scope, s, loc, 0, h, dtypes.Float32, HookOptions{}, false)
	plain := runHook(t, scope, noDrop, loc, 0, h, dtypes.Float32, HookOptions{}, false)
	train := runHook(t, scope, s, loc, 0, h, dtypes.Float32, HookOptions{}, true)
	zeros := 0
	for i := range eval {
		if eval[i] != plain[i] {
			t.Fatal("dropout acted outside training")
		}
		if i < 2*D && train[i] != h[0][i/D][i%D] {
			t.Fatal("dropout touched an unselected position")
		}
		if i >= 2*D && train[i] == 0 {
			zeros++
		} else if i >= 2*D && math.Abs(float64(train[i]-2*plain[i])) > 1e-5 {
			t.Fatalf("kept entries are not scaled by 1/(1-p): %v vs %v", train[i], plain[i])
		}
	}
	if zeros == 0 || zeros == D {
		t.Fatalf("dropout 0.5 zeroed %d of %d entries", zeros, D)
	}
}
