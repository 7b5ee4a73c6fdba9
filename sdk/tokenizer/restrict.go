package tokenizer

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
)

// DefaultRestrictAdded are the added tokens Restrict keeps unless told
// otherwise: Qwen2's end of text and the ChatML markers nanoLLaVA's
// template uses. The paper's <|user|> and <|assistant|> are not among them:
// Qwen2 has no such tokens, so they are plain text ("<|", "user", "|>").
var DefaultRestrictAdded = []string{"<|endoftext|>", "<|im_start|>", "<|im_end|>"}

// RestrictOptions tune Restrict.
type RestrictOptions struct {
	// Added are the contents of the added tokens to keep, in the order
	// they get ids (after the vocabulary); nil keeps DefaultRestrictAdded.
	Added []string
}

// Restricted is a tokenizer.json made by Restrict, with what it kept.
type Restricted struct {
	JSON      []byte // the tokenizer.json, loadable by FromJSON and by Hugging Face tokenizers
	Merges    int    // merges kept, in the source's order
	Vocab     int    // vocabulary tokens: the 256 byte tokens and the merges' results
	Added     int    // added tokens, numbered from Vocab on
	Pieces    int    // distinct pre-tokenized pieces of the corpus
	Tokens    int    // tokens of the whole corpus
	ByteLevel int    // corpus tokens that are single bytes (in the source tokenizer too)
}

// Size is the number of ids: Vocab + Added.
func (r *Restricted) Size() int { return r.Vocab + r.Added }

// Restrict builds a small byte-level BPE tokenizer from a large one (src, a
// tokenizer.json, gzip-compressed or not) and a corpus: it keeps the 256
// byte tokens, the merges that encoding the corpus applies (in the source's
// order; every part of a kept merge is a byte or a kept merge's result,
// which Restrict checks) and the added tokens opt names, and renumbers them
// densely: vocabulary tokens in the source's id order (bytes first for
// Qwen2), then the added tokens. The normalizer, pre-tokenizer and decoder
// are the source's.
//
// On the corpus the result gives exactly the source's token strings (only
// the ids differ): BPE merges the lowest-ranked adjacent pair present, and
// a subset of the merges that holds every merge the source applied, in the
// same order, makes the same choice at every step. Restrict checks this on
// every corpus text before returning. Any other text still encodes, with
// fewer merges (single bytes at worst).
func Restrict(src []byte, corpus []string, opt RestrictOptions) (*Restricted, error) {
	src, err := gunzipMaybe(src)
	if err != nil {
		return nil, err
	}
	var f fileJSON
	if err := json.Unmarshal(src, &f); err != nil {
		return nil, fmt.Errorf("tokenizer: restrict: %w", err)
	}
	full, err := build(&f)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: restrict: %w", err)
	}
	if full.model.ignoreMerges {
		return nil, fmt.Errorf("tokenizer: restrict: model.ignore_merges is set; only merge-driven BPE can be restricted")
	}
	added := opt.Added
	if added == nil {
		added = DefaultRestrictAdded
	}
	var keepAdded []addedTokenJSON
	for _, content := range added {
		i := slices.IndexFunc(f.AddedTokens, func(a addedTokenJSON) bool { return a.Content == content })
		if i < 0 {
			return nil, fmt.Errorf("tokenizer: restrict: added token %q is not in the source", content)
		}
		keepAdded = append(keepAdded, f.AddedTokens[i])
	}

	// Every merge the corpus applies, by rank.
	merges, err := parseMerges(f.Model.Merges)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: restrict: %w", err)
	}
	used := map[int32]bool{}
	pieces := map[string]bool{}
	for _, text := range corpus {
		full.eachPiece(text, func(p string) { pieces[p] = true })
	}
	for p := range pieces {
		got := full.model.trace(p, used)
		if want := full.model.tokens(p); !slices.Equal(got, want) {
			return nil, fmt.Errorf("tokenizer: restrict: tracing %q gave %v, the tokenizer %v", p, got, want)
		}
	}
	// Close under parts: a kept merge's parts must be bytes or kept results.
	resultRank := make(map[string]int32, len(merges))
	for rank, m := range merges {
		resultRank[m[0]+m[1]] = int32(rank)
	}
	isByte := map[string]bool{}
	for b := range 256 {
		isByte[string(byteToRune[b])] = true
	}
	for changed := true; changed; {
		changed = false
		for rank := range used {
			for _, part := range merges[rank] {
				r, ok := resultRank[part]
				if !isByte[part] && ok && !used[r] {
					used[r], changed = true, true
				}
			}
		}
	}

	// The kept vocabulary in the source's id order, renumbered.
	keep := map[string]bool{}
	for tok := range isByte {
		keep[tok] = true
	}
	var ranks []int
	for r := range used {
		ranks = append(ranks, int(r))
		keep[merges[r][0]+merges[r][1]] = true
	}
	sort.Ints(ranks)
	vocab := make([]string, 0, len(keep))
	for tok := range keep {
		vocab = append(vocab, tok)
	}
	sort.Slice(vocab, func(i, j int) bool { return full.vocab[vocab[i]] < full.vocab[vocab[j]] })
	kept := make([][2]string, len(ranks))
	for i, r := range ranks {
		kept[i] = merges[r]
	}
	for i := range keepAdded {
		id := len(vocab) + i
		keepAdded[i].ID = &id
	}
	out, err := writeRestricted(src, vocab, kept, keepAdded)
	if err != nil {
		return nil, err
	}
	res := &Restricted{JSON: out, Merges: len(kept), Vocab: len(vocab), Added: len(keepAdded), Pieces: len(pieces)}
	if err := res.check(full, corpus); err != nil {
		return nil, err
	}
	return res, nil
}

// check proves the restricted tokenizer gives the source's token strings
// on every corpus text, and counts the corpus's tokens.
func (r *Restricted) check(full *Tokenizer, corpus []string) error {
	small, err := FromJSON(r.JSON)
	if err != nil {
		return fmt.Errorf("tokenizer: restrict: the restricted tokenizer does not load: %w", err)
	}
	for _, text := range corpus {
		a, b := full.Tokens(text), small.Tokens(text)
		if !slices.Equal(a, b) {
			return fmt.Errorf("tokenizer: restrict: %q encodes to %q, the source to %q", text, b, a)
		}
		r.Tokens += len(a)
		for _, tok := range a {
			if len([]rune(tok)) == 1 && full.addedText[tok] == nil {
				r.ByteLevel++
			}
		}
	}
	return nil
}

// Tokens returns the token strings of text: vocabulary tokens in their
// byte-level form ("Ġred"), added tokens as their content. Two tokenizers
// with different ids compare by them.
func (t *Tokenizer) Tokens(text string) []string {
	ids := t.Encode(text)
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i], _ = t.IDToToken(id)
	}
	return out
}

// eachPiece calls fn with every pre-tokenized piece of text that reaches
// the BPE model, splitting added tokens out exactly as Encode does.
func (t *Tokenizer) eachPiece(text string, fn func(string)) {
	var outer, inner [8]segment
	for _, seg := range t.rawAdded.split(outer[:0], text, false) {
		if seg.tok != nil {
			continue
		}
		s := seg.text
		if t.nfc {
			s = nfc(s)
		}
		for _, sub := range t.normAdded.split(inner[:0], s, false) {
			if sub.tok != nil {
				continue
			}
			for i := 0; i < len(sub.text); {
				j := nextQwen2Piece(sub.text, i)
				fn(sub.text[i:j])
				i = j
			}
		}
	}
}

// trace runs BPE on one piece as mergeNaive does (the lowest rank first,
// leftmost among equals) and records the rank of every merge it applies.
func (m *bpe) trace(piece string, used map[int32]bool) []int32 {
	ids := make([]int32, len(piece))
	for i := 0; i < len(piece); i++ {
		ids[i] = m.byteID[piece[i]]
	}
	for len(ids) > 1 {
		at, best := -1, merge{rank: 1<<31 - 1}
		for i := 0; i+1 < len(ids); i++ {
			if mg, ok := m.merges[pairKey(ids[i], ids[i+1])]; ok && mg.rank < best.rank {
				at, best = i, mg
			}
		}
		if at < 0 {
			break
		}
		used[best.rank] = true
		ids[at] = best.id
		ids = append(ids[:at+1], ids[at+2:]...)
	}
	return ids
}

func gunzipMaybe(data []byte) ([]byte, error) {
	if len(data) < 2 || data[0] != 0x1f || data[1] != 0x8b {
		return data, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("tokenizer: restrict: %w", err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: restrict: %w", err)
	}
	return out, nil
}

// modelKeys is the order Hugging Face writes a BPE model's fields in.
var modelKeys = []string{"type", "dropout", "unk_token", "continuing_subword_prefix", "end_of_word_suffix",
	"fuse_unk", "byte_fallback", "ignore_merges"}

// writeRestricted writes the new tokenizer.json in Hugging Face's field
// order, one vocabulary entry and one merge per line (readable diffs), the
// pipeline fields copied from the source.
func writeRestricted(src []byte, vocab []string, merges [][2]string, added []addedTokenJSON) ([]byte, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(src, &top); err != nil {
		return nil, fmt.Errorf("tokenizer: restrict: %w", err)
	}
	var model map[string]json.RawMessage
	if err := json.Unmarshal(top["model"], &model); err != nil {
		return nil, fmt.Errorf("tokenizer: restrict: model: %w", err)
	}
	var b bytes.Buffer
	raw := func(m map[string]json.RawMessage, key string) string {
		v, ok := m[key]
		if !ok {
			return "null"
		}
		var c bytes.Buffer
		if err := json.Compact(&c, v); err != nil {
			return "null"
		}
		return c.String()
	}
	version := raw(top, "version")
	if version == "null" {
		version = `"1.0"`
	}
	fmt.Fprintf(&b, "{\n  \"version\": %s,\n  \"truncation\": %s,\n  \"padding\": %s,\n  \"added_tokens\": [",
		version, raw(top, "truncation"), raw(top, "padding"))
	for i, a := range added {
		if i > 0 {
			b.WriteString(",")
		}
		normalized := !a.Special
		if a.Normalized != nil {
			normalized = *a.Normalized
		}
		fmt.Fprintf(&b, "\n    {\"id\": %d, \"content\": %s, \"single_word\": %t, \"lstrip\": %t, \"rstrip\": %t, \"normalized\": %t, \"special\": %t}",
			*a.ID, jsonString(a.Content), a.SingleWord, a.LStrip, a.RStrip, normalized, a.Special)
	}
	b.WriteString("\n  ],\n")
	for _, k := range []string{"normalizer", "pre_tokenizer", "post_processor", "decoder"} {
		fmt.Fprintf(&b, "  %q: %s,\n", k, raw(top, k))
	}
	b.WriteString("  \"model\": {\n")
	for _, k := range modelKeys {
		if _, ok := model[k]; ok {
			fmt.Fprintf(&b, "    %q: %s,\n", k, raw(model, k))
		}
	}
	b.WriteString("    \"vocab\": {")
	for id, tok := range vocab {
		if id > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, "\n      %s: %d", jsonString(tok), id)
	}
	b.WriteString("\n    },\n    \"merges\": [")
	for i, m := range merges {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, "\n      [%s, %s]", jsonString(m[0]), jsonString(m[1]))
	}
	b.WriteString("\n    ]\n  }\n}\n")
	if !json.Valid(b.Bytes()) {
		return nil, fmt.Errorf("tokenizer: restrict: wrote invalid JSON")
	}
	return b.Bytes(), nil
}

// jsonString quotes s as JSON without HTML escaping (so "<|im_end|>" stays readable).
func jsonString(s string) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")
}
