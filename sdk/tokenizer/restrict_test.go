package tokenizer

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

var restrictCorpus = []string{
	"<|im_start|>system\nAnswer the question<|im_end|><|im_start|>user\n<image>\nHow many red circles are in the image?<|im_end|><|im_start|>assistant\nthree<|im_end|>",
	"<|user|>: <image>\nWhich object is closer to the camera, the blue cube or the green cone?\n<|assistant|>: the blue cube<|im_end|>",
	"How many purple triangles are in the image? Select from the following choices.\n(A) 3\n(B) 2\n(C) 1\n(D) 0",
	"A red circle left of a blue square, and 12 yellow things.",
}

func restrictSource(t *testing.T) []byte {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(qwenDir, "tokenizer.json.gz"))
	if err != nil {
		t.Fatal(err)
	}
	return src
}

var (
	restrictOnce  sync.Once
	restrictRes   *Restricted
	restrictSmall *Tokenizer
	restrictErr   error
)

// restricted restricts the Qwen2 fixture to restrictCorpus, once per test binary.
func restricted(t *testing.T) (*Restricted, *Tokenizer) {
	t.Helper()
	restrictOnce.Do(func() {
		restrictRes, restrictErr = Restrict(restrictSource(t), restrictCorpus, RestrictOptions{})
		if restrictErr == nil {
			restrictSmall, restrictErr = FromJSON(restrictRes.JSON)
		}
	})
	if restrictErr != nil {
		t.Fatal(restrictErr)
	}
	return restrictRes, restrictSmall
}

// TestRestrictSameTokensOnCorpus: the restricted tokenizer splits the
// corpus into the full one's token strings, with dense ids.
func TestRestrictSameTokensOnCorpus(t *testing.T) {
	full := qwen(t)
	r, small := restricted(t)
	for _, text := range restrictCorpus {
		if a, b := full.Tokens(text), small.Tokens(text); !slices.Equal(a, b) {
			t.Errorf("%q:\n full  %q\n small %q", text, a, b)
		}
		for _, id := range small.Encode(text) {
			if id < 0 || id >= r.Size() {
				t.Errorf("id %d outside [0, %d)", id, r.Size())
			}
		}
	}
	if small.VocabSize() != r.Size() || r.Vocab != 256+r.Merges || r.Added != 3 {
		t.Errorf("vocab size %d, restricted %+v", small.VocabSize(), r)
	}
	if r.Size() > 512 {
		t.Errorf("%d ids for a 4-sentence corpus (the source has 151,646): merges not restricted?", r.Size())
	}
	for i, c := range DefaultRestrictAdded {
		if id, ok := small.TokenID(c); !ok || id != r.Vocab+i || !small.IsSpecial(id) {
			t.Errorf("added token %q: id %d %v, want %d, special", c, id, ok, r.Vocab+i)
		}
	}
	// The paper's <|user|> is text in Qwen2, so here too.
	if _, ok := small.TokenID("<|user|>"); ok {
		t.Error("<|user|> became a token")
	}
}

// TestRestrictEncodesAnyText: text the corpus never had still encodes and
// decodes back, down to single bytes.
func TestRestrictEncodesAnyText(t *testing.T) {
	_, small := restricted(t)
	for _, text := range []string{"zebra quokka", "héllo wörld", "数据集 🙂", "\x00\t\r\n  end", "<think>no</think>"} {
		ids := small.Encode(text)
		if got := small.Decode(ids, false); got != text {
			t.Errorf("%q decodes to %q", text, got)
		}
	}
}

// TestRestrictKeepsSourceOrder: the kept merges are in the source's order
// and every part of a merge is a byte or an earlier merge's result; a
// reordered list would merge differently (BPE picks by rank).
func TestRestrictKeepsSourceOrder(t *testing.T) {
	full := qwen(t)
	r, _ := restricted(t)
	var f struct {
		Model struct {
			Vocab  map[string]int `json:"vocab"`
			Merges [][2]string    `json:"merges"`
		} `json:"model"`
	}
	if err := json.Unmarshal(r.JSON, &f); err != nil {
		t.Fatal(err)
	}
	prev := -1
	made := map[string]bool{}
	for tok, id := range f.Model.Vocab {
		if id < 256 && len([]rune(tok)) == 1 {
			made[tok] = true
		}
	}
	for _, m := range f.Model.Merges {
		src, _ := full.TokenID(m[0] + m[1])
		if src <= prev {
			t.Fatalf("merge %q %q (source id %d) after source id %d", m[0], m[1], src, prev)
		}
		prev = src
		if !made[m[0]] || !made[m[1]] {
			t.Errorf("merge %q %q uses a part made by no earlier merge", m[0], m[1])
		}
		made[m[0]+m[1]] = true
		if f.Model.Vocab[m[0]+m[1]] != len(made)-1 { // results numbered after the bytes, in merge order
			t.Errorf("merge result %q has id %d", m[0]+m[1], f.Model.Vocab[m[0]+m[1]])
		}
	}
	if !strings.Contains(string(r.JSON), `"content": "<|im_end|>"`) {
		t.Error("added tokens are HTML-escaped or missing")
	}
}

func TestRestrictRefusesUnknownAdded(t *testing.T) {
	if _, err := Restrict(restrictSource(t), restrictCorpus, RestrictOptions{Added: []string{"<|user|>"}}); err == nil {
		t.Error("an added token the source lacks: no error")
	}
}
