package safetensors

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
)

// ErrNotFound is wrapped by the error for a tensor name a file or checkpoint
// does not hold, so loaders can tell "absent" (maybe optional) from "broken".
var ErrNotFound = errors.New("no such tensor")

// Reader is the view of a checkpoint that model loaders need. Both a single
// File and a sharded Checkpoint implement it, so loaders do not care how
// the weights were split on disk.
type Reader interface {
	// Names lists every tensor, sorted.
	Names() []string
	// Info describes one tensor without reading it.
	Info(name string) (TensorInfo, error)
	// Read returns the tensor's raw little-endian bytes.
	Read(name string) ([]byte, error)
	// ReadFloat32 returns a float tensor (BF16, F16, F32, F64) as float32.
	ReadFloat32(name string) ([]float32, error)
	// Metadata returns the free-form string metadata.
	Metadata() map[string]string
	// Close releases the underlying files.
	Close() error
}

// File is one open safetensors file. Only its header is held in memory;
// tensors are read on demand with ReadAt, so it is safe for concurrent
// reads from several goroutines.
type File struct {
	name   string
	r      io.ReaderAt
	closer io.Closer
	hdr    *Header
}

var _ Reader = (*File)(nil)

// Open opens path and validates its header, reading no tensor data.
func Open(path string) (*File, error) {
	osf, err := os.Open(path)
	if err != nil {
		return nil, &Error{File: path, Err: err}
	}
	st, err := osf.Stat()
	if err == nil && st.IsDir() {
		err = errors.New("is a directory (use OpenDir)")
	}
	if err != nil {
		osf.Close()
		return nil, &Error{File: path, Err: err}
	}
	f, err := NewFile(path, osf, st.Size())
	if err != nil {
		osf.Close()
		return nil, err
	}
	f.closer = osf
	return f, nil
}

// NewFile reads a safetensors file of the given size from any ReaderAt (an
// in-memory bytes.Reader, a section of a larger blob); name is used in
// errors. Close on the result does not close r.
func NewFile(name string, r io.ReaderAt, size int64) (*File, error) {
	h, err := ReadHeader(name, r, size)
	if err != nil {
		return nil, err
	}
	return &File{name: name, r: r, hdr: h}, nil
}

// Name is the path or name the file was opened with.
func (f *File) Name() string { return f.name }

// Header exposes the validated header, for tools that list or audit files.
func (f *File) Header() *Header { return f.hdr }

// Names lists the tensor names, sorted.
func (f *File) Names() []string {
	out := make([]string, len(f.hdr.Tensors))
	for i, t := range f.hdr.Tensors {
		out[i] = t.Name
	}
	return out
}

// Has reports whether the file holds a tensor called name.
func (f *File) Has(name string) bool {
	_, ok := f.hdr.Lookup(name)
	return ok
}

// Info describes one tensor; the error wraps ErrNotFound when it is absent.
func (f *File) Info(name string) (TensorInfo, error) {
	t, ok := f.hdr.Lookup(name)
	if !ok {
		return t, &Error{File: f.name, Tensor: name, Err: ErrNotFound}
	}
	return t, nil
}

// Metadata returns a copy of the "__metadata__" map (nil when absent).
func (f *File) Metadata() map[string]string { return maps.Clone(f.hdr.Metadata) }

// Section returns a reader over one tensor's bytes, for streaming a large
// tensor (into a writer's Source, say) without holding it in memory.
func (f *File) Section(name string) (*io.SectionReader, error) {
	t, err := f.Info(name)
	if err != nil {
		return nil, err
	}
	return io.NewSectionReader(f.r, f.hdr.DataOffset+t.DataOffsets[0], t.ByteSize()), nil
}

// Read returns a tensor's raw little-endian bytes in a new buffer.
func (f *File) Read(name string) ([]byte, error) {
	t, err := f.Info(name)
	if err != nil {
		return nil, err
	}
	buf := make([]byte, t.ByteSize())
	return buf, f.readAt(t, buf, 0)
}

// ReadInto reads a tensor's raw bytes into dst, which must be exactly
// ByteSize long, so callers can reuse one buffer across tensors.
func (f *File) ReadInto(name string, dst []byte) error {
	t, err := f.Info(name)
	if err != nil {
		return err
	}
	if int64(len(dst)) != t.ByteSize() {
		return &Error{File: f.name, Tensor: name, Err: fmt.Errorf("destination holds %d bytes, tensor has %d", len(dst), t.ByteSize())}
	}
	return f.readAt(t, dst, 0)
}

// readChunk bounds the scratch buffer ReadFloat32 converts through.
const readChunk = 1 << 20

// ReadFloat32 reads a BF16, F16, F32 or F64 tensor as float32. It converts
// in 1 MiB chunks, so a large bf16 tensor costs its float32 size and no
// second full-size raw buffer.
func (f *File) ReadFloat32(name string) ([]float32, error) {
	t, err := f.Info(name)
	if err != nil {
		return nil, err
	}
	if !t.DType.IsFloat() {
		return nil, &Error{File: f.name, Tensor: name, Field: "dtype", Err: fmt.Errorf("dtype %s is not a float type", t.DType)}
	}
	es := int64(t.DType.Size())
	out := make([]float32, t.NumElements())
	buf := make([]byte, min(t.ByteSize(), readChunk/es*es))
	for done := int64(0); done < t.ByteSize(); {
		chunk := buf[:min(int64(len(buf)), t.ByteSize()-done)]
		if err := f.readAt(t, chunk, done); err != nil {
			return nil, err
		}
		decodeInto(out[done/es:(done+int64(len(chunk)))/es], t.DType, chunk)
		done += int64(len(chunk))
	}
	return out, nil
}

// readAt reads len(dst) bytes of tensor t starting rel bytes into it.
func (f *File) readAt(t TensorInfo, dst []byte, rel int64) error {
	if len(dst) == 0 {
		return nil
	}
	off := f.hdr.DataOffset + t.DataOffsets[0] + rel
	n, err := f.r.ReadAt(dst, off)
	if n == len(dst) {
		return nil
	}
	hint := ""
	if err == nil || errors.Is(err, io.EOF) {
		err, hint = io.ErrUnexpectedEOF, " (file truncated since it was opened?)"
	}
	return &Error{File: f.name, Tensor: t.Name, Err: fmt.Errorf("reading %d bytes at offset %d%s: %w", len(dst), off, hint, err)}
}

// Close closes the underlying file when Open opened it.
func (f *File) Close() error {
	if f.closer == nil {
		return nil
	}
	err := f.closer.Close()
	f.closer = nil
	return err
}
