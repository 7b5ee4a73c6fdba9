package safetensors

import (
	"bytes"
	"encoding/binary"
	"errors"
	"slices"
	"testing"
)

// FuzzParseHeader feeds arbitrary bytes to the file parser. It must never
// panic or allocate beyond the input, every error must be an *Error naming
// the file, and every file it accepts must read back completely and survive
// a re-encode with identical tensors.
func FuzzParseHeader(f *testing.F) {
	var valid bytes.Buffer
	Encode(&valid, []Tensor{
		{Name: "w", DType: BF16, Shape: []int64{2, 2}, Data: make([]byte, 8)},
		{Name: "b", DType: F32, Shape: []int64{2}, Data: make([]byte, 8)},
		{Name: "s", DType: I64, Data: make([]byte, 8)},
	}, map[string]string{"format": "pt"})
	v := valid.Bytes()
	f.Add(v)
	f.Add(assemble(specHeader, specData))
	f.Add(v[:len(v)-3])                                                   // truncated data
	f.Add(v[:20])                                                         // truncated header
	f.Add(v[:5])                                                          // truncated length
	f.Add(append(binary.LittleEndian.AppendUint64(nil, 1<<62), v[8:]...)) // huge length
	f.Add(assemble(`{"w":{"dtype":"U8","shape":[2],"data_offsets":[1,0]}}`, []byte{1, 2}))
	f.Add(assemble(`{"w":{"dtype":"U8","shape":[2],"data_offsets":[0,3]}}`, []byte{1, 2}))
	f.Add(assemble(`{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}`, []byte{1, 2}))
	f.Add(assemble(`{"w":{"dtype":"U8","shape":[9223372036854775807,2],"data_offsets":[0,0]}}`, nil))
	f.Add(assemble(`{"__metadata__":{"a":"b"},"e":{"dtype":"F16","shape":[0],"data_offsets":[0,0]}}`, nil))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := NewFile("fuzz.safetensors", bytes.NewReader(data), int64(len(data)))
		if err != nil {
			var se *Error
			if !errors.As(err, &se) || se.File != "fuzz.safetensors" {
				t.Fatalf("error without file: %v", err)
			}
			return
		}
		var ts []Tensor
		for _, name := range file.Names() {
			info, _ := file.Info(name)
			raw, err := file.Read(name)
			if err != nil || int64(len(raw)) != info.ByteSize() {
				t.Fatalf("%s: accepted but unreadable: %v", name, err)
			}
			if info.DType.IsFloat() {
				if _, err := file.ReadFloat32(name); err != nil {
					t.Fatalf("%s: ReadFloat32: %v", name, err)
				}
			}
			ts = append(ts, Tensor{Name: name, DType: info.DType, Shape: info.Shape, Data: raw})
		}
		var again bytes.Buffer
		if _, err := Encode(&again, ts, file.Metadata()); err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		g, err := NewFile("again", bytes.NewReader(again.Bytes()), int64(again.Len()))
		if err != nil {
			t.Fatalf("re-parse: %v", err)
		}
		if !slices.Equal(g.Names(), file.Names()) {
			t.Fatalf("names %v != %v", g.Names(), file.Names())
		}
		for _, tt := range ts {
			info, _ := g.Info(tt.Name)
			raw, _ := g.Read(tt.Name)
			if info.DType != tt.DType || !slices.Equal(info.Shape, tt.Shape) || !bytes.Equal(raw, tt.Data) {
				t.Fatalf("%s changed in the round trip", tt.Name)
			}
		}
	})
}
