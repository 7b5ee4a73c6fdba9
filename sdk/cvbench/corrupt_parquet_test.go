package cvbench

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
)

// writeParquet writes rows of any struct type to dir/test_2d.parquet.
func writeParquet[T any](t testing.TB, rows ...T) string {
	t.Helper()
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, "test_2d.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	w := parquet.NewGenericWriter[T](f)
	if _, err := w.Write(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

func goodParquetRow(t testing.TB, idx int64) parquetRow {
	e, fe := decodeJSONLRowMap(goodRow(int(idx)))
	if fe != nil {
		t.Fatal(fe)
	}
	e.image = imageSource{data: tinyPNG(t)}
	return toParquetRow(e)
}

func TestParquetBadRows(t *testing.T) {
	cases := []struct {
		name  string
		edit  func(*parquetRow)
		field string
		kind  error
		msg   string
	}{
		{"answer E of 4", func(r *parquetRow) { r.Answer = "(E)" }, "answer", ErrAnswerNotInChoices, `"(E)" is not among the 4 choices`},
		{"null answer", func(r *parquetRow) { r.Answer = "" }, "answer", ErrMissingField, "answer"},
		{"null choices", func(r *parquetRow) { r.Choices = nil }, "choices", ErrMissingField, "choices"},
		{"null idx", func(r *parquetRow) { r.Idx = nil }, "idx", ErrMissingField, "idx"},
		{"null image", func(r *parquetRow) { r.Image = nil }, "image", ErrMissingField, "image bytes"},
		{"garbage image", func(r *parquetRow) { r.Image.Bytes = []byte("<html>not an image</html>") }, "image", ErrBadImage, "unknown format"},
		{"empty image", func(r *parquetRow) { r.Image.Bytes = []byte{} }, "image", ErrBadImage, "empty"},
		{"truncated PNG", func(r *parquetRow) { r.Image.Bytes = r.Image.Bytes[:20] }, "image", ErrBadImage, "EOF"},
		{"escaping filename", func(r *parquetRow) { r.Filename = "../../etc/passwd" }, "filename", ErrUnsafePath, "../../etc/passwd"},
		{"absolute filename", func(r *parquetRow) { r.Filename = "/etc/passwd" }, "filename", ErrUnsafePath, "/etc/passwd"},
		{"bad type", func(r *parquetRow) { r.Type = "4D" }, "type", ErrBadValue, `"4D"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			bad := goodParquetRow(t, 1)
			c.edit(&bad)
			dir := writeParquet(t, goodParquetRow(t, 0), bad)
			_, err := LoadDir(dir)
			var re *RowError
			if !errors.As(err, &re) {
				t.Fatalf("want a *RowError, got %v", err)
			}
			if re.Row != 1 || re.Field != c.field || !errors.Is(err, c.kind) || !strings.Contains(err.Error(), c.msg) ||
				!strings.Contains(err.Error(), "test_2d.parquet: row 1: field") {
				t.Fatalf("got %q (row %d, field %q), want field %q, %v, containing %q", err, re.Row, re.Field, c.field, c.kind, c.msg)
			}
			ds, err := LoadDir(dir, SkipInvalid())
			if err != nil || ds.Stats.Loaded != 1 || ds.Stats.Skipped != 1 || ds.Stats.ByField[c.field] != 1 {
				t.Fatalf("SkipInvalid: %v, %v", ds.Stats, err)
			}
		})
	}
}

// A PNG cut after its header passes the default header check but not a full
// decode.
func TestParquetFullImageCheck(t *testing.T) {
	bad := goodParquetRow(t, 1)
	bad.Image.Bytes = bad.Image.Bytes[:40]
	dir := writeParquet(t, goodParquetRow(t, 0), bad)
	if _, err := LoadDir(dir); err != nil {
		t.Fatalf("header check: %v", err)
	}
	if _, err := LoadDir(dir, WithImageCheck(CheckImageFull)); !errors.Is(err, ErrBadImage) {
		t.Fatalf("full check: want ErrBadImage, got %v", err)
	}
	ds, err := LoadDir(dir, WithImageCheck(CheckImageNone))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ds.Examples[1].Image(); err == nil {
		t.Fatal("decoding a truncated image must fail")
	}
}

// Files from other writers may use other integer widths, 2-level lists,
// required columns and float32 boxes; they must read the same.
func TestParquetLenientSchema(t *testing.T) {
	type lenientRow struct {
		Idx       int32       `parquet:"idx"`
		Type      string      `parquet:"type"`
		Task      string      `parquet:"task"`
		Image     []byte      `parquet:"image"` // a bare binary column instead of the struct
		Question  string      `parquet:"question"`
		Choices   []string    `parquet:"choices"` // 2-level list: a repeated leaf
		Answer    string      `parquet:"answer"`
		Prompt    string      `parquet:"prompt"`
		Source    string      `parquet:"source"`
		TargetSz  int32       `parquet:"target_size"`
		BBox      [][]float32 `parquet:"bbox,list"`
		Unrelated string      `parquet:"extra_column"`
	}
	row := lenientRow{Idx: 5, Type: "3D", Task: "Depth", Image: tinyPNG(t), Question: "Which is closer?",
		Choices: []string{"lamp", "chair"}, Answer: "(B)", Prompt: "Which is closer? ...", Source: "Omni3D",
		TargetSz: 77, BBox: [][]float32{{1, 2, 3, 4}, {5.5, 6, 7, 8}}}
	ds, err := LoadDir(writeParquet(t, row))
	if err != nil {
		t.Fatal(err)
	}
	e := ds.Examples[0]
	if e.Idx != 5 || e.AnswerText() != "chair" || *e.TargetSize != 77 || e.BBox[1][0] != 5.5 || len(e.BBox) != 2 {
		t.Fatalf("got %+v", e)
	}
	if _, err := e.Image(); err != nil {
		t.Fatal(err)
	}
}

// pandas-style files: integers with nulls become doubles (NaN = null), and
// a box may be a flat list.
func TestParquetPandasStyle(t *testing.T) {
	type pandasRow struct {
		Idx      float64   `parquet:"idx"`
		Type     string    `parquet:"type"`
		Task     string    `parquet:"task"`
		Image    []byte    `parquet:"image"`
		Question string    `parquet:"question"`
		Choices  []string  `parquet:"choices,list"`
		Answer   string    `parquet:"answer"`
		Prompt   string    `parquet:"prompt"`
		Source   string    `parquet:"source"`
		TargetSz float64   `parquet:"target_size"`
		BBox     []float64 `parquet:"bbox,list"`
	}
	nan := math.NaN()
	base := pandasRow{Idx: 3, Type: "2D", Task: "Count", Image: tinyPNG(t), Question: "How many?",
		Choices: []string{"1", "2"}, Answer: "(A)", Prompt: "p", Source: "COCO", TargetSz: nan, BBox: []float64{1, 2, 3, 4}}
	ds, err := LoadDir(writeParquet(t, base))
	if err != nil {
		t.Fatal(err)
	}
	if e := ds.Examples[0]; e.Idx != 3 || e.TargetSize != nil || !reflect.DeepEqual(e.BBox, [][]float64{{1, 2, 3, 4}}) {
		t.Fatalf("got %+v", e)
	}
	base.Idx = 3.5
	if _, err := LoadDir(writeParquet(t, base)); !errors.Is(err, ErrBadValue) {
		t.Fatalf("idx 3.5: want ErrBadValue, got %v", err)
	}
}

func TestParquetSchemaErrors(t *testing.T) {
	type choicesAsString struct {
		Idx     int64  `parquet:"idx"`
		Image   []byte `parquet:"image"`
		Choices string `parquet:"choices"`
	}
	type noIdx struct {
		Image   []byte   `parquet:"image"`
		Choices []string `parquet:"choices,list"`
	}
	type idxAsString struct {
		Idx     string   `parquet:"idx"`
		Image   []byte   `parquet:"image"`
		Choices []string `parquet:"choices,list"`
	}
	for name, dir := range map[string]string{
		"want a list of string":      writeParquet(t, choicesAsString{}),
		"required column is missing": writeParquet(t, noIdx{}),
		"want a scalar of integer":   writeParquet(t, idxAsString{}),
	} {
		_, err := LoadDir(dir, SkipInvalid())
		var se *SchemaError
		if !errors.As(err, &se) || !strings.Contains(err.Error(), name) {
			t.Errorf("want a SchemaError containing %q, got %v", name, err)
		}
	}
}

func TestParquetNotParquet(t *testing.T) {
	dir := t.TempDir()
	good := writeParquet(t, goodParquetRow(t, 0))
	data, _ := os.ReadFile(filepath.Join(good, "test_2d.parquet"))
	for name, b := range map[string][]byte{
		"text":      []byte("idx,type\n0,2D\n"),
		"truncated": data[:len(data)/2],
		"empty":     nil,
	} {
		p := filepath.Join(dir, name+".parquet")
		os.WriteFile(p, b, 0o644)
		if _, err := LoadParquet(p); err == nil || !strings.Contains(err.Error(), name+".parquet") {
			t.Errorf("%s: want an error naming the file, got %v", name, err)
		}
	}
}
