package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestDryRunMethodsSaysWhatRuns: `reproduce -dry-run -preset paper methods`
// prints, per method, the compute dtype, recompute, trainable set (with the
// tower adapters' state), template, positions and evaluation protocol, as
// the paper preset runs them.
func TestDryRunMethodsSaysWhatRuns(t *testing.T) {
	t.Setenv("GOMLX_BACKEND", "go:ops_sequential")
	t.Setenv("VISREFT_TEMPLATE", "")
	var buf bytes.Buffer
	if err := printMethodPlans(&buf, "paper"); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	t.Log(out)
	for _, want := range []string{
		"compute dtype: float32", "on a GPU: bfloat16", "trainable masters float32",
		"recompute:     per decoder block (24 stages", "recompute:     off",
		"196704 parameters: loreft rank 4", "1744896 adapter parameters counted", "786432 trained",
		"stay frozen at their zero-delta init", "621800448 parameters",
		`template:      paper: "<|user|>: <image>`, "positions:     sme",
		"generation with answer parsing (unparseable counts wrong) [headline]; choice likelihood",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run lacks %q", want)
		}
	}
}
