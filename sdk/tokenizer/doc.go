// Package tokenizer is a byte-level BPE tokenizer that reads Hugging Face tokenizer.json files
// and reproduces the ids of Hugging Face tokenizers exactly for the Qwen2 family (Qwen1.5, 2,
// 2.5, 3 share one BPE; nanoLLaVA uses it).
//
//	tok, err := tokenizer.Load("tokenizer.json") // a .json.gz works too
//	if err != nil {
//		return err
//	}
//	ids := tok.Encode("<|im_start|>user\nWhich object is closer?<|im_end|>")
//	fmt.Println(ids, tok.Decode(ids, true))
//
// Encoding follows the Hugging Face pipeline: added tokens (<|im_start|>, ...) are cut out of
// the raw text first; the rest is NFC-normalised, split by the Qwen2 pre-tokenizer regex
// (implemented as a hand-written scanner, since Go's regexp has no lookahead), mapped to
// GPT-2's byte-level alphabet and merged by rank. Configurations this package does not
// implement are rejected by Load with an error naming the tokenizer.json field, rather than
// tokenised wrongly.
package tokenizer
