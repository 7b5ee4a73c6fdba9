package cvbench

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// readTree returns every file under dir by relative path.
func readTree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		files[filepath.ToSlash(rel)] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestGenerateDeterministic(t *testing.T) {
	o := smallOpts
	o.Workers = 1
	a := readTree(t, generateSmall(t, o))
	o.Workers = 3
	b := readTree(t, generateSmall(t, o))
	if len(a) != len(b) || len(a) != 4+27 {
		t.Fatalf("file counts %d and %d, want 31", len(a), len(b))
	}
	for name, data := range a {
		if !bytes.Equal(data, b[name]) {
			t.Errorf("%s differs between two runs with the same seed", name)
		}
		if strings.Contains(name, ".tmp-") {
			t.Errorf("temporary file left behind: %s", name)
		}
	}
	o.Seed++
	c := readTree(t, generateSmall(t, o))
	if bytes.Equal(a["test_2d.parquet"], c["test_2d.parquet"]) {
		t.Error("different seeds gave the same data")
	}
}

func TestGenerateLayoutAndSchema(t *testing.T) {
	dir := generateSmall(t, smallOpts)
	for _, p := range []string{"test_2d.parquet", "test_3d.parquet", "test_2d.jsonl", "test_3d.jsonl",
		"img/2D/count/ade20k_0.png", "img/2D/relation/ade20k_4.png", "img/2D/count/coco_7.png", "img/2D/relation/coco_12.png", "img/3D/depth/omni3d_15.png",
		"img/3D/distance/omni3d_26.png"} {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			t.Errorf("missing %s: %v", p, err)
		}
	}
	ds, err := LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	perTask := map[Task]int{}
	for _, e := range ds.Examples {
		perTask[e.Task]++
		if !e.Synthetic() {
			t.Errorf("%s not marked synthetic", e.Key())
		}
		n := len(e.Choices)
		if (e.Task == TaskCount && (n < 4 || n > 6)) || (e.Task != TaskCount && n != 2) {
			t.Errorf("%s: %s with %d choices", e.Key(), e.Task, n)
		}
		if (e.Type == Type3D) != (e.Source == SourceOmni3D) {
			t.Errorf("%s: type %s from %s", e.Key(), e.Type, e.Source)
		}
		if e.TargetSize != nil && e.Source != SourceCOCO {
			t.Errorf("%s: target_size on a %s row", e.Key(), e.Source)
		}
		if (e.BBox != nil) != (e.Source == SourceOmni3D) {
			t.Errorf("%s: bbox %v on a %s row", e.Key(), e.BBox, e.Source)
		}
		if e.Prompt != PromptFor(e.Type, e.Question, e.Choices) {
			t.Errorf("%s: prompt %q", e.Key(), e.Prompt)
		}
	}
	want := map[Task]int{TaskCount: 9, TaskRelation: 6, TaskDepth: 6, TaskDistance: 6}
	for task, n := range want {
		if perTask[task] != n {
			t.Errorf("%s: %d rows, want %d", task, perTask[task], n)
		}
	}
}

// Answer letters are dealt from decks: for every task and number of
// choices, letter counts differ by at most one per full deck.
func TestGenerateBalancedAnswers(t *testing.T) {
	for _, counts := range []TaskCounts{{Count: 300, Relation: 200, Depth: 200, Distance: 200}, CVBenchCounts} {
		testBalancedAnswers(t, counts)
	}
}

func testBalancedAnswers(t *testing.T, counts TaskCounts) {
	for _, typ := range []Type{Type2D, Type3D} {
		hist := map[string]map[int]int{}
		for _, sp := range plan(3, counts, typ) {
			key := string(sp.task) + "/" + string(rune('0'+sp.nChoices))
			if hist[key] == nil {
				hist[key] = map[int]int{}
			}
			hist[key][sp.answer]++
		}
		for key, h := range hist {
			lo, hi := 1<<30, 0
			for _, c := range h {
				lo, hi = min(lo, c), max(hi, c)
			}
			if hi-lo > 1 || len(h) != int(key[len(key)-1]-'0') {
				t.Errorf("%+v %s: answer positions %v are not balanced", counts, key, h)
			}
		}
	}
}

func TestGenerateRejectsBadOptions(t *testing.T) {
	if err := Generate(t.TempDir(), GenerateOptions{ImageSize: 10}); err == nil {
		t.Error("want an error for a 10-pixel image")
	}
	if err := Generate(t.TempDir(), GenerateOptions{Counts: TaskCounts{Count: -1}}); err == nil {
		t.Error("want an error for a negative count")
	}
}

func TestContactSheet(t *testing.T) {
	ds, err := LoadDir(generateSmall(t, smallOpts))
	if err != nil {
		t.Fatal(err)
	}
	sheet, err := ContactSheet(ds.Examples[:8], 4, 96)
	if err != nil {
		t.Fatal(err)
	}
	if b := sheet.Bounds(); b.Dx() != 4*(96+16) || b.Dy() < 2*96 {
		t.Fatalf("sheet is %v", b)
	}
}
