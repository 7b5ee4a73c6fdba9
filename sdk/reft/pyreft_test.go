package reft

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/visreft/visreft/sdk/internal/testutil"
	"github.com/visreft/visreft/sdk/safetensors"
)

// TestExportPyreft: pyreft's state-dict names under pyvene's keys; LoReFT's
// rotate_layer is the saved Rᵀ byte for byte; the other orthogonal types get
// torch's parametrisation state whose weight is exactly Rᵀ.
func TestExportPyreft(t *testing.T) {
	s := mixedSet(t)
	scope := initCtx(t, s, InitOptions{Seed: 5}, dtypes.Float32)
	dir := t.TempDir()
	if err := Save(dir, testutil.Backend(t), scope.At("reft"), s); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "pyreft.safetensors")
	if err := ExportPyreft(dir, out, PyreftOptions{}); err != nil {
		t.Fatal(err)
	}
	f, err := safetensors.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	native, _ := safetensors.Open(filepath.Join(dir, WeightsFile))
	defer native.Close()
	same := func(exported, saved string) {
		t.Helper()
		a, err1 := f.Read(exported)
		b, err2 := native.Read(saved)
		if err1 != nil || err2 != nil || string(a) != string(b) {
			t.Errorf("%s != %s (%v, %v)", exported, saved, err1, err2)
		}
	}
	// Layer 1 holds, in order: LoReFT shared (#0), NoReFT first (#1) and last (#2), DiReFT (#3).
	k0, k1, k3 := "layer_1_comp_block_output_unit_pos_nunit_1#0", "layer_1_comp_block_output_unit_pos_nunit_1#1", "layer_1_comp_block_output_unit_pos_nunit_1#3"
	same(k0+".rotate_layer", "reft.layer.1.shared.rotate_layer")
	same(k0+".weight", "reft.layer.1.shared.learned_source.weight")
	same(k0+".bias", "reft.layer.1.shared.learned_source.bias")
	same(k1+".proj_layer.weight", "reft.layer.1.nfirst.proj_layer.weight")
	same(k1+".proj_layer.bias", "reft.layer.1.nfirst.proj_layer.bias")
	same(k1+".learned_source.weight", "reft.layer.1.nfirst.learned_source.weight")
	same(k3+".learned_source.bias", "reft.layer.1.dshared.learned_source.bias")
	if raw, err := f.Read(k3 + ".embed_dim"); err != nil || binary.LittleEndian.Uint64(raw) != 16 {
		t.Errorf("embed_dim: %v %v", raw, err)
	}
	// DiReFT: base[:, :r] is Rᵀ bit for bit, base is orthogonal, original = −I.
	base, _ := f.ReadFloat32(k3 + ".rotate_layer.parametrizations.weight.0.base")
	orig, _ := f.ReadFloat32(k3 + ".rotate_layer.parametrizations.weight.original")
	rt, _ := native.ReadFloat32("reft.layer.1.dshared.rotate_layer")
	const d, r = 16, 2
	for i := range d {
		for j := range r {
			if math.Float32bits(base[i*d+j]) != math.Float32bits(rt[i*r+j]) {
				t.Fatalf("base[%d][%d] = %v, Rᵀ = %v", i, j, base[i*d+j], rt[i*r+j])
			}
			want := float32(0)
			if i == j {
				want = -1
			}
			if orig[i*r+j] != want {
				t.Fatalf("original[%d][%d] = %v", i, j, orig[i*r+j])
			}
		}
	}
	if e := maxOrthoError(transpose32(base, d, d), d, d); e > 1e-6 {
		t.Errorf("base: max |BᵀB − I| = %.2e", e)
	}
	for _, n := range f.Names() {
		if !strings.HasPrefix(n, "layer_") {
			t.Errorf("unexpected name %s", n)
		}
	}
	legacy := filepath.Join(dir, "legacy.safetensors")
	if err := ExportPyreft(dir, legacy, PyreftOptions{LegacyKeys: true}); err != nil {
		t.Fatal(err)
	}
	lf, _ := safetensors.Open(legacy)
	defer lf.Close()
	if !lf.Has("layer.3.comp.block_output.unit.pos.nunit.1#2.proj_layer.weight") || !lf.Has("layer.3.comp.block_output.unit.pos.nunit.1#0.rotate_layer") {
		t.Errorf("legacy names: %v", lf.Names()[:3])
	}
}

func TestExportPyreftRejectsOtherComponents(t *testing.T) {
	s := mustSet(t, NanoLLaVA(), Spec{Type: LoReFT, Rank: 1, Layers: "0", Positions: "f1", Component: ProjectorOutput})
	scope := initCtx(t, s, InitOptions{Seed: 1}, dtypes.Float32)
	dir := t.TempDir()
	if err := Save(dir, testutil.Backend(t), scope.At("reft"), s); err != nil {
		t.Fatal(err)
	}
	err := ExportPyreft(dir, filepath.Join(dir, "x.safetensors"), PyreftOptions{})
	if err == nil || !strings.Contains(err.Error(), "pyreft intervenes on block_output only") {
		t.Errorf("got %v", err)
	}
}

func transpose32(x []float32, rows, cols int) []float32 {
	out := make([]float32, len(x))
	for i := range rows {
		for j := range cols {
			out[j*rows+i] = x[i*cols+j]
		}
	}
	return out
}

// fixturePath is the pyreft fixture made by testdata/gen/reft/make_fixtures.py;
// VISREFT_PYREFT_FIXTURE overrides it.
func fixturePath() string {
	if p := os.Getenv("VISREFT_PYREFT_FIXTURE"); p != "" {
		return p
	}
	return filepath.Join("..", "..", "testdata", "reft", "pyreft_loreft.safetensors")
}

// TestPyreftParity: our LoReFT formula on pyreft's weights and input gives
// pyreft's output.
func TestPyreftParity(t *testing.T) {
	path := fixturePath()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("pyreft fixture %s does not exist: make it with "+
			"`python3 testdata/gen/reft/make_fixtures.py --pyreft-src /path/to/pyreft` (torch; pyreft's source, not installed)", path)
	}
	f, err := safetensors.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	meta := f.Metadata()
	for _, c := range strings.Split(meta["cases"], ",") {
		read := func(n string) ([]float32, []int) {
			v, err := f.ReadFloat32(c + "." + n)
			if err != nil {
				t.Fatal(err)
			}
			info, _ := f.Info(c + "." + n)
			var dims []int
			for _, d := range info.Shape {
				dims = append(dims, int(d))
			}
			return v, dims
		}
		rt, rdims := read("rotate_layer")
		w, _ := read("weight")
		bias, _ := read("bias")
		h, hdims := read("h")
		want, _ := read("out")
		d, r := rdims[0], rdims[1]
		cfg := Config{Type: LoReFT, Hidden: d, Rank: r, Act: meta[c+".act"]}
		got := flat32(t, MustExecOnce(testutil.Backend(t), func(rt, w, b, h *Node) *Node {
			return Apply(cfg, h, Weights{R: Transpose(rt, 0, 1), W: w, B: b})
		}, reshape2(rt, d, r), reshape2(w, r, d), bias, randStreamFrom(h, hdims)))
		tol := 1e-5
		if meta[c+".dtype"] == "bfloat16" { // pyreft's learned_source runs in bf16, ours in float32
			tol = 0.02
		}
		worst := testutil.MaxAbsDiff(got, want)
		t.Logf("case %s (act %s, %s): max |ours − pyreft| = %.2e", c, cfg.Act, meta[c+".dtype"], worst)
		if worst > tol {
			t.Errorf("case %s: max |ours − pyreft| = %.2e > %g", c, worst, tol)
		}
	}
}

func randStreamFrom(v []float32, dims []int) [][][]float32 {
	b, s, d := dims[0], dims[1], dims[2]
	out := make([][][]float32, b)
	for i := range out {
		out[i] = reshape2(v[i*s*d:(i+1)*s*d], s, d)
	}
	return out
}
