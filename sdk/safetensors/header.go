package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strconv"
	"unicode/utf8"
)

// MaxHeaderSize caps the JSON header length a file may declare, in bytes. It
// is the same 100,000,000 the Hugging Face reference implementation uses, so
// every file HF accepts is accepted here, and a hostile length prefix can
// never make Open allocate more than this (nor more than the file's size).
const MaxHeaderSize = 100_000_000

// metadataKey is the reserved header key holding free-form string metadata.
const metadataKey = "__metadata__"

// TensorInfo is one validated header entry: where a tensor's bytes are and
// how to interpret them, known before any tensor data is read.
type TensorInfo struct {
	Name        string
	DType       DType
	Shape       []int64  // empty for a scalar
	DataOffsets [2]int64 // [begin, end) relative to the start of the data section
}

// NumElements is the product of Shape (1 for a scalar).
func (t TensorInfo) NumElements() int64 {
	n := int64(1)
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// ByteSize is the number of data bytes the tensor occupies.
func (t TensorInfo) ByteSize() int64 { return t.DataOffsets[1] - t.DataOffsets[0] }

// Header is the parsed and validated table of contents of one file.
type Header struct {
	Metadata   map[string]string // the optional "__metadata__" map; nil when absent
	Tensors    []TensorInfo      // sorted by name
	DataOffset int64             // absolute file offset of the data section, 8 + header length
	byName     map[string]int
}

// Lookup returns the entry for name, if the file holds it.
func (h *Header) Lookup(name string) (TensorInfo, bool) {
	i, ok := h.byName[name]
	if !ok {
		return TensorInfo{}, false
	}
	t := h.Tensors[i]
	t.Shape = slices.Clone(t.Shape) // callers may not corrupt the header
	return t, true
}

// ReadHeader reads the length prefix and JSON header of a safetensors file of
// the given total size from r and validates them (see ParseHeader). name is
// used only in errors. The allocation is bounded by min(MaxHeaderSize, size).
func ReadHeader(name string, r io.ReaderAt, size int64) (*Header, error) {
	if size < 8 {
		return nil, newErr(name, "", "header length", "file is %d bytes, too short for the 8-byte header length", size)
	}
	var prefix [8]byte
	if _, err := r.ReadAt(prefix[:], 0); err != nil {
		return nil, &Error{File: name, Field: "header length", Err: fmt.Errorf("reading header length: %w", err)}
	}
	n := binary.LittleEndian.Uint64(prefix[:])
	if n > MaxHeaderSize {
		return nil, newErr(name, "", "header length", "header length %d exceeds the limit of %d bytes (MaxHeaderSize)", n, MaxHeaderSize)
	}
	if n > uint64(size-8) {
		return nil, newErr(name, "", "header length", "header length %d exceeds the %d bytes that follow the length prefix", n, size-8)
	}
	buf := make([]byte, n)
	if _, err := r.ReadAt(buf, 8); err != nil {
		return nil, &Error{File: name, Field: "header", Err: fmt.Errorf("reading %d header bytes: %w", n, err)}
	}
	h, err := ParseHeader(name, buf, size-8-int64(n))
	if err != nil {
		return nil, err
	}
	h.DataOffset = 8 + int64(n)
	return h, nil
}

// ParseHeader validates the JSON header bytes of a file whose data section
// holds dataSize bytes. It rejects invalid UTF-8 or JSON, duplicate names,
// unknown dtypes, negative or overflowing shapes, offsets outside the data
// section or inconsistent with shape and dtype, and tensors that overlap or
// leave holes or trailing bytes (the spec requires the data be fully indexed).
// DataOffset of the result is 0; ReadHeader sets it.
func ParseHeader(name string, header []byte, dataSize int64) (*Header, error) {
	if !utf8.Valid(header) {
		return nil, newErr(name, "", "header", "header is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(header))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, newErr(name, "", "header", "header is not a JSON object%s", jsonCause(err))
	}
	h := &Header{byName: map[string]int{}}
	seenMeta := false
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, newErr(name, "", "header", "invalid header JSON%s", jsonCause(err))
		}
		key := tok.(string) // object keys are always strings
		var raw any
		if err := dec.Decode(&raw); err != nil {
			return nil, newErr(name, key, "header", "invalid header JSON%s", jsonCause(err))
		}
		if key == metadataKey {
			if seenMeta {
				return nil, newErr(name, "", metadataKey, "%s appears twice", metadataKey)
			}
			seenMeta = true
			if h.Metadata, err = parseMetadata(raw); err != nil {
				return nil, &Error{File: name, Field: metadataKey, Err: err}
			}
			continue
		}
		if key == "" {
			return nil, newErr(name, "", "name", "empty tensor name")
		}
		if _, dup := h.byName[key]; dup {
			return nil, newErr(name, key, "name", "name appears twice in the header")
		}
		info, err := parseEntry(name, key, raw, dataSize)
		if err != nil {
			return nil, err
		}
		h.byName[key] = len(h.Tensors)
		h.Tensors = append(h.Tensors, info)
	}
	if _, err := dec.Token(); err != nil {
		return nil, newErr(name, "", "header", "invalid header JSON%s", jsonCause(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, newErr(name, "", "header", "unexpected data after the header JSON object")
	}
	if err := checkLayout(name, h.Tensors, dataSize); err != nil {
		return nil, err
	}
	sort.Slice(h.Tensors, func(i, j int) bool { return h.Tensors[i].Name < h.Tensors[j].Name })
	for i, t := range h.Tensors {
		h.byName[t.Name] = i
	}
	return h, nil
}

func jsonCause(err error) string {
	if err == nil || errors.Is(err, io.EOF) {
		return ""
	}
	return ": " + err.Error()
}

func parseMetadata(raw any) (map[string]string, error) {
	if raw == nil {
		return nil, nil
	}
	obj, ok := raw.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: want an object of strings, got %s", metadataKey, jsonKind(raw))
	}
	md := make(map[string]string, len(obj))
	for k, v := range obj {
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("%s: value of %q: want a string, got %s", metadataKey, k, jsonKind(v))
		}
		md[k] = s
	}
	return md, nil
}

func parseEntry(file, name string, raw any, dataSize int64) (TensorInfo, error) {
	info := TensorInfo{Name: name}
	obj, ok := raw.(map[string]any)
	if !ok {
		return info, newErr(file, name, "entry", "want an object {dtype, shape, data_offsets}, got %s", jsonKind(raw))
	}
	for _, k := range []string{"dtype", "shape", "data_offsets"} {
		if _, ok := obj[k]; !ok {
			return info, newErr(file, name, k, "%s: missing", k)
		}
	}
	ds, ok := obj["dtype"].(string)
	if !ok {
		return info, newErr(file, name, "dtype", "dtype: want a string, got %s", jsonKind(obj["dtype"]))
	}
	d, err := ParseDType(ds)
	if err != nil {
		return info, newErr(file, name, "dtype", "dtype: %v", err)
	}
	info.DType = d
	shape, ok := obj["shape"].([]any)
	if !ok {
		return info, newErr(file, name, "shape", "shape: want an array of integers, got %s", jsonKind(obj["shape"]))
	}
	info.Shape = make([]int64, len(shape))
	count := int64(1)
	for i, v := range shape {
		n, ok := nonNegInt(v)
		if !ok {
			return info, newErr(file, name, "shape", "shape[%d]: want a non-negative integer, got %s", i, jsonKind(v))
		}
		info.Shape[i] = n
		if n != 0 && count > math.MaxInt64/n {
			return info, newErr(file, name, "shape", "shape %s: element count overflows int64", fmtInts(info.Shape[:i+1]))
		}
		count *= n
	}
	if count > math.MaxInt64/int64(d.Size()) {
		return info, newErr(file, name, "shape", "shape %s of %s: byte size overflows int64", fmtInts(info.Shape), d)
	}
	offs, ok := obj["data_offsets"].([]any)
	if !ok || len(offs) != 2 {
		return info, newErr(file, name, "data_offsets", "data_offsets: want [begin, end], got %s", jsonKind(obj["data_offsets"]))
	}
	for i, v := range offs {
		n, ok := nonNegInt(v)
		if !ok {
			return info, newErr(file, name, "data_offsets", "data_offsets[%d]: want a non-negative integer, got %s", i, jsonKind(v))
		}
		info.DataOffsets[i] = n
	}
	b, e := info.DataOffsets[0], info.DataOffsets[1]
	switch need := count * int64(d.Size()); {
	case b > e:
		return info, newErr(file, name, "data_offsets", "data_offsets [%d,%d]: begin is after end", b, e)
	case e > dataSize:
		return info, newErr(file, name, "data_offsets", "data_offsets [%d,%d]: end is past the %d-byte data section", b, e, dataSize)
	case e-b != need:
		return info, newErr(file, name, "data_offsets", "data_offsets [%d,%d] hold %d bytes, shape %s of %s needs %d",
			b, e, e-b, fmtInts(info.Shape), d, need)
	}
	return info, nil
}

// checkLayout enforces that the tensors tile the data section exactly.
func checkLayout(file string, ts []TensorInfo, dataSize int64) error {
	order := make([]int, len(ts))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(i, j int) bool {
		a, b := ts[order[i]], ts[order[j]]
		if a.DataOffsets != b.DataOffsets {
			return a.DataOffsets[0] < b.DataOffsets[0] ||
				(a.DataOffsets[0] == b.DataOffsets[0] && a.DataOffsets[1] < b.DataOffsets[1])
		}
		return a.Name < b.Name
	})
	var pos int64
	prev := ""
	for _, i := range order {
		t := ts[i]
		switch b := t.DataOffsets[0]; {
		case b < pos:
			return newErr(file, t.Name, "data_offsets", "data_offsets [%d,%d] overlap tensor %q, which ends at %d",
				b, t.DataOffsets[1], prev, pos)
		case b > pos:
			return newErr(file, t.Name, "data_offsets", "data_offsets [%d,%d] leave a hole: bytes [%d,%d) belong to no tensor",
				b, t.DataOffsets[1], pos, b)
		}
		pos, prev = t.DataOffsets[1], t.Name
	}
	if pos != dataSize {
		return newErr(file, "", "data_offsets", "tensors cover %d bytes but the data section has %d", pos, dataSize)
	}
	return nil
}

func nonNegInt(v any) (int64, bool) {
	num, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(string(num), 10, 64)
	return n, err == nil && n >= 0
}
