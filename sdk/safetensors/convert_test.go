package safetensors

import (
	"math"
	"testing"
)

func f32(bits uint32) float32 { return math.Float32frombits(bits) }

func TestFloat32ToBF16(t *testing.T) {
	cases := []struct {
		in   uint32
		want uint16
		why  string
	}{
		{0x3F800000, 0x3F80, "1.0 exact"},
		{0xC0200000, 0xC020, "-2.5 exact"},
		{0x80000000, 0x8000, "-0 keeps its sign"},
		{0x3F808000, 0x3F80, "tie rounds to even (down)"},
		{0x3F818000, 0x3F82, "tie rounds to even (up)"},
		{0x3F808001, 0x3F81, "above the tie rounds up"},
		{0x3F807FFF, 0x3F80, "below the tie rounds down"},
		{0x7F7FFFFF, 0x7F80, "max float32 overflows to +Inf"},
		{0x7F7F7FFF, 0x7F7F, "just below overflow"},
		{0x7F800000, 0x7F80, "+Inf"},
		{0xFF800000, 0xFF80, "-Inf"},
		{0x7FC00000, 0x7FC0, "quiet NaN"},
		{0x7F800001, 0x7FC0, "NaN with a low payload stays NaN, not Inf"},
		{0xFF800001, 0xFFC0, "negative NaN keeps sign"},
		{0x00000001, 0x0000, "tiny subnormal rounds to zero"},
		{0x00008000, 0x0000, "subnormal tie rounds to even zero"},
		{0x00018000, 0x0002, "subnormal tie rounds to even two"},
		{0x00010000, 0x0001, "smallest bf16 subnormal exact"},
		{0x007FFFFF, 0x0080, "largest f32 subnormal rounds to smallest normal"},
	}
	for _, c := range cases {
		if got := Float32ToBF16(f32(c.in)); got != c.want {
			t.Errorf("Float32ToBF16(%#08x) = %#04x, want %#04x (%s)", c.in, got, c.want, c.why)
		}
	}
}

func TestBF16ExhaustiveTies(t *testing.T) {
	for h := 0; h < 0xFFFF; h++ {
		x := uint16(h)
		v := BF16ToFloat32(x)
		if math.IsNaN(float64(v)) {
			if got := Float32ToBF16(v); !math.IsNaN(float64(BF16ToFloat32(got))) {
				t.Fatalf("NaN %#04x -> %#04x", x, got)
			}
			continue
		}
		if got := Float32ToBF16(v); got != x {
			t.Fatalf("round trip %#04x -> %#04x", x, got)
		}
		if x&0x7FFF >= 0x7F80 { // Inf has no next value
			continue
		}
		// Midpoint between x and the next pattern away from zero.
		mid := f32(uint32(x)<<16 | 0x8000)
		want := x
		if x&1 == 1 {
			want = x + 1
		}
		if got := Float32ToBF16(mid); got != want {
			t.Fatalf("midpoint above %#04x -> %#04x, want %#04x", x, got, want)
		}
	}
}

func TestFloat32ToF16(t *testing.T) {
	cases := []struct {
		in   float32
		want uint16
		why  string
	}{
		{1, 0x3C00, "1.0"},
		{-2, 0xC000, "-2"},
		{0.1, 0x2E66, "0.1 rounds down"},
		{65504, 0x7BFF, "max half"},
		{65519, 0x7BFF, "below the overflow tie"},
		{65520, 0x7C00, "overflow tie rounds to even = Inf"},
		{1e6, 0x7C00, "overflow"},
		{-1e6, 0xFC00, "negative overflow"},
		{f32(0x38800000), 0x0400, "2^-14 smallest normal"},
		{f32(0x33800000), 0x0001, "2^-24 smallest subnormal"},
		{f32(0x33000000), 0x0000, "2^-25 tie rounds to even zero"},
		{f32(0x33000001), 0x0001, "just above 2^-25 rounds up"},
		{f32(0x33C00000), 0x0002, "1.5*2^-24 tie rounds to even two"},
		{f32(0x33400000), 0x0001, "0.75*2^-24 rounds up"},
		{f32(0x32800000), 0x0000, "2^-26 rounds to zero"},
		{f32(0x387FC000), 0x03FF, "largest subnormal exact"},
		{f32(0x387FE000), 0x0400, "tie above the largest subnormal rounds to the normal"},
		{f32(0x3F801000), 0x3C00, "1+2^-11 tie rounds to even"},
		{f32(0x3F803000), 0x3C02, "1+3*2^-11 tie rounds to even"},
		{f32(0x3F801001), 0x3C01, "above the tie rounds up"},
		{f32(0x80000000), 0x8000, "-0"},
		{f32(0x00000001), 0x0000, "f32 subnormal to zero"},
		{float32(math.Inf(1)), 0x7C00, "+Inf"},
		{float32(math.Inf(-1)), 0xFC00, "-Inf"},
		{f32(0x7FC00000), 0x7E00, "quiet NaN"},
		{f32(0x7F800001), 0x7E00, "low-payload NaN stays NaN"},
		{f32(0xFFC00000), 0xFE00, "negative NaN"},
	}
	for _, c := range cases {
		if got := Float32ToF16(c.in); got != c.want {
			t.Errorf("Float32ToF16(%g = %#08x) = %#04x, want %#04x (%s)", c.in, math.Float32bits(c.in), got, c.want, c.why)
		}
	}
}

func TestF16ToFloat32(t *testing.T) {
	cases := []struct {
		in   uint16
		want uint32
	}{
		{0x3C00, 0x3F800000},
		{0xC000, 0xC0000000},
		{0x0001, 0x33800000}, // 2^-24
		{0x03FF, 0x387FC000}, // largest subnormal
		{0x8001, 0xB3800000},
		{0x0400, 0x38800000},
		{0x7BFF, 0x477FE000}, // 65504
		{0x7C00, 0x7F800000},
		{0xFC00, 0xFF800000},
		{0x7E00, 0x7FC00000},
		{0x7C01, 0x7F802000}, // signalling NaN payload kept
		{0x8000, 0x80000000},
	}
	for _, c := range cases {
		if got := math.Float32bits(F16ToFloat32(c.in)); got != c.want {
			t.Errorf("F16ToFloat32(%#04x) = %#08x, want %#08x", c.in, got, c.want)
		}
	}
}

func TestF16ExhaustiveTies(t *testing.T) {
	for h := 0; h <= 0xFFFF; h++ {
		x := uint16(h)
		v := F16ToFloat32(x)
		if math.IsNaN(float64(v)) {
			if got := Float32ToF16(v); got&0x7C00 != 0x7C00 || got&0x3FF == 0 {
				t.Fatalf("NaN %#04x -> %#04x", x, got)
			}
			continue
		}
		if got := Float32ToF16(v); got != x {
			t.Fatalf("round trip %#04x -> %#04x", x, got)
		}
		if x&0x7FFF >= 0x7C00 {
			continue
		}
		// Midpoint to the next value away from zero: exact in float32.
		next := F16ToFloat32(x + 1)
		mid := float32((float64(v) + float64(next)) / 2)
		want := x
		if x&1 == 1 {
			want = x + 1
		}
		if got := Float32ToF16(mid); got != want {
			t.Fatalf("midpoint of %#04x and %#04x (%g) -> %#04x, want %#04x", x, x+1, mid, got, want)
		}
	}
}

func TestEncodeDecodeFloat32(t *testing.T) {
	vals := []float32{0, 1, -2.5, 0.1, 3e-5, 1e4}
	for _, d := range []DType{BF16, F16, F32, F64} {
		raw, err := EncodeFloat32(d, vals)
		if err != nil {
			t.Fatal(err)
		}
		if len(raw) != len(vals)*d.Size() {
			t.Fatalf("%s: %d bytes", d, len(raw))
		}
		back, err := DecodeFloat32(d, raw)
		if err != nil {
			t.Fatal(err)
		}
		tol := map[DType]float64{BF16: 1.0 / 256, F16: 1.0 / 2048, F32: 0, F64: 0}[d]
		for i := range vals {
			if diff := math.Abs(float64(back[i] - vals[i])); diff > tol*math.Abs(float64(vals[i]))+1e-7 {
				t.Errorf("%s: %g -> %g", d, vals[i], back[i])
			}
		}
	}
	// Little-endian layout, hand-checked.
	raw, _ := EncodeFloat32(BF16, []float32{1, -2})
	if string(raw) != "\x80\x3F\x00\xC0" {
		t.Errorf("BF16 bytes % x", raw)
	}
	if _, err := DecodeFloat32(I32, make([]byte, 4)); err == nil {
		t.Error("DecodeFloat32(I32) should fail")
	}
	if _, err := DecodeFloat32(F32, make([]byte, 5)); err == nil {
		t.Error("DecodeFloat32 of 5 bytes of F32 should fail")
	}
	if _, err := EncodeFloat32(U8, vals); err == nil {
		t.Error("EncodeFloat32(U8) should fail")
	}
}
