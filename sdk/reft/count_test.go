package reft

import (
	"fmt"
	"testing"

	"github.com/visreft/visreft/sdk/models/qwen2"
	"github.com/visreft/visreft/sdk/nn"
)

// TestNanoLLaVAShare: LoReFT rank 4 on all 24 layers of nanoLLaVA has
// 24·(2·1024·4 + 4) = 196,704 parameters, 0.0193 % of 1,019,548,192 (the
// paper prints 0.019 %).
func TestNanoLLaVAShare(t *testing.T) {
	base := NanoLLaVA()
	lm, _ := nn.Count(qwen2.Params(qwen2.NanoLLaVA()))
	const vision, projector = 397_747_744, 1152*1024 + 1024 + 1024*1024 + 1024
	if lm+vision+projector != base.NumParams {
		t.Errorf("language model %d + vision %d + projector %d != %d", lm, vision, projector, base.NumParams)
	}
	s := mustSet(t, base, Spec{Type: LoReFT, Rank: 4, Layers: "all", Positions: "sme", ShareWeights: true})
	if n := s.NumParams(); n != 196_704 {
		t.Errorf("params %d, want 196,704", n)
	}
	if got := fmt.Sprintf("%.4f%% / %.3f%%", 100*s.Share(), 100*s.Share()); got != "0.0193% / 0.019%" {
		t.Errorf("share %s, want 0.0193%% / 0.019%%", got)
	}
	t.Logf("nanoLLaVA LoReFT r4 all layers: %d params, %.4f%% of %d", s.NumParams(), 100*s.Share(), base.NumParams)
}

// TestParamCounts: 2dr + r for LoReFT/NoReFT/DiReFT/NodiReFT (+ r for
// add_bias), dr + r for ConsReFT/LoBiReFT; untied positions double them.
func TestParamCounts(t *testing.T) {
	const d, r = 1024, 4
	for _, c := range []struct {
		cfg  Config
		want int64
	}{
		{Config{Type: LoReFT}, 2*d*r + r},
		{Config{Type: NoReFT}, 2*d*r + r},
		{Config{Type: NoReFT, AddBias: true}, 2*d*r + 2*r},
		{Config{Type: ConsReFT}, d*r + r},
		{Config{Type: LoBiReFT}, d*r + r},
		{Config{Type: DiReFT}, 2*d*r + r},
		{Config{Type: NodiReFT}, 2*d*r + r},
		{Config{Type: NodiReFT, AddBias: true}, 2*d*r + 2*r},
	} {
		c.cfg.Hidden, c.cfg.Rank = d, r
		if got := c.cfg.NumParams(); got != c.want {
			t.Errorf("%+v: %d params, want %d", c.cfg, got, c.want)
		}
	}
	untied := mustSet(t, NanoLLaVA(), Spec{Type: LoReFT, Rank: 4, Layers: "15-23", Positions: "f3+l3"})
	if n := untied.NumParams(); n != 2*9*(2*d*r+r) {
		t.Errorf("untied f3+l3 on 9 layers: %d", n)
	}
	if p := untied.Params()[0]; p.Name != "reft.layer.15.first.rotate_layer.householder" || fmt.Sprint(p.Dims) != "[1024 4]" {
		t.Errorf("first param %+v", p)
	}
}
