package mini

import (
	"bufio"
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/visreft/visreft/sdk/demo"
)

// Golden files: the vocabulary and the cases testdata/gen/tokenizer/check_mini.py
// checks against Hugging Face tokenizers. VISREFT_WRITE_GOLDEN=1 rewrites them.
var (
	goldenTokenizer = filepath.Join("testdata", "tokenizer.json")
	goldenCases     = filepath.Join("testdata", "tokenizer_cases.jsonl")
)

// tokCase is one line of tokenizer_cases.jsonl: a text, the ids the Go
// tokenizer gives it with the mini vocabulary, and whether it is model
// input (which must split into Qwen2's own token strings) or other text
// (which must only encode and decode back).
type tokCase struct {
	Text  string `json:"text"`
	IDs   []int  `json:"ids"`
	Model bool   `json:"model_input"`
}

// freshTexts are model inputs the vocabulary corpus was not made from: the
// chunks of a mixture and of CV-Bench-format rows with other seeds.
func freshTexts(t *testing.T, n int) []string {
	t.Helper()
	c, tok := tinyConfig(t)
	mix, err := NewMixture(tok, c, MixtureOptions{Seed: 77, Rows: n, Turns: 3})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i := range mix.Len() {
		it, err := mix.Item(i)
		if err != nil {
			t.Fatal(err)
		}
		before, after := conversation(it.Template, it.QAs)
		out = append(out, before)
		for _, s := range after {
			out = append(out, s.text)
		}
	}
	rows, err := cvbenchRows(0x5eed, n/4)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range rows {
		out = append(out, promptChunks(e)...)
	}
	return out
}

// TestVocabularyCoversFreshData: on model inputs it was not built from, the
// mini vocabulary splits text into exactly Qwen2's token strings.
func TestVocabularyCoversFreshData(t *testing.T) {
	full, err := demo.Tokenizer()
	if err != nil {
		t.Fatal(err)
	}
	small, res := miniTokenizer(t)
	for _, text := range freshTexts(t, 800) {
		if a, b := full.Tokens(text), small.Tokens(text); !slices.Equal(a, b) {
			t.Fatalf("%q:\n qwen2 %q\n mini  %q", text, a, b)
		}
	}
	if res.Size() > 1024 || res.Added != 3 {
		t.Errorf("vocabulary of %d ids (%d added): want a small one", res.Size(), res.Added)
	}
}

// otherTexts are texts outside the model's world, which must still encode.
var otherTexts = []string{"The quick brown fox jumps over the lazy dog.", "Größe, naïve café", "机器学习 🤖🙂",
	"tabs\tand\r\nnewlines\n\n  ", "<think>x</think> <|user|>: <|assistant|>:", "x = f(y) + 0.5e-3;", "'s 're 'VE"}

// TestVocabularyIsTheShippedOne: BuildTokenizer is deterministic and gives
// the committed testdata/tokenizer.json; the committed cases hold the ids
// it gives now (the file check_mini.py compares with Hugging Face).
func TestVocabularyIsTheShippedOne(t *testing.T) {
	small, res := miniTokenizer(t)
	if os.Getenv("VISREFT_WRITE_GOLDEN") == "1" {
		writeGolden(t, small.Encode, res.JSON)
	}
	want, err := os.ReadFile(goldenTokenizer)
	if err != nil {
		t.Fatalf("%v (VISREFT_WRITE_GOLDEN=1 writes it)", err)
	}
	if !bytes.Equal(res.JSON, want) {
		t.Fatalf("BuildTokenizer differs from %s: the vocabulary corpus changed (VISREFT_WRITE_GOLDEN=1 rewrites it)", goldenTokenizer)
	}
	f, err := os.Open(goldenCases)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	n := 0
	for sc.Scan() {
		var c tokCase
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatal(err)
		}
		if got := small.Encode(c.Text); !slices.Equal(got, c.IDs) {
			t.Errorf("%q: ids %v, the cases file %v", c.Text, got, c.IDs)
		}
		n++
	}
	if n < 100 {
		t.Errorf("%d cases", n)
	}
}

func writeGolden(t *testing.T, encode func(string) []int, tokJSON []byte) {
	if err := os.MkdirAll("testdata", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(goldenTokenizer, tokJSON, 0o644); err != nil {
		t.Fatal(err)
	}
	texts := freshTexts(t, 200)
	corpus, err := VocabCorpus()
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	add := func(text string, model bool) {
		if err := enc.Encode(tokCase{Text: text, IDs: encode(text), Model: model}); err != nil {
			t.Fatal(err)
		}
	}
	for _, j := range r.Perm(len(corpus))[:150] {
		add(corpus[j], true)
	}
	for _, j := range r.Perm(len(texts))[:150] {
		add(texts[j], true)
	}
	for _, s := range otherTexts {
		add(s, false)
	}
	if err := os.WriteFile(goldenCases, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}
