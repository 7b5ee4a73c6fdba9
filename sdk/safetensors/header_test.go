package safetensors

import (
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// specHeader and specData are a file assembled by hand from the format
// description, not by Write, so the reader is checked against the spec.
const specHeader = `{"__metadata__":{"format":"pt"},` +
	`"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},` +
	`"b":{"dtype":"BF16","shape":[1,2],"data_offsets":[8,12]},` +
	`"c":{"dtype":"I64","shape":[],"data_offsets":[12,20]},` +
	`"e":{"dtype":"U8","shape":[0,3],"data_offsets":[20,20]}}   `

var specData = []byte{
	0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x20, 0xC0, // a: F32 1.0, -2.5
	0x80, 0x3F, 0x00, 0x3F, // b: BF16 1.0, 0.5
	0xFD, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, // c: I64 -3
}

// assemble builds a file from a header string and data bytes.
func assemble(header string, data []byte) []byte {
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	return append(append(out, header...), data...)
}

func writeTemp(t *testing.T, name string, content []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, content, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestReadSpecFixture(t *testing.T) {
	p := writeTemp(t, "spec.safetensors", assemble(specHeader, specData))
	f, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := strings.Join(f.Names(), ","); got != "a,b,c,e" {
		t.Fatalf("Names = %s", got)
	}
	if md := f.Metadata(); md["format"] != "pt" || len(md) != 1 {
		t.Errorf("Metadata = %v", md)
	}
	a, _ := f.ReadFloat32("a")
	b, _ := f.ReadFloat32("b")
	if len(a) != 2 || a[0] != 1 || a[1] != -2.5 || len(b) != 2 || b[0] != 1 || b[1] != 0.5 {
		t.Errorf("a = %v, b = %v", a, b)
	}
	c, err := f.Read("c")
	if err != nil || int64(binary.LittleEndian.Uint64(c)) != -3 {
		t.Errorf("c = % x, %v", c, err)
	}
	info, _ := f.Info("b")
	if info.DType != BF16 || len(info.Shape) != 2 || info.Shape[1] != 2 || info.ByteSize() != 4 || info.NumElements() != 2 {
		t.Errorf("Info(b) = %+v", info)
	}
	if ci, _ := f.Info("c"); len(ci.Shape) != 0 || ci.NumElements() != 1 {
		t.Errorf("scalar c = %+v", ci)
	}
	if e, err := f.Read("e"); err != nil || len(e) != 0 {
		t.Errorf("empty e = %v, %v", e, err)
	}
	if f.Header().DataOffset != 8+int64(len(specHeader)) {
		t.Errorf("DataOffset = %d", f.Header().DataOffset)
	}
	if _, err := f.Read("zzz"); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), p) {
		t.Errorf("missing tensor error = %v", err)
	}
	if _, err := f.ReadFloat32("c"); err == nil || !strings.Contains(err.Error(), "not a float") {
		t.Errorf("ReadFloat32 of I64 = %v", err)
	}
}

func entry(name, dtype, shape, offs string) string {
	return `"` + name + `":{"dtype":` + dtype + `,"shape":` + shape + `,"data_offsets":` + offs + `}`
}

func TestCorruptFiles(t *testing.T) {
	eight := make([]byte, 8)
	huge := binary.LittleEndian.AppendUint64(nil, MaxHeaderSize+1)
	long := binary.LittleEndian.AppendUint64(nil, 1000)
	cases := []struct {
		name    string
		file    []byte
		field   string
		tensor  string
		message string
	}{
		{"short", []byte{1, 2, 3}, "header length", "", "too short"},
		{"huge length", append(huge, "{}"...), "header length", "", "exceeds the limit of 100000000"},
		{"length past end", append(long, "{}"...), "header length", "", "header length 1000 exceeds the 2 bytes"},
		{"max uint64 length", append(binary.LittleEndian.AppendUint64(nil, math.MaxUint64), "{}"...), "header length", "", "exceeds the limit"},
		{"not json", assemble("{nope", nil), "header", "", "invalid header JSON"},
		{"array", assemble("[1,2]", nil), "header", "", "not a JSON object"},
		{"empty header", assemble("", nil), "header", "", "not a JSON object"},
		{"trailing garbage", assemble("{} x", nil), "header", "", "unexpected data after"},
		{"bad utf8", assemble("{\"\xff\":1}", nil), "header", "", "UTF-8"},
		{"entry not object", assemble(`{"w":[1]}`, nil), "entry", "w", "want an object"},
		{"unknown dtype", assemble("{"+entry("w", `"Q4"`, "[1]", "[0,1]")+"}", eight[:1]), "dtype", "w", `dtype: unknown dtype "Q4"`},
		{"dtype number", assemble("{"+entry("w", `7`, "[1]", "[0,1]")+"}", eight[:1]), "dtype", "w", "dtype: want a string, got number 7"},
		{"negative dim", assemble("{"+entry("w", `"U8"`, "[-1]", "[0,1]")+"}", eight[:1]), "shape", "w", "shape[0]: want a non-negative integer, got number -1"},
		{"float dim", assemble("{"+entry("w", `"U8"`, "[1.5]", "[0,1]")+"}", eight[:1]), "shape", "w", "shape[0]: want a non-negative integer, got number 1.5"},
		{"string dim", assemble("{"+entry("w", `"U8"`, `["1"]`, "[0,1]")+"}", eight[:1]), "shape", "w", `got string "1"`},
		{"shape missing", assemble(`{"w":{"dtype":"U8","data_offsets":[0,1]}}`, eight[:1]), "shape", "w", "shape: missing"},
		{"overflow", assemble("{"+entry("w", `"U8"`, "[4294967296,4294967296]", "[0,1]")+"}", eight[:1]), "shape", "w", "overflows"},
		{"byte overflow", assemble("{"+entry("w", `"F64"`, "[2305843009213693952]", "[0,1]")+"}", eight[:1]), "shape", "w", "byte size overflows"},
		{"offsets missing", assemble(`{"w":{"dtype":"U8","shape":[1]}}`, eight[:1]), "data_offsets", "w", "data_offsets: missing"},
		{"three offsets", assemble("{"+entry("w", `"U8"`, "[1]", "[0,1,2]")+"}", eight[:1]), "data_offsets", "w", "want [begin, end], got array of 3"},
		{"negative offset", assemble("{"+entry("w", `"U8"`, "[1]", "[-1,0]")+"}", eight[:1]), "data_offsets", "w", "data_offsets[0]: want a non-negative integer"},
		{"begin after end", assemble("{"+entry("w", `"U8"`, "[1]", "[2,1]")+"}", eight[:2]), "data_offsets", "w", "data_offsets [2,1]: begin is after end"},
		{"end past data", assemble("{"+entry("w", `"U8"`, "[8]", "[0,8]")+"}", eight[:4]), "data_offsets", "w", "data_offsets [0,8]: end is past the 4-byte data section"},
		{"size mismatch", assemble("{"+entry("model.norm.weight", `"BF16"`, "[4]", "[0,10]")+"}", make([]byte, 10)),
			"data_offsets", "model.norm.weight", `tensor "model.norm.weight": data_offsets [0,10] hold 10 bytes, shape [4] of BF16 needs 8`},
		{"overlap", assemble("{"+entry("a", `"U8"`, "[4]", "[0,4]")+","+entry("b", `"U8"`, "[4]", "[2,6]")+"}", eight[:6]),
			"data_offsets", "b", `data_offsets [2,6] overlap tensor "a", which ends at 4`},
		{"same offsets", assemble("{"+entry("a", `"U8"`, "[4]", "[0,4]")+","+entry("b", `"U8"`, "[4]", "[0,4]")+"}", eight[:4]),
			"data_offsets", "b", "overlap"},
		{"hole", assemble("{"+entry("a", `"U8"`, "[2]", "[0,2]")+","+entry("b", `"U8"`, "[2]", "[4,6]")+"}", eight[:6]),
			"data_offsets", "b", "data_offsets [4,6] leave a hole: bytes [2,4) belong to no tensor"},
		{"hole at start", assemble("{"+entry("a", `"U8"`, "[2]", "[2,4]")+"}", eight[:4]), "data_offsets", "a", "bytes [0,2) belong to no tensor"},
		{"trailing data", assemble("{"+entry("a", `"U8"`, "[2]", "[0,2]")+"}", eight[:5]), "data_offsets", "", "tensors cover 2 bytes but the data section has 5"},
		{"duplicate name", assemble("{"+entry("a", `"U8"`, "[1]", "[0,1]")+","+entry("a", `"U8"`, "[1]", "[1,2]")+"}", eight[:2]),
			"name", "a", "name appears twice"},
		{"empty name", assemble("{"+entry("", `"U8"`, "[1]", "[0,1]")+"}", eight[:1]), "name", "", "empty tensor name"},
		{"metadata not string", assemble(`{"__metadata__":{"x":1}}`, nil), "__metadata__", "", `__metadata__: value of "x": want a string, got number 1`},
		{"metadata array", assemble(`{"__metadata__":[]}`, nil), "__metadata__", "", "want an object of strings"},
		{"metadata twice", assemble(`{"__metadata__":{},"__metadata__":{}}`, nil), "__metadata__", "", "appears twice"},
		{"deep nesting", assemble(`{"w":`+strings.Repeat("[", 20000)+strings.Repeat("]", 20000)+`}`, nil), "header", "w", "invalid header JSON"},
	}
	dir := t.TempDir()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "_")+".safetensors")
			if err := os.WriteFile(p, c.file, 0o644); err != nil {
				t.Fatal(err)
			}
			f, err := Open(p)
			if err == nil {
				f.Close()
				t.Fatal("Open succeeded")
			}
			msg := err.Error()
			t.Log(msg)
			if !strings.HasPrefix(msg, "safetensors: "+p+": ") || !strings.Contains(msg, c.message) {
				t.Errorf("error %q\nwant the file name and %q", msg, c.message)
			}
			var se *Error
			if !errors.As(err, &se) || se.Field != c.field || se.Tensor != c.tensor {
				t.Errorf("error fields = %+v, want field %q tensor %q", se, c.field, c.tensor)
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := Open(filepath.Join(dir, "absent.safetensors")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("absent file: %v", err)
	}
	if _, err := Open(dir); err == nil || !strings.Contains(err.Error(), "directory") {
		t.Errorf("directory: %v", err)
	}
}

func TestTruncatedAfterOpen(t *testing.T) {
	p := writeTemp(t, "trunc.safetensors", assemble(specHeader, specData))
	f, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := os.Truncate(p, int64(8+len(specHeader)+10)); err != nil {
		t.Fatal(err)
	}
	_, err = f.Read("c")
	if err == nil || !strings.Contains(err.Error(), `tensor "c"`) || !strings.Contains(err.Error(), "truncated") {
		t.Errorf("read after truncation: %v", err)
	}
	if _, err := f.ReadFloat32("a"); err != nil {
		t.Errorf("tensor before the cut: %v", err)
	}
}
