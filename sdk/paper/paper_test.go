package paper

import (
	"math"
	"testing"
)

func TestTable4MatchesPaper(t *testing.T) {
	rows, err := Table4()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if !r.Match {
			t.Errorf("%s: %s %%, the paper prints %s %%", r.Method, r.Printed, r.Paper)
		}
	}
	if _, err := Table4Figure(rows); err != nil {
		t.Fatal(err)
	}
}

// TestInterchangeFullRankLastLayer: patching the whole last-layer
// representation of the last prompt token transfers the source's
// prediction exactly; a 1-dimensional subspace transfers less.
func TestInterchangeFullRankLastLayer(t *testing.T) {
	t.Setenv("VISREFT_CACHE", t.TempDir())
	s, err := NewSetup("demo", true)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := s.Interchange(s.NumLayers-1, []int{1, 64}, 3)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("transfer: rank 1 %.4f, rank 64 %.4f", rows[0].Transfer, rows[1].Transfer)
	if math.Abs(rows[1].Transfer-1) > 1e-3 {
		t.Errorf("full-rank transfer %.5f, want 1", rows[1].Transfer)
	}
	if !(rows[0].Transfer < rows[1].Transfer-1e-3) {
		t.Errorf("rank-1 transfer %.5f not below full rank's", rows[0].Transfer)
	}
}
