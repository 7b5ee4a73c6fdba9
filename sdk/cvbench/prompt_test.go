package cvbench

import (
	"math"
	"strings"
	"testing"
)

// cvExample is the data set card's first row.
var cvExample = Example{
	Idx: 0, Type: Type2D, Task: TaskCount, Question: "How many organs are in the image?",
	Choices: []string{"3", "2", "1", "0"}, Answer: "(C)",
	Prompt: "How many organs are in the image? Select from the following choices.\n(A) 3\n(B) 2\n(C) 1\n(D) 0",
	Source: SourceADE20K,
}

func TestLetters(t *testing.T) {
	for i := range 6 {
		j, err := LetterIndex(Letter(i))
		if err != nil || j != i {
			t.Fatalf("LetterIndex(Letter(%d)) = %d, %v", i, j, err)
		}
	}
	for s, want := range map[string]int{"(C)": 2, "C": 2, "c)": 2, " (a) ": 0} {
		if got, err := LetterIndex(s); err != nil || got != want {
			t.Errorf("LetterIndex(%q) = %d, %v; want %d", s, got, err, want)
		}
	}
	for _, s := range []string{"", "()", "(CC)", "(1)", "C and D"} {
		if _, err := LetterIndex(s); err == nil {
			t.Errorf("LetterIndex(%q): want an error", s)
		}
	}
	if cvExample.AnswerIndex() != 2 || cvExample.AnswerText() != "1" {
		t.Fatalf("answer %d %q", cvExample.AnswerIndex(), cvExample.AnswerText())
	}
	if MakePrompt(cvExample.Question, cvExample.Choices) != cvExample.Prompt {
		t.Fatalf("MakePrompt differs from CV-Bench's prompt field")
	}
}

func TestRender(t *testing.T) {
	cases := []struct {
		o            PromptOptions
		prompt, tgt  string
		endOfTurn    string
		promptPrefix string
	}{
		{PromptOptions{}, cvExample.Prompt, "(C)", "", ""},
		{PromptOptions{Target: TargetText}, cvExample.Prompt, "1", "", ""},
		{PromptOptions{Format: PromptPaper}, "<|user|>: " + cvExample.Prompt + "\n<|assistant|>: ", "(C)", "", ""},
		{PromptOptions{Format: PromptPaper, ImageToken: "<image>"}, "<|user|>: <image>\n" + cvExample.Prompt + "\n<|assistant|>: ", "(C)", "", ""},
		{PromptOptions{Format: PromptChatML, Target: TargetText},
			"<|im_start|>system\nAnswer the question<|im_end|><|im_start|>user\n<image>\n" + cvExample.Prompt +
				"<|im_end|><|im_start|>assistant\n", "1", "<|im_end|>", ""},
	}
	for _, c := range cases {
		r := cvExample.Render(c.o)
		if r.Prompt != c.prompt || r.Target != c.tgt || r.EndOfTurn != c.endOfTurn {
			t.Errorf("%s/%d: got %q + %q (%q)", c.o.Format, c.o.Target, r.Prompt, r.Target, r.EndOfTurn)
		}
	}
	if strings.Count(cvExample.Render(PromptOptions{Format: PromptChatML}).Prompt, ImagePlaceholder) != 1 {
		t.Error("ChatML must hold exactly one image placeholder")
	}
}

func TestScore(t *testing.T) {
	xs := fakeExamples(12) // ADE20K: 0,4,8; COCO: 1,5,9; Omni3D: 2,3,6,7,10,11
	correct := make([]bool, 12)
	for _, i := range []int{0, 4, 1, 2} { // ADE 2/3, COCO 1/3, Omni3D 1/6
		correct[i] = true
	}
	s, err := Score(xs, correct)
	if err != nil {
		t.Fatal(err)
	}
	want2D := (2.0/3 + 1.0/3) / 2
	if math.Abs(s.Acc2D-want2D) > 1e-12 || math.Abs(s.Acc3D-1.0/6) > 1e-12 ||
		math.Abs(s.Overall-(want2D+1.0/6)/2) > 1e-12 || s.All.Correct != 4 || s.ByTask[TaskCount].Total != 3 {
		t.Fatalf("got %+v", s)
	}
	if s.Synthetic || strings.Contains(s.String(), "SYNTHETIC") {
		t.Fatal("real examples scored as synthetic")
	}
	xs[0].SourceDataset = SyntheticSourceDataset
	if s, _ = Score(xs, correct); !s.Synthetic || !strings.Contains(s.String(), "SYNTHETIC") {
		t.Fatal("synthetic examples must be labelled")
	}
	if _, err := Score(xs, correct[:3]); err == nil {
		t.Fatal("want an error for mismatched lengths")
	}
	only2D := Select(xs, Filter{Types: []Type{Type2D}})
	s, _ = Score(only2D, make([]bool, len(only2D)))
	if !math.IsNaN(s.Overall) || s.Acc2D != 0 {
		t.Fatalf("2D only: overall %v, 2D %v; want NaN and 0", s.Overall, s.Acc2D)
	}
}
