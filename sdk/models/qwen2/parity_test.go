package qwen2

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/visreft/visreft/sdk/internal/testutil"
	"github.com/visreft/visreft/sdk/nn"
	"github.com/visreft/visreft/sdk/safetensors"
)

// TestParityTiedQwen2 runs a Qwen1.5-style checkpoint (tied embeddings,
// rope_theta 1e6 inside transformers 5's rope_parameters, one kv head)
// written by transformers' save_pretrained, and compares every hidden state
// and the logits with transformers' (testdata/gen/models/make_fixtures.py).
func TestParityTiedQwen2(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "testdata", "models", "qwen2_tied")
	c, err := LoadConfig(filepath.Join(dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	if c = c.WithDefaults(); c.RopeTheta != 1e6 || !c.TieWordEmbeddings || c.NumKeyValueHeads != 1 {
		t.Fatalf("config read as rope_theta %g, tied %v, kv heads %d", c.RopeTheta, c.TieWordEmbeddings, c.NumKeyValueHeads)
	}
	ck, err := safetensors.Open(filepath.Join(dir, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	defer ck.Close()
	scope := model.NewStore().RootScope()
	if err := nn.Bind(scope, ck, Params(c), nn.BindOptions{Frozen: true}); err != nil {
		t.Fatal(err)
	}
	g, err := safetensors.Open(filepath.Join(dir, "golden.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	ids, err := nn.ReadTensor(g, "input_ids")
	if err != nil {
		t.Fatal(err)
	}
	e := model.MustNewExec(testutil.Backend(t), scope.Store(), func(scope *model.Scope, ids *Node) []*Node {
		ids = ConvertDType(ids, dtypes.Int32)
		idx := Iota(ids.Graph(), ids.Shape(), 1)
		valid := Equal(idx, idx)
		emb := Embed(scope, c, ids, dtypes.Float32)
		out := Decoder(scope, c, Input{Embeds: emb, Positions: idx, Mask: nn.CausalPaddingMask(idx, idx, valid)})
		// HF's hidden_states: embeddings, blocks 0..n-2, then the final norm.
		res := append([]*Node{emb}, out.Hidden[:len(out.Hidden)-1]...)
		return append(res, out.Final, LMHead(scope, c, out.Final))
	})
	defer e.Finalize()
	out, err := e.Exec(ids)
	if err != nil {
		t.Fatal(err)
	}
	for i, o := range out {
		name := fmt.Sprintf("hidden_%d", i)
		if i == len(out)-1 {
			name = "logits"
		}
		want, err := g.ReadFloat32(name)
		if err != nil {
			t.Fatal(err)
		}
		got := tensors.MustCopyFlatData[float32](o)
		worst := testutil.MaxAbsDiff(got, want)
		t.Logf("%-9s max abs error %.3g", name, worst)
		if worst > 2e-5 || math.IsNaN(worst) {
			t.Errorf("%s: max abs error %.3g > 2e-5", name, worst)
		}
	}
}

// TestRopeParameters: transformers 5 configs keep rope_theta in
// rope_parameters; scaled rotary embeddings are refused by name.
func TestRopeParameters(t *testing.T) {
	base := `"vocab_size": 10, "hidden_size": 8, "intermediate_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2`
	cases := []struct{ json, want string }{
		{`{` + base + `, "rope_parameters": {"rope_theta": 1e6, "rope_type": "default"}}`, ""},
		{`{` + base + `, "rope_theta": 5e5, "rope_scaling": null}`, ""},
		{`{` + base + `, "rope_parameters": {"rope_theta": 1e6, "rope_type": "yarn", "factor": 4}}`, `rope_parameters: rope type "yarn"`},
		{`{` + base + `, "rope_theta": 1e6, "rope_scaling": {"type": "dynamic", "factor": 2}}`, `rope_scaling: rope type "dynamic"`},
		{`{` + base + `, "rope_theta": 1e4, "rope_parameters": {"rope_theta": 1e6}}`, "disagree"},
	}
	for i, tc := range cases {
		p := filepath.Join(t.TempDir(), "config.json")
		if err := os.WriteFile(p, []byte(tc.json), 0o644); err != nil {
			t.Fatal(err)
		}
		c, err := LoadConfig(p)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("case %d: %v", i, err)
		case tc.want == "" && c.WithDefaults().RopeTheta != map[int]float64{0: 1e6, 1: 5e5}[i]:
			t.Errorf("case %d: rope_theta read as %g", i, c.WithDefaults().RopeTheta)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("case %d: error %v, want one containing %q", i, err, tc.want)
		}
	}
}
