package paper

import (
	"strings"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/visreft/visreft/sdk/cvbench"
	"github.com/visreft/visreft/sdk/experiment"
	"github.com/visreft/visreft/sdk/sample"
)

// TestPresetUsesPaperTemplate: both presets prompt with the paper's
// template (the default was ChatML), ChatML stays an option, and the
// results record it; the prompt tokens (where ReFT's start/mid/end
// positions are taken) are the paper template's.
func TestPresetUsesPaperTemplate(t *testing.T) {
	t.Setenv("VISREFT_CACHE", t.TempDir())
	t.Setenv("VISREFT_TEMPLATE", "")
	s, err := NewSetup("demo", true)
	if err != nil {
		t.Fatal(err)
	}
	if f := s.Data.PromptOptions().Format; f != cvbench.PromptPaper {
		t.Fatalf("demo preset prompts with %s, not the paper's template", f)
	}
	if tmpl := s.RecordConfig()["template"].(string); !strings.HasPrefix(tmpl, "paper:") {
		t.Errorf("results record template %q", tmpl)
	}
	m, err := s.NewModel()
	if err != nil {
		t.Fatal(err)
	}
	x := s.Data.Val[0]
	sm, err := sample.Encode(m, x, s.Data.PromptOptions(), x.Answer)
	if err != nil {
		t.Fatal(err)
	}
	text := m.Tokenizer.Decode(sm.IDs[:sm.PromptLen], false)
	if !strings.HasPrefix(text, "<|user|>: ") || !strings.HasSuffix(text, "\n<|assistant|>: ") {
		t.Errorf("prompt tokens decode to %q", text)
	}
	t.Setenv("VISREFT_TEMPLATE", "chatml")
	if p, err := PromptFromEnv(); err != nil || p.Format != cvbench.PromptChatML {
		t.Errorf("VISREFT_TEMPLATE=chatml: %v %v", p, err)
	}
	t.Setenv("VISREFT_TEMPLATE", "alpaca")
	if _, err := PromptFromEnv(); err == nil || !strings.Contains(err.Error(), "VISREFT_TEMPLATE") {
		t.Errorf("a bad template is not refused by name: %v", err)
	}
}

// TestTargetFromEnv: answers are letters unless VISREFT_TARGET=text asks
// for the choice's text; results and figures say which; anything else is
// refused by the variable's name.
func TestTargetFromEnv(t *testing.T) {
	t.Setenv("VISREFT_CACHE", t.TempDir())
	t.Setenv("VISREFT_TEMPLATE", "")
	for v, want := range map[string]cvbench.TargetForm{"": cvbench.TargetLetter, "letter": cvbench.TargetLetter, "text": cvbench.TargetText} {
		t.Setenv("VISREFT_TARGET", v)
		p, err := PromptFromEnv()
		if err != nil || p.Target != want || p.Format != cvbench.PromptPaper {
			t.Errorf("VISREFT_TARGET=%q: %+v %v", v, p, err)
		}
	}
	t.Setenv("VISREFT_TARGET", "text")
	s, err := NewSetup("demo", true)
	if err != nil {
		t.Fatal(err)
	}
	x := s.Data.Val[0]
	if r := x.Render(s.Data.PromptOptions()); r.Target != x.AnswerText() {
		t.Errorf("VISREFT_TARGET=text trains on %q, not the choice's text %q", r.Target, x.AnswerText())
	}
	if f := s.RecordConfig()["answer_form"]; f != "answers: the choice's text" {
		t.Errorf("results record answer form %v", f)
	}
	if tmpl := experiment.PaperReFT(4, "all").Describe(s.baseConfig, s.Data.PromptOptions(), s.ComputeDType, s.EvalModes).Template; !strings.Contains(tmpl, "the choice's text") {
		t.Errorf("each run's setting records template %q, without the answer form", tmpl)
	}
	if n := s.FigureOptions("t").Note; !strings.Contains(n, "answers: the choice's text") {
		t.Errorf("figure note %q does not say the answers are texts", n)
	}
	t.Setenv("VISREFT_TARGET", "number")
	if _, err := PromptFromEnv(); err == nil || !strings.Contains(err.Error(), "VISREFT_TARGET") {
		t.Errorf("a bad answer form is not refused by name: %v", err)
	}
}

// TestRunKeyNamesPromptAndDType: a stored run is found by its key, so the
// key must change with anything that changes what the run trains on or
// computes beyond the method: the template, the answer form and the compute
// dtype. A run under ChatML (VISREFT_TEMPLATE), with text answers or in
// bf16 (VISREFT_COMPUTE_DTYPE) is never answered with the stored result of
// the paper template, letters and float32.
func TestRunKeyNamesPromptAndDType(t *testing.T) {
	t.Setenv("VISREFT_CACHE", t.TempDir())
	t.Setenv("VISREFT_TEMPLATE", "")
	t.Setenv("VISREFT_TARGET", "")
	t.Setenv("VISREFT_COMPUTE_DTYPE", "f32")
	s, err := NewSetup("demo", true)
	if err != nil {
		t.Fatal(err)
	}
	m := experiment.PaperReFT(4, "all")
	key := func() string {
		k, err := s.RunKey(m)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	base := key()
	if again := key(); again != base {
		t.Fatalf("the same setup keys one method %s, then %s", base, again)
	}
	orig := s.Data.Prompt
	for _, c := range []struct {
		what   string
		change func()
	}{
		{"ChatML template", func() { s.Data.Prompt.Format = cvbench.PromptChatML }},
		{"text answers", func() { s.Data.Prompt.Target = cvbench.TargetText }},
		{"bf16 compute", func() { s.ComputeDType = dtypes.BFloat16 }},
	} {
		p, dt := s.Data.Prompt, s.ComputeDType
		c.change()
		if k := key(); k == base {
			t.Errorf("%s: same run key %s as the paper template with letters in float32", c.what, k)
		}
		s.Data.Prompt, s.ComputeDType = p, dt
	}
	if s.Data.Prompt != orig || key() != base {
		t.Fatal("restoring the setup did not restore its key")
	}
}
