package tokenizer

import (
	"slices"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// cgj is U+034F COMBINING GRAPHEME JOINER, which x/text/unicode/norm inserts after 30
// consecutive non-starters (the Stream-Safe Text Format of UAX #15).
const cgj = "\u034f"

// nfc returns the NFC form of s as Hugging Face tokenizers, ICU and JavaScript compute it.
// It is norm.NFC except for text with runs of more than 30 combining marks ("Zalgo" text),
// where norm inserts U+034F and reorders marks only within each 30-mark chunk; there the
// slow path applies the plain UAX #15 algorithm to the affected stretch of text.
func nfc(s string) string {
	out := norm.NFC.String(s)
	if len(out) == len(s) && out == s {
		return out
	}
	if strings.Count(out, cgj) == strings.Count(s, cgj) {
		return out
	}
	// An ASCII character never composes with what precedes it, nor is reordered past, so the
	// text can be normalised in chunks: each non-ASCII run with the ASCII character before it.
	var b strings.Builder
	for i := 0; i < len(s); {
		j := i
		for j < len(s) && s[j] < utf8.RuneSelf {
			j++
		}
		if j == len(s) {
			b.WriteString(s[i:])
			break
		}
		start := max(i, j-1)
		b.WriteString(s[i:start])
		k := j
		for k < len(s) && s[k] >= utf8.RuneSelf {
			k++
		}
		b.WriteString(nfcChunk(s[start:k]))
		i = k
	}
	return b.String()
}

// nfcChunk is nfc for one chunk, taking the slow path only where norm.NFC inserted U+034F.
func nfcChunk(s string) string {
	out := norm.NFC.String(s)
	if strings.Count(out, cgj) == strings.Count(s, cgj) {
		return out
	}
	var b strings.Builder
	for len(s) > 0 {
		n := validPrefix(s)
		b.WriteString(slowNFC(s[:n]))
		s = s[n:]
		if len(s) > 0 { // one invalid byte, kept as is
			b.WriteByte(s[0])
			s = s[1:]
		}
	}
	return b.String()
}

// validPrefix returns the length of the longest valid UTF-8 prefix of s.
func validPrefix(s string) int {
	for i := 0; i < len(s); {
		r, w := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && w == 1 {
			return i
		}
		i += w
	}
	return len(s)
}

func ccc(r rune) uint8 { return norm.NFC.PropertiesString(string(r)).CCC() }

// slowNFC is canonical decomposition, canonical ordering and canonical composition of valid
// UTF-8, without a limit on the length of runs of non-starters.
func slowNFC(s string) string {
	var d []rune // canonical decomposition, one rune at a time (never more than 30 marks)
	for _, r := range s {
		for _, x := range norm.NFD.String(string(r)) {
			d = append(d, x)
		}
	}
	// Canonical ordering: stable sort of each run of non-starters by combining class.
	for i := 0; i < len(d); {
		if ccc(d[i]) == 0 {
			i++
			continue
		}
		j := i
		for j < len(d) && ccc(d[j]) != 0 {
			j++
		}
		slices.SortStableFunc(d[i:j], func(a, b rune) int { return int(ccc(a)) - int(ccc(b)) })
		i = j
	}
	// Canonical composition.
	out := make([]rune, 0, len(d))
	starter := -1
	for _, c := range d {
		cc := ccc(c)
		if starter >= 0 {
			last := len(out) - 1
			prev := ccc(out[last])
			if last == starter || (prev != 0 && prev < cc) {
				if p, ok := compose(out[starter], c); ok {
					out[starter] = p
					continue
				}
			}
		}
		if cc == 0 {
			starter = len(out)
		}
		out = append(out, c)
	}
	return string(out)
}

// compose returns the primary composite of a and b, if any: the one character whose NFC is
// itself and whose decomposition is exactly a's followed by b.
func compose(a, b rune) (rune, bool) {
	pair := string(a) + string(b)
	c := norm.NFC.String(pair)
	r, w := utf8.DecodeRuneInString(c)
	if w != len(c) || norm.NFD.String(c) != norm.NFD.String(string(a))+string(b) {
		return 0, false
	}
	return r, true
}
