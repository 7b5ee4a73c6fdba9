package safetensors

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// failingReader yields n bytes, then fails: a data source that breaks mid-write.
type failingReader struct{ n int }

var errInjected = errors.New("injected failure")

func (r *failingReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, errInjected
	}
	k := min(len(p), r.n)
	r.n -= k
	return k, nil
}

func TestAtomicWriteKeepsOldFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "model.safetensors")
	good := []Tensor{{Name: "w", DType: U8, Shape: []int64{4}, Data: []byte{1, 2, 3, 4}}}
	if err := Write(p, good, nil); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(p)
	bad := []Tensor{
		{Name: "a", DType: U8, Shape: []int64{2}, Data: []byte{9, 9}},
		{Name: "b", DType: F32, Shape: []int64{1 << 20}, Source: &failingReader{n: 3 << 20}},
	}
	err := Write(p, bad, nil)
	if !errors.Is(err, errInjected) || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), `tensor "b"`) {
		t.Fatalf("Write error = %v", err)
	}
	after, _ := os.ReadFile(p)
	if !bytes.Equal(before, after) {
		t.Error("the existing file changed")
	}
	// A source that ends early is an error too, not a short tensor.
	short := []Tensor{{Name: "c", DType: U8, Shape: []int64{10}, Source: strings.NewReader("abc")}}
	if err := Write(p, short, nil); !errors.Is(err, io.ErrUnexpectedEOF) || !strings.Contains(err.Error(), "3 of 10 bytes") {
		t.Errorf("short source: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temp files left behind: %v", entries)
	}
}

func TestWriteValidation(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x.safetensors")
	cases := []struct {
		name string
		ts   []Tensor
		want string
	}{
		{"short data", []Tensor{{Name: "w", DType: BF16, Shape: []int64{4}, Data: make([]byte, 6)}}, `tensor "w": Data holds 6 bytes, shape [4] of BF16 needs 8`},
		{"dup", []Tensor{{Name: "w", DType: U8}, {Name: "w", DType: U8}}, "given twice"},
		{"reserved", []Tensor{{Name: "__metadata__", DType: U8}}, "invalid tensor name"},
		{"empty name", []Tensor{{Name: "", DType: U8}}, "invalid tensor name"},
		{"dtype", []Tensor{{Name: "w", DType: "F4"}}, `unknown dtype "F4"`},
		{"shape", []Tensor{{Name: "w", DType: U8, Shape: []int64{-2}}}, "invalid shape [-2]"},
		{"both", []Tensor{{Name: "w", DType: U8, Shape: []int64{1}, Data: []byte{1}, Source: strings.NewReader("a")}}, "not both"},
	}
	for _, c := range cases {
		err := Write(p, c.ts, nil)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
	if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
		t.Error("a failed Write created the file")
	}
	if err := Write(filepath.Join(p, "no", "dir.safetensors"), nil, nil); err == nil {
		t.Error("Write into a missing directory succeeded")
	}
}

func TestWriteKeepsMode(t *testing.T) {
	p := filepath.Join(t.TempDir(), "m.safetensors")
	if err := os.WriteFile(p, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := Write(p, nil, nil); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(p)
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mode = %v", st.Mode())
	}
	f, err := Open(p)
	if err != nil || len(f.Names()) != 0 {
		t.Fatalf("empty file: %v", err)
	}
	f.Close()
}
