package tokenizer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// fileJSON mirrors the fields of a Hugging Face tokenizer.json that matter for encoding.
type fileJSON struct {
	Truncation    json.RawMessage  `json:"truncation"`
	Padding       json.RawMessage  `json:"padding"`
	AddedTokens   []addedTokenJSON `json:"added_tokens"`
	Normalizer    json.RawMessage  `json:"normalizer"`
	PreTokenizer  json.RawMessage  `json:"pre_tokenizer"`
	PostProcessor json.RawMessage  `json:"post_processor"`
	Decoder       json.RawMessage  `json:"decoder"`
	Model         *modelJSON       `json:"model"`
}

type addedTokenJSON struct {
	ID         *int   `json:"id"`
	Content    string `json:"content"`
	SingleWord bool   `json:"single_word"`
	LStrip     bool   `json:"lstrip"`
	RStrip     bool   `json:"rstrip"`
	Normalized *bool  `json:"normalized"` // absent means !special, as in Hugging Face
	Special    bool   `json:"special"`
}

type modelJSON struct {
	Type                    string          `json:"type"`
	Dropout                 *float64        `json:"dropout"`
	UnkToken                *string         `json:"unk_token"`
	ContinuingSubwordPrefix *string         `json:"continuing_subword_prefix"`
	EndOfWordSuffix         *string         `json:"end_of_word_suffix"`
	ByteFallback            bool            `json:"byte_fallback"`
	IgnoreMerges            bool            `json:"ignore_merges"`
	Vocab                   map[string]int  `json:"vocab"`
	Merges                  json.RawMessage `json:"merges"`
}

// componentJSON covers the normalizer, pre_tokenizer, post_processor and decoder objects.
type componentJSON struct {
	Type           string          `json:"type"`
	Normalizers    []componentJSON `json:"normalizers"`
	Pretokenizers  []componentJSON `json:"pretokenizers"`
	Processors     []componentJSON `json:"processors"`
	Decoders       []componentJSON `json:"decoders"`
	Pattern        *patternJSON    `json:"pattern"`
	Behavior       string          `json:"behavior"`
	Invert         bool            `json:"invert"`
	AddPrefixSpace bool            `json:"add_prefix_space"`
	UseRegex       *bool           `json:"use_regex"`
}

type patternJSON struct {
	Regex  *string `json:"Regex"`
	String *string `json:"String"`
}

func isNull(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || string(raw) == "null"
}

// component decodes a non-null component object; field names it in errors.
func component(raw json.RawMessage, field string) (*componentJSON, error) {
	var c componentJSON
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, fmt.Errorf("%s: %w", field, err)
	}
	return &c, nil
}

// checkNormalizer accepts no normalizer, NFC, or a Sequence of NFC; it reports whether NFC applies.
func checkNormalizer(raw json.RawMessage) (nfc bool, err error) {
	if isNull(raw) {
		return false, nil
	}
	c, err := component(raw, "normalizer")
	if err != nil {
		return false, err
	}
	switch c.Type {
	case "NFC":
		return true, nil
	case "Sequence":
		for i, n := range c.Normalizers {
			if n.Type != "NFC" {
				return false, fmt.Errorf("normalizer.normalizers[%d].type: %q is not supported (only NFC)", i, n.Type)
			}
		}
		return len(c.Normalizers) > 0, nil
	}
	return false, fmt.Errorf("normalizer.type: %q is not supported (only NFC or a Sequence of NFC)", c.Type)
}

// checkPreTokenizer accepts exactly the Qwen2 pre-tokenizer:
// Sequence[Split(qwen2Pattern, Isolated), ByteLevel(add_prefix_space=false, use_regex=false)].
func checkPreTokenizer(raw json.RawMessage) error {
	if isNull(raw) {
		return fmt.Errorf("pre_tokenizer: missing (only the Qwen2 Split+ByteLevel sequence is supported)")
	}
	c, err := component(raw, "pre_tokenizer")
	if err != nil {
		return err
	}
	if c.Type != "Sequence" {
		return fmt.Errorf("pre_tokenizer.type: %q is not supported (only the Qwen2 Sequence of Split and ByteLevel)", c.Type)
	}
	if len(c.Pretokenizers) != 2 {
		return fmt.Errorf("pre_tokenizer.pretokenizers: %d entries, want 2 (Split, ByteLevel)", len(c.Pretokenizers))
	}
	split, bl := c.Pretokenizers[0], c.Pretokenizers[1]
	const p = "pre_tokenizer.pretokenizers"
	switch {
	case split.Type != "Split":
		return fmt.Errorf("%s[0].type: %q, want Split", p, split.Type)
	case split.Pattern == nil || split.Pattern.Regex == nil:
		return fmt.Errorf("%s[0].pattern.Regex: missing", p)
	case *split.Pattern.Regex != qwen2Pattern:
		return fmt.Errorf("%s[0].pattern.Regex: %q is not supported (only the Qwen2 pattern %q)", p, *split.Pattern.Regex, qwen2Pattern)
	case split.Behavior != "Isolated":
		return fmt.Errorf("%s[0].behavior: %q is not supported (only Isolated)", p, split.Behavior)
	case split.Invert:
		return fmt.Errorf("%s[0].invert: true is not supported", p)
	case bl.Type != "ByteLevel":
		return fmt.Errorf("%s[1].type: %q, want ByteLevel", p, bl.Type)
	case bl.AddPrefixSpace:
		return fmt.Errorf("%s[1].add_prefix_space: true is not supported", p)
	case bl.UseRegex == nil || *bl.UseRegex:
		return fmt.Errorf("%s[1].use_regex: must be false (the Split before it already splits)", p)
	}
	return nil
}

// checkPostProcessor accepts none or ByteLevel ones, which change offsets but not ids.
func checkPostProcessor(raw json.RawMessage) error {
	if isNull(raw) {
		return nil
	}
	c, err := component(raw, "post_processor")
	if err != nil {
		return err
	}
	if c.Type == "Sequence" {
		for i, pp := range c.Processors {
			if pp.Type != "ByteLevel" {
				return fmt.Errorf("post_processor.processors[%d].type: %q is not supported (only ByteLevel)", i, pp.Type)
			}
		}
		return nil
	}
	if c.Type != "ByteLevel" {
		return fmt.Errorf("post_processor.type: %q is not supported (only ByteLevel)", c.Type)
	}
	return nil
}

// checkDecoder requires the ByteLevel decoder.
func checkDecoder(raw json.RawMessage) error {
	if isNull(raw) {
		return fmt.Errorf("decoder: missing (only ByteLevel is supported)")
	}
	c, err := component(raw, "decoder")
	if err != nil {
		return err
	}
	if c.Type != "ByteLevel" {
		return fmt.Errorf("decoder.type: %q is not supported (only ByteLevel)", c.Type)
	}
	return nil
}

// checkModel validates the BPE options this package implements.
func checkModel(m *modelJSON) error {
	switch {
	case m == nil:
		return fmt.Errorf("model: missing")
	case m.Type != "BPE" && m.Type != "":
		return fmt.Errorf("model.type: %q is not supported (only BPE)", m.Type)
	case m.Vocab == nil:
		return fmt.Errorf("model.vocab: missing")
	case len(m.Vocab) == 0:
		return fmt.Errorf("model.vocab: empty")
	case isNull(m.Merges):
		return fmt.Errorf("model.merges: missing")
	case m.Dropout != nil && *m.Dropout != 0:
		return fmt.Errorf("model.dropout: %v is not supported (BPE dropout is random)", *m.Dropout)
	case m.ByteFallback:
		return fmt.Errorf("model.byte_fallback: true is not supported")
	case m.ContinuingSubwordPrefix != nil && *m.ContinuingSubwordPrefix != "":
		return fmt.Errorf("model.continuing_subword_prefix: %q is not supported", *m.ContinuingSubwordPrefix)
	case m.EndOfWordSuffix != nil && *m.EndOfWordSuffix != "":
		return fmt.Errorf("model.end_of_word_suffix: %q is not supported", *m.EndOfWordSuffix)
	}
	return nil
}

// parseMerges reads model.merges in either of its two forms: ["a b", ...] or [["a","b"], ...].
func parseMerges(raw json.RawMessage) ([][2]string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '[' {
		return nil, fmt.Errorf("model.merges: want a list")
	}
	rest := bytes.TrimLeft(raw[1:], " \t\r\n")
	if len(rest) > 0 && rest[0] == '[' {
		var pairs [][]string
		if err := json.Unmarshal(raw, &pairs); err != nil {
			return nil, fmt.Errorf("model.merges: %w", err)
		}
		out := make([][2]string, len(pairs))
		for i, p := range pairs {
			if len(p) != 2 {
				return nil, fmt.Errorf("model.merges[%d]: %d tokens, want a pair", i, len(p))
			}
			out[i] = [2]string{p[0], p[1]}
		}
		return out, nil
	}
	var lines []string
	if err := json.Unmarshal(raw, &lines); err != nil {
		return nil, fmt.Errorf("model.merges: %w", err)
	}
	out := make([][2]string, len(lines))
	for i, l := range lines {
		parts := strings.Split(l, " ")
		if len(parts) != 2 {
			return nil, fmt.Errorf("model.merges[%d]: %q is not two space-separated tokens", i, l)
		}
		out[i] = [2]string{parts[0], parts[1]}
	}
	return out, nil
}
