package nbkit

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/visreft/visreft/sdk/eval"
	"github.com/visreft/visreft/sdk/notebook"
	"github.com/visreft/visreft/sdk/paper"
	"github.com/visreft/visreft/sdk/progress"
	"github.com/visreft/visreft/sdk/reft"
)

// handBuilt are 07_build_an_intervention's specs: tied, untied, and on
// the image side.
var handBuilt = []reft.Spec{
	{Type: reft.LoReFT, Rank: 4, Layers: "0", Positions: "f2+l2", ShareWeights: true},
	{Name: "u", Type: reft.DiReFT, Rank: 2, Layers: "-1", Positions: "sme"},
	{Type: reft.NoReFT, Rank: 2, Layers: "0", Positions: "f4", Component: reft.ProjectorOutput},
}

func demoSetup(t *testing.T) (*paper.Setup, *progress.Board) {
	t.Helper()
	t.Setenv("VISREFT_PRESET", "demo")
	s, err := NewSetup()
	if err != nil {
		t.Fatal(err)
	}
	b := progress.NewBoard()
	s.Progress = b
	return s, b
}

// TestNewSetupWritesNoStderr: the first progress line paper.NewSetup writes
// (to os.Stderr, before Progress can be set) goes where progress goes.
func TestNewSetupWritesNoStderr(t *testing.T) {
	t.Setenv("VISREFT_PRESET", "demo")
	b := progress.NewBoard()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stderr
	os.Stderr = w
	err = stderrTo(b, func() error { _, err := paper.NewSetup("demo", Quick); return err })
	os.Stderr = old
	w.Close()
	buf := make([]byte, 4096)
	n, _ := r.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	if n > 0 {
		t.Errorf("NewSetup wrote to stderr: %q", buf[:n])
	}
	if !strings.Contains(b.Text(), "building the base model (demo preset) done in") {
		t.Errorf("the board lacks the model-building step:\n%s", b.Text())
	}
}

// TestPositionsOnARealPrompt: decoder interventions land on text tokens
// only (the first two, the last two, start/middle/end), the projector's
// on the first four image positions.
func TestPositionsOnARealPrompt(t *testing.T) {
	s, _ := demoSetup(t)
	toks, err := Positions(s, s.Data.Val[0], handBuilt...)
	if err != nil {
		t.Fatal(err)
	}
	var text, image []int
	marked := map[string][]int{}
	for p, tk := range toks {
		if tk.Image {
			image = append(image, p)
		} else {
			text = append(text, p)
		}
		for _, m := range tk.Marks {
			marked[m] = append(marked[m], p)
		}
	}
	if len(image) != 16 || image[15]-image[0] != 15 {
		t.Fatalf("image span %v, want 16 consecutive positions", image)
	}
	n := len(text)
	top := fmt.Sprintf("direft r2 block_output layers %d", s.NumLayers-1) // Layers "-1"
	want := map[string][]int{
		"loreft r4 block_output layers 0 (shared)":     {text[0], text[1], text[n-2], text[n-1]},
		top + " (ustart)":                              {text[0]},
		top + " (umid)":                                {text[n/2]},
		top + " (uend)":                                {text[n-1]},
		"noreft r2 projector_output layers 0 (shared)": image[:4],
	}
	if len(marked) != len(want) {
		t.Errorf("marks %v, want %v", marked, want)
	}
	for k, ps := range want {
		if got := marked[k]; len(got) != len(ps) || !equalInts(got, ps) {
			t.Errorf("%s at %v, want %v", k, got, ps)
		}
	}
	html := notebook.StripHTML("x", toks)
	if !strings.Contains(html, "▦ image ×12") || !strings.Contains(html, "noreft r2 projector_output layers 0 (shared): 4 positions") {
		t.Errorf("strip folds the 12 unmarked image positions into one chip:\n%s", html)
	}
	tab, err := Interventions(s, handBuilt...)
	if err != nil {
		t.Fatal(err)
	}
	if len(tab.Rows) != 5 || !strings.Contains(tab.Title, "5 interventions") {
		t.Errorf("interventions table: %s\n%v", tab.Title, tab.Rows)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestTrainSaveReloadExport is 07_build_an_intervention off the notebook:
// hand-built interventions train with their steps on the board, save,
// reload into a fresh model bit for bit, and their decoder set exports for
// pyreft; a reload whose weights were changed is caught.
func TestTrainSaveReloadExport(t *testing.T) {
	if testing.Short() {
		t.Skip("trains the demo model")
	}
	s, b := demoSetup(t)
	s.EvalModes, s.EvalTrain = []eval.Mode{eval.Likelihood}, -1 // as the notebook does: generation triples the time
	m := ReFT(handBuilt...)
	m.Train.LR = 1e-2
	run, err := Train(s, "hand-built", m)
	if err != nil {
		t.Fatal(err)
	}
	rows := b.Text()
	for _, want := range []string{"train reft 8/8 loss", "evaluate hand-built done in"} {
		if !strings.Contains(rows, want) {
			t.Errorf("board lacks %q:\n%s", want, rows)
		}
	}
	if !strings.Contains(run.Summary(), "over 8 steps") {
		t.Errorf("summary: %s", run.Summary())
	}
	dir := filepath.Join(t.TempDir(), "run")
	if err := run.Save(s, dir); err != nil {
		t.Fatal(err)
	}
	l, err := Load(s, dir)
	if err != nil {
		t.Fatal(err)
	}
	tab, err := l.Check(s)
	if err != nil {
		t.Fatalf("%v\n%v", err, tab.Rows)
	}
	if len(tab.Rows) != 3 || !strings.Contains(tab.Rows[2][1], "bit-identical") {
		t.Errorf("checks: %v", tab.Rows)
	}
	out := filepath.Join(dir, "pyreft.safetensors")
	if err := reft.ExportPyreft(filepath.Join(dir, "decoder"), out, reft.PyreftOptions{}); err != nil {
		t.Fatal(err)
	}
	tens, err := Tensors(out)
	if err != nil || len(tens.Rows) == 0 {
		t.Fatalf("exported tensors: %v %v", err, tens.Rows)
	}
	// A changed fingerprint must fail the check.
	l.Run.Fingerprint[0][0] = math.Nextafter(l.Run.Fingerprint[0][0], 0)
	if _, err := l.Check(s); !errors.Is(err, ErrNotIdentical) {
		t.Errorf("a changed fingerprint passed the check: %v", err)
	}
}
