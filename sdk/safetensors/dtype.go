package safetensors

import "fmt"

// DType names an element type exactly as it is spelled in a safetensors
// header ("BF16", "F32", ...), so a DType round-trips through files unchanged.
type DType string

// The element types this package understands. They are all whole bytes wide;
// the sub-byte types of newer safetensors versions (F4, F6_*) are rejected as
// unknown because their byte sizes are not a product of shape and width.
const (
	BOOL    DType = "BOOL"
	U8      DType = "U8"
	I8      DType = "I8"
	F8E5M2  DType = "F8_E5M2"
	F8E4M3  DType = "F8_E4M3"
	F8E8M0  DType = "F8_E8M0"
	I16     DType = "I16"
	U16     DType = "U16"
	F16     DType = "F16"
	BF16    DType = "BF16"
	I32     DType = "I32"
	U32     DType = "U32"
	F32     DType = "F32"
	F64     DType = "F64"
	I64     DType = "I64"
	U64     DType = "U64"
	unknown DType = ""
)

var dtypeSizes = map[DType]int{
	BOOL: 1, U8: 1, I8: 1, F8E5M2: 1, F8E4M3: 1, F8E8M0: 1,
	I16: 2, U16: 2, F16: 2, BF16: 2,
	I32: 4, U32: 4, F32: 4,
	F64: 8, I64: 8, U64: 8,
}

// Size is the width of one element in bytes, or 0 for a dtype this package
// does not know; callers use it to size buffers and to validate offsets.
func (d DType) Size() int { return dtypeSizes[d] }

// Valid reports whether d is one of the known element types.
func (d DType) Valid() bool { return dtypeSizes[d] != 0 }

// IsFloat reports whether ReadFloat32 and DecodeFloat32 can convert this
// dtype (BF16, F16, F32, F64).
func (d DType) IsFloat() bool {
	switch d {
	case BF16, F16, F32, F64:
		return true
	}
	return false
}

// String returns the header spelling of d.
func (d DType) String() string { return string(d) }

// ParseDType turns a header dtype string into a DType, failing for unknown
// spellings so that a typo never silently reads bytes with the wrong width.
func ParseDType(s string) (DType, error) {
	d := DType(s)
	if !d.Valid() {
		return unknown, fmt.Errorf("unknown dtype %q", s)
	}
	return d, nil
}
