package mini

import (
	"slices"
	"testing"

	"github.com/visreft/visreft/sdk/backend"
	"github.com/visreft/visreft/sdk/models/llava"
)

// TestEvaluateObjectsBlanksTheImages: the perception check's control
// really hides the picture. One question asked about 12 different scenes
// gets one answer per template with the images blanked, while an
// untrained model's answers to it already vary with the image (5 and 6
// distinct answers when written); and EvaluateObjects asks object
// questions of several kinds.
func TestEvaluateObjectsBlanksTheImages(t *testing.T) {
	c, tok := tinyConfig(t)
	scope, err := NewModel(c, 3)
	if err != nil {
		t.Fatal(err)
	}
	m := &llava.Model{Config: c, Ctx: scope, Tokenizer: tok, Images: Images(c)}
	b, err := backend.NewFromConfig(backend.CPUConfig)
	if err != nil {
		t.Fatal(err)
	}
	mix, err := NewMixture(tok, c, MixtureOptions{Seed: 5, Rows: 48, Turns: 1, Objects: true, NoCaptions: true})
	if err != nil {
		t.Fatal(err)
	}
	same := func(int, *Item) QA { return QA{Q: "What colour is the circle?", A: "red", Kind: "colour"} }
	for _, blank := range []bool{false, true} {
		res, err := evaluate(b, m, mix, 12, 8, blank, same)
		if err != nil {
			t.Fatal(err)
		}
		answers := map[string]map[string]bool{} // template -> distinct answers
		for _, s := range res.Samples {
			if answers[s.Template] == nil {
				answers[s.Template] = map[string]bool{}
			}
			answers[s.Template][s.Got] = true
		}
		most := 0
		for _, a := range answers {
			most = max(most, len(a))
		}
		if blank && most != 1 {
			t.Errorf("blanked: one question got %d different answers in one template: the images still differ", most)
		}
		if !blank && most < 2 {
			t.Errorf("with the images: one answer throughout; the control above shows nothing")
		}
	}
	res, err := EvaluateObjects(b, m, mix, 48, 16, false)
	if err != nil {
		t.Fatal(err)
	}
	kinds := res.Kinds()
	for _, k := range kinds {
		if !slices.Contains([]string{"colour", "shape", "exist", "position", "relation", "depth"}, k) {
			t.Errorf("asked a %q question: not an object question", k)
		}
	}
	if res.N != 48 || len(kinds) < 4 {
		t.Errorf("asked %d questions of kinds %v: want 48 of at least 4 kinds", res.N, kinds)
	}
}
