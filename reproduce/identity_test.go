package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestResultsOfAnotherIdentityDoNotExist: results live under
// <preset>/<model>-<hash>/<data>-<hash>; a results file of another model
// (or the flat layout, where the paper preset found the demo's
// methods.json and ran nothing) never counts as "exists".
func TestResultsOfAnotherIdentityDoNotExist(t *testing.T) {
	t.Setenv("VISREFT_CACHE", t.TempDir())
	t.Setenv("GOMLX_BACKEND", "go:ops_sequential")
	dir := t.TempDir()
	opts := options{preset: "demo", results: dir, plots: dir}
	s, err := setupFor(opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "methods.json"), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	k := keyed(opts, s)
	if done("methods", k) {
		t.Fatal("a flat results/methods.json counts as this identity's")
	}
	if !strings.HasPrefix(k.results, filepath.Join(dir, "demo")+string(filepath.Separator)) || !strings.Contains(k.results, "visreft-mini-") {
		t.Errorf("results folder %s does not name the preset and the model", k.results)
	}
	if err := os.MkdirAll(k.results, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(k.results, "methods.json"), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	if !done("methods", k) {
		t.Fatal("this identity's own results do not count as existing")
	}
	other := *s
	other.ID.ModelHash = strings.Repeat("f", 64) // another checkpoint
	if done("methods", keyed(opts, &other)) {
		t.Error("another model's results count as existing")
	}
	other = *s
	other.ID.DataHash = strings.Repeat("e", 64) // another split
	if done("methods", keyed(opts, &other)) {
		t.Error("another data set's results count as existing")
	}
	if s.CheckpointRoot != filepath.Join(k.results, "checkpoints") {
		t.Errorf("checkpoints in %s, not under the identity's folder %s", s.CheckpointRoot, k.results)
	}
}
