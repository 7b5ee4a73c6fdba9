package paper

import (
	"strings"
	"testing"

	"github.com/visreft/visreft/sdk/cvbench"
	"github.com/visreft/visreft/sdk/eval"
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
	sm, err := eval.Encode(m, x, s.Data.PromptOptions(), x.Answer)
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
