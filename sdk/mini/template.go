package mini

import (
	"fmt"
	"strings"

	"github.com/visreft/visreft/sdk/models/llava"
	"github.com/visreft/visreft/sdk/tokenizer"
)

// Template is how a conversation about one image becomes text: the two
// templates the fine-tuning side prompts with (cvbench.PromptPaper, the
// default, and cvbench.PromptChatML), so that the pretrained model knows
// both. The first turn carries the image; later turns continue the
// conversation in the same template.
type Template int

const (
	// Paper is the paper's "<|user|>: <image>\n{q}\n<|assistant|>: {a}<|im_end|>"
	// (closed by <|im_end|>, nanoLLaVA's eos, as sdk/eval closes it).
	Paper Template = iota
	// ChatML is nanoLLaVA's model-card template.
	ChatML
)

func (t Template) String() string {
	if t == ChatML {
		return "chatml"
	}
	return "paper"
}

// segment is text tokenized on its own: the question side of a turn, or
// an answer (closed by <|im_end|>).
type segment struct {
	text   string
	answer bool
}

// conversation returns the text before the image and the segments after
// it, chunked as llava.Encode chunks a prompt (the text around the image
// placeholder separately, the answer separately).
func conversation(t Template, qas []QA) (before string, after []segment) {
	before = "<|user|>: "
	if t == ChatML {
		before = "<|im_start|>system\nAnswer the question<|im_end|><|im_start|>user\n"
	}
	for i, qa := range qas {
		var q string
		switch {
		case t == ChatML && i == 0:
			q = "\n" + qa.Q + "<|im_end|><|im_start|>assistant\n"
		case t == ChatML:
			q = "<|im_start|>user\n" + qa.Q + "<|im_end|><|im_start|>assistant\n"
		case i == 0:
			q = "\n" + qa.Q + "\n<|assistant|>: "
		default:
			q = "\n<|user|>: " + qa.Q + "\n<|assistant|>: "
		}
		after = append(after, segment{q, false}, segment{qa.A + llava.EndOfTurn, true})
	}
	return before, after
}

// Text is the whole conversation as one string, with llava.ImagePlaceholder
// where the image goes (for model cards and the vocabulary corpus).
func Text(t Template, qas []QA) string {
	before, after := conversation(t, qas)
	var b strings.Builder
	b.WriteString(before + llava.ImagePlaceholder)
	for _, s := range after {
		b.WriteString(s.text)
	}
	return b.String()
}

// Encoded is a tokenized conversation: ids with one llava.ImageToken, and a
// loss weight per id (0 up to and including the image; questionWeight on
// the question side after it; 1 on answer tokens and their <|im_end|>).
type Encoded struct {
	IDs     []int
	Weights []float32
	// PromptLen is the number of ids before the first answer token.
	PromptLen int
}

// Encode tokenizes a conversation. Every id after the image is a target
// (causal LM loss on the text after the image), weighted as Encoded says.
func Encode(tok *tokenizer.Tokenizer, t Template, qas []QA, questionWeight float32) (Encoded, error) {
	if tok == nil {
		return Encoded{}, fmt.Errorf("mini: no tokenizer")
	}
	if len(qas) == 0 {
		return Encoded{}, fmt.Errorf("mini: a conversation needs a question")
	}
	before, after := conversation(t, qas)
	e := Encoded{IDs: append(tok.Encode(before), llava.ImageToken)}
	e.Weights = make([]float32, len(e.IDs))
	for _, s := range after {
		w := questionWeight
		if s.answer {
			w = 1
			if e.PromptLen == 0 {
				e.PromptLen = len(e.IDs)
			}
		}
		for _, id := range tok.Encode(s.text) {
			e.IDs = append(e.IDs, id)
			e.Weights = append(e.Weights, w)
		}
	}
	return e, nil
}

// Sample is the llava.Sample of e: every id after the image is a target.
func (e Encoded) Sample() llava.Sample {
	s := llava.Sample{IDs: e.IDs, Target: make([]bool, len(e.IDs)), PromptLen: e.PromptLen}
	image := false
	for i, id := range e.IDs {
		s.Target[i] = image
		image = image || id == llava.ImageToken
	}
	return s
}
