package cvbench

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// smallOpts is a quick synthetic data set for tests.
var smallOpts = GenerateOptions{Seed: 7, Counts: TaskCounts{Count: 9, Relation: 6, Depth: 6, Distance: 6}, ImageSize: 96}

func generateSmall(t testing.TB, o GenerateOptions) string {
	t.Helper()
	dir := t.TempDir()
	if err := Generate(dir, o); err != nil {
		t.Fatal(err)
	}
	return dir
}

// expected renders the rows Generate writes, in memory.
func expected(t testing.TB, o GenerateOptions) []Example {
	t.Helper()
	var out []Example
	for _, typ := range []Type{Type2D, Type3D} {
		exs, err := renderBatch(o.Seed, o.ImageSize, 2, plan(o.Seed, o.Counts, typ))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, exs...)
	}
	return out
}

// sameExample compares all fields and the encoded image. ImagePath, the
// parquet image struct's path, exists only in parquet and is not compared.
func sameExample(t *testing.T, what string, got, want Example) {
	t.Helper()
	gb, err := got.ImageBytes()
	if err != nil {
		t.Fatalf("%s %s: %v", what, got.Key(), err)
	}
	wb, _ := want.ImageBytes()
	if !bytes.Equal(gb, wb) {
		t.Errorf("%s %s: image bytes differ", what, got.Key())
	}
	got.image, want.image = imageSource{}, imageSource{}
	got.ImagePath, want.ImagePath = "", ""
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s %s:\n got %+v\nwant %+v", what, got.Key(), got, want)
	}
}

func TestRoundTripBothForms(t *testing.T) {
	dir := generateSmall(t, smallOpts)
	want := expected(t, smallOpts)
	n := smallOpts.Counts.Count + smallOpts.Counts.Relation + smallOpts.Counts.Depth + smallOpts.Counts.Distance
	if len(want) != n {
		t.Fatalf("rendered %d rows, want %d", len(want), n)
	}
	for _, form := range []Form{FormParquet, FormJSONL} {
		ds, err := LoadDir(dir, WithForm(form), WithImageCheck(CheckImageFull))
		if err != nil {
			t.Fatalf("%s: %v", form, err)
		}
		if ds.Form != form || ds.Stats.Loaded != n || ds.Stats.Skipped != 0 || len(ds.Stats.Files) != 2 {
			t.Fatalf("%s: form %s, stats %v", form, ds.Form, ds.Stats)
		}
		for i := range want {
			sameExample(t, form.String(), ds.Examples[i], want[i])
			if form == FormParquet && ds.Examples[i].ImagePath != want[i].Filename {
				t.Errorf("image path %q, want %q", ds.Examples[i].ImagePath, want[i].Filename)
			}
		}
		img, err := ds.Examples[0].Image()
		if err != nil || img.Bounds().Dx() != smallOpts.ImageSize {
			t.Fatalf("%s: image %v, %v", form, img.Bounds(), err)
		}
	}
}

func TestLoadSingleFiles(t *testing.T) {
	dir := generateSmall(t, smallOpts)
	pq, err := LoadParquet(dir + "/test_3d.parquet")
	if err != nil {
		t.Fatal(err)
	}
	js, err := LoadJSONL(dir+"/test_3d.jsonl", dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(pq.Examples) != 12 || len(js.Examples) != 12 {
		t.Fatalf("got %d and %d 3D rows, want 12", len(pq.Examples), len(js.Examples))
	}
	for i := range pq.Examples {
		sameExample(t, "3d", js.Examples[i], pq.Examples[i])
	}
	var streamed int
	st, err := ScanParquet(dir+"/test_2d.parquet", func(e Example) error { streamed++; return nil })
	if err != nil || streamed != 15 || st.Loaded != 15 {
		t.Fatalf("ScanParquet: %d rows, stats %v, err %v", streamed, st, err)
	}
}

func TestLoadDirDetectsForm(t *testing.T) {
	o := smallOpts
	o.Form = FormJSONL
	dir := generateSmall(t, o)
	ds, err := LoadDir(dir)
	if err != nil || ds.Form != FormJSONL {
		t.Fatalf("jsonl-only folder: form %v, err %v", ds, err)
	}
	if _, err := LoadDir(dir, WithForm(FormParquet)); err == nil {
		t.Fatal("want an error asking for parquet in a jsonl-only folder")
	}
	if _, err := LoadDir(t.TempDir()); err == nil {
		t.Fatal("want an error for an empty folder")
	}
	if err := os.Rename(filepath.Join(dir, "img"), filepath.Join(dir, "images")); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadDir(dir); err == nil || !strings.Contains(err.Error(), "no img/ folder") {
		t.Fatalf("jsonl without img/: got %v", err)
	}
	o.Form = FormParquet
	dir = generateSmall(t, o)
	if ds, err := LoadDir(dir); err != nil || ds.Form != FormParquet {
		t.Fatalf("parquet-only folder: %v", err)
	}
	// the older layout: one test.parquet with every row
	if err := os.Rename(filepath.Join(dir, "test_2d.parquet"), filepath.Join(dir, "test.parquet")); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(dir, "test_3d.parquet"))
	if ds, err := LoadDir(dir); err != nil || len(ds.Examples) != 15 {
		t.Fatalf("test.parquet: %v", err)
	}
}
