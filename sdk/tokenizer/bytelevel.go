package tokenizer

import "unicode/utf8"

// byteToRune is GPT-2's bytes_to_unicode table: the printable Latin-1 bytes map to themselves
// and the other 68 bytes to U+0100.. in byte order, so every token is printable text.
var byteToRune [256]rune

// runeToByte inverts byteToRune; runeIsByte marks the runes it holds (all below U+0144).
var (
	runeToByte [0x144]byte
	runeIsByte [0x144]bool
)

func init() {
	n := rune(0)
	for b := 0; b < 256; b++ {
		printable := (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF)
		if printable {
			byteToRune[b] = rune(b)
		} else {
			byteToRune[b] = 0x100 + n
			n++
		}
		r := byteToRune[b]
		runeToByte[r] = byte(b)
		runeIsByte[r] = true
	}
}

// byteLevelString maps raw bytes to their byte-level text form (the form vocab keys use).
func byteLevelString(b []byte) string {
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = utf8.AppendRune(out, byteToRune[c])
	}
	return string(out)
}

// byteLevelDecode maps a token's byte-level text back to raw bytes, appending to dst. Like the
// Hugging Face ByteLevel decoder, a token holding any rune outside the table (an added token
// with a space, say) contributes its own UTF-8 bytes unchanged.
func byteLevelDecode(dst []byte, token string) []byte {
	start := len(dst)
	for _, r := range token {
		if r < 0 || int(r) >= len(runeIsByte) || !runeIsByte[r] {
			return append(dst[:start], token...)
		}
		dst = append(dst, runeToByte[r])
	}
	return dst
}

// appendLossy appends b to dst as valid UTF-8, replacing each maximal ill-formed subsequence
// by U+FFFD, which is what Rust's String::from_utf8_lossy (used by Hugging Face decoders) and
// the WHATWG decoder do. Go's strings.ToValidUTF8 would merge adjacent errors into one.
func appendLossy(dst, b []byte) []byte {
	for len(b) > 0 {
		if b[0] < utf8.RuneSelf {
			dst = append(dst, b[0])
			b = b[1:]
			continue
		}
		if r, n := utf8.DecodeRune(b); r != utf8.RuneError || n > 1 {
			dst = append(dst, b[:n]...)
			b = b[n:]
			continue
		}
		dst = append(dst, "\uFFFD"...)
		b = b[maximalSubpart(b):]
	}
	return dst
}

// maximalSubpart returns the length (at least 1) of the longest prefix of b that starts a
// well-formed UTF-8 sequence but does not complete one (Unicode 15, table 3-7).
func maximalSubpart(b []byte) int {
	c := b[0]
	var need int
	lo, hi := byte(0x80), byte(0xBF)
	switch {
	case c >= 0xC2 && c <= 0xDF:
		need = 1
	case c == 0xE0:
		need, lo = 2, 0xA0
	case c == 0xED:
		need, hi = 2, 0x9F
	case c >= 0xE1 && c <= 0xEF:
		need = 2
	case c == 0xF0:
		need, lo = 3, 0x90
	case c == 0xF4:
		need, hi = 3, 0x8F
	case c >= 0xF1 && c <= 0xF3:
		need = 3
	default:
		return 1
	}
	i := 1
	for ; i <= need && i < len(b); i++ {
		if b[i] < lo || b[i] > hi {
			break
		}
		lo, hi = 0x80, 0xBF
	}
	return i
}
