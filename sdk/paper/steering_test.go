package paper

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/visreft/visreft/sdk/steer"
)

// TestSteeringRow: the steering baseline scores every layer x builder x
// scale on a selection split held out of the training data, plus the base
// model once and the choice with the image tokens steered too; its choice
// is the best there;
// the choice is evaluated on validation by the preset's protocols (a Table
// 5 row with no trained parameters); stored with its vectors, it is read
// back unchanged (the vectors file loads, one vector per layer); Methods
// lists it; the figure draws.
func TestSteeringRow(t *testing.T) {
	s := tinySetup(t, t.TempDir(), Shard{})
	r, err := s.Steering()
	if err != nil {
		t.Fatal(err)
	}
	// The base, every layer x builder x text scale, and the choice with its
	// image tokens steered too (unless the base was chosen).
	want := 1 + len(s.steerLayers())*len(steer.Builders)*len(SteerScales)
	if r.Chosen.Method != "none" {
		want++
	}
	if len(r.Points) != want || r.SelectionExamples != 2 || r.VectorExamples != 6 {
		t.Fatalf("%d points (want %d), selection %d, vectors from %d", len(r.Points), want, r.SelectionExamples, r.VectorExamples)
	}
	for _, p := range r.Points {
		if p.Accuracy > r.Chosen.Accuracy {
			t.Errorf("chose %s (%.1f %%) over %s (%.1f %%)", r.Chosen, r.Chosen.Accuracy, p, p.Accuracy)
		}
	}
	x := r.Result
	if x == nil || x.TrainedParams != 0 || len(x.ValByProtocol) != len(s.EvalModes) || x.ChanceAccuracy <= 0 || x.TrainSeconds != r.Seconds() {
		t.Fatalf("validation result %+v", x)
	}
	t.Logf("chose %s (selection %.1f %%); validation %.1f %%; %.1f s", r.Chosen, r.Chosen.Accuracy, x.ValAccuracy, r.Seconds())
	again, err := s.Steering()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(again.Points, r.Points) || again.Chosen != r.Chosen || again.Result.ValAccuracy != x.ValAccuracy {
		t.Errorf("stored result read back differently")
	}
	if r.Chosen.Method != "none" {
		v, meta, err := steer.Load(filepath.Join(s.RunsDir, r.Vectors))
		if err != nil {
			t.Fatal(err)
		}
		if v.Method != r.Chosen.Method || len(v.Layers) != len(s.Lowest) || meta["model_hash"] != s.ID.ModelHash {
			t.Errorf("vectors file: %+v %v", v, meta)
		}
	} else if entries, _ := os.ReadDir(s.RunsDir); len(entries) == 0 {
		t.Error("nothing stored")
	}
	rows, _, err := s.Methods()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, row := range rows {
		found = found || (row.Label == SteeringLabel && row.Result.ValAccuracy == x.ValAccuracy)
	}
	if !found {
		t.Errorf("Table 5 has no steering row")
	}
	fig, err := s.SteeringFigure(r)
	if err != nil {
		t.Fatal(err)
	}
	if svg := string(fig.SVG()); !strings.Contains(svg, "image-blind") || !strings.Contains(svg, "layer 1, mean-diff") {
		t.Errorf("figure lacks its levels or series")
	}
}
