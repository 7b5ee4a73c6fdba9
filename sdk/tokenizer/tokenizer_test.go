package tokenizer

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"golang.org/x/text/unicode/norm"
)

var (
	qwenDir  = filepath.Join("..", "..", "testdata", "tokenizer", "qwen2")
	qwenOnce sync.Once
	qwenTok  *Tokenizer
	qwenErr  error
)

// qwen loads the Qwen2 fixture once per test binary (about half a second).
func qwen(tb testing.TB) *Tokenizer {
	tb.Helper()
	qwenOnce.Do(func() { qwenTok, qwenErr = Load(filepath.Join(qwenDir, "tokenizer.json.gz")) })
	if qwenErr != nil {
		tb.Fatal(qwenErr)
	}
	return qwenTok
}

type refCase struct {
	Text          string `json:"text"`
	IDs           []int  `json:"ids"`
	SpecialAsText []int  `json:"ids_special_as_text"`
	NFC           string `json:"nfc"` // set when it differs from Text
}

// nfcForm is the reference NFC form of the case's text.
func (c refCase) nfcForm() string {
	if c.NFC != "" {
		return c.NFC
	}
	return c.Text
}

func readReference(t *testing.T) []refCase {
	t.Helper()
	f, err := os.Open(filepath.Join(qwenDir, "reference.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cases []refCase
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var c refCase
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatal(err)
		}
		cases = append(cases, c)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(cases) < 150 {
		t.Fatalf("reference.jsonl holds %d strings, want at least 150", len(cases))
	}
	return cases
}

func TestReferenceIDs(t *testing.T) {
	tok := qwen(t)
	cases := readReference(t)
	pass := 0
	for _, c := range cases {
		got := tok.Encode(c.Text)
		if !slices.Equal(got, c.IDs) {
			t.Errorf("Encode(%q)\n got %v\nwant %v", c.Text, got, c.IDs)
			continue
		}
		want := c.IDs
		if c.SpecialAsText != nil {
			want = c.SpecialAsText
		}
		if got := tok.EncodeWithOptions(c.Text, EncodeOptions{SpecialAsText: true}); !slices.Equal(got, want) {
			t.Errorf("EncodeWithOptions(%q, SpecialAsText)\n got %v\nwant %v", c.Text, got, want)
			continue
		}
		pass++
	}
	t.Logf("%d/%d reference strings match", pass, len(cases))
}

func TestRoundTrip(t *testing.T) {
	tok := qwen(t)
	for _, c := range readReference(t) {
		want := c.nfcForm()
		if got := nfc(c.Text); got != want {
			t.Errorf("nfc(%q) = %q, want %q", c.Text, got, want)
		}
		if got := tok.Decode(tok.Encode(c.Text), false); got != want {
			t.Errorf("Decode(Encode(%q)) = %q, want %q", c.Text, got, want)
		}
		lit := tok.EncodeWithOptions(c.Text, EncodeOptions{SpecialAsText: true})
		if got := tok.Decode(lit, true); got != want {
			t.Errorf("Decode(special-as-text %q, skip) = %q, want %q", c.Text, got, want)
		}
	}
}

func TestSpecialTokens(t *testing.T) {
	tok := qwen(t)
	for s, id := range map[string]int{"<|endoftext|>": 151643, "<|im_start|>": 151644, "<|im_end|>": 151645} {
		if got, ok := tok.TokenID(s); !ok || got != id {
			t.Errorf("TokenID(%q) = %d, %v; want %d", s, got, ok, id)
		}
		if got, ok := tok.IDToToken(id); !ok || got != s {
			t.Errorf("IDToToken(%d) = %q, %v; want %q", id, got, ok, s)
		}
		if !tok.IsSpecial(id) {
			t.Errorf("IsSpecial(%d) = false", id)
		}
	}
	if got, _ := tok.TokenID("<think>"); tok.IsSpecial(got) || got != 151667 {
		t.Errorf("<think> = %d (special %v), want 151667 not special", got, tok.IsSpecial(got))
	}
	if got := tok.VocabSize(); got != 151669 {
		t.Errorf("VocabSize = %d, want 151669", got)
	}
	if got, ok := tok.TokenID("Ġthe"); !ok || got != 279 {
		t.Errorf("TokenID(Ġthe) = %d, %v; want 279", got, ok)
	}
	if _, ok := tok.IDToToken(151900); ok {
		t.Error("IDToToken(151900) found a token in the embedding padding")
	}

	prompt := "<|im_start|>system\nAnswer the question<|im_end|><|im_start|>user\n"
	ids := tok.Encode(prompt)
	if ids[0] != 151644 || !slices.Contains(ids, 151645) {
		t.Errorf("ChatML prompt ids %v lack the special tokens", ids)
	}
	if got := tok.Decode(ids, true); got != "system\nAnswer the questionuser\n" {
		t.Errorf("Decode(skipSpecial) = %q", got)
	}
	lit := tok.EncodeWithOptions(prompt, EncodeOptions{SpecialAsText: true})
	for _, id := range lit {
		if tok.IsSpecial(id) {
			t.Fatalf("SpecialAsText produced special id %d", id)
		}
	}
	if got := tok.Decode(append(ids, 151900, -1), false); got != prompt {
		t.Errorf("Decode skipping unknown ids = %q", got)
	}
	// A character split across tokens (U+13000 is F0 93 80 80): each maximal ill-formed
	// subsequence of a partial decode becomes one U+FFFD, as in Rust's from_utf8_lossy.
	hiero := tok.Encode("\U00013000")
	if len(hiero) != 3 {
		t.Fatalf("U+13000 = %v, want 3 tokens", hiero)
	}
	if got := tok.Decode(hiero[:1], false); got != "\uFFFD" {
		t.Errorf("partial decode = %q, want one U+FFFD", got)
	}
	if got := tok.Decode(hiero[1:], false); got != "\uFFFD\uFFFD" {
		t.Errorf("partial decode = %q, want two U+FFFD", got)
	}
	if got := string(tok.DecodeBytes(hiero[:2], false)) + string(tok.DecodeBytes(hiero[2:], false)); got != "\U00013000" {
		t.Errorf("DecodeBytes pieces = %q", got)
	}
}

func TestAppendLossy(t *testing.T) {
	for in, want := range map[string]string{
		"ok":               "ok",
		"\xE2\x82":         "\uFFFD",
		"\xE2\x82x":        "\uFFFDx",
		"\xff\xfe":         "\uFFFD\uFFFD",
		"\xed\xa0\x80":     "\uFFFD\uFFFD\uFFFD",
		"\xf0\x90\x80\xf0": "\uFFFD\uFFFD",
		"\xc0\xafé":        "\uFFFD\uFFFDé",
	} {
		if got := string(appendLossy(nil, []byte(in))); got != want {
			t.Errorf("appendLossy(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNFC(t *testing.T) {
	tok := qwen(t)
	if a, b := tok.Encode("cafe\u0301"), tok.Encode("café"); !slices.Equal(a, b) {
		t.Errorf("NFD and NFC input differ: %v vs %v", a, b)
	}
	// Past 30 combining marks x/text inserts U+034F; nfc must not.
	long := "a" + strings.Repeat("\u0301", 40)
	if norm.NFC.String(long) == "\u00e1"+strings.Repeat("\u0301", 39) {
		t.Log("x/text no longer inserts U+034F: the slow path of nfc may be unnecessary")
	}
	if got, want := nfc(long), "\u00e1"+strings.Repeat("\u0301", 39); got != want {
		t.Errorf("nfc(a + 40 acute) = %+q, want %+q", got, want)
	}
	// Marks sorted across the whole run: dot below (220) moves before 31 circumflexes (230)
	// and composes with e, then the first circumflex composes too.
	if got, want := nfc("e"+strings.Repeat("\u0302", 31)+"\u0323"), "\u1ec7"+strings.Repeat("\u0302", 30); got != want {
		t.Errorf("nfc(e + 31 circumflex + dot below) = %+q, want %+q", got, want)
	}
	if got := nfc("ok\xff\u0301"); got != "ok\xff\u0301" {
		t.Errorf("nfc with invalid UTF-8 = %+q", got)
	}
}

func TestConcurrentEncode(t *testing.T) {
	tok := qwen(t)
	text := "Concurrent encoders share one merge cache: 並行 テスト 123.\n"
	want := tok.Encode(text)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				if got := tok.Encode(text); !slices.Equal(got, want) {
					t.Errorf("concurrent Encode = %v", got)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// prose is ordinary English with a little code and numbers, for BenchmarkEncode.
const prose = `Representation fine-tuning edits the hidden states of a frozen model at a few
positions instead of its weights. LoReFT learns a rank-r projection R with orthonormal rows and
replaces h by h + R^T(Wh + b - Rh); with r = 4 on all 24 layers of a 0.5B model that is about
0.019% of the parameters. The vision-language variant applies it to nanoLLaVA on CV-Bench,
whose questions read "How many organs are in the image? Select from the following choices."
Training runs one epoch at lr 1e-3 with AdamW, batch 1, in bf16.

    for step, ex := range batches {
        loss := trainStep(model, ex.Image, ex.Prompt, ex.Answer)
        fmt.Printf("step %d loss %.4f\n", step, loss)
    }
`

// BenchmarkEncode reports encoding throughput: "prose" with a warm merge cache (the steady
// state when tokenizing a data set), "prose-cold" with the cache emptied before each pass,
// and "reference" over the varied strings of reference.jsonl, one Encode call each.
func BenchmarkEncode(b *testing.B) {
	tok := qwen(b)
	var words []string
	for i := 0; i < 40; i++ { // vary the text so that the cold run sees many distinct pieces
		words = append(words, strings.ReplaceAll(prose, "the", fmt.Sprintf("the%d", i)))
	}
	text := strings.Join(words, "\n")
	b.Run("prose", func(b *testing.B) {
		b.SetBytes(int64(len(text)))
		for b.Loop() {
			tok.Encode(text)
		}
	})
	b.Run("prose-cold", func(b *testing.B) {
		b.SetBytes(int64(len(text)))
		for b.Loop() {
			tok.model.mu.Lock()
			tok.model.cache = make(map[string][]int32)
			tok.model.mu.Unlock()
			tok.Encode(text)
		}
	})
	b.Run("reference", func(b *testing.B) {
		var texts []string
		n := 0
		f, err := os.Open(filepath.Join(qwenDir, "reference.jsonl"))
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var c refCase
			if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
				b.Fatal(err)
			}
			texts = append(texts, c.Text)
			n += len(c.Text)
		}
		b.SetBytes(int64(n))
		for b.Loop() {
			for _, s := range texts {
				tok.Encode(s)
			}
		}
	})
}
