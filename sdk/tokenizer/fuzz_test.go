package tokenizer

import (
	"slices"
	"strings"
	"testing"
)

// FuzzEncodeDecode checks, for any input: Decode(Encode(s)) is the NFC form of s, with or
// without SpecialAsText; SpecialAsText never yields a special id; the pre-tokenizer pieces
// tile the text; and the heap merge agrees with the simple one.
// Run it with: go test ./sdk/tokenizer -run '^$' -fuzz FuzzEncodeDecode -fuzztime 30s
func FuzzEncodeDecode(f *testing.F) {
	for _, s := range []string{
		"", "Hello world", "<|im_start|>user\nhi<|im_end|>", "a'S  \n\n 12 😀 \r\n\t", "e\u0301 café",
		"o" + strings.Repeat("\u031b\u0301", 20), "\xff\xfe<|endoftext|", "'\u017ft \u0085\ufeff",
		"👨‍👩‍👧‍👦 🇺🇸 你好，世界 !!!\n\n", strings.Repeat("ab", 150), "<think>x</think> <tool_call>",
	} {
		f.Add(s)
	}
	tok := qwen(f)
	f.Fuzz(func(t *testing.T, s string) {
		want := nfc(s)
		ids := tok.Encode(s)
		if got := string(tok.DecodeBytes(ids, false)); got != want {
			t.Fatalf("DecodeBytes(Encode(%q)) = %q, want %q (ids %v)", s, got, want, ids)
		}
		lit := tok.EncodeWithOptions(s, EncodeOptions{SpecialAsText: true})
		for _, id := range lit {
			if tok.IsSpecial(id) {
				t.Fatalf("SpecialAsText encoding of %q holds special id %d", s, id)
			}
		}
		if got := string(tok.DecodeBytes(lit, false)); got != want {
			t.Fatalf("DecodeBytes(special-as-text %q) = %q, want %q", s, got, want)
		}
		pieces := splitQwen2(nil, s)
		if strings.Join(pieces, "") != s || slices.Contains(pieces, "") {
			t.Fatalf("pieces %q do not tile %q", pieces, s)
		}
		for _, p := range pieces {
			a := make([]int32, len(p))
			for i := range a {
				a[i] = tok.model.byteID[p[i]]
			}
			b := slices.Clone(a)
			if x, y := tok.model.mergeNaive(a), tok.model.mergeHeap(b); !slices.Equal(x, y) {
				t.Fatalf("piece %q: naive merge %v, heap merge %v", p, x, y)
			}
		}
	})
}

// TestMergeHeapLong compares the two merge algorithms on long pieces, and checks that a long
// piece costs no more than it should (the heap path is O(n log n)).
func TestMergeHeapLong(t *testing.T) {
	tok := qwen(t)
	for _, p := range []string{
		strings.Repeat("a", 1000), strings.Repeat("ab", 700), strings.Repeat("abc ", 300),
		strings.Repeat("Donaudampfschifffahrt", 50), strings.Repeat("你好世界", 200),
	} {
		a := make([]int32, len(p))
		for i := range a {
			a[i] = tok.model.byteID[p[i]]
		}
		b := slices.Clone(a)
		if x, y := tok.model.mergeNaive(a), tok.model.mergeHeap(b); !slices.Equal(x, y) {
			t.Errorf("piece %.20q...: naive and heap merges differ", p)
		}
	}
	huge := strings.Repeat("x", 1<<20)
	if ids := tok.Encode(huge); tok.Decode(ids, false) != huge {
		t.Error("1 MiB word does not round-trip")
	}
}
