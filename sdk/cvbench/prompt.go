package cvbench

import (
	"fmt"
	"strings"
)

// Letter returns the CV-Bench answer label of the i-th choice: 0 -> "(A)".
func Letter(i int) string { return "(" + string(rune('A'+i)) + ")" }

// LetterIndex parses an answer label back to a 0-based choice index. It
// accepts "(C)", "C" and "C)" (any case), the forms models tend to emit.
func LetterIndex(s string) (int, error) {
	t := strings.TrimSpace(s)
	t = strings.TrimPrefix(t, "(")
	t = strings.TrimSuffix(t, ")")
	if len(t) != 1 {
		return 0, fmt.Errorf("answer %q is not a letter like (A)", s)
	}
	c := t[0]
	if c >= 'a' && c <= 'z' {
		c -= 'a' - 'A'
	}
	if c < 'A' || c > 'Z' {
		return 0, fmt.Errorf("answer %q is not a letter like (A)", s)
	}
	return int(c - 'A'), nil
}

// MakePrompt phrases a question and its choices the way CV-Bench's prompt
// field does on its 2D rows (Count, Relation):
// "Q Select from the following choices.\n(A) x\n(B) y". The 3D rows have no
// such phrase: see PromptFor.
func MakePrompt(question string, choices []string) string {
	return PromptFor(Type2D, question, choices)
}

// SelectPhrase is the sentence CV-Bench puts between the question and the
// choices on its 2D rows only.
const SelectPhrase = " Select from the following choices."

// PromptFor phrases a question and its choices as CV-Bench's prompt field
// does for rows of type t: the 2D rows read
// "Q Select from the following choices.\n(A) x\n(B) y", the 3D rows (Depth,
// Distance) "Q\n(A) x\n(B) y", without the phrase (as in the real data).
func PromptFor(t Type, question string, choices []string) string {
	var b strings.Builder
	b.WriteString(question)
	if t != Type3D {
		b.WriteString(SelectPhrase)
	}
	for i, c := range choices {
		b.WriteString("\n")
		b.WriteString(Letter(i))
		b.WriteString(" ")
		b.WriteString(c)
	}
	return b.String()
}

// PromptFormat selects how an example becomes model input text.
type PromptFormat int

const (
	// PromptCVBench is CV-Bench's own prompt field, unwrapped.
	PromptCVBench PromptFormat = iota
	// PromptPaper is the paper's template "<|user|>: {prompt}\n<|assistant|>: {response}".
	// It has no image placeholder of its own; see PromptOptions.ImageToken.
	PromptPaper
	// PromptChatML is nanoLLaVA's chat template (from its model card), with
	// the CV-Bench prompt as the user turn and the image placeholder first:
	// "<|im_start|>system\nAnswer the question<|im_end|><|im_start|>user\n<image>\n{q}<|im_end|><|im_start|>assistant\n".
	PromptChatML
)

// String names the format.
func (f PromptFormat) String() string {
	switch f {
	case PromptPaper:
		return "paper"
	case PromptChatML:
		return "chatml"
	}
	return "cvbench"
}

// TargetForm selects how the answer is written as the training target.
type TargetForm int

const (
	// TargetLetter is the answer label, e.g. "(C)".
	TargetLetter TargetForm = iota
	// TargetText is the text of the correct choice, e.g. "1".
	TargetText
)

// ImagePlaceholder is the text nanoLLaVA replaces with the image embeddings.
const ImagePlaceholder = "<image>"

// PromptOptions selects a prompt format and a target form.
type PromptOptions struct {
	Format PromptFormat
	Target TargetForm
	// ImageToken, if set, is put on its own line before the prompt in the
	// CV-Bench and paper formats (ChatML always carries ImagePlaceholder).
	ImageToken string
}

// Rendered is an example as text: the model input and the expected output,
// so that Prompt+Target is the full training sequence and the loss falls on
// Target only (for PromptCVBench, Prompt is the field verbatim and the caller
// picks a separator). EndOfTurn is the text that closes the answer in this format
// ("<|im_end|>" for ChatML), for tokenizers that append it to the target.
type Rendered struct {
	Prompt    string
	Target    string
	EndOfTurn string
}

// Render writes an example in the chosen format.
func (e Example) Render(o PromptOptions) Rendered {
	target := e.Answer
	if o.Target == TargetText {
		target = e.AnswerText()
	}
	p := e.Prompt
	if o.ImageToken != "" && o.Format != PromptChatML {
		p = o.ImageToken + "\n" + p
	}
	switch o.Format {
	case PromptPaper:
		return Rendered{Prompt: "<|user|>: " + p + "\n<|assistant|>: ", Target: target}
	case PromptChatML:
		return Rendered{
			Prompt: "<|im_start|>system\nAnswer the question<|im_end|><|im_start|>user\n" +
				ImagePlaceholder + "\n" + e.Prompt + "<|im_end|><|im_start|>assistant\n",
			Target:    target,
			EndOfTurn: "<|im_end|>",
		}
	}
	return Rendered{Prompt: p, Target: target}
}
