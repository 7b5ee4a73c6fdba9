package tokenizer

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// tinyJSON returns a small valid Qwen2-style tokenizer.json as a generic map: the 256 byte
// tokens (ids 0..255), three merges and two added tokens.
func tinyJSON() map[string]any {
	vocab := map[string]any{}
	for b := 0; b < 256; b++ {
		vocab[string(byteToRune[b])] = b
	}
	vocab["he"], vocab["ll"], vocab["hell"], vocab["lo"] = 256, 257, 258, 259
	comp := func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	return map[string]any{
		"version": "1.0", "truncation": nil, "padding": nil,
		"added_tokens": []any{
			comp("id", 300, "content", "<|end|>", "special", true, "normalized", false),
			comp("id", 301, "content", "<tag>", "special", false, "normalized", false, "lstrip", true, "rstrip", true),
		},
		"normalizer": comp("type", "NFC"),
		"pre_tokenizer": comp("type", "Sequence", "pretokenizers", []any{
			comp("type", "Split", "pattern", comp("Regex", qwen2Pattern), "behavior", "Isolated", "invert", false),
			comp("type", "ByteLevel", "add_prefix_space", false, "trim_offsets", false, "use_regex", false),
		}),
		"post_processor": comp("type", "ByteLevel"),
		"decoder":        comp("type", "ByteLevel"),
		"model": comp("type", "BPE", "dropout", nil, "byte_fallback", false, "vocab", vocab,
			"merges", []any{"h e", "l l", "he ll"}),
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestTinyTokenizer(t *testing.T) {
	j := tinyJSON()
	j["model"].(map[string]any)["merges"] = []any{[]any{"h", "e"}, []any{"l", "l"}, []any{"he", "ll"}}
	tok, err := FromJSON(mustJSON(t, j))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := tok.Encode("hello"), []int{258, 'o'}; !slices.Equal(got, want) {
		t.Errorf("Encode(hello) = %v, want %v", got, want)
	}
	// lstrip and rstrip swallow the spaces around <tag>.
	if got, want := tok.Encode("a  <tag>  b"), []int{'a', 301, 'b'}; !slices.Equal(got, want) {
		t.Errorf("Encode(a <tag> b) = %v, want %v", got, want)
	}
	if got := tok.Decode(tok.Encode("x<|end|>"), true); got != "x" {
		t.Errorf("Decode skip special = %q", got)
	}
	// String-form merges, a plain file and a gzip file give the same tokenizer.
	j["model"].(map[string]any)["merges"] = []any{"h e", "l l", "he ll"}
	plain := filepath.Join(t.TempDir(), "tokenizer.json")
	if err := os.WriteFile(plain, mustJSON(t, j), 0o644); err != nil {
		t.Fatal(err)
	}
	if tp, err := Load(plain); err != nil || !slices.Equal(tp.Encode("hello"), []int{258, 'o'}) {
		t.Errorf("Load(plain json): %v", err)
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(mustJSON(t, j))
	zw.Close()
	path := filepath.Join(t.TempDir(), "tokenizer.json.gz")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	tok2, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := tok2.Encode("hello"); !slices.Equal(got, []int{258, 'o'}) {
		t.Errorf("string merges: Encode(hello) = %v", got)
	}
	if got := tok2.Encode("lo"); !slices.Equal(got, []int{'l', 'o'}) {
		t.Errorf("Encode(lo) = %v: no merge makes lo", got)
	}
	// ignore_merges: a piece that is a vocab token is taken whole.
	j["model"].(map[string]any)["ignore_merges"] = true
	tok3, err := FromJSON(mustJSON(t, j))
	if err != nil {
		t.Fatal(err)
	}
	if got := tok3.Encode("lo"); !slices.Equal(got, []int{259}) {
		t.Errorf("ignore_merges: Encode(lo) = %v, want [259]", got)
	}
}

func TestLoadErrors(t *testing.T) {
	type edit func(j map[string]any)
	model := func(j map[string]any) map[string]any { return j["model"].(map[string]any) }
	cases := []struct {
		name, field string
		edit        edit
	}{
		{"no model", "model: missing", func(j map[string]any) { delete(j, "model") }},
		{"no vocab", "model.vocab: missing", func(j map[string]any) { delete(model(j), "vocab") }},
		{"no merges", "model.merges: missing", func(j map[string]any) { delete(model(j), "merges") }},
		{"bad merge string", "model.merges[1]", func(j map[string]any) { model(j)["merges"] = []any{"h e", "l l x"} }},
		{"merge of unknown token", "model.merges[0]", func(j map[string]any) { model(j)["merges"] = []any{"q zz"} }},
		{"merge result unknown", "model.merges[0]", func(j map[string]any) { model(j)["merges"] = []any{"a b"} }},
		{"bad pair", "model.merges[0]", func(j map[string]any) { model(j)["merges"] = []any{[]any{"h"}} }},
		{"merges not a list", "model.merges", func(j map[string]any) { model(j)["merges"] = "h e" }},
		{"unigram", "model.type", func(j map[string]any) { model(j)["type"] = "Unigram" }},
		{"dropout", "model.dropout", func(j map[string]any) { model(j)["dropout"] = 0.1 }},
		{"byte fallback", "model.byte_fallback", func(j map[string]any) { model(j)["byte_fallback"] = true }},
		{"suffix", "model.end_of_word_suffix", func(j map[string]any) { model(j)["end_of_word_suffix"] = "</w>" }},
		{"missing byte", "model.vocab", func(j map[string]any) { delete(model(j)["vocab"].(map[string]any), "Ġ") }},
		{"duplicate id", "model.vocab", func(j map[string]any) { model(j)["vocab"].(map[string]any)["zz"] = 5 }},
		{"nfkc", "normalizer.type", func(j map[string]any) { j["normalizer"] = map[string]any{"type": "NFKC"} }},
		{"no pre-tokenizer", "pre_tokenizer", func(j map[string]any) { j["pre_tokenizer"] = nil }},
		{"other regex", "pre_tokenizer.pretokenizers[0].pattern.Regex", func(j map[string]any) {
			j["pre_tokenizer"].(map[string]any)["pretokenizers"].([]any)[0].(map[string]any)["pattern"] =
				map[string]any{"Regex": `\s+`}
		}},
		{"use_regex", "pre_tokenizer.pretokenizers[1].use_regex", func(j map[string]any) {
			j["pre_tokenizer"].(map[string]any)["pretokenizers"].([]any)[1].(map[string]any)["use_regex"] = true
		}},
		{"template", "post_processor.type", func(j map[string]any) { j["post_processor"] = map[string]any{"type": "TemplateProcessing"} }},
		{"decoder", "decoder.type", func(j map[string]any) { j["decoder"] = map[string]any{"type": "WordPiece"} }},
		{"truncation", "truncation", func(j map[string]any) { j["truncation"] = map[string]any{"max_length": 8} }},
		{"single word", "added_tokens[0].single_word", func(j map[string]any) {
			j["added_tokens"].([]any)[0].(map[string]any)["single_word"] = true
		}},
		{"empty added", "added_tokens[1].content", func(j map[string]any) {
			j["added_tokens"].([]any)[1].(map[string]any)["content"] = ""
		}},
		{"not json", "tokenizer.json", nil},
	}
	for _, c := range cases {
		data := []byte("{not json")
		if c.edit != nil {
			j := tinyJSON()
			c.edit(j)
			data = mustJSON(t, j)
		}
		_, err := FromJSON(data)
		if err == nil || !strings.Contains(err.Error(), c.field) {
			t.Errorf("%s: error %v, want one naming %q", c.name, err, c.field)
		}
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.json")); err == nil {
		t.Error("Load of a missing file succeeded")
	}
}
