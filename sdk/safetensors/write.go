package safetensors

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"sort"

	"github.com/visreft/visreft/sdk/fsutil"
)

// Tensor is one tensor to write: its bytes come from Data or, for tensors
// too large to hold twice in memory, are streamed from Source.
type Tensor struct {
	Name  string
	DType DType
	Shape []int64 // empty for a scalar
	Data  []byte  // raw little-endian bytes, NumElements*DType.Size() long
	// Source, when set instead of Data, must yield at least the tensor's
	// byte size (for example a File.Section of another checkpoint); only
	// that many bytes are read from it.
	Source io.Reader
}

// FromFloat32 builds a Tensor of a float dtype from float32 values, rounding
// to nearest even for BF16 and F16; it is the usual way to save weights.
func FromFloat32(name string, d DType, shape []int64, vals []float32) (Tensor, error) {
	t := Tensor{Name: name, DType: d, Shape: slices.Clone(shape)}
	n, err := t.byteSize("")
	if err != nil {
		return t, err
	}
	if int64(len(vals))*int64(d.Size()) != n {
		return t, newErr("", name, "shape", "%d values do not fill shape %s", len(vals), fmtInts(shape))
	}
	t.Data, err = EncodeFloat32(d, vals)
	return t, err
}

// byteSize validates dtype and shape and returns the data length they imply.
func (t *Tensor) byteSize(file string) (int64, error) {
	if !t.DType.Valid() {
		return 0, newErr(file, t.Name, "dtype", "unknown dtype %q", t.DType)
	}
	n := int64(t.DType.Size())
	for _, d := range t.Shape {
		if d < 0 || (d != 0 && n > math.MaxInt64/d) {
			return 0, newErr(file, t.Name, "shape", "invalid shape %s", fmtInts(t.Shape))
		}
		n *= d
	}
	return n, nil
}

// layout is a validated write plan: tensors in data order plus the header.
type layout struct {
	order  []Tensor
	sizes  []int64
	header []byte // padded JSON, len%8 == 0
}

// plan validates tensors and lays them out. Data is ordered by element size
// (widest first), then by name, as the Hugging Face writer does: every
// tensor then starts at a multiple of its element size (the header is padded
// to 8), so mmap-based readers can use the bytes in place. Output is
// deterministic for a given input.
func plan(file string, tensors []Tensor, metadata map[string]string) (*layout, error) {
	l := &layout{order: slices.Clone(tensors)}
	seen := map[string]bool{}
	for i := range l.order {
		t := &l.order[i]
		switch {
		case t.Name == "" || t.Name == metadataKey:
			return nil, newErr(file, "", "name", "invalid tensor name %q", t.Name)
		case seen[t.Name]:
			return nil, newErr(file, t.Name, "name", "tensor given twice")
		case t.Source != nil && t.Data != nil:
			return nil, newErr(file, t.Name, "", "set Data or Source, not both")
		}
		seen[t.Name] = true
		if _, err := t.byteSize(file); err != nil {
			return nil, err
		}
	}
	sort.Slice(l.order, func(i, j int) bool {
		a, b := l.order[i], l.order[j]
		if a.DType.Size() != b.DType.Size() {
			return a.DType.Size() > b.DType.Size()
		}
		return a.Name < b.Name
	})
	var hdr bytes.Buffer
	hdr.WriteByte('{')
	if len(metadata) > 0 {
		keys := slices.Sorted(maps.Keys(metadata))
		hdr.WriteString(quote(metadataKey) + ":{")
		for i, k := range keys {
			if i > 0 {
				hdr.WriteByte(',')
			}
			hdr.WriteString(quote(k) + ":" + quote(metadata[k]))
		}
		hdr.WriteByte('}')
	}
	var off int64
	for i, t := range l.order {
		n, _ := t.byteSize(file)
		if t.Source == nil && int64(len(t.Data)) != n {
			return nil, newErr(file, t.Name, "data", "Data holds %d bytes, shape %s of %s needs %d",
				len(t.Data), fmtInts(t.Shape), t.DType, n)
		}
		if i > 0 || len(metadata) > 0 {
			hdr.WriteByte(',')
		}
		fmt.Fprintf(&hdr, `%s:{"dtype":%s,"shape":%s,"data_offsets":[%d,%d]}`,
			quote(t.Name), quote(string(t.DType)), fmtInts(t.Shape), off, off+n)
		l.sizes = append(l.sizes, n)
		off += n
	}
	hdr.WriteByte('}')
	for hdr.Len()%8 != 0 {
		hdr.WriteByte(' ') // the HF writer pads with spaces so data starts 8-aligned
	}
	if hdr.Len() > MaxHeaderSize {
		return nil, newErr(file, "", "header", "header of %d bytes exceeds MaxHeaderSize", hdr.Len())
	}
	l.header = hdr.Bytes()
	return l, nil
}

// quote JSON-encodes s without HTML escaping, so names stay readable.
func quote(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // encoding a string cannot fail
	return string(bytes.TrimSuffix(b.Bytes(), []byte("\n")))
}

// Encode writes a complete safetensors file to w and returns the bytes
// written. Use it for in-memory files; Write adds the atomic file handling.
func Encode(w io.Writer, tensors []Tensor, metadata map[string]string) (int64, error) {
	l, err := plan("", tensors, metadata)
	if err != nil {
		return 0, err
	}
	return l.encode("", w)
}

// encode streams the planned file to w; file is used in errors.
func (l *layout) encode(file string, w io.Writer) (int64, error) {
	cw := &countWriter{w: w}
	var prefix [8]byte
	for i := range prefix {
		prefix[i] = byte(uint64(len(l.header)) >> (8 * i))
	}
	cw.Write(prefix[:])
	cw.Write(l.header)
	for i, t := range l.order {
		if cw.err != nil {
			break
		}
		if t.Source == nil {
			cw.Write(t.Data)
			continue
		}
		n, err := io.CopyN(cw, t.Source, l.sizes[i])
		if err != nil && cw.err == nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return cw.n, &Error{File: file, Tensor: t.Name, Field: "source",
				Err: fmt.Errorf("Source gave %d of %d bytes: %w", n, l.sizes[i], err)}
		}
	}
	if cw.err != nil {
		return cw.n, &Error{File: file, Err: fmt.Errorf("writing: %w", cw.err)}
	}
	return cw.n, nil
}

type countWriter struct {
	w   io.Writer
	n   int64
	err error
}

func (c *countWriter) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.w.Write(p)
	c.n += int64(n)
	c.err = err
	return n, err
}

// Write saves tensors to path atomically: the file is written to a temp file
// in the same directory, fsynced and renamed over path, so a crash or an
// error (a failing Source, a full disk) never leaves a half-written
// checkpoint and an existing file at path stays untouched.
func Write(path string, tensors []Tensor, metadata map[string]string) error {
	l, err := plan(path, tensors, metadata)
	if err != nil {
		return err
	}
	return writeAtomic(path, func(w io.Writer) error {
		_, err := l.encode(path, w)
		return err
	})
}

// writeAtomic writes path through fill atomically (sdk/fsutil), with
// errors naming the file.
func writeAtomic(path string, fill func(io.Writer) error) error {
	if err := fsutil.WriteWith(path, fill); err != nil {
		var se *Error
		if errors.As(err, &se) {
			return err
		}
		return &Error{File: path, Err: err}
	}
	return nil
}
