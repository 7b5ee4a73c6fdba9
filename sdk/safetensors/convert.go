package safetensors

import (
	"encoding/binary"
	"fmt"
	"math"
)

// BF16ToFloat32 widens one bfloat16 bit pattern to float32. It is exact:
// bfloat16 is the top 16 bits of an IEEE float32.
func BF16ToFloat32(h uint16) float32 {
	return math.Float32frombits(uint32(h) << 16)
}

// Float32ToBF16 narrows f to bfloat16 with round-to-nearest-even, the rounding
// PyTorch uses, so weights written here match weights written there. NaNs
// stay NaN (quiet, sign kept); values past the bf16 range become ±Inf.
func Float32ToBF16(f float32) uint16 {
	b := math.Float32bits(f)
	if b&0x7fffffff > 0x7f800000 { // NaN: truncation could turn it into Inf
		return uint16(b>>16) | 0x0040
	}
	b += 0x7fff + (b>>16)&1
	return uint16(b >> 16)
}

// F16ToFloat32 widens one IEEE half-precision bit pattern to float32
// exactly, subnormals, infinities and NaN payloads included.
func F16ToFloat32(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // Inf or NaN, payload kept
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	case exp == 0 && mant == 0:
		return math.Float32frombits(sign)
	case exp == 0: // subnormal: mant * 2^-24, exact in float32
		v := float32(mant) * (1.0 / (1 << 24))
		return math.Float32frombits(sign | math.Float32bits(v))
	}
	return math.Float32frombits(sign | (exp+112)<<23 | mant<<13)
}

// Float32ToF16 narrows f to IEEE half precision with round-to-nearest-even,
// producing subnormals below 2^-14, ±Inf above 65504 (after rounding) and a
// quiet NaN for NaN inputs.
func Float32ToF16(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int(b>>23) & 0xff
	mant := b & 0x7fffff
	if exp == 0xff {
		if mant != 0 {
			return sign | 0x7e00 | uint16(mant>>13)
		}
		return sign | 0x7c00
	}
	e := exp - 127 + 15 // biased half exponent
	if e >= 0x1f {
		return sign | 0x7c00
	}
	if e <= 0 {
		// Subnormal half: value = m16 * 2^-24 where m16 = sig >> (14-e).
		shift := uint(14 - e)
		if shift > 24 {
			return sign // below half the smallest subnormal, zero
		}
		sig := mant | 0x800000
		return sign | uint16(roundShift(sig, shift))
	}
	r := uint32(e)<<10 | mant>>13
	rem := mant & 0x1fff
	if rem > 0x1000 || (rem == 0x1000 && r&1 == 1) {
		r++ // may carry into the exponent, up to Inf: that is correct
	}
	return sign | uint16(r)
}

// roundShift returns x >> s rounded to nearest, ties to even; 1 <= s <= 31.
func roundShift(x uint32, s uint) uint32 {
	r := x >> s
	rem := x & (1<<s - 1)
	half := uint32(1) << (s - 1)
	if rem > half || (rem == half && r&1 == 1) {
		r++
	}
	return r
}

// DecodeFloat32 converts raw little-endian tensor bytes of a float dtype
// (BF16, F16, F32, F64) to float32 values, the working type of the models.
// F64 narrows with round-to-nearest-even.
func DecodeFloat32(d DType, raw []byte) ([]float32, error) {
	if !d.IsFloat() {
		return nil, fmt.Errorf("dtype %s is not a float type", d)
	}
	if len(raw)%d.Size() != 0 {
		return nil, fmt.Errorf("%d bytes is not a whole number of %s elements", len(raw), d)
	}
	out := make([]float32, len(raw)/d.Size())
	decodeInto(out, d, raw)
	return out, nil
}

// decodeInto converts len(out) elements of float dtype d from raw.
func decodeInto(out []float32, d DType, raw []byte) {
	le := binary.LittleEndian
	switch d {
	case BF16:
		for i := range out {
			out[i] = BF16ToFloat32(le.Uint16(raw[2*i:]))
		}
	case F16:
		for i := range out {
			out[i] = F16ToFloat32(le.Uint16(raw[2*i:]))
		}
	case F32:
		for i := range out {
			out[i] = math.Float32frombits(le.Uint32(raw[4*i:]))
		}
	case F64:
		for i := range out {
			out[i] = float32(math.Float64frombits(le.Uint64(raw[8*i:])))
		}
	}
}

// EncodeFloat32 converts float32 values to the raw little-endian bytes of a
// float dtype, rounding to nearest even for BF16 and F16, so that saved
// checkpoints can be written in the dtype a consumer expects.
func EncodeFloat32(d DType, vals []float32) ([]byte, error) {
	if !d.IsFloat() {
		return nil, fmt.Errorf("dtype %s is not a float type", d)
	}
	out := make([]byte, len(vals)*d.Size())
	le := binary.LittleEndian
	switch d {
	case BF16:
		for i, v := range vals {
			le.PutUint16(out[2*i:], Float32ToBF16(v))
		}
	case F16:
		for i, v := range vals {
			le.PutUint16(out[2*i:], Float32ToF16(v))
		}
	case F32:
		for i, v := range vals {
			le.PutUint32(out[4*i:], math.Float32bits(v))
		}
	case F64:
		for i, v := range vals {
			le.PutUint64(out[8*i:], math.Float64bits(float64(v)))
		}
	}
	return out, nil
}
