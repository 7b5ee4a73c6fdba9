package cvbench

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
)

// checkInvariants holds for every example a loader accepts.
func checkInvariants(t *testing.T, e Example) {
	t.Helper()
	if n := len(e.Choices); n < minChoices || n > maxChoices {
		t.Fatalf("accepted %d choices", n)
	}
	if i := e.AnswerIndex(); i < 0 || i >= len(e.Choices) || e.Answer != Letter(i) {
		t.Fatalf("accepted answer %q for %d choices", e.Answer, len(e.Choices))
	}
	if e.Task.Type() != e.Type {
		t.Fatalf("accepted task %s with type %s", e.Task, e.Type)
	}
	if e.Filename != "" && checkLocalPath(e.Filename) != nil {
		t.Fatalf("accepted filename %q", e.Filename)
	}
	if _, ok := parseSource(string(e.Source)); !ok {
		t.Fatalf("accepted source %q", e.Source)
	}
}

// FuzzDecodeJSONLRow: decoding never panics, accepted rows satisfy the
// schema, and an accepted row written back as jsonl decodes to itself.
func FuzzDecodeJSONLRow(f *testing.F) {
	good, _ := json.Marshal(goodRow(3))
	f.Add(good)
	f.Add([]byte(strings.Replace(string(good), `"(C)"`, `"(E)"`, 1)))
	f.Add([]byte(strings.Replace(string(good), `img/2D/count/a.png`, `../../etc/passwd`, 1)))
	f.Add([]byte(`{"idx":1.0,"type":"3d","task":"depth","question":"q","choices":["a","b"],"answer":"b","prompt":"p",` +
		`"filename":"x.png","source":"omni3d","bbox":[[1,2,3,4],null,[]],"target_size":null}`))
	f.Add([]byte(`{"idx":"1"}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"choices":[null]}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		e, fe := decodeJSONLRow(line)
		if fe != nil {
			if fe.field == "" || fe.err == nil {
				t.Fatalf("error without field: %v", fe)
			}
			return
		}
		checkInvariants(t, e)
		b, err := json.Marshal(toJSONLRow(e))
		if err != nil {
			t.Fatal(err)
		}
		again, fe := decodeJSONLRow(b)
		if fe != nil {
			t.Fatalf("re-encoded row %s rejected: %v", b, fe)
		}
		if !reflect.DeepEqual(e, again) {
			t.Fatalf("round trip changed the row:\n%+v\n%+v", e, again)
		}
	})
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// FuzzParquetRow writes one row with fuzzed values through parquet-go and
// reads it back: the parquet path must accept exactly the rows that direct
// validation accepts, with the same result, and never panic.
func FuzzParquetRow(f *testing.F) {
	png := tinyPNG(f)
	f.Add(int64(0), "2D", "Count", "How many?", "3|2|1|0", "(C)", "img/a.png", "COCO", png, 1.5)
	f.Add(int64(-1), "3D", "Depth", "Which?", "a|b", "(E)", "../../etc/passwd", "Omni3D", png, 0.0)
	f.Add(int64(9), "3d", "distance", "q", "a|b|c|d|e|f|g", "b", "/abs", "ade20k", []byte("junk"), -2.0)
	f.Add(int64(1<<40), "2D", "Relation", " ", "left|", "(A)", "", "", png[:30], 3.0)
	f.Fuzz(func(t *testing.T, idx int64, typ, task, question, choices, answer, filename, source string, img []byte, box float64) {
		var ch []string
		if choices != "" {
			ch = strings.Split(choices, "|")
		}
		var bbox [][]float64
		if box != 0 && box == box { // NaN would not compare equal below
			bbox = [][]float64{{box, box + 1}, {}}
		}
		row := parquetRow{Idx: &idx, Type: typ, Task: task, Image: &parquetImage{Bytes: img}, Question: question,
			Choices: ch, Answer: answer, Prompt: "p", Filename: filename, Source: source, BBox: bbox}
		var buf bytes.Buffer
		w := parquet.NewGenericWriter[parquetRow](&buf)
		if _, err := w.Write([]parquetRow{row}); err != nil {
			t.Skip(err) // the writer refused the value (e.g. invalid UTF-8 in a string column)
		}
		if err := w.Close(); err != nil {
			t.Skip(err)
		}
		var got []Example
		_, perr := scanParquetReader("fuzz.parquet", bytes.NewReader(buf.Bytes()), int64(buf.Len()), loadConfig{},
			func(e Example) error { got = append(got, e); return nil })

		rec := record{idx: &idx, typ: optString(typ), task: optString(task), question: optString(question),
			choices: ch, hasChoices: ch != nil, answer: optString(answer), prompt: optString("p"),
			filename: optString(filename), source: optString(source), bbox: bbox}
		want, fe := rec.validate()
		if fe == nil {
			want.image = imageSource{data: img}
			fe = checkImage(want.image, CheckImageHeader, "image")
		}
		if (perr == nil) != (fe == nil) {
			t.Fatalf("parquet path: %v; direct validation: %v", perr, fe)
		}
		if perr != nil {
			return
		}
		checkInvariants(t, got[0])
		got[0].image, want.image = imageSource{}, imageSource{}
		if got[0].BBox != nil && len(got[0].BBox[1]) == 0 {
			got[0].BBox[1] = []float64{} // an empty inner list reads back as empty, not nil
		}
		want.BBox = bbox
		if !reflect.DeepEqual(got[0], want) {
			t.Fatalf("parquet gave %+v\nwant %+v", got[0], want)
		}
	})
}
