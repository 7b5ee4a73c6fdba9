package safetensors

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Error describes a problem with one safetensors file. It carries the file,
// the tensor and the header field so that a failing checkpoint load points
// at the exact entry to look at; errors.As recovers it.
type Error struct {
	File   string // path or name of the file
	Tensor string // tensor name, "" when the problem is not about one tensor
	Field  string // header field ("dtype", "shape", "data_offsets", ...), or ""
	Err    error  // what is wrong, its text starting with Field where set
}

// Error formats as `safetensors: FILE: tensor "NAME": MESSAGE`, leaving out
// the parts that are empty.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("safetensors: ")
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteString(": ")
	}
	if e.Tensor != "" {
		fmt.Fprintf(&b, "tensor %q: ", e.Tensor)
	}
	if e.Err != nil {
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap exposes the underlying cause (an I/O or JSON error, say).
func (e *Error) Unwrap() error { return e.Err }

func newErr(file, tensor, field, format string, args ...any) *Error {
	return &Error{File: file, Tensor: tensor, Field: field, Err: fmt.Errorf(format, args...)}
}

// jsonKind describes a decoded JSON value for error messages.
func jsonKind(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		return fmt.Sprintf("string %q", clip(v))
	case json.Number:
		return "number " + clip(string(v))
	case bool:
		return "boolean"
	case []any:
		return fmt.Sprintf("array of %d", len(v))
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

func fmtInts(xs []int64) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = strconv.FormatInt(x, 10)
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// clip shortens hostile values before they reach an error message.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
