package cvbench

import (
	"bytes"
	"encoding/json"
	"errors"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func tinyPNG(t testing.TB) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, 4, 3))); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// goodRow is a valid CV-Bench jsonl row whose image is img/2D/count/a.png.
func goodRow(idx int) map[string]any {
	return map[string]any{
		"idx": idx, "type": "2D", "task": "Count", "question": "How many organs are in the image?",
		"choices": []string{"3", "2", "1", "0"}, "answer": "(C)",
		"prompt":   "How many organs are in the image? Select from the following choices.\n(A) 3\n(B) 2\n(C) 1\n(D) 0",
		"filename": "img/2D/count/a.png", "source": "ADE20K", "source_dataset": "ADE20K",
		"source_filename": "ADE_val_1.jpg", "target_class": "organ", "target_size": nil, "bbox": nil,
	}
}

// writeJSONL writes rows (maps, or raw strings taken as lines) to
// dir/test_2d.jsonl next to a valid image and a broken one.
func writeJSONL(t *testing.T, rows ...any) string {
	t.Helper()
	dir := t.TempDir()
	img := filepath.Join(dir, "img", "2D", "count")
	if err := os.MkdirAll(img, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(img, "a.png"), tinyPNG(t), 0o644)
	os.WriteFile(filepath.Join(img, "broken.png"), []byte("not an image at all"), 0o644)
	var buf bytes.Buffer
	for _, r := range rows {
		if s, ok := r.(string); ok {
			buf.WriteString(s + "\n")
			continue
		}
		b, _ := json.Marshal(r)
		buf.Write(append(b, '\n'))
	}
	if err := os.WriteFile(filepath.Join(dir, "test_2d.jsonl"), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func with(k string, v any) map[string]any {
	r := goodRow(1)
	if v == nil && k[0] == '-' {
		delete(r, k[1:])
		return r
	}
	r[k] = v
	return r
}

func TestJSONLBadRows(t *testing.T) {
	cases := []struct {
		name  string
		row   any
		field string
		kind  error
		msg   string
	}{
		{"missing answer", with("-answer", nil), "answer", ErrMissingField, "answer is absent"},
		{"null question", with("question", nil), "question", ErrMissingField, "question"},
		{"answer E of 4", with("answer", "(E)"), "answer", ErrAnswerNotInChoices, `answer "(E)" is not among the 4 choices (A)-(D)`},
		{"answer not a letter", with("answer", "1"), "answer", ErrBadValue, "not a letter"},
		{"one choice", with("choices", []string{"1"}), "choices", ErrBadValue, "1 choices, want 2 to 6"},
		{"seven choices", with("choices", []string{"1", "2", "3", "4", "5", "6", "7"}), "choices", ErrBadValue, "7 choices"},
		{"choices not strings", with("choices", []int{1, 2}), "choices", ErrBadValue, "want a string"},
		{"idx a string", with("idx", "seven"), "idx", ErrBadValue, "want an integer"},
		{"idx fractional", with("idx", 1.5), "idx", ErrBadValue, "want an integer"},
		{"unknown task", with("task", "Colour"), "task", ErrBadValue, `task "Colour"`},
		{"task of other type", with("task", "Depth"), "task", ErrBadValue, "belongs to type 3D"},
		{"unknown source", with("source", "ImageNet"), "source", ErrBadValue, "ImageNet"},
		{"bad bbox", with("bbox", "box"), "bbox", ErrBadValue, "list of lists"},
		{"parent escape", with("filename", "../../etc/passwd"), "filename", ErrUnsafePath, "../../etc/passwd"},
		{"absolute path", with("filename", "/etc/passwd"), "filename", ErrUnsafePath, "/etc/passwd"},
		{"no filename", with("-filename", nil), "filename", ErrMissingField, "filename"},
		{"missing image", with("filename", "img/2D/count/nope.png"), "image", ErrBadImage, "nope.png"},
		{"undecodable image", with("filename", "img/2D/count/broken.png"), "image", ErrBadImage, "unknown format"},
		{"not json", `{"idx": 1, "type": `, "<row>", ErrBadValue, "not a JSON object"},
		{"json array", `[1, 2]`, "<row>", ErrBadValue, "not a JSON object"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := writeJSONL(t, goodRow(0), "", c.row)
			_, err := LoadDir(dir)
			var re *RowError
			if !errors.As(err, &re) {
				t.Fatalf("want a *RowError, got %v", err)
			}
			if re.Row != 1 || re.Line != 3 || re.Field != c.field || !errors.Is(err, c.kind) ||
				!strings.Contains(err.Error(), c.msg) || !strings.Contains(err.Error(), "test_2d.jsonl: row 1 (line 3)") {
				t.Fatalf("got %q (row %d line %d field %q), want field %q, %v, containing %q",
					err, re.Row, re.Line, re.Field, c.field, c.kind, c.msg)
			}
		})
	}
}

func TestJSONLSymlinkEscape(t *testing.T) {
	dir := writeJSONL(t, with("filename", "img/2D/count/evil.png"))
	outside := filepath.Join(t.TempDir(), "secret.png")
	os.WriteFile(outside, tinyPNG(t), 0o644)
	if err := os.Symlink(outside, filepath.Join(dir, "img/2D/count/evil.png")); err != nil {
		t.Skip("no symlinks here:", err)
	}
	_, err := LoadDir(dir)
	if !errors.Is(err, ErrBadImage) {
		t.Fatalf("a symlink out of the data folder must not be followed, got %v", err)
	}
}

func TestJSONLSkipInvalidCounts(t *testing.T) {
	dir := writeJSONL(t, goodRow(0), with("answer", "(E)"), goodRow(2), with("filename", "../x.png"),
		with("-answer", nil), goodRow(0))
	ds, err := LoadDir(dir, SkipInvalid())
	if err != nil {
		t.Fatal(err)
	}
	st := ds.Stats
	if st.Rows != 6 || st.Loaded != 2 || st.Skipped != 4 || len(ds.Examples) != 2 || len(st.Errors) != 4 {
		t.Fatalf("stats %+v, %d examples", st, len(ds.Examples))
	}
	// goodRow(1) is what with() modifies; the last row duplicates idx 0.
	want := map[string]int{"answer": 2, "filename": 1, "idx": 1}
	for k, v := range want {
		if st.ByField[k] != v {
			t.Errorf("skipped for %s: %d, want %d (%v)", k, st.ByField[k], v, st.ByField)
		}
	}
	if !errors.Is(st.Errors[3], ErrDuplicate) || st.Errors[3].Row != 5 {
		t.Errorf("last error %v, want the duplicate at row 5", st.Errors[3])
	}
	if s := st.String(); !strings.Contains(s, "2 loaded, 4 skipped") {
		t.Errorf("summary %q", s)
	}
	if _, err := LoadDir(dir); !errors.Is(err, ErrAnswerNotInChoices) {
		t.Fatalf("without SkipInvalid the first bad row must fail the load, got %v", err)
	}
}

func TestJSONLLenientNumbers(t *testing.T) {
	r := goodRow(0)
	r["idx"] = 4.0
	r["target_size"] = 1200
	r["bbox"] = []float64{1, 2, 3, 4} // a flat box is taken as one box
	ds, err := LoadDir(writeJSONL(t, r))
	if err != nil {
		t.Fatal(err)
	}
	e := ds.Examples[0]
	if e.Idx != 4 || e.TargetSize == nil || *e.TargetSize != 1200 || len(e.BBox) != 1 || len(e.BBox[0]) != 4 {
		t.Fatalf("got %+v", e)
	}
}

// decodeJSONLRowMap decodes a row given as a map, through its JSON.
func decodeJSONLRowMap(m map[string]any) (Example, *fieldError) {
	b, err := json.Marshal(m)
	if err != nil {
		return Example{}, fieldErr("<row>", ErrBadValue, "%v", err)
	}
	return decodeJSONLRow(b)
}
