package eval

import (
	"strings"
	"unicode"
)

// ParseChoice finds which of n choices (letters A, B, ...) a generated
// answer picks. It accepts "(B)", "B", "B.", "b)", "The answer is (B)",
// "Answer: B", and, failing letters, the exact text of exactly one choice.
// It returns -1 when the answer names no choice or several.
func ParseChoice(answer string, choices []string) int {
	n := len(choices)
	s := strings.TrimSpace(answer)
	// 1. "(X)" anywhere: the first one wins.
	for i := 0; i+2 < len(s); i++ {
		if s[i] == '(' && s[i+2] == ')' {
			if k := letter(s[i+1], n); k >= 0 {
				return k
			}
		}
	}
	// 2. A lone letter token: "B", "B.", "B)", "Answer: B".
	found := -1
	for _, tok := range strings.FieldsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || r == ':' || r == ',' }) {
		t := strings.TrimRight(tok, ".)")
		if len(t) == 1 {
			if k := letter(t[0], n); k >= 0 && (unicode.IsUpper(rune(t[0])) || len(s) <= 3) {
				if found >= 0 && found != k {
					return -1
				}
				found = k
			}
		}
	}
	if found >= 0 {
		return found
	}
	// 3. The text of exactly one choice.
	low := strings.ToLower(s)
	match := -1
	for i, c := range choices {
		if c != "" && strings.Contains(low, strings.ToLower(c)) {
			if match >= 0 {
				return -1
			}
			match = i
		}
	}
	return match
}

func letter(c byte, n int) int {
	if c >= 'a' && c <= 'z' {
		c -= 'a' - 'A'
	}
	if c >= 'A' && int(c-'A') < n {
		return int(c - 'A')
	}
	return -1
}
