package sample

import (
	"github.com/visreft/visreft/sdk/cvbench"
	"github.com/visreft/visreft/sdk/models/llava"
)

// Encode renders x's prompt for nanoLLaVA with the image placeholder and
// tokenizes it; a non-empty target (a letter like "(C)" or a choice's text)
// is appended, closed by the format's end of turn, as the loss target.
func Encode(m *llava.Model, x cvbench.Example, o cvbench.PromptOptions, target string) (llava.Sample, error) {
	o.ImageToken = cvbench.ImagePlaceholder
	r := x.Render(o)
	if r.EndOfTurn == "" && o.Format == cvbench.PromptPaper {
		// The paper's template has no end-of-turn marker of its own; pyreft's
		// data modules close the response with the tokenizer's eos token,
		// which for nanoLLaVA is <|im_end|> (id 151645), so generation stops
		// on it as with ChatML.
		r.EndOfTurn = llava.EndOfTurn
	}
	if target != "" {
		target += r.EndOfTurn
	}
	return llava.Encode(m.Tokenizer, r.Prompt, target)
}
