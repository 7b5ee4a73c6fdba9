package cvbench

import (
	"bytes"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestScenesRowsAreGeneratesRows: Scenes.Row(i) is the i-th row Generate
// writes, question, choices, answer and PNG bytes alike.
func TestScenesRowsAreGeneratesRows(t *testing.T) {
	ds, err := LoadDir(generateSmall(t, smallOpts))
	if err != nil {
		t.Fatal(err)
	}
	sc, err := NewScenes(smallOpts)
	if err != nil {
		t.Fatal(err)
	}
	if sc.Len() != len(ds.Examples) {
		t.Fatalf("Scenes has %d rows, Generate wrote %d", sc.Len(), len(ds.Examples))
	}
	for i, want := range ds.Examples {
		got, _, err := sc.Row(i)
		if err != nil {
			t.Fatal(err)
		}
		if sc.Task(i) != want.Task || got.Idx != want.Idx || got.Question != want.Question || got.Prompt != want.Prompt ||
			got.Answer != want.Answer || !slices.Equal(got.Choices, want.Choices) {
			t.Fatalf("row %d differs:\n got %+v\nwant %+v", i, got, want)
		}
		a, _ := got.ImageBytes()
		b, err := want.ImageBytes()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("row %d: image differs from the written one", i)
		}
	}
}

// TestFactsOfEveryTask reads facts back from many rows and checks each
// against what the row itself says.
func TestFactsOfEveryTask(t *testing.T) {
	o := GenerateOptions{Seed: 11, Counts: TaskCounts{Count: 30, Relation: 30, Depth: 30, Distance: 30}, ImageSize: 64}
	sc, err := NewScenes(o)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[Task]int{}
	for i := range sc.Len() {
		e, f, err := sc.Row(i)
		if err != nil {
			t.Fatal(err)
		}
		seen[f.Task]++
		ans := e.AnswerText()
		switch f.Task {
		case TaskCount:
			if len(f.Objects) != 1 || f.Objects[0] != e.TargetClass || strconv.Itoa(f.Count) != ans {
				t.Errorf("row %d: count facts %+v for %q -> %q", i, f, e.Question, ans)
			}
		case TaskRelation:
			if len(f.Objects) != 2 || f.Relation != ans || f.Objects[0] == f.Objects[1] {
				t.Errorf("row %d: relation facts %+v for %q -> %q", i, f, e.Question, ans)
			}
		case TaskDepth, TaskDistance:
			n := map[Task]int{TaskDepth: 2, TaskDistance: 3}[f.Task]
			if len(f.Objects) != n || f.Closer != ans || f.Farther == ans || !slices.Contains(e.Choices, f.Farther) {
				t.Errorf("row %d: %s facts %+v for %q -> %q", i, f.Task, f, e.Question, ans)
			}
		}
	}
	for _, task := range Tasks {
		if seen[task] != 30 {
			t.Errorf("%s: %d rows, want 30", task, seen[task])
		}
	}
}

// TestFactsOfRefusesOtherRows: a row the generator did not write (a real
// CV-Bench question) has no facts, rather than wrong ones.
func TestFactsOfRefusesOtherRows(t *testing.T) {
	for _, e := range []Example{
		{Task: TaskCount, Type: Type2D, Question: "How many organs are in the image?", Choices: []string{"3", "2", "1", "0"}, Answer: "(C)"},
		{Task: TaskCount, Type: Type2D, Question: "How many pink circles are in the image?", Choices: []string{"3", "2"}, Answer: "(A)"},
		{Task: TaskDepth, Type: Type3D, Question: "Which object is closer to the camera taking this photo, the lamp (highlighted by a red box) or the chair?",
			Choices: []string{"lamp", "chair"}, Answer: "(A)"},
		{Task: TaskRelation, Type: Type2D, TargetClass: "red circle", Question: "Where is the red circle?", Choices: []string{"left", "right"}, Answer: "(B)"},
	} {
		if f, err := FactsOf(e); err == nil {
			t.Errorf("FactsOf(%q) = %+v, want an error", e.Question, f)
		}
	}
}

func TestScenesImageDecodes(t *testing.T) {
	sc, err := NewScenes(GenerateOptions{Seed: 3, Counts: TaskCounts{Count: 1, Relation: 1, Depth: 1, Distance: 1}, ImageSize: 64})
	if err != nil {
		t.Fatal(err)
	}
	for i := range sc.Len() {
		img, f, err := sc.Image(i)
		if err != nil {
			t.Fatal(err)
		}
		if img.Bounds().Dx() != 64 || img.Bounds().Dy() != 64 || len(f.Objects) == 0 {
			t.Errorf("row %d: %v image, facts %+v", i, img.Bounds(), f)
		}
	}
	if _, _, err := sc.Row(sc.Len()); err == nil {
		t.Error("Row past the end: no error")
	}
	if _, err := NewScenes(GenerateOptions{ImageSize: 32}); err == nil {
		t.Error("image size 32: no error")
	}
}

// TestScenesCentersAreWhereObjectsAreDrawn: on 2D relation rows the pixel
// at each named object's centre has that object's colour, and the centres
// order the objects as the relation says; on 3D rows the centres are the
// centres of the row's bounding boxes, in the order Objects names them.
func TestScenesCentersAreWhereObjectsAreDrawn(t *testing.T) {
	o := GenerateOptions{Seed: 5, Counts: TaskCounts{Count: 5, Relation: 40, Depth: 20, Distance: 20}, ImageSize: 64}
	sc, err := NewScenes(o)
	if err != nil {
		t.Fatal(err)
	}
	colour := map[string][3]uint8{}
	for _, c := range palette {
		colour[c.name] = [3]uint8{c.c.R, c.c.G, c.c.B}
	}
	seen := map[Task]int{}
	for i := range sc.Len() {
		e, f, err := sc.Row(i)
		if err != nil {
			t.Fatal(err)
		}
		if f.Task == TaskCount {
			if f.Centers != nil {
				t.Errorf("row %d: a count row has centres %v", i, f.Centers)
			}
			continue
		}
		if len(f.Centers) != len(f.Objects) {
			t.Fatalf("row %d (%s): %d centres for %d objects", i, f.Task, len(f.Centers), len(f.Objects))
		}
		seen[f.Task]++
		if f.Task != TaskRelation {
			for k, b := range e.BBox {
				want := [2]float64{(b[0] + b[2]) / 2 / 64, (b[1] + b[3]) / 2 / 64}
				if math.Abs(f.Centers[k][0]-want[0]) > 0.01 || math.Abs(f.Centers[k][1]-want[1]) > 0.01 {
					t.Errorf("row %d (%s): object %d %q centre %v, its box's %v", i, f.Task, k, f.Objects[k], f.Centers[k], want)
				}
			}
			continue
		}
		img, err := e.Image()
		if err != nil {
			t.Fatal(err)
		}
		for k, name := range f.Objects {
			r, g, b, _ := img.At(int(f.Centers[k][0]*64), int(f.Centers[k][1]*64)).RGBA()
			col, _, _ := strings.Cut(name, " ")
			got := [3]float64{float64(r >> 8), float64(g >> 8), float64(b >> 8)}
			nearest, best := "", math.Inf(1)
			for n, c := range colour { // edges are anti-aliased: the nearest palette colour
				if d := math.Abs(got[0]-float64(c[0])) + math.Abs(got[1]-float64(c[1])) + math.Abs(got[2]-float64(c[2])); d < best {
					nearest, best = n, d
				}
			}
			if nearest != col || best > 40 {
				t.Errorf("row %d: pixel at %q's centre %v is %v, nearest %s (L1 %.0f), not %s", i, name, f.Centers[k], got, nearest, best, col)
			}
		}
		a, b := f.Centers[0], f.Centers[1]
		ok := map[string]bool{"left": a[0] < b[0], "right": a[0] > b[0], "above": a[1] < b[1], "below": a[1] > b[1]}[f.Relation]
		if !ok {
			t.Errorf("row %d: %q is %s the other, but centres %v and %v", i, f.Objects[0], f.Relation, a, b)
		}
	}
	if seen[TaskRelation] == 0 || seen[TaskDepth] == 0 || seen[TaskDistance] == 0 {
		t.Fatalf("rows checked per task: %v", seen)
	}
}
