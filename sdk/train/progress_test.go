package train

import (
	"bytes"
	stdctx "context"
	"strings"
	"testing"
)

// TestProgressAndHook: the bar reports loss and examples/s (off a terminal:
// a plain line at the first step, every 5 s and at the end), and the hook sees every step.
func TestProgressAndHook(t *testing.T) {
	var out bytes.Buffer
	var steps []StepInfo
	cfg := quiet()
	cfg.Epochs, cfg.BatchSize, cfg.Progress = 1, 2, &out
	cfg.OnStep = func(s StepInfo) { steps = append(steps, s) }
	tr, _ := newTiny(t, strategies[1], tinyData(6, 8, 8), cfg)
	res, err := tr.Run(stdctx.Background())
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	line := lines[len(lines)-1]
	t.Log(line)
	if len(lines) > 3 || !strings.HasPrefix(line, "train lora  3/3 [") || !strings.Contains(line, "loss ") || !strings.Contains(line, "ex/s") {
		t.Errorf("progress output %q", line)
	}
	if len(steps) != 3 || steps[2].Step != 3 || steps[2].Examples != 6 || steps[2].ExamplesPerSec <= 0 || res.Examples != 6 {
		t.Errorf("hook saw %+v", steps)
	}
}
