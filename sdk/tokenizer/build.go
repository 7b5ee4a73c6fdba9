package tokenizer

import (
	"encoding/json"
	"fmt"
)

// FromJSON builds a Tokenizer from the bytes of a tokenizer.json file. It returns an error
// naming the offending field for malformed files and for options it does not implement.
func FromJSON(data []byte) (*Tokenizer, error) {
	var f fileJSON
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("tokenizer: tokenizer.json: %w", err)
	}
	t, err := build(&f)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: tokenizer.json: %w", err)
	}
	return t, nil
}

func build(f *fileJSON) (*Tokenizer, error) {
	if !isNull(f.Truncation) {
		return nil, fmt.Errorf("truncation: must be null (truncate the ids yourself)")
	}
	if !isNull(f.Padding) {
		return nil, fmt.Errorf("padding: must be null (pad the ids yourself)")
	}
	nfc, err := checkNormalizer(f.Normalizer)
	if err != nil {
		return nil, err
	}
	if err := checkPreTokenizer(f.PreTokenizer); err != nil {
		return nil, err
	}
	if err := checkPostProcessor(f.PostProcessor); err != nil {
		return nil, err
	}
	if err := checkDecoder(f.Decoder); err != nil {
		return nil, err
	}
	if err := checkModel(f.Model); err != nil {
		return nil, err
	}
	t := &Tokenizer{nfc: nfc}
	if err := t.buildVocab(f.Model); err != nil {
		return nil, err
	}
	if err := t.buildAdded(f.AddedTokens); err != nil {
		return nil, err
	}
	return t, nil
}

// buildVocab fills the vocab tables and the BPE model.
func (t *Tokenizer) buildVocab(m *modelJSON) error {
	t.vocab = make(map[string]int32, len(m.Vocab))
	maxID := -1
	for tok, id := range m.Vocab {
		if id < 0 || id > 1<<30 {
			return fmt.Errorf("model.vocab[%q]: id %d out of range", tok, id)
		}
		t.vocab[tok] = int32(id)
		maxID = max(maxID, id)
	}
	t.idToken = make([]string, maxID+1)
	for tok, id := range m.Vocab {
		if tok == "" {
			return fmt.Errorf("model.vocab: empty token (id %d)", id)
		}
		if prev := t.idToken[id]; prev != "" {
			return fmt.Errorf("model.vocab: id %d is used by both %q and %q", id, prev, tok)
		}
		t.idToken[id] = tok
	}
	t.size = maxID + 1
	model := &bpe{
		ignoreMerges: m.IgnoreMerges,
		vocab:        t.vocab,
		cache:        make(map[string][]int32),
	}
	for b := 0; b < 256; b++ {
		s := string(byteToRune[b])
		id, ok := t.vocab[s]
		if !ok {
			return fmt.Errorf("model.vocab: byte-level token %q (byte 0x%02x) is missing", s, b)
		}
		model.byteID[b] = id
	}
	merges, err := parseMerges(m.Merges)
	if err != nil {
		return err
	}
	model.merges = make(map[uint64]merge, len(merges))
	for rank, p := range merges {
		a, okA := t.vocab[p[0]]
		b, okB := t.vocab[p[1]]
		if !okA || !okB {
			return fmt.Errorf("model.merges[%d]: %q %q: token not in model.vocab", rank, p[0], p[1])
		}
		id, ok := t.vocab[p[0]+p[1]]
		if !ok {
			return fmt.Errorf("model.merges[%d]: merged token %q not in model.vocab", rank, p[0]+p[1])
		}
		// A repeated pair takes its last rank, as in Hugging Face (and transformers.js).
		model.merges[pairKey(a, b)] = merge{rank: int32(rank), id: id}
	}
	t.model = model
	return nil
}

// buildAdded indexes the added tokens and splits them by where they are matched.
func (t *Tokenizer) buildAdded(list []addedTokenJSON) error {
	t.addedByID = make(map[int]*AddedToken, len(list))
	t.addedText = make(map[string]*AddedToken, len(list))
	t.added = make([]AddedToken, 0, len(list))
	for i, a := range list {
		field := fmt.Sprintf("added_tokens[%d]", i)
		switch {
		case a.ID == nil:
			return fmt.Errorf("%s.id: missing", field)
		case *a.ID < 0 || *a.ID > 1<<30:
			return fmt.Errorf("%s.id: %d out of range", field, *a.ID)
		case !validContent(a.Content):
			return fmt.Errorf("%s.content: %q is empty or not UTF-8", field, a.Content)
		case a.SingleWord:
			return fmt.Errorf("%s.single_word: true is not supported", field)
		}
		normalized := !a.Special
		if a.Normalized != nil {
			normalized = *a.Normalized
		}
		content := a.Content
		if normalized && t.nfc {
			content = nfc(content) // matched in NFC text, so stored in NFC
		}
		t.added = append(t.added, AddedToken{
			ID: *a.ID, Content: content, Special: a.Special,
			LStrip: a.LStrip, RStrip: a.RStrip, Normalized: normalized,
		})
	}
	var raw, normed []*AddedToken
	for i := range t.added {
		a := &t.added[i]
		if _, dup := t.addedText[a.Content]; dup {
			continue // the first entry wins
		}
		t.addedText[a.Content] = a
		t.addedByID[a.ID] = a
		t.size = max(t.size, a.ID+1)
		if a.Normalized {
			normed = append(normed, a)
		} else {
			raw = append(raw, a)
		}
	}
	if len(raw) > 0 {
		t.rawAdded = newMatcher(raw)
	}
	if len(normed) > 0 {
		t.normAdded = newMatcher(normed)
	}
	return nil
}
