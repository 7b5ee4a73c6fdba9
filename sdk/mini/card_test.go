package mini

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/visreft/visreft/sdk/models/llava"
)

// TestCardTableRowsStayWhole: a generated answer with newlines and pipes
// (an untrained model's) stays inside its table row.
func TestCardTableRowsStayWhole(t *testing.T) {
	c, _ := tinyConfig(t)
	rep := &Report{Options: Options{Spec: Tiny()}.withDefaults(), Config: c, Losses: []float64{6, 1},
		Eval: &EvalResult{N: 1, ByKind: map[string][2]int{"count": {0, 1}},
			Samples: []EvalSample{{Template: "paper", Q: "How many red circles are there?", Want: "3", Got: "There are\n<|assistant|>: a|b"}}}}
	card := Card(rep)
	for _, line := range strings.Split(card, "\n") {
		if strings.HasPrefix(line, "<|assistant|>") {
			t.Fatalf("an answer broke out of its row: %q", line)
		}
	}
	if !strings.Contains(card, `There are\n<\|assistant\|>: a\|b`) {
		t.Errorf("the answer is not in the card, escaped:\n%s", card)
	}
}

// TestConfigJSONRoundTrips: config.json parses back (as llava.Load parses
// it) to the config written, with an explicit head_dim for other readers.
func TestConfigJSONRoundTrips(t *testing.T) {
	c, _ := tinyConfig(t)
	data, err := ConfigJSON(c)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	if m["head_dim"] != float64(Tiny().Hidden/Tiny().Heads) || m["model_type"] != "llava-qwen2" {
		t.Errorf("head_dim %v, model_type %v", m["head_dim"], m["model_type"])
	}
	back, err := llava.ParseConfig(data, "config.json")
	if err != nil {
		t.Fatal(err)
	}
	if back.Config != c.Config || back.Vision != c.Vision || back.MMHiddenSize != c.MMHiddenSize {
		t.Errorf("read back\n %+v\nwrote\n %+v", back, c)
	}
}
