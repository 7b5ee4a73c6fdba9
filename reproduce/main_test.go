package main

import (
	"errors"
	"os"
	"path/filepath"

	"github.com/visreft/visreft/sdk/paper"
	"testing"
)

func TestEnvComputesOnPureGo(t *testing.T) {
	t.Setenv("GOMLX_BACKEND", "go:ops_sequential")
	if err := runEnv(options{preset: "demo"}); err != nil {
		t.Fatal(err)
	}
}

func TestPlannedExperimentsSayNotBuilt(t *testing.T) {
	for _, name := range names() {
		e := experiments[name]
		if e.plan == "" {
			t.Errorf("experiment %s has no plan", name)
		}
		if e.run != nil {
			continue
		}
		if err := runExperiment(e, options{preset: "demo"}); !errors.Is(err, errNotBuilt) {
			t.Errorf("experiment %s has no code but returned %v", name, err)
		}
		if err := runExperiment(e, options{preset: "demo", dryRun: true}); err != nil {
			t.Errorf("dry run of %s: %v", name, err)
		}
	}
}

func TestParamsMatchesPaper(t *testing.T) {
	dir := t.TempDir()
	if err := runParams(options{preset: "demo", results: dir, plots: dir}); err != nil {
		t.Fatal(err)
	}
	rows, err := paper.Table4()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if !r.Match {
			t.Errorf("%s: %s %% vs the paper's %s %%", r.Method, r.Printed, r.Paper)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "params.csv")); err != nil {
		t.Error(err)
	}
}
