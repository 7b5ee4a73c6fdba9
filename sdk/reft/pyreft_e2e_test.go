package reft

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/visreft/visreft/sdk/internal/testutil"
	"github.com/visreft/visreft/sdk/models/qwen2"
	"github.com/visreft/visreft/sdk/nn"
	"github.com/visreft/visreft/sdk/safetensors"
)

// The end-to-end pyreft fixture: a set of all six intervention types on
// testdata/models/qwen2_tied (a 4-layer Qwen2 written by transformers),
// saved and exported by us (VISREFT_UPDATE_PYREFT_E2E=1 rewrites it), then
// loaded into pyreft/pyvene by testdata/gen/reft/pyreft_e2e.py, which
// records transformers' logits with and without the interventions.
var (
	e2eDir   = filepath.Join("..", "..", "testdata", "reft", "qwen2_e2e")
	e2eModel = filepath.Join("..", "..", "testdata", "models", "qwen2_tied")
	e2eBase  = Base{ID: "visreft/testdata/qwen2_tied", DType: "float32", NumParams: 19_960,
		Streams: map[Component]Stream{BlockOutput: {Hidden: 24, Layers: 4}}}
	e2eSpecs = []Spec{
		{Name: "lo", Type: LoReFT, Rank: 4, Layers: "0", Positions: "f1+l1"}, // untied: first, last
		{Name: "no", Type: NoReFT, Rank: 2, Layers: "1", Positions: "f2+l2", ShareWeights: true, Act: "gelu"},
		{Name: "di", Type: DiReFT, Rank: 3, Layers: "2", Positions: "l1"},
		{Name: "co", Type: ConsReFT, Rank: 2, Layers: "2", Positions: "f1"},
		{Name: "lb", Type: LoBiReFT, Rank: 2, Layers: "3", Positions: "f1"},
		{Name: "nd", Type: NodiReFT, Rank: 2, Layers: "3", Positions: "l1", AddBias: true},
	}
	e2eIDs = [][]int32{{3, 14, 15, 12, 65, 35, 8, 9, 79}, {2, 7, 1, 8, 2, 8, 18, 28, 45}}
)

// e2eLocations is what pyreft_e2e.py reads: the ids and, per intervention in
// reft_config.json's order, each example's positions (pyvene's
// unit_locations["sources->base"][1]).
type e2eLocations struct {
	InputIDs      [][]int32 `json:"input_ids"`
	UnitLocations [][][]int `json:"unit_locations"`
}

func e2eLocate(t *testing.T, s *Set) (*Locations, e2eLocations) {
	t.Helper()
	text := make([][]int, len(e2eIDs))
	for b := range e2eIDs {
		for i := range e2eIDs[b] {
			text[b] = append(text[b], i)
		}
	}
	loc, err := s.Locate(text, len(e2eIDs[0]))
	if err != nil {
		t.Fatal(err)
	}
	out := e2eLocations{InputIDs: e2eIDs}
	for _, it := range s.Interventions {
		var per [][]int
		for b := range e2eIDs {
			var ps []int
			for j, ok := range loc.Valid[b][it.Slot] {
				if ok {
					ps = append(ps, int(loc.Index[b][it.Slot][j]))
				}
			}
			per = append(per, ps)
		}
		out.UnitLocations = append(out.UnitLocations, per)
	}
	return loc, out
}

// TestPyreftEndToEnd: our Qwen2 with our interventions gives the logits
// pyreft computes on transformers' Qwen2 after loading our export.
func TestPyreftEndToEnd(t *testing.T) {
	be := testutil.Backend(t)
	if os.Getenv("VISREFT_UPDATE_PYREFT_E2E") == "1" {
		s := mustSet(t, e2eBase, e2eSpecs...)
		scope := initCtx(t, s, InitOptions{Seed: 2026}, dtypes.Float32)
		if err := Save(e2eDir, be, scope.At("reft"), s); err != nil {
			t.Fatal(err)
		}
		if err := ExportPyreft(e2eDir, filepath.Join(e2eDir, "pyreft.safetensors"), PyreftOptions{}); err != nil {
			t.Fatal(err)
		}
		_, locs := e2eLocate(t, s)
		js, _ := json.MarshalIndent(locs, "", " ")
		if err := os.WriteFile(filepath.Join(e2eDir, "locations.json"), append(js, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("rewrote %s: now run testdata/gen/reft/pyreft_e2e.py", e2eDir)
	}
	scope := model.NewStore().RootScope()
	s, err := Load(e2eDir, scope.At("reft"), e2eBase)
	if err != nil {
		t.Fatal(err)
	}
	// The committed export is what ExportPyreft makes of the committed set.
	again := filepath.Join(t.TempDir(), "pyreft.safetensors")
	if err := ExportPyreft(e2eDir, again, PyreftOptions{}); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(again)
	b, err := os.ReadFile(filepath.Join(e2eDir, "pyreft.safetensors"))
	if err != nil || !bytes.Equal(a, b) {
		t.Fatalf("testdata's pyreft.safetensors is not ExportPyreft's output (%v): regenerate the fixture", err)
	}
	loc, locs := e2eLocate(t, s)
	var saved e2eLocations
	js, _ := os.ReadFile(filepath.Join(e2eDir, "locations.json"))
	if err := json.Unmarshal(js, &saved); err != nil {
		t.Fatal(err)
	}
	if got, _ := json.Marshal(locs); string(got) != string(mustJSON(t, saved)) {
		t.Fatalf("locations.json differs from Locate's: %s vs %s", mustJSON(t, saved), got)
	}

	c, err := qwen2.LoadConfig(filepath.Join(e2eModel, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	ck, err := safetensors.Open(filepath.Join(e2eModel, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	defer ck.Close()
	if err := nn.Bind(scope, ck, qwen2.Params(c), nn.BindOptions{Frozen: true}); err != nil {
		t.Fatal(err)
	}
	if n, _ := nn.Count(qwen2.Params(c)); n != e2eBase.NumParams {
		t.Fatalf("qwen2_tied has %d parameters, e2eBase says %d", n, e2eBase.NumParams)
	}
	e := model.MustNewExec(be, scope.Store(), func(scope *model.Scope, ids, index, valid *Node) []*Node {
		idx := Iota(ids.Graph(), ids.Shape(), 1)
		mask := nn.CausalPaddingMask(idx, idx, Equal(idx, idx))
		run := func(hook qwen2.Hook) *Node {
			out := qwen2.Decoder(scope, c, qwen2.Input{Embeds: qwen2.Embed(scope, c, ids, dtypes.Float32), Positions: idx, Mask: mask, Hook: hook})
			return qwen2.LMHead(scope, c, out.Final)
		}
		return []*Node{run(nil), run(s.Hook(scope.At("reft"), Positions{Index: index, Valid: valid}, HookOptions{}))}
	})
	defer e.Finalize()
	out, err := e.Exec(e2eIDs, loc.Index, loc.Valid)
	if err != nil {
		t.Fatal(err)
	}
	g, err := safetensors.Open(filepath.Join(e2eDir, "golden.safetensors"))
	if err != nil {
		t.Fatalf("%v: make it with testdata/gen/reft/pyreft_e2e.py", err)
	}
	defer g.Close()
	read := func(name string) []float32 {
		v, err := g.ReadFloat32(name)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	base, edited := read("base_logits"), read("reft_logits")
	// Not vacuous: pyreft's interventions move the logits far more than the tolerance.
	if moved := testutil.MaxAbsDiff(base, edited); moved < 0.1 {
		t.Fatalf("pyreft's interventions move the logits by only %.3g", moved)
	} else {
		t.Logf("pyreft's interventions move the logits by up to %.3g", moved)
	}
	for i, name := range []string{"base_logits", "reft_logits"} {
		got := tensors.MustCopyFlatData[float32](out[i])
		worst := testutil.MaxAbsDiff(got, read(name))
		t.Logf("%s: max |ours − pyreft| = %.3g", name, worst)
		if worst > 2e-5 || math.IsNaN(worst) {
			t.Errorf("%s: max |ours − pyreft| = %.3g > 2e-5", name, worst)
		}
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	js, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return js
}
