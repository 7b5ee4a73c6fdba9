package llava

import (
	"fmt"
	"image"

	"github.com/gomlx/compute"
)

// Answer asks the model one question about one image with nanoLLaVA's chat
// prompt and returns its greedy answer (up to maxTokens, stopping at
// <|im_end|>).
func (m *Model) Answer(b compute.Backend, img image.Image, question string, maxTokens int) (string, error) {
	return m.AnswerWith(b, img, question, maxTokens, nil)
}

// AnswerWith is Answer with a Steer (e.g. trained ReFT interventions)
// applied to the prompt, as pyreft does during generation.
func (m *Model) AnswerWith(b compute.Backend, img image.Image, question string, maxTokens int, steer Steer) (string, error) {
	s, err := Encode(m.Tokenizer, ChatPrompt(question), "")
	if err != nil {
		return "", err
	}
	bt, err := Layout([]Sample{s}, m.Config.Vision.WithDefaults().NumPatches(), 0)
	if err != nil {
		return "", err
	}
	var stop []int
	if id, ok := m.Tokenizer.TokenID(EndOfTurn); ok {
		stop = append(stop, id)
	}
	opt := GenerateOptions{MaxNewTokens: maxTokens, StopIDs: stop}
	if steer != nil {
		if opt.PrefillExtra, err = steer.Inputs(bt); err != nil {
			return "", err
		}
		opt.Steer = steer
	}
	out, err := Generate(b, m, bt, m.Images.Batch(img), opt)
	if err != nil {
		return "", fmt.Errorf("llava: answering %q: %w", question, err)
	}
	return m.Tokenizer.Decode(out[0], true), nil
}
