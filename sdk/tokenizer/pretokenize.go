package tokenizer

import (
	"unicode"
	"unicode/utf8"
)

// qwen2Pattern is the Split pre-tokenizer regex of the Qwen2 family (Qwen1.5, 2, 2.5, 3).
// Go's regexp lacks the lookahead in `\s+(?!\S)`, so nextQwen2Piece implements it by hand.
const qwen2Pattern = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`

// Rune classes of the pattern. \s is Unicode White_Space, as in Oniguruma (the engine of
// Hugging Face tokenizers) and Go's unicode.IsSpace; \p{L} and \p{N} are general categories.
const (
	classOther = iota // none of the below
	classLetter
	classNumber
	classSpace   // White_Space other than \r and \n
	classNewline // \r or \n
)

// asciiClass holds the class of each ASCII byte, the common case.
var asciiClass [utf8.RuneSelf]uint8

func init() {
	for c := rune(0); c < utf8.RuneSelf; c++ {
		asciiClass[c] = uint8(slowClass(c))
	}
}

func slowClass(r rune) int {
	switch {
	case r == '\r' || r == '\n':
		return classNewline
	case unicode.IsSpace(r):
		return classSpace
	case unicode.IsLetter(r):
		return classLetter
	case unicode.IsNumber(r):
		return classNumber
	}
	return classOther
}

// runeAt decodes the rune at s[i:] and returns it with its width and class. Invalid UTF-8
// decodes as a one-byte classOther rune, so pieces always cover the raw bytes.
func runeAt(s string, i int) (r rune, width int, class int) {
	c := s[i]
	if c < utf8.RuneSelf {
		return rune(c), 1, int(asciiClass[c])
	}
	r, width = utf8.DecodeRuneInString(s[i:])
	if r == utf8.RuneError && width == 1 {
		return r, 1, classOther
	}
	return r, width, slowClass(r)
}

// nextQwen2Piece returns the end of the regex match that starts at s[i:] (i < len(s)),
// trying the pattern's alternatives in order as a backtracking engine would. Every position
// matches some alternative, so the matches tile the text.
func nextQwen2Piece(s string, i int) int {
	r, w, c := runeAt(s, i)
	// (?i:'s|'t|'re|'ve|'m|'ll|'d)
	if r == '\'' {
		if n := contraction(s[i+1:]); n > 0 {
			return i + 1 + n
		}
	}
	// [^\r\n\p{L}\p{N}]?\p{L}+
	if c == classLetter {
		return letterRun(s, i+w)
	}
	if c == classOther || c == classSpace {
		if i+w < len(s) {
			if _, w2, c2 := runeAt(s, i+w); c2 == classLetter {
				return letterRun(s, i+w+w2)
			}
		}
	}
	// \p{N}
	if c == classNumber {
		return i + w
	}
	// ` ?[^\s\p{L}\p{N}]+[\r\n]*`
	j := i
	if r == ' ' {
		j++
	}
	k := j
	for k < len(s) {
		_, w2, c2 := runeAt(s, k)
		if c2 != classOther {
			break
		}
		k += w2
	}
	if k > j {
		for k < len(s) && (s[k] == '\r' || s[k] == '\n') {
			k++
		}
		return k
	}
	// Here s[i] is whitespace. Find the run of whitespace, its last newline, its last rune.
	end, lastNL, lastStart := i, -1, i
	for end < len(s) {
		_, w2, c2 := runeAt(s, end)
		if c2 != classSpace && c2 != classNewline {
			break
		}
		if c2 == classNewline {
			lastNL = end + w2
		}
		lastStart = end
		end += w2
	}
	switch {
	case lastNL >= 0: // \s*[\r\n]+ : greedy \s* backs off to the last newline.
		return lastNL
	case end == len(s): // \s+(?!\S) at the end of text.
		return end
	case lastStart > i: // \s+(?!\S) leaves the last space to the next piece.
		return lastStart
	}
	return end // \s+
}

// letterRun returns the end of the run of letters starting at s[i:].
func letterRun(s string, i int) int {
	for i < len(s) {
		_, w, c := runeAt(s, i)
		if c != classLetter {
			break
		}
		i += w
	}
	return i
}

// contraction returns the length of the case-insensitive contraction suffix (after the
// apostrophe) at the start of s, or 0. Case-insensitive matching follows Unicode simple case
// folding as Oniguruma does, so U+017F (long s) matches 's'.
func contraction(s string) int {
	for _, alt := range [...]string{"s", "t", "re", "ve", "m", "ll", "d"} {
		n, ok := 0, true
		for k := 0; k < len(alt); k++ {
			if n >= len(s) {
				ok = false
				break
			}
			r, w := utf8.DecodeRuneInString(s[n:])
			if !foldEq(r, rune(alt[k])) {
				ok = false
				break
			}
			n += w
		}
		if ok {
			return n
		}
	}
	return 0
}

// foldEq reports whether r equals the lower-case ASCII letter a under simple case folding.
func foldEq(r, a rune) bool {
	if r == a {
		return true
	}
	for f := unicode.SimpleFold(a); f != a; f = unicode.SimpleFold(f) {
		if r == f {
			return true
		}
	}
	return false
}

// splitQwen2 appends to dst the pieces of s under the Qwen2 pattern (for tests and tools).
func splitQwen2(dst []string, s string) []string {
	for i := 0; i < len(s); {
		j := nextQwen2Piece(s, i)
		dst = append(dst, s[i:j])
		i = j
	}
	return dst
}
