package safetensors

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

var allDTypes = []DType{BOOL, U8, I8, F8E5M2, F8E4M3, F8E8M0, I16, U16, F16, BF16, I32, U32, F32, F64, I64, U64}

func randBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.UintN(256))
	}
	return b
}

func TestRoundTripEveryDType(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var ts []Tensor
	for _, d := range allDTypes {
		ts = append(ts, Tensor{Name: "t." + string(d), DType: d, Shape: []int64{3, 2}, Data: randBytes(r, 6*d.Size())})
	}
	ts = append(ts,
		Tensor{Name: "scalar", DType: F32, Data: randBytes(r, 4)},
		Tensor{Name: "empty", DType: BF16, Shape: []int64{0, 5}},
	)
	md := map[string]string{"format": "pt", "note": "<visreft> & \"quotes\""}
	p := filepath.Join(t.TempDir(), "all.safetensors")
	if err := Write(p, ts, md); err != nil {
		t.Fatal(err)
	}
	f, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := f.Metadata(); got["note"] != md["note"] || got["format"] != "pt" {
		t.Errorf("Metadata = %v", got)
	}
	var names []string
	for _, want := range ts {
		names = append(names, want.Name)
		info, err := f.Info(want.Name)
		if err != nil {
			t.Fatal(err)
		}
		if info.DType != want.DType || !slices.Equal(info.Shape, want.Shape) && len(want.Shape)+len(info.Shape) > 0 {
			t.Errorf("%s: info %+v", want.Name, info)
		}
		if info.DataOffsets[0]%int64(want.DType.Size()) != 0 {
			t.Errorf("%s: offset %d not aligned to %d", want.Name, info.DataOffsets[0], want.DType.Size())
		}
		got, err := f.Read(want.Name)
		if err != nil || !bytes.Equal(got, want.Data) {
			t.Errorf("%s: Read = % x, %v; want % x", want.Name, got, err, want.Data)
		}
		into := make([]byte, len(want.Data))
		if err := f.ReadInto(want.Name, into); err != nil || !bytes.Equal(into, want.Data) {
			t.Errorf("%s: ReadInto: %v", want.Name, err)
		}
		if want.DType.IsFloat() {
			vals, err := f.ReadFloat32(want.Name)
			ref, _ := DecodeFloat32(want.DType, want.Data)
			if err != nil || !sameBits(vals, ref) {
				t.Errorf("%s: ReadFloat32 = %v, %v; want %v", want.Name, vals, err, ref)
			}
		}
	}
	slices.Sort(names)
	if !slices.Equal(f.Names(), names) {
		t.Errorf("Names = %v", f.Names())
	}
	if st, _ := os.Stat(p); (8+f.Header().DataOffset)%8 != 0 || st.Size() < f.Header().DataOffset {
		t.Errorf("header not padded: DataOffset %d", f.Header().DataOffset)
	}
	if err := f.ReadInto("t.F32", make([]byte, 3)); err == nil {
		t.Error("ReadInto with a short buffer should fail")
	}
}

func sameBits(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] && !(a[i] != a[i] && b[i] != b[i]) {
			return false
		}
	}
	return true
}

// TestWriterBytes pins the exact bytes Write produces for a small input.
func TestWriterBytes(t *testing.T) {
	var buf bytes.Buffer
	_, err := Encode(&buf, []Tensor{
		{Name: "b", DType: BF16, Shape: []int64{1, 2}, Data: []byte{0x80, 0x3F, 0x00, 0x3F}},
		{Name: "a", DType: F32, Shape: []int64{2}, Data: []byte{0, 0, 0x80, 0x3F, 0, 0, 0x20, 0xC0}},
	}, map[string]string{"format": "pt"})
	if err != nil {
		t.Fatal(err)
	}
	header := `{"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},` +
		`"b":{"dtype":"BF16","shape":[1,2],"data_offsets":[8,12]}}`
	for len(header)%8 != 0 {
		header += " "
	}
	want := assemble(header, []byte{0, 0, 0x80, 0x3F, 0, 0, 0x20, 0xC0, 0x80, 0x3F, 0x00, 0x3F})
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("Encode =\n%q\nwant\n%q", buf.Bytes(), want)
	}
}

func TestReadFloat32Chunked(t *testing.T) {
	n := readChunk/2 + 12345 // BF16: spans two chunks and a partial one
	vals := make([]float32, n)
	for i := range vals {
		vals[i] = float32(i%200) - 100 // exact in bf16
	}
	tensor, err := FromFloat32("big", BF16, []int64{int64(n)}, vals)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := Encode(&buf, []Tensor{tensor}, nil); err != nil {
		t.Fatal(err)
	}
	f, err := NewFile("mem", bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.ReadFloat32("big")
	if err != nil || !slices.Equal(got, vals) {
		t.Fatalf("ReadFloat32 mismatch (err %v)", err)
	}
	// Stream the tensor into a second file through Source.
	sec, _ := f.Section("big")
	var out bytes.Buffer
	if _, err := Encode(&out, []Tensor{{Name: "copy", DType: BF16, Shape: []int64{int64(n)}, Source: sec}}, nil); err != nil {
		t.Fatal(err)
	}
	g, err := NewFile("mem2", bytes.NewReader(out.Bytes()), int64(out.Len()))
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := g.ReadFloat32("copy"); !slices.Equal(got, vals) {
		t.Error("streamed copy differs")
	}
}

func TestFromFloat32Errors(t *testing.T) {
	if _, err := FromFloat32("x", BF16, []int64{3}, []float32{1, 2}); err == nil {
		t.Error("wrong count accepted")
	}
	if _, err := FromFloat32("x", I32, []int64{1}, []float32{1}); err == nil {
		t.Error("non-float dtype accepted")
	}
	if _, err := FromFloat32("x", BF16, []int64{-1}, nil); err == nil {
		t.Error("negative shape accepted")
	}
}
