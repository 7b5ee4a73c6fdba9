package tokenizer

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
)

// Tokenizer encodes text to token ids and back. It is safe for concurrent use.
type Tokenizer struct {
	model     *bpe
	nfc       bool     // apply NFC to text outside raw-matched added tokens
	rawAdded  *matcher // added tokens with normalized=false, matched in the raw text
	normAdded *matcher // added tokens with normalized=true, matched after NFC

	added     []AddedToken
	addedByID map[int]*AddedToken
	addedText map[string]*AddedToken
	vocab     map[string]int32
	idToken   []string // vocab token of each id ("" where the vocab has none)
	size      int      // largest id + 1
}

// EncodeOptions changes how EncodeWithOptions treats its input.
type EncodeOptions struct {
	// SpecialAsText tokenises the text of special added tokens (<|im_start|>, ...) as ordinary
	// text instead of mapping it to the special ids, as Hugging Face's split_special_tokens=True
	// does. Use it for untrusted text that must not be able to inject chat markers.
	SpecialAsText bool
}

// Load reads a tokenizer.json file, gzip-compressed or not (detected from its content).
func Load(path string) (*Tokenizer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	if len(data) >= 2 && data[0] == 0x1f && data[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("tokenizer: %s: %w", path, err)
		}
		data, err = io.ReadAll(zr)
		if err != nil {
			return nil, fmt.Errorf("tokenizer: %s: %w", path, err)
		}
	}
	t, err := FromJSON(data)
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, path)
	}
	return t, nil
}

// Encode returns the token ids of text, recognising added and special tokens in it, like
// Hugging Face's encode(text, add_special_tokens=False) (Qwen2 adds no BOS/EOS anyway).
// Invalid UTF-8 (which Hugging Face cannot receive) is encoded byte for byte, so Decode
// still gives the input back.
func (t *Tokenizer) Encode(text string) []int {
	return t.EncodeWithOptions(text, EncodeOptions{})
}

// EncodeWithOptions is Encode with options.
func (t *Tokenizer) EncodeWithOptions(text string, opt EncodeOptions) []int {
	ids := make([]int, 0, len(text)/3+1)
	var outer, inner [8]segment
	for _, seg := range t.rawAdded.split(outer[:0], text, opt.SpecialAsText) {
		if seg.tok != nil {
			ids = append(ids, seg.tok.ID)
			continue
		}
		s := seg.text
		if t.nfc {
			s = nfc(s)
		}
		for _, sub := range t.normAdded.split(inner[:0], s, opt.SpecialAsText) {
			if sub.tok != nil {
				ids = append(ids, sub.tok.ID)
				continue
			}
			ids = t.model.appendText(ids, sub.text)
		}
	}
	return ids
}

// Decode returns the text of ids, leaving out special tokens if skipSpecial is set. Ids with
// no token (such as the padding rows of an embedding matrix larger than the vocab) are
// skipped, and invalid UTF-8 from partial characters becomes U+FFFD, as in Hugging Face.
func (t *Tokenizer) Decode(ids []int, skipSpecial bool) string {
	return string(appendLossy(nil, t.DecodeBytes(ids, skipSpecial)))
}

// DecodeBytes is Decode without the UTF-8 repair: when streaming generated tokens, a
// character split across tokens comes out whole once its last byte has been decoded.
func (t *Tokenizer) DecodeBytes(ids []int, skipSpecial bool) []byte {
	var out []byte
	for _, id := range ids {
		if a := t.addedByID[id]; a != nil {
			// Verbatim, as transformers.js does; Hugging Face sends added tokens through the
			// ByteLevel decoder, which is the identity on printable ASCII such as <|im_end|>.
			if !(skipSpecial && a.Special) {
				out = append(out, a.Content...)
			}
			continue
		}
		if id >= 0 && id < len(t.idToken) && t.idToken[id] != "" {
			out = byteLevelDecode(out, t.idToken[id])
		}
	}
	return out
}

// TokenID returns the id of a token given in its vocab form (byte-level text such as "Ġthe")
// or as an added token's content ("<|im_end|>").
func (t *Tokenizer) TokenID(token string) (int, bool) {
	if a := t.addedText[token]; a != nil {
		return a.ID, true
	}
	id, ok := t.vocab[token]
	return int(id), ok
}

// IDToToken returns the vocab form of a token id (or the added token's content).
func (t *Tokenizer) IDToToken(id int) (string, bool) {
	if a := t.addedByID[id]; a != nil {
		return a.Content, true
	}
	if id >= 0 && id < len(t.idToken) && t.idToken[id] != "" {
		return t.idToken[id], true
	}
	return "", false
}

// VocabSize returns the largest token id plus one, counting added tokens (151669 for Qwen3's
// file). Model embedding matrices are often larger (151936 for Qwen2).
func (t *Tokenizer) VocabSize() int { return t.size }

// IsSpecial reports whether id is a special added token, the ones Decode can skip.
func (t *Tokenizer) IsSpecial(id int) bool {
	a := t.addedByID[id]
	return a != nil && a.Special
}

// AddedTokens returns a copy of the added tokens, in file order.
func (t *Tokenizer) AddedTokens() []AddedToken {
	return append([]AddedToken(nil), t.added...)
}
