package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/visreft/visreft/sdk/demo"
	"github.com/visreft/visreft/sdk/paper"
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

// TestResultsAreKeyedBySetting: results, figures, runs and checkpoints are
// filed by the setting too (template, answer form, compute dtype,
// evaluation protocol): after a letter run, the text-answer setting does not
// find its results as existing, and -force on the text setting leaves the
// letter runs alone; the default setting keeps its folders.
func TestResultsAreKeyedBySetting(t *testing.T) {
	t.Setenv("VISREFT_CACHE", t.TempDir())
	t.Setenv("GOMLX_BACKEND", "go:ops_sequential")
	dir := t.TempDir()
	opts := options{preset: "demo", results: filepath.Join(dir, "results"), plots: filepath.Join(dir, "plots")}
	letter, err := setupFor(opts)
	if err != nil {
		t.Fatal(err)
	}
	if d := letter.SettingDir(); d != "" {
		t.Errorf("the default setting is filed under %q, not where its results always were", d)
	}
	lk := keyed(opts, letter)
	if err := os.MkdirAll(lk.results, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(lk.results, "methods.json"), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	run := filepath.Join(letter.RunsDir, "reft-0123.json")
	if err := os.MkdirAll(letter.RunsDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(run, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}

	t.Setenv("VISREFT_TARGET", "text")
	text, err := setupFor(opts)
	if err != nil {
		t.Fatal(err)
	}
	tk := keyed(opts, text)
	if tk.results == lk.results || tk.plots == lk.plots || text.RunsDir == letter.RunsDir || text.CheckpointRoot == letter.CheckpointRoot {
		t.Errorf("text answers share folders with letter answers: results %s, plots %s, runs %s", tk.results, tk.plots, text.RunsDir)
	}
	if done("methods", tk) {
		t.Error("the letter run's methods.json counts as the text setting's")
	}
	forced := opts
	forced.force = true
	setups = map[string]*paper.Setup{} // a new process
	if _, err := setupFor(forced); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(run); err != nil {
		t.Errorf("-force on the text setting deleted the letter setting's run: %v", err)
	}
}

// TestFiguresAreKeyedByModel runs the demo preset on another visreft-mini
// folder (VISREFT_DEMO_MODEL, as docs/visreft-mini.md's commands do): its
// results and its figures go to folders of their own, so they never
// overwrite the demo model's figures; the preset's own model keeps
// plots/demo.
func TestFiguresAreKeyedByModel(t *testing.T) {
	t.Setenv("VISREFT_CACHE", t.TempDir())
	t.Setenv("GOMLX_BACKEND", "go:ops_sequential")
	dir := t.TempDir()
	opts := options{preset: "demo", results: filepath.Join(dir, "results"), plots: filepath.Join(dir, "plots")}
	own, err := setupFor(opts)
	if err != nil {
		t.Fatal(err)
	}
	ok := keyed(opts, own)
	if want := filepath.Join(opts.plots, "demo"); ok.plots != want {
		t.Errorf("the demo model's figures go to %s, want %s", ok.plots, want)
	}
	t.Setenv(demo.EnvMiniModel, filepath.Join(demo.Root(), "testdata", "models", "visreft-mini-v2"))
	other, err := setupFor(opts)
	if err != nil {
		t.Fatal(err)
	}
	xk := keyed(opts, other)
	if xk.plots == ok.plots || xk.results == ok.results {
		t.Fatalf("another model shares the demo model's folders: figures %s, results %s", xk.plots, xk.results)
	}
	if rel, err := filepath.Rel(ok.plots, xk.plots); err != nil || !strings.HasPrefix(rel, "testdata_models_visreft-mini-v2-") {
		t.Errorf("another model's figures go to %s: want a folder named by the model under %s", xk.plots, ok.plots)
	}
}
