package llava

import (
	"fmt"
	"strings"

	"github.com/visreft/visreft/sdk/tokenizer"
)

// ImagePlaceholder marks where the image goes in prompt text.
const ImagePlaceholder = "<image>"

// ChatPrompt is nanoLLaVA's model-card prompt (ChatML, no newline after
// <|im_end|>) around a question.
func ChatPrompt(question string) string {
	return "<|im_start|>system\nAnswer the question<|im_end|><|im_start|>user\n" + ImagePlaceholder + "\n" +
		question + "<|im_end|><|im_start|>assistant\n"
}

// EndOfTurn closes an answer in ChatML; training targets end with it so the
// model learns to stop.
const EndOfTurn = "<|im_end|>"

// Encode tokenizes a prompt holding exactly one ImagePlaceholder the way
// LLaVA does (the text chunks around it separately, joined by ImageToken),
// and, if answer is not empty, appends the answer's ids as targets.
func Encode(tok *tokenizer.Tokenizer, prompt, answer string) (Sample, error) {
	if tok == nil {
		return Sample{}, fmt.Errorf("llava: no tokenizer (give LoadOptions.Tokenizer)")
	}
	chunks := strings.Split(prompt, ImagePlaceholder)
	if len(chunks) != 2 {
		return Sample{}, fmt.Errorf("llava: prompt has %d %q placeholders, want 1: %q", len(chunks)-1, ImagePlaceholder, prompt)
	}
	ids := append(tok.Encode(chunks[0]), ImageToken)
	ids = append(ids, tok.Encode(chunks[1])...)
	s := Sample{IDs: ids, PromptLen: len(ids)}
	if answer != "" {
		ans := tok.Encode(answer)
		s.IDs = append(s.IDs, ans...)
		s.Target = make([]bool, len(s.IDs))
		for i := s.PromptLen; i < len(s.IDs); i++ {
			s.Target[i] = true
		}
	}
	return s, nil
}
