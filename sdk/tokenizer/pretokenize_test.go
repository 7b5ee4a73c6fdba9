package tokenizer

import (
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestSplitQwen2(t *testing.T) {
	cases := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"Hello world", []string{"Hello", " world"}},
		{"I'm here", []string{"I", "'m", " here"}},
		{"WE'LL GO", []string{"WE", "'LL", " GO"}},
		{"'Sup", []string{"'S", "up"}},
		{"it's", []string{"it", "'s"}},
		{"x'", []string{"x", "'"}},
		{"12345", []string{"1", "2", "3", "4", "5"}},
		{"abc123", []string{"abc", "1", "2", "3"}},
		{"a  b", []string{"a", " ", " b"}},
		{"a   ", []string{"a", "   "}},
		{"a\n\nb", []string{"a", "\n\n", "b"}},
		{"a \n b", []string{"a", " \n", " b"}},
		{"a\n  b", []string{"a", "\n", " ", " b"}},
		{"a \t\n\t b", []string{"a", " \t\n", "\t", " b"}},
		{"\tx", []string{"\tx"}},
		{"(hello)", []string{"(hello", ")"}},
		{" !!!\n\nx", []string{" !!!\n\n", "x"}},
		{"a ... b", []string{"a", " ...", " b"}},
		{"\r\n\r\nx", []string{"\r\n\r\n", "x"}},
		{"你好，世界", []string{"你好", "，世界"}},
		{"café", []string{"café"}},
		{"x\u0301y", []string{"x", "\u0301y"}},
		{"😀 ok", []string{"😀", " ok"}},
		{"  😀", []string{" ", " 😀"}},
		{"\u00a0word", []string{"\u00a0word"}},
		{"½x", []string{"½", "x"}},
		// Oniguruma semantics where transformers.js differs (so not in reference.jsonl):
		// U+0085 is \s, U+FEFF is not, and (?i) folds U+017F to s.
		{"a\u0085\u0085b", []string{"a", "\u0085", "\u0085b"}},
		{"a\ufeff\ufeffb", []string{"a", "\ufeff\ufeff", "b"}},
		{"'\u017ft", []string{"'\u017f", "t"}},
		// Invalid UTF-8 is kept byte for byte as "other" runes.
		{"a\xffb", []string{"a", "\xffb"}},
	}
	for _, c := range cases {
		if got := splitQwen2(nil, c.in); !slices.Equal(got, c.want) {
			t.Errorf("split(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// whiteSpace is \s in Oniguruma: Unicode White_Space (Go's \s is ASCII only).
const whiteSpace = `\t\n\v\f\r \x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}`

// qwen2Prefix is the Qwen2 pattern without its last two (whitespace) alternatives, which need
// lookahead: Go's regexp runs it with the same leftmost-first semantics.
var qwen2Prefix = regexp.MustCompile(`^(?:(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^` +
	whiteSpace + `\p{L}\p{N}]+[\r\n]*|[` + whiteSpace + `]*[\r\n]+)`)

// TestSplitAgainstRegexp checks the scanner against Go's regexp on random text built from the
// characters that steer the pattern.
func TestSplitAgainstRegexp(t *testing.T) {
	atoms := []string{"'", "s", "S", "\u017f", "t", "re", "VE", "m", "lL", "d", " ", "  ", "\t", "\n",
		"\r", "\u00a0", "\u0085", "\u3000", "a", "Zz", "é", "中", "1", "٣", "½", "!", ".", "-", "😀",
		"\u0301", "_", "\ufeff", "\u200b"}
	rng := rand.New(rand.NewPCG(1, 2))
	for n := 0; n < 20000; n++ {
		var sb strings.Builder
		for k := rng.IntN(12) + 1; k > 0; k-- {
			sb.WriteString(atoms[rng.IntN(len(atoms))])
		}
		s := sb.String()
		for i := 0; i < len(s); {
			got := nextQwen2Piece(s, i)
			if loc := qwen2Prefix.FindStringIndex(s[i:]); loc != nil && i+loc[1] != got {
				t.Fatalf("%q at %d: scanner ends at %d, regexp at %d", s, i, got, i+loc[1])
			} else if loc == nil && !isSpaceRun(s[i:got]) {
				t.Fatalf("%q at %d: regexp fails but scanner gives %q", s, i, s[i:got])
			}
			i = got
		}
	}
}

func isSpaceRun(s string) bool {
	for _, r := range s {
		if c := slowClass(r); c != classSpace && c != classNewline {
			return false
		}
	}
	return s != ""
}
