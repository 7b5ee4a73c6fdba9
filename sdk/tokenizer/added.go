package tokenizer

import (
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// AddedToken is a token matched verbatim in the text before the BPE model sees it, as listed
// under added_tokens in tokenizer.json (chat markers such as <|im_start|>, tool tags, ...).
type AddedToken struct {
	ID      int    // token id
	Content string // the exact text matched
	// Special tokens are dropped by Decode(ids, true) and, with EncodeOptions.SpecialAsText,
	// are not recognised in the input.
	Special bool
	LStrip  bool // the match swallows the whitespace on its left
	RStrip  bool // the match swallows the whitespace on its right
	// Normalized tokens are matched in the normalized (NFC) text, the others in the raw text.
	Normalized bool
}

// matcher finds added tokens with leftmost-longest semantics, like the Aho-Corasick
// automaton of Hugging Face tokenizers.
type matcher struct {
	tokens  []*AddedToken
	byFirst [256][]*AddedToken // candidates by first byte, longest first
	first   []byte             // the distinct first bytes
}

func newMatcher(tokens []*AddedToken) *matcher {
	m := &matcher{tokens: tokens}
	for _, t := range tokens {
		c := t.Content[0]
		if m.byFirst[c] == nil {
			m.first = append(m.first, c)
		}
		m.byFirst[c] = append(m.byFirst[c], t)
	}
	for _, c := range m.first {
		list := m.byFirst[c]
		sort.SliceStable(list, func(i, j int) bool { return len(list[i].Content) > len(list[j].Content) })
	}
	return m
}

// find returns the leftmost-longest added token in s[from:], with its byte span in s.
func (m *matcher) find(s string, from int) (tok *AddedToken, start, end int) {
	if m == nil || len(m.first) == 0 {
		return nil, -1, -1
	}
	for i := from; i < len(s); i++ {
		if len(m.first) == 1 {
			k := strings.IndexByte(s[i:], m.first[0])
			if k < 0 {
				return nil, -1, -1
			}
			i += k
		}
		for _, t := range m.byFirst[s[i]] {
			if strings.HasPrefix(s[i:], t.Content) {
				return t, i, i + len(t.Content)
			}
		}
	}
	return nil, -1, -1
}

// segment is a span of text that is either an added token or text for the model.
type segment struct {
	text string
	tok  *AddedToken // nil for text
}

// split cuts s into text and added-token segments, appending them to dst. When specialAsText
// is set, matches of special tokens stay in the text, as with Hugging Face's
// encode_special_tokens (the matching itself is unchanged).
func (m *matcher) split(dst []segment, s string, specialAsText bool) []segment {
	done := 0 // s[:done] is already in dst
	for pos := 0; pos < len(s); {
		tok, start, end := m.find(s, pos)
		if tok == nil {
			break
		}
		pos = end
		if specialAsText && tok.Special {
			continue
		}
		if tok.LStrip {
			start = max(done, len(strings.TrimRightFunc(s[:start], unicode.IsSpace)))
		}
		if tok.RStrip {
			end += len(s[end:]) - len(strings.TrimLeftFunc(s[end:], unicode.IsSpace))
			pos = end
		}
		if start > done {
			dst = append(dst, segment{text: s[done:start]})
		}
		dst = append(dst, segment{text: s[start:end], tok: tok})
		done = end
	}
	if done < len(s) {
		dst = append(dst, segment{text: s[done:]})
	}
	return dst
}

// validContent reports whether an added token's content can be matched at all.
func validContent(s string) bool { return s != "" && utf8.ValidString(s) }
